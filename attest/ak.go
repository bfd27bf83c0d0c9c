package attest

import (
	"crypto"
	"fmt"

	"github.com/google/go-tpm/tpm2"
)

// AKPublic is an attestation key as the exchange knows it.
type AKPublic struct {
	// Public is the key (*ecdsa.PublicKey or *rsa.PublicKey).
	Public crypto.PublicKey
	// Name is the TPM Name (name algorithm and digest of Area) that
	// MakeCredential binds the challenge to.
	Name []byte
	// Area is the key's TPMT_PUBLIC.
	Area []byte
}

// ParseAK parses an attestation key's TPMT_PUBLIC and refuses anything
// but a restricted, fixedTPM, fixedParent, sensitiveDataOrigin signing
// key: only such a key signs nothing but TPM-generated statements and
// cannot be used outside the TPM that made it.
func ParseAK(area []byte) (*AKPublic, error) {
	pub, err := unmarshalExact[tpm2.TPMTPublic]("AK public area", area)
	if err != nil {
		return nil, fmt.Errorf("attest: parse AK: %w", err)
	}
	a := pub.ObjectAttributes
	if !a.Restricted || !a.SignEncrypt || a.Decrypt || !a.FixedTPM || !a.FixedParent || !a.SensitiveDataOrigin {
		return nil, fmt.Errorf("attest: parse AK: %w: attributes %s", ErrNotAK, describeAttrs(a))
	}
	if pub.Type != tpm2.TPMAlgECC && pub.Type != tpm2.TPMAlgRSA {
		return nil, fmt.Errorf("attest: parse AK: %w: key type %v", ErrNotAK, pub.Type)
	}
	k, err := tpm2.Pub(*pub)
	if err != nil {
		return nil, fmt.Errorf("attest: parse AK: %w: %w", ErrMalformed, err)
	}
	name, err := tpm2.ObjectName(pub)
	if err != nil {
		return nil, fmt.Errorf("attest: parse AK: %w: name: %w", ErrMalformed, err)
	}
	return &AKPublic{Public: k, Name: name.Buffer, Area: area}, nil
}

// describeAttrs lists the attributes that matter here, for error messages.
func describeAttrs(a tpm2.TPMAObject) string {
	s := ""
	for _, f := range []struct {
		set  bool
		name string
	}{
		{a.FixedTPM, "fixedTPM"}, {a.FixedParent, "fixedParent"}, {a.SensitiveDataOrigin, "sensitiveDataOrigin"},
		{a.Restricted, "restricted"}, {a.SignEncrypt, "sign"}, {a.Decrypt, "decrypt"},
	} {
		if f.set {
			if s != "" {
				s += "|"
			}
			s += f.name
		}
	}
	if s == "" {
		return "(none)"
	}
	return s
}
