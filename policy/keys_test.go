package policy

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"testing"
)

func TestKeyPEMRoundTrip(t *testing.T) {
	pub, priv, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	privPEM := MarshalPrivateKey(priv)
	if !bytes.HasPrefix(privPEM, []byte("-----BEGIN PRIVATE KEY-----\n")) {
		t.Errorf("private key PEM starts %q", privPEM[:min(len(privPEM), 30)])
	}
	gotPriv, err := ParsePrivateKey(privPEM)
	if err != nil {
		t.Fatal(err)
	}
	if !priv.Equal(gotPriv) {
		t.Error("private key changed in the round trip")
	}
	pubPEM := MarshalPublicKey(pub)
	if !bytes.HasPrefix(pubPEM, []byte("-----BEGIN PUBLIC KEY-----\n")) {
		t.Errorf("public key PEM starts %q", pubPEM[:min(len(pubPEM), 30)])
	}
	gotPub, err := ParsePublicKey(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(gotPub) {
		t.Error("public key changed in the round trip")
	}
	if KeyID(gotPub) != KeyID(pub) {
		t.Error("KeyID changed in the round trip")
	}
}

func TestMarshalKeyRefusesBadKeys(t *testing.T) {
	if got := MarshalPrivateKey(make([]byte, 10)); got != nil {
		t.Errorf("MarshalPrivateKey(short) = %q, want nil", got)
	}
	if got := MarshalPublicKey(make([]byte, 10)); got != nil {
		t.Errorf("MarshalPublicKey(short) = %q, want nil", got)
	}
}

func TestParseKeyRejects(t *testing.T) {
	pub, priv, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	privPEM, pubPEM := MarshalPrivateKey(priv), MarshalPublicKey(pub)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	ecPubDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	withHeaders := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: []byte{1}})
	tests := []struct {
		name  string
		in    []byte
		parse func([]byte) error
	}{
		{"private: empty", nil, parsePriv},
		{"private: garbage", []byte("not a key"), parsePriv},
		{"private: public key PEM", pubPEM, parsePriv},
		{"private: ECDSA key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}), parsePriv},
		{"private: bad DER", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}), parsePriv},
		{"private: encrypted", withHeaders, parsePriv},
		{"private: two blocks", append(append([]byte{}, privPEM...), privPEM...), parsePriv},
		{"public: private key PEM", privPEM, parsePub},
		{"public: ECDSA key", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecPubDER}), parsePub},
		{"public: bad DER", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1}}), parsePub},
		{"public: trailing junk", append(append([]byte{}, pubPEM...), "junk"...), parsePub},
	}
	for _, tt := range tests {
		if err := tt.parse(tt.in); !errors.Is(err, ErrBadKey) {
			t.Errorf("%s: error %v, want ErrBadKey", tt.name, err)
		}
	}
	// Surrounding whitespace, as editors leave it, is fine.
	if _, err := ParsePublicKey(append(append([]byte{}, pubPEM...), "\n\n"...)); err != nil {
		t.Errorf("public key with trailing newlines: %v", err)
	}
}

func parsePriv(b []byte) error { _, err := ParsePrivateKey(b); return err }

func parsePub(b []byte) error { _, err := ParsePublicKey(b); return err }
