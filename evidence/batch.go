package evidence

import (
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/babgate/bab/internal/canon"
)

// Batch is the signed head of a batch of an appliance's entries: the
// Merkle root over them, signed with the key a KeyCert certifies. Its
// encoding: the version, the appliance (string), the SHA-256 of the key
// certificate (32 bytes), the batch's number under that key (uvarint, from
// 1, one more for each batch the appliance signs with it), when it was
// signed (zig-zag varint, nanoseconds since 1970 UTC), the number of
// entries and the number of entries dropped since the batch before
// (uvarints), the root (32 bytes), then the signature (string: Ed25519
// over batchContext and everything before it).
type Batch struct {
	Appliance string
	Cert      Digest // KeyCert.Hash of the certificate of the signing key
	Number    uint64
	At        time.Time
	Count     uint64
	// Dropped counts entries the appliance could not keep (its outbox was
	// full while it could not reach the exchange) since its batch before:
	// lost evidence is declared, and signed, not silently missing.
	Dropped uint64
	Root    Digest
	Sig     []byte
}

const (
	batchVersion = 1
	batchContext = "bab evidence v1 batch\x00"
	// MaxBatch is the most entries a batch holds.
	MaxBatch = 1024
	// MaxBatchHead is the largest batch head read.
	MaxBatchHead = 2 << 10
)

// Signed is what the signature covers.
func (b *Batch) Signed() []byte {
	out := []byte{batchVersion}
	out = canon.AppendString(out, b.Appliance)
	out = append(out, b.Cert[:]...)
	out = binary.AppendUvarint(out, b.Number)
	out = binary.AppendVarint(out, b.At.UnixNano())
	out = binary.AppendUvarint(out, b.Count)
	out = binary.AppendUvarint(out, b.Dropped)
	return append(out, b.Root[:]...)
}

// MarshalBinary is the batch head's encoding, signature included.
func (b *Batch) MarshalBinary() ([]byte, error) { return canon.AppendBytes(b.Signed(), b.Sig), nil }

// UnmarshalBinary reads a batch head in its one canonical encoding.
func (b *Batch) UnmarshalBinary(data []byte) error {
	*b = Batch{}
	d := canon.NewDecoder(data)
	if len(data) > MaxBatchHead {
		d.Fail("batch of %d bytes, more than %d", len(data), MaxBatchHead)
	}
	if v := d.Byte(); d.Err() == nil && v != batchVersion {
		d.Fail("batch of version %d (this version reads %d)", v, batchVersion)
	}
	b.Appliance = d.String(maxField)
	copy(b.Cert[:], d.Fixed(len(b.Cert)))
	b.Number = d.Uvarint()
	b.At = time.Unix(0, d.Varint()).UTC()
	b.Count = d.Uvarint()
	b.Dropped = d.Uvarint()
	copy(b.Root[:], d.Fixed(len(b.Root)))
	b.Sig = clone(d.Bytes(ed25519.SignatureSize))
	if d.Err() == nil && (b.Count == 0 || b.Count > MaxBatch) {
		d.Fail("a batch of %d entries (1 to %d)", b.Count, MaxBatch)
	}
	if err := d.End(); err != nil {
		*b = Batch{}
		return err
	}
	return nil
}

// Verify checks the batch head against the certificate of its key, which
// must have been checked already (KeyCert.Verify, and KeyCert.Bound where
// the policy is at hand): it names that certificate and its appliance,
// was signed within its validity, and the certified key signed it.
func (b *Batch) Verify(c *KeyCert) error {
	switch {
	case b.Cert != c.Hash():
		return fmt.Errorf("%w: it names another key certificate", ErrBatch)
	case b.Appliance != c.Appliance:
		return fmt.Errorf("%w: it is %s's, the key certificate %s's", ErrBatch, b.Appliance, c.Appliance)
	case !c.Valid(b.At):
		return fmt.Errorf("%w: signed at %s, outside its key's validity (%s to %s)", ErrBatch,
			b.At.Format(time.RFC3339), c.NotBefore.Format(time.RFC3339), c.NotAfter.Format(time.RFC3339))
	case !ed25519.Verify(c.Key, append([]byte(batchContext), b.Signed()...), b.Sig):
		return fmt.Errorf("%w: its signature does not verify with the certified key", ErrBatch)
	}
	return nil
}

// VerifyEntries checks that entries are the batch's, whole: as many as it
// says, hashing to its root, each an entry in its one encoding in which
// the batch's appliance speaks (the consumer of a consumer's entry, the
// provider of a provider's).
func (b *Batch) VerifyEntries(entries [][]byte) error {
	if uint64(len(entries)) != b.Count {
		return fmt.Errorf("%w: %d entries, the batch says %d", ErrBatch, len(entries), b.Count)
	}
	var v entryView
	for i, raw := range entries {
		if err := v.parse(raw); err != nil {
			return fmt.Errorf("%w: entry %d: %w", ErrBatch, i, err)
		}
		if s := v.speaker(); string(s) != b.Appliance {
			return fmt.Errorf("%w: entry %d is %s's word as %s, in a batch of %s", ErrBatch, i, s, v.side, b.Appliance)
		}
	}
	root, err := Root(entries)
	if err != nil {
		return err
	}
	if root != b.Root {
		return fmt.Errorf("%w: its entries do not hash to the root it signs", ErrBatch)
	}
	return nil
}
