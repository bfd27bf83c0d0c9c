package console

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The files of a paired console in its own directory. It holds the
// console's identity and the appliance's address, nothing it looked up.
const (
	KeyFile     = "console.key" // the console's private key, PKCS #8, mode 0600
	CertFile    = "console.crt" // its certificate chain, leaf first
	CAFile      = "appliance-ca.crt"
	PairingFile = "pairing.json" // written last: its presence means paired
)

// Pairing is what a console remembers of its pairing.
type Pairing struct {
	URL       string    `json:"url"` // the appliance's console address
	Name      string    `json:"name"`
	Appliance string    `json:"appliance"`
	Role      Role      `json:"role"`
	PairedAt  time.Time `json:"paired_at"`

	dir string
}

// Dial returns a client for the appliance this console is paired with.
func (p *Pairing) Dial() (*Client, error) {
	return DialHTTPS(p.URL, filepath.Join(p.dir, CertFile), filepath.Join(p.dir, KeyFile), filepath.Join(p.dir, CAFile))
}

// LoadPairing reads the pairing kept in dir: ErrNotPaired when there is
// none.
func LoadPairing(dir string) (*Pairing, error) {
	b, err := os.ReadFile(filepath.Join(dir, PairingFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotPaired
	}
	if err != nil {
		return nil, fmt.Errorf("pairing: %w", err)
	}
	var p Pairing
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("pairing %s: %w", filepath.Join(dir, PairingFile), err)
	}
	if _, err := parseBaseURL(p.URL); err != nil {
		return nil, fmt.Errorf("pairing %s: %w", filepath.Join(dir, PairingFile), err)
	}
	p.dir = dir
	return &p, nil
}

// Pair pairs the console with the appliance at baseURL (https://HOST:PORT)
// using the one-time code office IT read from bab console pair, and keeps
// the console's new key, its certificate and the appliance's console CA in
// dir. Before it sends the code, it checks that the appliance's
// certificate chains to a CA whose fingerprint is the one in the code and
// names HOST (ErrWrongAppliance otherwise, ErrWrongAddress when only the
// name is wrong). The appliance's refusal, such
// as an expired code, is a *ProblemError.
func Pair(ctx context.Context, baseURL, code, name, dir string) (*Pairing, error) {
	_, fingerprint, err := SplitCode(code)
	if err != nil {
		return nil, err
	}
	u, err := parseBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	account, err := desktopAccount()
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pair: %w", err)
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: name}}, key)
	if err != nil {
		return nil, fmt.Errorf("pair: certificate request: %w", err)
	}

	var ca *x509.Certificate // the CA the appliance showed, once checked
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{
			MinVersion: tls.VersionTLS13,
			// Verified below against the CA the code names, not against
			// the system's roots, which know nothing of this appliance.
			InsecureSkipVerify: true,
			VerifyConnection: func(cs tls.ConnectionState) error {
				c, err := checkPairingPeer(cs.PeerCertificates, u.Hostname(), fingerprint)
				ca = c
				return err
			},
		},
		TLSHandshakeTimeout: 10 * time.Second,
	}
	defer tr.CloseIdleConnections()
	var resp PairResponse
	req := PairRequest{Code: groupCode(normalCode(code)), Name: name, CSR: csr}
	err = do(ctx, &http.Client{Transport: tr}, u.Scheme+"://"+u.Host, account, http.MethodPost, PathPair, nil, req, &resp, maxAnswer)
	if err != nil {
		return nil, fmt.Errorf("pair: %w", err)
	}
	if ca == nil || !bytes.Equal(resp.CA, ca.Raw) {
		return nil, fmt.Errorf("pair: the appliance answered with another CA than the one it presented: %w", ErrWrongAppliance)
	}
	if err := checkIssued(resp.Chain, ca, &key.PublicKey); err != nil {
		return nil, fmt.Errorf("pair: %w", err)
	}
	p := &Pairing{URL: u.Scheme + "://" + u.Host, Name: name, Appliance: resp.Appliance, Role: resp.Role, PairedAt: time.Now().UTC(), dir: dir}
	if err := p.save(key, resp.Chain, ca.Raw); err != nil {
		return nil, fmt.Errorf("pair: %w", err)
	}
	return p, nil
}

// checkPairingPeer finds, among the certificates the appliance presented,
// the CA whose fingerprint the code names, and checks that the leaf is a
// server certificate for host issued under it.
func checkPairingPeer(certs []*x509.Certificate, host, fingerprint string) (*x509.Certificate, error) {
	if len(certs) == 0 {
		return nil, ErrWrongAppliance
	}
	for _, ca := range certs {
		if !ca.IsCA || CodeFingerprint(ca.RawSubjectPublicKeyInfo) != fingerprint {
			continue
		}
		roots := x509.NewCertPool()
		roots.AddCert(ca)
		inter := x509.NewCertPool()
		for _, c := range certs[1:] {
			inter.AddCert(c)
		}
		_, err := certs[0].Verify(x509.VerifyOptions{
			DNSName:       host,
			Roots:         roots,
			Intermediates: inter,
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		})
		var hostErr x509.HostnameError
		if errors.As(err, &hostErr) {
			return nil, fmt.Errorf("%w: %s; it names %s", ErrWrongAddress, host, certNames(certs[0]))
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrWrongAppliance, err)
		}
		return ca, nil
	}
	return nil, fmt.Errorf("%w: no certificate in its chain has the code's fingerprint (the appliance must send its console CA in its chain)", ErrWrongAppliance)
}

// certNames lists the names and addresses a certificate is valid for.
func certNames(c *x509.Certificate) string {
	names := slices.Clone(c.DNSNames)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		return "no name"
	}
	return strings.Join(names, ", ")
}

// checkIssued checks that the chain the appliance issued is for our key,
// under its console CA, for client authentication.
func checkIssued(chain [][]byte, ca *x509.Certificate, pub *ecdsa.PublicKey) error {
	if len(chain) == 0 {
		return errors.New("the appliance sent no certificate")
	}
	leaf, err := x509.ParseCertificate(chain[0])
	if err != nil {
		return fmt.Errorf("the appliance's certificate: %w", err)
	}
	if !pub.Equal(leaf.PublicKey) {
		return errors.New("the appliance's certificate is for another key")
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	inter := x509.NewCertPool()
	for _, der := range chain[1:] {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return fmt.Errorf("the appliance's certificate chain: %w", err)
		}
		inter.AddCert(c)
	}
	_, err = leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		return fmt.Errorf("the appliance's certificate: %w", err)
	}
	return nil
}

// save writes the pairing's files, each whole or not at all, the
// pairing itself last.
func (p *Pairing) save(key *ecdsa.PrivateKey, chain [][]byte, ca []byte) error {
	if err := os.MkdirAll(p.dir, 0o700); err != nil {
		return err
	}
	// An earlier pairing stops counting before its files are replaced.
	if err := os.Remove(filepath.Join(p.dir, PairingFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	var certs []byte
	for _, c := range chain {
		certs = append(certs, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c})...)
	}
	meta, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{KeyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600},
		{CertFile, certs, 0o644},
		{CAFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca}), 0o644},
		{PairingFile, append(meta, '\n'), 0o644},
	}
	for _, f := range files {
		if err := writeFile(filepath.Join(p.dir, f.name), f.data, f.mode); err != nil {
			return err
		}
	}
	return nil
}

// writeFile replaces path with data through a temporary file, so that a
// crash leaves the old file or the new one.
func writeFile(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
