package wire_test

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/babgate/bab/wire"
)

func TestEvidenceFrame(t *testing.T) {
	e := wire.Evidence{Cert: []byte("cert"), Batch: []byte("batch"), Entries: [][]byte{[]byte("e1"), []byte("e2"), []byte("e3")}}
	b, err := e.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var got wire.Evidence
	if err := got.UnmarshalBinary(b); err != nil || !reflect.DeepEqual(got, e) {
		t.Fatalf("round trip: %v\n%+v\n%+v", err, got, e)
	}
	for name, bad := range map[string][]byte{
		"truncated":       b[:len(b)-1],
		"trailing":        append(append([]byte(nil), b...), 0),
		"too many":        {0, 0, 0x81, 0x08},
		"entry too large": append([]byte{0, 0, 1, 0x81, 0x20}, make([]byte, 4097)...),
	} {
		if err := got.UnmarshalBinary(bad); !errors.Is(err, wire.ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}

// FuzzEvidence decodes evidence frames as the exchange reads them from an
// appliance: what is accepted is within the bounds, and encodes to a frame
// that decodes to the same parts.
func FuzzEvidence(f *testing.F) {
	seed, _ := (&wire.Evidence{Cert: []byte("cert"), Batch: []byte("batch"), Entries: [][]byte{[]byte("entry")}}).MarshalBinary()
	f.Add(seed)
	f.Add([]byte{0, 0, 0})
	f.Add([]byte{0x80, 0x00, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var e wire.Evidence
		if err := e.UnmarshalBinary(b); err != nil {
			if !errors.Is(err, wire.ErrMalformed) {
				t.Fatalf("error %v does not match ErrMalformed", err)
			}
			return
		}
		if len(e.Cert) > 4<<10 || len(e.Batch) > 2<<10 || len(e.Entries) > 1024 {
			t.Fatalf("accepted parts over their bounds: %d %d %d", len(e.Cert), len(e.Batch), len(e.Entries))
		}
		again, err := e.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var e2 wire.Evidence
		if err := e2.UnmarshalBinary(again); err != nil || !bytes.Equal(e2.Cert, e.Cert) || !bytes.Equal(e2.Batch, e.Batch) || len(e2.Entries) != len(e.Entries) {
			t.Fatalf("changed on the way round: %v", err)
		}
	})
}
