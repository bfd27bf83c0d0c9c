package policy

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/babgate/bab/ident"
)

func FuzzParseSigned(f *testing.F) {
	_, priv := newKey(f, 1)
	s, err := Sign(labBundle(), priv)
	if err != nil {
		f.Fatal(err)
	}
	good, err := s.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	if bin, err := s.MarshalBinary(); err == nil {
		f.Add(bin)
	}
	f.Add([]byte(`{"payload":"e30=","signatures":[{"key_id":"x","sig":""}]}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSigned(data)
		if err != nil {
			return
		}
		// Whatever parses must survive the round trip and verification
		// (which, for fuzzed input, must refuse without panicking).
		out, err := s.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a parsed Signed: %v", err)
		}
		again, err := ParseSigned(out)
		if err != nil || !bytes.Equal(again.Payload, s.Payload) || len(again.Signatures) != len(s.Signatures) {
			t.Fatalf("round trip: %v", err)
		}
		_, _ = s.Verify(Trust{Keys: nil}, testNow)
	})
}

var sourceLine = regexp.MustCompile(`^fuzz\.yaml:[1-9][0-9]*: `)

func FuzzParseSource(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("version: 1\nvalid_for: 1d\nmembers: [{id: MA/GOV/DGSN, name: x}]\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseSource("fuzz.yaml", data, testNow)
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !sourceLine.MatchString(line) {
					t.Fatalf("error line %q is not placed as fuzz.yaml:LINE:", line)
				}
			}
			return
		}
		if err := b.validateDraft(); err != nil {
			t.Fatalf("ParseSource returned a bundle that does not validate: %v", err)
		}
		// Its keys filled, it can be signed: nothing else is left to check.
		reg := map[ident.Appliance]string{}
		for _, a := range b.Appliances {
			reg[a.ID] = keyOf(a.ID)
		}
		if f := FillKeys(b, reg); len(f.Unenrolled) > 0 {
			t.Fatalf("FillKeys left %v without a key", f.Unenrolled)
		}
		if err := b.Validate(); err != nil {
			t.Fatalf("ParseSource returned a bundle that does not validate once its keys are filled: %v", err)
		}
		if !b.Issued.Equal(testNow) {
			t.Fatalf("issued %v, want %v", b.Issued, testNow)
		}
	})
}

func FuzzParseKeys(f *testing.F) {
	pub, priv := newKey(f, 1)
	f.Add(MarshalPrivateKey(priv))
	f.Add(MarshalPublicKey(pub))
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if k, err := ParsePrivateKey(data); err == nil {
			if got, err := ParsePrivateKey(MarshalPrivateKey(k)); err != nil || !got.Equal(k) {
				t.Fatalf("private key round trip: %v", err)
			}
		}
		if k, err := ParsePublicKey(data); err == nil {
			if got, err := ParsePublicKey(MarshalPublicKey(k)); err != nil || !got.Equal(k) {
				t.Fatalf("public key round trip: %v", err)
			}
		}
	})
}
