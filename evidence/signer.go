package evidence

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"sync"
	"time"

	"github.com/babgate/bab/seal"
)

// Signer signs an appliance's batches with an Ed25519 key it makes in
// memory and certifies with the appliance key: the TPM signs once per key
// (at start and once a day), never once per batch. The key never leaves
// the process; a restart makes another.
type Signer struct {
	appliance string
	key       crypto.Signer // the appliance key
	spki      []byte
	life      time.Duration

	mu     sync.Mutex
	cur    *signingKey
	number uint64 // the last batch number under cur
}

type signingKey struct {
	cert     KeyCert
	raw      []byte // the certificate's encoding
	hash     Digest
	priv     ed25519.PrivateKey
	renewAt  time.Time
	notAfter time.Time
}

// CertLife is how long a signing key is certified for; a new one is made
// when less than a tenth of it is left, so that no batch is signed near
// the end of its key's validity.
const CertLife = 24 * time.Hour

// certSkew is how far before now a certificate's validity starts, for
// clocks that disagree a little.
const certSkew = 5 * time.Minute

// NewSigner signs for the appliance named appliance, whose appliance key
// is key.
func NewSigner(appliance string, key crypto.Signer) (*Signer, error) {
	spki, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, fmt.Errorf("evidence: appliance key: %w", err)
	}
	return &Signer{appliance: appliance, key: key, spki: spki, life: CertLife}, nil
}

// current returns the signing key in use, making and certifying a new one
// when there is none or it is due for renewal.
func (s *Signer) current(now time.Time) (*signingKey, error) {
	if s.cur != nil && now.Before(s.cur.renewAt) {
		return s.cur, nil
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	c := KeyCert{Appliance: s.appliance, ApplianceKey: s.spki, Key: pub,
		NotBefore: now.Add(-certSkew).UTC(), NotAfter: now.Add(s.life).UTC()}
	if c.Sig, err = seal.Sign(s.key, certContext, c.Signed()); err != nil {
		return nil, fmt.Errorf("evidence: certify a signing key with the appliance key: %w", err)
	}
	raw, _ := c.MarshalBinary()
	s.cur = &signingKey{cert: c, raw: raw, hash: c.Hash(), priv: priv, renewAt: now.Add(s.life - s.life/10), notAfter: c.NotAfter}
	s.number = 0
	return s.cur, nil
}

// Sealed is a signed batch: its key's certificate, its head and its
// entries, as an evidence frame carries them.
type Sealed struct {
	Cert    []byte // KeyCert encoded
	Head    []byte // Batch encoded
	Entries [][]byte
	// Key and Number name the batch, as the exchange's acknowledgement does.
	Key    Digest
	Number uint64
}

// Seal signs a batch of encoded entries (1 to MaxBatch), declaring dropped
// entries lost since the batch before.
func (s *Signer) Seal(entries [][]byte, dropped uint64, now time.Time) (*Sealed, error) {
	if len(entries) == 0 || len(entries) > MaxBatch {
		return nil, fmt.Errorf("evidence: a batch of %d entries (1 to %d)", len(entries), MaxBatch)
	}
	root, err := Root(entries)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, err := s.current(now)
	if err != nil {
		return nil, err
	}
	s.number++
	b := Batch{Appliance: s.appliance, Cert: k.hash, Number: s.number, At: now.UTC(), Count: uint64(len(entries)), Dropped: dropped, Root: root}
	b.Sig = ed25519.Sign(k.priv, append([]byte(batchContext), b.Signed()...))
	head, _ := b.MarshalBinary()
	return &Sealed{Cert: k.raw, Head: head, Entries: entries, Key: k.hash, Number: b.Number}, nil
}

// Start makes and certifies the first signing key now, so that an
// appliance whose key cannot certify one says so as it starts.
func (s *Signer) Start(now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.current(now)
	return err
}
