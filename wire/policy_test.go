package wire_test

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/babgate/bab/wire"
)

func TestPolicyFrame(t *testing.T) {
	// A bundle that repeats itself, like one listing a thousand appliances,
	// travels compressed; a small one as it is. Both come back byte-exact.
	big := []byte(`{"payload":"` + strings.Repeat("TUEvTVVOL1NJTTA6c2ltLTAwMDAx", 2000) + `","signatures":[]}`)
	small := []byte(`{"payload":"eyJ2IjoxfQ==","signatures":[]}`)
	binary := []byte("\x00bab-signed/1\n\x03abc\x00") // the binary form: not JSON
	for _, signed := range [][]byte{big, small, binary} {
		frame, err := wire.PolicyFrame(signed)
		if err != nil {
			t.Fatal(err)
		}
		var p wire.Policy
		if err := json.Unmarshal(frame, &p); err != nil {
			t.Fatal(err)
		}
		if compressed := len(p.Deflate) > 0; compressed != (len(signed) > 1000) {
			t.Errorf("bundle of %d bytes: compressed=%v", len(signed), compressed)
		}
		got, err := p.Signed()
		if err != nil || !bytes.Equal(got, signed) {
			t.Fatalf("round trip of %d bytes: %v", len(signed), err)
		}
	}
	if f, _ := wire.PolicyFrame(big); len(f) > len(big)/4 {
		t.Errorf("the repetitive bundle went from %d to only %d bytes", len(big), len(f))
	}
}

func TestPolicyFrameBombRefused(t *testing.T) {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	zeros := make([]byte, 1<<20)
	for range 17 { // 17 MiB of zeros, a few kilobytes compressed
		_, _ = w.Write(zeros)
	}
	_ = w.Close()
	p := wire.Policy{Deflate: buf.Bytes()}
	if _, err := p.Signed(); !errors.Is(err, wire.ErrFrameTooLarge) {
		t.Fatalf("a bundle inflating past the limit: err = %v", err)
	}
	p = wire.Policy{Deflate: []byte("not deflate at all")}
	if _, err := p.Signed(); !errors.Is(err, wire.ErrMalformed) {
		t.Fatalf("garbage: err = %v", err)
	}
}
