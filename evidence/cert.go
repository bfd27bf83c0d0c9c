package evidence

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/babgate/bab/internal/canon"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/seal"
)

// KeyCert is an appliance's statement, signed with its appliance key (in
// its TPM where there is one), that an Ed25519 key made in memory signs
// its evidence for a while: so the TPM signs once per key, not once per
// batch. Its encoding: the version, the appliance (string), the appliance
// key (string: DER SubjectPublicKeyInfo), the signing key (string: 32
// bytes), the validity (two zig-zag varints, nanoseconds since 1970 UTC),
// then the signature (string), made with seal.Sign over certContext and
// everything before it.
type KeyCert struct {
	Appliance    string
	ApplianceKey []byte // DER SubjectPublicKeyInfo: the key the policy binds to Appliance
	Key          ed25519.PublicKey
	NotBefore    time.Time
	NotAfter     time.Time
	Sig          []byte
}

const (
	certVersion = 1
	certContext = "bab evidence v1 key\x00"
	// MaxCert is the largest certificate read.
	MaxCert = 4 << 10
	// MaxCertLife is the longest validity the exchange accepts: a key in
	// memory signs for at most this long.
	MaxCertLife = 48 * time.Hour
)

// Signed is what the signature covers.
func (c *KeyCert) Signed() []byte {
	b := []byte{certVersion}
	b = canon.AppendString(b, c.Appliance)
	b = canon.AppendBytes(b, c.ApplianceKey)
	b = canon.AppendBytes(b, c.Key)
	b = binary.AppendVarint(b, c.NotBefore.UnixNano())
	return binary.AppendVarint(b, c.NotAfter.UnixNano())
}

// MarshalBinary is the certificate's encoding, signature included.
func (c *KeyCert) MarshalBinary() ([]byte, error) {
	return canon.AppendBytes(c.Signed(), c.Sig), nil
}

// UnmarshalBinary reads a certificate in its one canonical encoding; it
// checks nothing it does not need to read (see Verify).
func (c *KeyCert) UnmarshalBinary(data []byte) error {
	*c = KeyCert{}
	d := canon.NewDecoder(data)
	if len(data) > MaxCert {
		d.Fail("key certificate of %d bytes, more than %d", len(data), MaxCert)
	}
	if v := d.Byte(); d.Err() == nil && v != certVersion {
		d.Fail("key certificate of version %d (this version reads %d)", v, certVersion)
	}
	c.Appliance = d.String(maxField)
	c.ApplianceKey = clone(d.Bytes(MaxCert))
	if k := d.Bytes(MaxCert); d.Err() == nil && len(k) != ed25519.PublicKeySize {
		d.Fail("the signing key is %d bytes, not an Ed25519 key", len(k))
	} else {
		c.Key = ed25519.PublicKey(clone(k))
	}
	c.NotBefore = time.Unix(0, d.Varint()).UTC()
	c.NotAfter = time.Unix(0, d.Varint()).UTC()
	c.Sig = clone(d.Bytes(MaxCert))
	if err := d.End(); err != nil {
		*c = KeyCert{}
		return err
	}
	return nil
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

// Hash is the SHA-256 of the certificate's encoding: what a batch names it
// by.
func (c *KeyCert) Hash() Digest {
	b, _ := c.MarshalBinary()
	return sha256.Sum256(b)
}

// KeyHash is the appliance key as the policy writes it (policy.KeyHashOf).
func (c *KeyCert) KeyHash() string { return policy.KeyHashOf(c.ApplianceKey) }

// Verify checks that the appliance key it names signed it and that its
// validity is a window of at most MaxCertLife. Whether that key is the
// appliance's is the policy's to say: see Bound.
func (c *KeyCert) Verify() error {
	if len(c.Key) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: no Ed25519 signing key", ErrCertificate)
	}
	if !c.NotAfter.After(c.NotBefore) || c.NotAfter.Sub(c.NotBefore) > MaxCertLife {
		return fmt.Errorf("%w: valid from %s to %s, not a window of at most %s", ErrCertificate,
			c.NotBefore.Format(time.RFC3339), c.NotAfter.Format(time.RFC3339), MaxCertLife)
	}
	if err := seal.CheckSignature(c.ApplianceKey, certContext, c.Signed(), c.Sig); err != nil {
		return fmt.Errorf("%w: its signature by the appliance key it names: %w", ErrCertificate, err)
	}
	return nil
}

// Bound checks that the policy binds the appliance key the certificate
// names to its appliance: keys is policy.Policy.ApplianceKey, for the name
// as the certificate spells it.
func (c *KeyCert) Bound(keys func(name string) (string, bool)) error {
	want, ok := keys(c.Appliance)
	switch {
	case !ok:
		return fmt.Errorf("%w: the policy does not list %s", ErrCertificate, c.Appliance)
	case want != c.KeyHash():
		return fmt.Errorf("%w: it was signed with %s, but the policy binds %s to %s", ErrCertificate, c.KeyHash(), c.Appliance, want)
	}
	return nil
}

// Valid reports whether t is within the certificate's validity.
func (c *KeyCert) Valid(t time.Time) bool { return !t.Before(c.NotBefore) && !t.After(c.NotAfter) }
