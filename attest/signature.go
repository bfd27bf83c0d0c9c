package attest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"fmt"
	"math/big"

	"github.com/google/go-tpm/tpm2"
)

// verifySignature checks a TPMT_SIGNATURE by pub over msg.
func verifySignature(pub crypto.PublicKey, msg, sigBytes []byte) error {
	sig, err := unmarshalExact[tpm2.TPMTSignature]("signature", sigBytes)
	if err != nil {
		return err
	}
	switch sig.SigAlg {
	case tpm2.TPMAlgECDSA:
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return fmt.Errorf("%w: ECDSA signature for a %T key", ErrBadSignature, pub)
		}
		ec, err := sig.Signature.ECDSA()
		if err != nil {
			return fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		digest, err := hashOf(ec.Hash, msg)
		if err != nil {
			return err
		}
		r := new(big.Int).SetBytes(ec.SignatureR.Buffer)
		s := new(big.Int).SetBytes(ec.SignatureS.Buffer)
		if !ecdsa.Verify(k, digest, r, s) {
			return ErrBadSignature
		}
		return nil
	case tpm2.TPMAlgRSASSA, tpm2.TPMAlgRSAPSS:
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("%w: RSA signature for a %T key", ErrBadSignature, pub)
		}
		var rs *tpm2.TPMSSignatureRSA
		if sig.SigAlg == tpm2.TPMAlgRSASSA {
			rs, err = sig.Signature.RSASSA()
		} else {
			rs, err = sig.Signature.RSAPSS()
		}
		if err != nil {
			return fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		digest, err := hashOf(rs.Hash, msg)
		if err != nil {
			return err
		}
		h, _ := rs.Hash.Hash()
		if sig.SigAlg == tpm2.TPMAlgRSASSA {
			err = rsa.VerifyPKCS1v15(k, h, digest, rs.Sig.Buffer)
		} else {
			err = rsa.VerifyPSS(k, h, digest, rs.Sig.Buffer, nil)
		}
		if err != nil {
			return fmt.Errorf("%w: %w", ErrBadSignature, err)
		}
		return nil
	}
	return fmt.Errorf("%w: signature algorithm %v", ErrBadSignature, sig.SigAlg)
}

// hashOf hashes msg with one of the SHA-2 algorithms a quote may use.
func hashOf(alg tpm2.TPMIAlgHash, msg []byte) ([]byte, error) {
	switch alg {
	case tpm2.TPMAlgSHA256, tpm2.TPMAlgSHA384, tpm2.TPMAlgSHA512:
	default:
		return nil, fmt.Errorf("%w: signature hash %v", ErrBadSignature, alg)
	}
	h, err := alg.Hash()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	w := h.New()
	w.Write(msg)
	return w.Sum(nil), nil
}
