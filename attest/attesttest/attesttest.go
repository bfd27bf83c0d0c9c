// Package attesttest makes in software the TPM structures an appliance
// sends the exchange: public areas, and quotes and certifications signed
// by an attestation key held in memory. Tests and fuzzers use it to reach
// the checks of package attest that lie behind the signature, without a
// TPM. Nothing it makes proves anything about a machine.
package attesttest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"math/big"
	"slices"

	"github.com/google/go-tpm/tpm2"
)

// Key is an ECC P-256 signing key held in software, with the TPMT_PUBLIC a
// TPM would give for it.
type Key struct {
	Private *ecdsa.PrivateKey
	Area    []byte
}

// NewKey makes a key fixed to its (pretend) TPM: restricted, it is an
// attestation key; unrestricted, it is a TLS key as appliances make them.
func NewKey(restricted bool) (*Key, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("attesttest: new key: %w", err)
	}
	pt, err := Point(&k.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("attesttest: new key: %w", err)
	}
	area := tpm2.Marshal(tpm2.TPMTPublic{
		Type:    tpm2.TPMAlgECC,
		NameAlg: tpm2.TPMAlgSHA256,
		ObjectAttributes: tpm2.TPMAObject{
			FixedTPM: true, FixedParent: true, SensitiveDataOrigin: true, UserWithAuth: true, NoDA: true,
			Restricted: restricted, SignEncrypt: true,
		},
		Parameters: tpm2.NewTPMUPublicParms(tpm2.TPMAlgECC, &tpm2.TPMSECCParms{
			Symmetric: tpm2.TPMTSymDefObject{Algorithm: tpm2.TPMAlgNull},
			Scheme: tpm2.TPMTECCScheme{Scheme: tpm2.TPMAlgECDSA,
				Details: tpm2.NewTPMUAsymScheme(tpm2.TPMAlgECDSA, &tpm2.TPMSSigSchemeECDSA{HashAlg: tpm2.TPMAlgSHA256})},
			CurveID: tpm2.TPMECCNistP256,
			KDF:     tpm2.TPMTKDFScheme{Scheme: tpm2.TPMAlgNull},
		}),
		Unique: tpm2.NewTPMUPublicID(tpm2.TPMAlgECC, pt),
	})
	return &Key{Private: k, Area: area}, nil
}

// Sign makes the TPMT_SIGNATURE a TPM would over msg.
func (k *Key) Sign(msg []byte) []byte {
	d := sha256.Sum256(msg)
	r, s, err := ecdsa.Sign(rand.Reader, k.Private, d[:])
	if err != nil {
		panic(fmt.Sprintf("attesttest: sign: %v", err)) // only a broken rand.Reader fails
	}
	return tpm2.Marshal(tpm2.TPMTSignature{
		SigAlg: tpm2.TPMAlgECDSA,
		Signature: tpm2.NewTPMUSignature(tpm2.TPMAlgECDSA, &tpm2.TPMSSignatureECC{
			Hash: tpm2.TPMAlgSHA256, SignatureR: param(r), SignatureS: param(s),
		}),
	})
}

// Point is k as a TPMS_ECC_POINT, for the Unique field of a public area.
func Point(k *ecdsa.PublicKey) (*tpm2.TPMSECCPoint, error) {
	b, err := k.Bytes() // 0x04, then X and Y of equal length
	if err != nil {
		return nil, fmt.Errorf("attesttest: point: %w", err)
	}
	n := (len(b) - 1) / 2
	return &tpm2.TPMSECCPoint{X: tpm2.TPM2BECCParameter{Buffer: b[1 : 1+n]}, Y: tpm2.TPM2BECCParameter{Buffer: b[1+n:]}}, nil
}

// param is a P-256 signature half, 32 bytes big-endian.
func param(n *big.Int) tpm2.TPM2BECCParameter {
	return tpm2.TPM2BECCParameter{Buffer: n.FillBytes(make([]byte, 32))}
}

// Quote is the TPMS_ATTEST of a quote answering nonce over the SHA-256
// PCR values pcrs.
func Quote(nonce []byte, pcrs map[int][]byte) []byte {
	idx := make([]uint, 0, len(pcrs))
	for p := range pcrs {
		idx = append(idx, uint(p))
	}
	slices.Sort(idx)
	// The TPM digests the values in ascending PCR order.
	h := sha256.New()
	for _, p := range idx {
		h.Write(pcrs[int(p)])
	}
	return statement(nonce, tpm2.TPMSTAttestQuote, tpm2.NewTPMUAttest(tpm2.TPMSTAttestQuote, &tpm2.TPMSQuoteInfo{
		PCRSelect: tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{{
			Hash: tpm2.TPMAlgSHA256, PCRSelect: tpm2.PCClientCompatible.PCRs(idx...),
		}}},
		PCRDigest: tpm2.TPM2BDigest{Buffer: h.Sum(nil)},
	}))
}

// Certify is the TPMS_ATTEST of a certification answering nonce of the
// key whose TPMT_PUBLIC is area.
func Certify(nonce, area []byte) ([]byte, error) {
	pub, err := tpm2.Unmarshal[tpm2.TPMTPublic](area)
	if err != nil {
		return nil, fmt.Errorf("attesttest: certify: %w", err)
	}
	name, err := tpm2.ObjectName(pub)
	if err != nil {
		return nil, fmt.Errorf("attesttest: certify: %w", err)
	}
	return statement(nonce, tpm2.TPMSTAttestCertify, tpm2.NewTPMUAttest(tpm2.TPMSTAttestCertify, &tpm2.TPMSCertifyInfo{
		Name: *name, QualifiedName: *name,
	})), nil
}

// statement is a TPM-generated TPMS_ATTEST of type typ answering nonce.
func statement(nonce []byte, typ tpm2.TPMST, info tpm2.TPMUAttest) []byte {
	return tpm2.Marshal(tpm2.TPMSAttest{
		Magic:           tpm2.TPMGeneratedValue,
		Type:            typ,
		QualifiedSigner: tpm2.TPM2BName{Buffer: []byte{0, 0x0b}},
		ExtraData:       tpm2.TPM2BData{Buffer: nonce},
		ClockInfo:       tpm2.TPMSClockInfo{Clock: 123456, ResetCount: 1, Safe: true},
		FirmwareVersion: 0x2000,
		Attested:        info,
	})
}
