package tracelog

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// memLog is a log in memory, built the way the exchange's store builds
// its own: the stored hashes of golang.org/x/mod/sumdb/tlog.
type memLog struct {
	records [][]byte
	hashes  []tlog.Hash
}

func (l *memLog) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		if x >= int64(len(l.hashes)) {
			return nil, fmt.Errorf("no hash %d", x)
		}
		out[i] = l.hashes[x]
	}
	return out, nil
}

func (l *memLog) add(t testing.TB, r Record) {
	t.Helper()
	b, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	hs, err := tlog.StoredHashes(int64(len(l.records)), b, l)
	if err != nil {
		t.Fatal(err)
	}
	l.records = append(l.records, b)
	l.hashes = append(l.hashes, hs...)
}

func testKey(t testing.TB, origin string) (note.Signer, note.Verifier) {
	t.Helper()
	skey, vkey, err := NewKey(origin)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

// receipt makes the receipt of record i under a checkpoint of the first
// size records.
func (l *memLog) receipt(t testing.TB, s note.Signer, size, i int64) *Receipt {
	t.Helper()
	root, err := tlog.TreeHash(size, l)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := Sign(Checkpoint{Origin: s.Name(), Size: size, Root: root}, s)
	if err != nil {
		t.Fatal(err)
	}
	proof, err := tlog.ProveRecord(size, i, l)
	if err != nil {
		t.Fatal(err)
	}
	return &Receipt{Record: l.records[i], Index: i, Proof: proof, Checkpoint: signed}
}

func numbered(i int) Record {
	r := sample()
	r.ID = fmt.Sprintf("%016x", i)
	r.At = r.At.Add(time.Duration(i) * time.Millisecond)
	return r
}

// TestReceiptsManySizes: for trees of many sizes, every record's receipt
// verifies under a checkpoint of the whole tree and of every smaller tree
// that holds it, and the log's consistency proofs hold between sizes.
func TestReceiptsManySizes(t *testing.T) {
	s, v := testKey(t, "exchange.example.gov/trace/test")
	var l memLog
	const n = 70
	for i := range n {
		l.add(t, numbered(i))
	}
	for size := int64(1); size <= n; size++ {
		for i := int64(0); i < size; i++ {
			r := l.receipt(t, s, size, i)
			parsed, err := ParseReceipt(r.Marshal())
			if err != nil {
				t.Fatalf("size %d, record %d: ParseReceipt: %v", size, i, err)
			}
			got, err := parsed.Verify(v)
			if err != nil {
				t.Fatalf("size %d, record %d: Verify: %v", size, i, err)
			}
			if got.Record.ID != fmt.Sprintf("%016x", i) || got.Checkpoint.Size != size || got.Index != i || got.KeyName != s.Name() {
				t.Fatalf("size %d, record %d: verified %+v", size, i, got)
			}
		}
		for old := int64(1); old <= size; old++ {
			newRoot, _ := tlog.TreeHash(size, &l)
			oldRoot, _ := tlog.TreeHash(old, &l)
			proof, err := tlog.ProveTree(size, old, &l)
			if err != nil {
				t.Fatal(err)
			}
			if err := tlog.CheckTree(proof, size, newRoot, old, oldRoot); err != nil {
				t.Fatalf("consistency %d → %d: %v", old, size, err)
			}
		}
	}
	// Larger trees, a few records each.
	for _, size := range []int{1000, 4097} {
		for len(l.records) < size {
			l.add(t, numbered(len(l.records)))
		}
		for _, i := range []int64{0, 1, int64(size / 2), int64(size - 1)} {
			if _, err := l.receipt(t, s, int64(size), i).Verify(v); err != nil {
				t.Fatalf("size %d, record %d: %v", size, i, err)
			}
		}
	}
}

// TestReceiptEveryByteChanged: a receipt with any one byte changed is
// refused, with an error that says what is wrong.
func TestReceiptEveryByteChanged(t *testing.T) {
	s, v := testKey(t, "exchange.example.gov/trace/test")
	var l memLog
	for i := range 11 {
		l.add(t, numbered(i))
	}
	good := l.receipt(t, s, 11, 6).Marshal()
	if _, err := mustParse(t, good).Verify(v); err != nil {
		t.Fatal(err)
	}
	for i := range good {
		for _, c := range []byte{good[i] ^ 0x01, good[i] ^ 0x20, 'A', '\n', ' ', '='} {
			if c == good[i] {
				continue
			}
			bad := append([]byte(nil), good...)
			bad[i] = c
			r, err := ParseReceipt(bad)
			if err == nil {
				_, err = r.Verify(v)
			}
			if err == nil {
				t.Fatalf("byte %d changed from %q to %q: the receipt still verifies:\n%s", i, good[i], c, bad)
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrSignature) && !errors.Is(err, ErrNotIncluded) && !errors.Is(err, ErrVersion) {
				t.Fatalf("byte %d changed: error %v is none of the package's", i, err)
			}
		}
	}
}

func mustParse(t *testing.T, b []byte) *Receipt {
	t.Helper()
	r, err := ParseReceipt(b)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestReceiptOtherLog: a receipt does not verify with another log's key,
// nor with a key of the same name that is not the log's.
func TestReceiptOtherLog(t *testing.T) {
	s, _ := testKey(t, "exchange.example.gov/trace/a")
	_, other := testKey(t, "exchange.example.gov/trace/b")
	_, sameName := testKey(t, "exchange.example.gov/trace/a")
	var l memLog
	l.add(t, sample())
	r := l.receipt(t, s, 1, 0)
	for _, v := range []note.Verifier{other, sameName} {
		if _, err := r.Verify(v); !errors.Is(err, ErrSignature) {
			t.Errorf("Verify with %s = %v, want ErrSignature", v.Name(), err)
		}
	}
}

func TestCheckpointFormat(t *testing.T) {
	s, v := testKey(t, "exchange.example.gov/trace/4f1c9a2e")
	c := Checkpoint{Origin: s.Name(), Size: 20852163, Root: tlog.RecordHash([]byte("x"))}
	signed, err := Sign(c, s)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(signed), "\n")
	if len(lines) != 6 || lines[0] != c.Origin || lines[1] != "20852163" || lines[2] != c.Root.String() || lines[3] != "" ||
		!strings.HasPrefix(lines[4], "— exchange.example.gov/trace/4f1c9a2e ") || lines[5] != "" {
		t.Fatalf("signed checkpoint:\n%s", signed)
	}
	got, err := Open(signed, v)
	if err != nil || got != c {
		t.Fatalf("Open = %+v, %v", got, err)
	}
	for _, text := range []string{"o\n1\n" + c.Root.String() + "\nextension\n", "o\n01\n" + c.Root.String() + "\n", "o\n-1\n" + c.Root.String() + "\n", "o o\n1\n" + c.Root.String() + "\n", "o\n1\nAAAA\n", "o\n1\n" + c.Root.String()} {
		if _, err := ParseCheckpoint([]byte(text)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseCheckpoint(%q) = %v, want ErrMalformed", text, err)
		}
	}
	for _, o := range []string{"", "a b", "a+b", "a\tb", "\xff"} {
		if _, _, err := NewKey(o); err == nil {
			t.Errorf("NewKey(%q) succeeded", o)
		}
	}
}
