package tracelog

import (
	"bytes"
	"testing"
)

// FuzzReceipt: whatever bytes a receipt file holds, reading and verifying
// it never panics, and a receipt that reads is in its canonical form.
func FuzzReceipt(f *testing.F) {
	s, v := testKey(f, "exchange.example.gov/trace/fuzz")
	var l memLog
	for i := range 5 {
		l.add(f, numbered(i))
	}
	good := l.receipt(f, s, 5, 2).Marshal()
	f.Add(good)
	f.Add(l.receipt(f, s, 1, 0).Marshal())
	f.Add(bytes.Replace(good, []byte("index 2"), []byte("index 02"), 1))
	f.Add([]byte(ReceiptHeader + "\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseReceipt(b)
		if err != nil {
			return
		}
		if !bytes.Equal(r.Marshal(), b) {
			t.Fatalf("a receipt that reads is not canonical:\n%q", b)
		}
		if got, err := r.Verify(v); err == nil && !bytes.Equal(b, good) && got.Index == 2 && got.Checkpoint.Size == 5 {
			t.Fatalf("a receipt other than the one made verifies as it:\n%s", b)
		}
	})
}
