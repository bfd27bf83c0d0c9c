package wire_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/wire"
)

// A token shaped like the ones the exchange makes: 8 hex digits, 24 random
// bytes and a SHA-256, both in unpadded base64url.
const (
	tokID     = "0a1b2c3d"
	tokSecret = "AbCdEfGhIjKlMnOpQrStUvWxYz012-_9"
	tokPin    = "q80xjDKnLhR1lbX9B6aBUdMRJLeoB0XCbPd2tZd5Uyc"
)

func TestParseTokenValid(t *testing.T) {
	want := wire.Token{ID: tokID, Secret: tokSecret, Pin: tokPin}
	tests := []struct{ name, in string }{
		{"plain", tokID + "." + tokSecret + "." + tokPin},
		{"pasted with spaces and a newline", "  " + tokID + "." + tokSecret + "." + tokPin + "\n"},
		{"upper-case hex id", "0A1B2C3D." + tokSecret + "." + tokPin},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := wire.ParseToken(tc.in)
			if err != nil {
				t.Fatalf("ParseToken: %v", err)
			}
			w := want
			w.ID = strings.TrimSpace(strings.SplitN(tc.in, ".", 2)[0])
			if got != w {
				t.Errorf("ParseToken = %+v, want %+v", got, w)
			}
			if back, err := wire.ParseToken(got.String()); err != nil || back != got {
				t.Errorf("ParseToken(String()) = %+v, %v; want %+v", back, err, got)
			}
		})
	}
}

func TestParseTokenInvalid(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"two parts", tokID + "." + tokSecret},
		{"four parts", tokID + "." + tokSecret + "." + tokPin + ".x"},
		{"empty id", "." + tokSecret + "." + tokPin},
		{"short id", "0a1b2c3." + tokSecret + "." + tokPin},
		{"long id", "0a1b2c3d4." + tokSecret + "." + tokPin},
		{"id not hex", "0a1b2c3g." + tokSecret + "." + tokPin},
		{"short secret", tokID + "." + tokSecret[1:] + "." + tokPin},
		{"long secret", tokID + "." + tokSecret + "A." + tokPin},
		{"secret in standard base64", tokID + "." + strings.ReplaceAll(tokSecret, "-", "+") + "." + tokPin},
		{"secret with padding", tokID + "." + tokSecret[:31] + "=." + tokPin},
		{"short pin", tokID + "." + tokSecret + "." + tokPin[1:]},
		{"pin with slash", tokID + "." + tokSecret + "." + "/" + tokPin[1:]},
		{"space inside", tokID + ". " + tokSecret[1:] + "." + tokPin},
		{"colons instead of dots", tokID + ":" + tokSecret + ":" + tokPin},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := wire.ParseToken(tc.in)
			if !errors.Is(err, wire.ErrTokenMalformed) {
				t.Fatalf("ParseToken(%q) = %+v, %v; want ErrTokenMalformed", tc.in, got, err)
			}
			if got != (wire.Token{}) {
				t.Errorf("ParseToken returned %+v with its error, want the zero Token", got)
			}
		})
	}
}

// TestPin checks the pin's shape and that it depends on the public key
// only: two certificates for one key share a pin, another key differs.
func TestPin(t *testing.T) {
	k1, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	k2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cert := func(k *ecdsa.PrivateKey, cn string) *x509.Certificate {
		t.Helper()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a, b, c := wire.Pin(cert(k1, "a")), wire.Pin(cert(k1, "b")), wire.Pin(cert(k2, "a"))
	if a != b {
		t.Errorf("one key, two pins: %s, %s", a, b)
	}
	if a == c {
		t.Errorf("two keys, one pin: %s", a)
	}
	tok := tokID + "." + tokSecret + "." + a
	if _, err := wire.ParseToken(tok); err != nil {
		t.Errorf("a token carrying a real pin is refused: %v", err)
	}
}
