package e2e

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"testing"

	"github.com/babgate/bab/agent/keys"
	"github.com/babgate/bab/agent/tpm"
	astore "github.com/babgate/bab/appliance/store"
	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/wire"
)

// heldIdentity is a stopped appliance's identity as someone holding its
// disk and its TPM could use it: the tests use it to speak the tunnel
// protocol by hand, honestly or not.
type heldIdentity struct {
	id     *astore.Identity
	tpm    *tpm.TPM // nil for a software key
	tls    *tls.Config
	signer crypto.Signer // the appliance key
}

// holdIdentity reads a's identity from its state (a must be stopped) and
// opens its key where it lives.
func holdIdentity(t *testing.T, a *lab.Appliance) *heldIdentity {
	t.Helper()
	st, err := astore.Open(a.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	id, err := st.Identity()
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	h := &heldIdentity{id: id}
	var signer crypto.Signer
	if keys.Kind(id.KeyKind) == keys.KindTPM {
		if h.tpm, err = tpm.Open(id.TPMDevice); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.tpm.Close() })
		if signer, err = h.tpm.Signer(id.KeyBlob); err != nil {
			t.Fatal(err)
		}
	} else {
		key, err := keys.Open(keys.Kind(id.KeyKind), id.KeyBlob)
		if err != nil {
			t.Fatal(err)
		}
		signer = key.Signer
	}
	caCert, err := x509.ParseCertificate(id.CA)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(caCert)
	h.signer = signer
	h.tls = &tls.Config{RootCAs: roots, ServerName: "127.0.0.1", NextProtos: []string{wire.ALPNTunnel},
		Certificates: []tls.Certificate{{Certificate: id.Chain, PrivateKey: signer}}}
	return h
}
