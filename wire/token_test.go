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
// bytes and two SHA-256 digests, all three in unpadded base64url.
const (
	tokID     = "0a1b2c3d"
	tokSecret = "AbCdEfGhIjKlMnOpQrStUvWxYz012-_9"
	tokPin    = "q80xjDKnLhR1lbX9B6aBUdMRJLeoB0XCbPd2tZd5Uyc"
	tokOps    = "Zk3x_Qm2-9aLpV7cT0bYwN4eR8sU1oJ6hG5dF2iKqXw"
)

func TestParseTokenValid(t *testing.T) {
	want := wire.Token{ID: tokID, Secret: tokSecret, Pin: tokPin, Ops: tokOps}
	tests := []struct{ name, in string }{
		{"plain", tokID + "." + tokSecret + "." + tokPin + "." + tokOps},
		{"pasted with spaces and a newline", "  " + tokID + "." + tokSecret + "." + tokPin + "." + tokOps + "\n"},
		{"upper-case hex id", "0A1B2C3D." + tokSecret + "." + tokPin + "." + tokOps},
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
	tok := func(id, secret, pin, ops string) string { return id + "." + secret + "." + pin + "." + ops }
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"two parts", tokID + "." + tokSecret},
		{"three parts: no ops key fingerprint", tokID + "." + tokSecret + "." + tokPin},
		{"five parts", tok(tokID, tokSecret, tokPin, tokOps) + ".x"},
		{"empty id", tok("", tokSecret, tokPin, tokOps)},
		{"short id", tok("0a1b2c3", tokSecret, tokPin, tokOps)},
		{"long id", tok("0a1b2c3d4", tokSecret, tokPin, tokOps)},
		{"id not hex", tok("0a1b2c3g", tokSecret, tokPin, tokOps)},
		{"short secret", tok(tokID, tokSecret[1:], tokPin, tokOps)},
		{"long secret", tok(tokID, tokSecret+"A", tokPin, tokOps)},
		{"secret in standard base64", tok(tokID, strings.ReplaceAll(tokSecret, "-", "+"), tokPin, tokOps)},
		{"secret with padding", tok(tokID, tokSecret[:31]+"=", tokPin, tokOps)},
		{"short pin", tok(tokID, tokSecret, tokPin[1:], tokOps)},
		{"pin with slash", tok(tokID, tokSecret, "/"+tokPin[1:], tokOps)},
		{"empty ops", tok(tokID, tokSecret, tokPin, "")},
		{"short ops", tok(tokID, tokSecret, tokPin, tokOps[1:])},
		{"long ops", tok(tokID, tokSecret, tokPin, tokOps+"A")},
		{"ops in standard base64", tok(tokID, tokSecret, tokPin, strings.ReplaceAll(tokOps, "_", "/"))},
		{"pin and ops swapped for the secret", tok(tokID, tokPin, tokSecret, tokOps)},
		{"space inside", tokID + ". " + tokSecret[1:] + "." + tokPin + "." + tokOps},
		{"colons instead of dots", tokID + ":" + tokSecret + ":" + tokPin + ":" + tokOps},
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
	// The older form says what to do.
	if _, err := wire.ParseToken(tokID + "." + tokSecret + "." + tokPin); err == nil || !strings.Contains(err.Error(), "new one") {
		t.Errorf("a token without the ops key fingerprint: %v; want it to ask for a new token", err)
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
	tok := tokID + "." + tokSecret + "." + a + "." + tokOps
	if _, err := wire.ParseToken(tok); err != nil {
		t.Errorf("a token carrying a real pin is refused: %v", err)
	}
}
