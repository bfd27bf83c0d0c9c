package evidence

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"
	"time"
)

// rfc6962Root computes a Merkle tree hash as RFC 6962 §2.1 says, by its
// recursive definition: the batches' roots must be that.
func rfc6962Root(leaves [][]byte) [32]byte {
	if len(leaves) == 1 {
		return sha256.Sum256(append([]byte{0}, leaves[0]...))
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	l, r := rfc6962Root(leaves[:k]), rfc6962Root(leaves[k:])
	return sha256.Sum256(append(append([]byte{1}, l[:]...), r[:]...))
}

func entries(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		e := sampleEntry()
		e.ID = fmt.Sprintf("%016x", i)
		e.Seq = uint64(i + 1)
		out[i] = e.AppendBinary(nil)
	}
	return out
}

// TestBatchRootAndPaths: a batch's root is RFC 6962's tree hash of its
// entries, and every entry's path leads to it, from its place only.
func TestBatchRootAndPaths(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7, 8, 100} {
		es := entries(n)
		root, err := Root(es)
		if err != nil {
			t.Fatal(err)
		}
		if root != Digest(rfc6962Root(es)) {
			t.Fatalf("%d entries: the root is not RFC 6962's", n)
		}
		for i := range es {
			path, err := Prove(es, i)
			if err != nil {
				t.Fatal(err)
			}
			if err := CheckPath(path, uint64(n), root, uint64(i), es[i]); err != nil {
				t.Fatalf("%d entries, entry %d: %v", n, i, err)
			}
			if n > 1 {
				if err := CheckPath(path, uint64(n), root, uint64((i+1)%n), es[i]); !errors.Is(err, ErrNotIncluded) {
					t.Fatalf("entry %d proven at another place: %v", i, err)
				}
				if err := CheckPath(path, uint64(n), root, uint64(i), es[(i+1)%n]); !errors.Is(err, ErrNotIncluded) {
					t.Fatalf("another entry proven with entry %d's path: %v", i, err)
				}
			}
		}
	}
}

// TestBatchSignature: a batch verifies with the certificate of its key and
// its entries; a batch signed by a key the certificate does not certify,
// changed, with an entry more, less or changed, or with an entry in which
// it speaks for another appliance, does not.
func TestBatchSignature(t *testing.T) {
	k := applianceKey(t)
	s, _ := NewSigner("MA/MUN/RABAT:hq", k)
	es := entries(5)
	sealed, err := s.Seal(es, 3, t0)
	if err != nil {
		t.Fatal(err)
	}
	var c KeyCert
	var b Batch
	if err := c.UnmarshalBinary(sealed.Cert); err != nil {
		t.Fatal(err)
	}
	if err := b.UnmarshalBinary(sealed.Head); err != nil {
		t.Fatal(err)
	}
	if err := b.Verify(&c); err != nil {
		t.Fatal(err)
	}
	if err := b.VerifyEntries(es); err != nil || b.Dropped != 3 || b.Number != 1 {
		t.Fatalf("entries: %v, dropped %d", err, b.Dropped)
	}
	// A head with any byte changed does not verify.
	for i := range sealed.Head {
		bad := append([]byte(nil), sealed.Head...)
		bad[i] ^= 0x01
		var o Batch
		if o.UnmarshalBinary(bad) == nil && o.Verify(&c) == nil {
			if err := o.VerifyEntries(es); err == nil {
				t.Fatalf("byte %d of the batch changed, and it still verifies", i)
			}
		}
	}
	// Signed with a key the certificate does not certify.
	_, other, _ := ed25519.GenerateKey(nil)
	forged := b
	forged.Sig = ed25519.Sign(other, append([]byte(batchContext), forged.Signed()...))
	if err := forged.Verify(&c); !errors.Is(err, ErrBatch) {
		t.Errorf("a batch signed by an uncertified key: %v", err)
	}
	// Signed after its key's validity.
	late := b
	late.At = c.NotAfter.Add(time.Second)
	if err := late.Verify(&c); !errors.Is(err, ErrBatch) {
		t.Errorf("a batch signed after its key expired: %v", err)
	}
	for name, list := range map[string][][]byte{
		"one less":  es[:4],
		"one more":  append(append([][]byte(nil), es...), es[0]),
		"swapped":   {es[1], es[0], es[2], es[3], es[4]},
		"changed":   {es[0], es[1], append(bytes.Clone(es[2][:len(es[2])-1]), es[2][len(es[2])-1]^1), es[3], es[4]},
		"malformed": {es[0], es[1], []byte("x"), es[3], es[4]},
	} {
		if err := b.VerifyEntries(list); !errors.Is(err, ErrBatch) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// An entry in which the batch's appliance speaks for another.
	e := sampleEntry()
	e.Side = Provider // MA/GOV/ETATCIVIL:dc1 speaks, in hq's batch
	foreign, _ := s.Seal([][]byte{e.AppendBinary(nil)}, 0, t0)
	var fb Batch
	_ = fb.UnmarshalBinary(foreign.Head)
	if err := fb.VerifyEntries(foreign.Entries); !errors.Is(err, ErrBatch) {
		t.Errorf("an entry speaking for another appliance: %v", err)
	}
}
