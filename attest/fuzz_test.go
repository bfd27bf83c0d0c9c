package attest_test

import (
	"bytes"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/google/go-tpm/tpm2"

	"github.com/babgate/bab/attest"
	"github.com/babgate/bab/attest/attesttest"
)

// The fuzzers here feed the exchange the TPM structures an enrolling or
// attesting appliance sends, without a TPM: a software attestation key
// signs whatever statement the fuzzer makes up, so that the parsing behind
// the signature check is reached too.

// fuzzNonce and fuzzPCRs are the challenge the statements answer.
var (
	fuzzNonce = bytes.Repeat([]byte{0x5a}, 32)
	fuzzPCRs  = []int{0, 2, 4, 7}
)

// FuzzPublicArea parses a TPMT_PUBLIC as an attestation key, as an
// endorsement key, and makes a credential for it. Each refuses with its
// package's sentinel errors or gives a key; an accepted AK parses again to
// the same Name, a digest of its name algorithm.
func FuzzPublicArea(f *testing.F) {
	ak, tls := softKey(f, true), softKey(f, false)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	rsaEK := tpm2.RSAEKTemplate
	rsaEK.Unique = tpm2.NewTPMUPublicID(tpm2.TPMAlgRSA, &tpm2.TPM2BPublicKeyRSA{Buffer: rsaKey.N.Bytes()})
	eccEK := tpm2.ECCEKTemplate
	pt, err := attesttest.Point(&ak.Private.PublicKey)
	if err != nil {
		f.Fatal(err)
	}
	eccEK.Unique = tpm2.NewTPMUPublicID(tpm2.TPMAlgECC, pt)
	for _, seed := range [][]byte{ak.Area, tls.Area, tpm2.Marshal(rsaEK), tpm2.Marshal(eccEK), tpm2.Marshal(tpm2.ECCSRKTemplate), {}, {0, 0x23}} {
		f.Add(seed)
	}
	secret := bytes.Repeat([]byte{0xc3}, 32)
	f.Fuzz(func(t *testing.T, area []byte) {
		parsed, err := attest.ParseAK(area)
		switch {
		case err != nil && !errors.Is(err, attest.ErrMalformed) && !errors.Is(err, attest.ErrNotAK):
			t.Fatalf("ParseAK error %v is neither ErrMalformed nor ErrNotAK", err)
		case err == nil:
			if !bytes.Equal(parsed.Area, area) || parsed.Public == nil {
				t.Fatalf("ParseAK kept area %x and key %v, from %x", parsed.Area, parsed.Public, area)
			}
			again, err := attest.ParseAK(area)
			if err != nil || !bytes.Equal(again.Name, parsed.Name) {
				t.Fatalf("ParseAK of the same area: %v, name %x then %x", err, parsed.Name, again.Name)
			}
			if len(parsed.Name) < 2 {
				t.Fatalf("AK name %x has no algorithm", parsed.Name)
			}
			h, err := tpm2.TPMIAlgHash(uint16(parsed.Name[0])<<8 | uint16(parsed.Name[1])).Hash()
			if err != nil || len(parsed.Name) != 2+h.Size() {
				t.Fatalf("AK name %x is not an algorithm and its digest (%v)", parsed.Name, err)
			}
		}

		if _, err := attest.EKPublicFromArea(area); err != nil && !errors.Is(err, attest.ErrMalformed) {
			t.Fatalf("EKPublicFromArea error %v does not match ErrMalformed", err)
		}

		name := []byte{0, 0x0b, 1, 2, 3}
		if parsed != nil {
			name = parsed.Name
		}
		idObject, encSecret, err := attest.MakeCredential(area, name, secret)
		switch {
		case err != nil && !errors.Is(err, attest.ErrMalformed) && !errors.Is(err, attest.ErrCredential):
			t.Fatalf("MakeCredential error %v is neither ErrMalformed nor ErrCredential", err)
		case err == nil && (len(idObject) == 0 || len(encSecret) == 0):
			t.Fatalf("MakeCredential gave an empty credential: %x, %x", idObject, encSecret)
		}
	})
}

// FuzzStatement verifies a made-up TPMS_ATTEST as a quote and as a
// certification, signed by the software AK when sig is empty and with the
// fuzzer's TPMT_SIGNATURE otherwise. A refusal matches one of the
// package's sentinels; an accepted quote returns exactly the PCRs asked
// for, with the values sent, and an accepted certification a P-256 key
// that could never pass as an attestation key.
func FuzzStatement(f *testing.F) {
	ak, tls := softKey(f, true), softKey(f, false)
	akPub, err := attest.ParseAK(ak.Area)
	if err != nil {
		f.Fatal(err)
	}
	pcrs := map[int][]byte{}
	for _, p := range fuzzPCRs {
		v := sha256.Sum256([]byte{byte(p)})
		pcrs[p] = v[:]
	}
	quote := attesttest.Quote(fuzzNonce, pcrs)
	certify, err := attesttest.Certify(fuzzNonce, tls.Area)
	if err != nil {
		f.Fatal(err)
	}
	// The seeds must verify, or the fuzzer would start outside the code
	// it is meant to reach.
	if _, err := attest.VerifyQuote(akPub, attest.Quote{Attest: quote, Signature: ak.Sign(quote), PCRs: pcrs}, fuzzNonce, fuzzPCRs); err != nil {
		f.Fatalf("seed quote: %v", err)
	}
	if _, err := attest.VerifyCertify(akPub, tls.Area, certify, ak.Sign(certify), fuzzNonce); err != nil {
		f.Fatalf("seed certification: %v", err)
	}
	f.Add(quote, []byte{}, tls.Area)
	f.Add(certify, []byte{}, tls.Area)
	f.Add(certify, []byte{}, ak.Area)
	f.Add(quote, ak.Sign(quote), tls.Area)
	f.Add(quote, ak.Sign(quote)[:10], []byte{})
	f.Add([]byte{}, []byte{}, []byte{})
	f.Fuzz(func(t *testing.T, stmt, sig, keyArea []byte) {
		if len(sig) == 0 {
			sig = ak.Sign(stmt)
		}
		got, err := attest.VerifyQuote(akPub, attest.Quote{Attest: stmt, Signature: sig, PCRs: pcrs}, fuzzNonce, fuzzPCRs)
		switch {
		case err != nil:
			checkRefusal(t, "VerifyQuote", err)
		case !slices.Equal(slices.Sorted(maps.Keys(got)), fuzzPCRs):
			t.Fatalf("VerifyQuote accepted PCRs %v, asked for %v", slices.Sorted(maps.Keys(got)), fuzzPCRs)
		case !maps.EqualFunc(got, pcrs, bytes.Equal):
			t.Fatalf("VerifyQuote returned other values than were sent")
		}
		key, err := attest.VerifyCertify(akPub, keyArea, stmt, sig, fuzzNonce)
		if err != nil {
			checkRefusal(t, "VerifyCertify", err)
			return
		}
		if key.Curve != elliptic.P256() {
			t.Fatalf("VerifyCertify accepted a key on %s", key.Curve.Params().Name)
		}
		if _, err := attest.ParseAK(keyArea); err == nil {
			t.Fatalf("VerifyCertify accepted a restricted key as a TLS key: %x", keyArea)
		}
	})
}

// checkRefusal fails unless err is one of the refusals the package
// documents for a statement.
func checkRefusal(t *testing.T, what string, err error) {
	t.Helper()
	for _, want := range []error{
		attest.ErrMalformed, attest.ErrBadSignature, attest.ErrWrongType, attest.ErrNonce,
		attest.ErrPCRSelection, attest.ErrPCRDigest, attest.ErrNotBound, attest.ErrExportableKey, attest.ErrKeyType,
	} {
		if errors.Is(err, want) {
			return
		}
	}
	t.Fatalf("%s error %v matches none of the package's errors", what, err)
}

// softKey is attesttest.NewKey for a fuzzer's setup.
func softKey(f *testing.F, restricted bool) *attesttest.Key {
	f.Helper()
	k, err := attesttest.NewKey(restricted)
	if err != nil {
		f.Fatal(err)
	}
	return k
}
