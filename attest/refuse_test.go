package attest_test

import (
	"bytes"
	"crypto"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/agent/tpm"
	"github.com/babgate/bab/attest"
)

func TestEKCertFromUntrustedVendorRefused(t *testing.T) {
	t.Parallel()
	_, tp := openSim(t)
	other, _ := openSim(t)
	ek, err := tp.EndorsementKey()
	if err != nil {
		t.Fatal(err)
	}
	err = attest.VerifyEKCert(ek.Cert, vendorPool(t, other), nil, time.Now())
	if !errors.Is(err, attest.ErrEKUntrusted) {
		t.Fatalf("VerifyEKCert with another vendor's CA = %v, want ErrEKUntrusted", err)
	}
	if err := attest.VerifyEKCert(ek.Cert, nil, nil, time.Now()); !errors.Is(err, attest.ErrEKUntrusted) {
		t.Fatalf("VerifyEKCert with no CAs = %v, want ErrEKUntrusted", err)
	}
}

func TestEKCertForAnotherKeyRefused(t *testing.T) {
	t.Parallel()
	_, tp := openSim(t)
	_, other := openSim(t)
	ek, err := tp.EndorsementKey()
	if err != nil {
		t.Fatal(err)
	}
	otherEK, err := other.EndorsementKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := attest.CheckEKCertKey(otherEK.PublicArea, ek.Cert); !errors.Is(err, attest.ErrEKMismatch) {
		t.Fatalf("CheckEKCertKey(other EK, this certificate) = %v, want ErrEKMismatch", err)
	}
}

func TestEKHashStableAcrossOpen(t *testing.T) {
	t.Parallel()
	sim, _ := openSim(t)
	hash := func() string {
		tp, err := tpm.Open(sim.Spec)
		if err != nil {
			t.Fatal(err)
		}
		defer tp.Close()
		ek, err := tp.EndorsementKey()
		if err != nil {
			t.Fatal(err)
		}
		fromArea, err := attest.EKPublicFromArea(ek.PublicArea)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := attest.EKHash(fromArea), attest.EKHash(ek.Public); got != want {
			t.Fatalf("EKHash(from area) = %s, EKHash(EK.Public) = %s", got, want)
		}
		return attest.EKHash(ek.Public)
	}
	first, second := hash(), hash()
	if first != second {
		t.Fatalf("EKHash changed across Open/Close: %s then %s", first, second)
	}
	if !strings.HasPrefix(first, "sha256:") || len(first) != len("sha256:")+64 {
		t.Fatalf("EKHash = %q, want sha256: and 64 hex digits", first)
	}
}

func TestCredentialForSubstitutedAKRefused(t *testing.T) {
	t.Parallel()
	_, tp := openSim(t)
	ek, err := tp.EndorsementKey()
	if err != nil {
		t.Fatal(err)
	}
	_, ak1 := newAK(t, tp)
	ak2, _ := newAK(t, tp)
	secret := []byte("for the first AK only")
	idObject, encSecret, err := attest.MakeCredential(ek.PublicArea, ak1.Name, secret)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tp.ActivateCredential(ak2, ek, idObject, encSecret)
	if err == nil {
		t.Fatalf("ActivateCredential with a substituted AK = %x, want an error", got)
	}
}

func TestReplayedQuoteRefused(t *testing.T) {
	t.Parallel()
	_, tp := openSim(t)
	ak, akPub := newAK(t, tp)
	old := nonce(t, 32)
	q, err := tp.Quote(ak, old, quotedPCRs)
	if err != nil {
		t.Fatal(err)
	}
	_, err = attest.VerifyQuote(akPub, toAttest(q), nonce(t, 32), quotedPCRs)
	if !errors.Is(err, attest.ErrNonce) {
		t.Fatalf("VerifyQuote with a fresh nonce on an old quote = %v, want ErrNonce", err)
	}
}

func TestTamperedQuoteRefused(t *testing.T) {
	t.Parallel()
	_, tp := openSim(t)
	ak, akPub := newAK(t, tp)
	_, otherAK := newAK(t, tp)
	n := nonce(t, 16)
	q, err := tp.Quote(ak, n, quotedPCRs)
	if err != nil {
		t.Fatal(err)
	}
	lied := toAttest(q)
	lied.PCRs = map[int][]byte{}
	for p, v := range q.PCRs {
		lied.PCRs[p] = bytes.Clone(v)
	}
	lied.PCRs[7][0] ^= 1
	flipped := toAttest(q)
	flipped.Attest = bytes.Clone(q.Attest)
	flipped.Attest[len(flipped.Attest)-1] ^= 1
	for _, tc := range []struct {
		name string
		ak   *attest.AKPublic
		q    attest.Quote
		pcrs []int
		want error
	}{
		{"PCR value changed", akPub, lied, quotedPCRs, attest.ErrPCRDigest},
		{"other PCRs requested", akPub, toAttest(q), []int{0, 7}, attest.ErrPCRSelection},
		{"signed by another AK", otherAK, toAttest(q), quotedPCRs, attest.ErrBadSignature},
		{"statement altered", akPub, flipped, quotedPCRs, attest.ErrBadSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := attest.VerifyQuote(tc.ak, tc.q, n, tc.pcrs); !errors.Is(err, tc.want) {
				t.Errorf("VerifyQuote = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestExtendedPCRShowsInDiff(t *testing.T) {
	t.Parallel()
	sim, tp := openSim(t)
	ak, akPub := newAK(t, tp)
	baseline := attest.Baseline(quote(t, tp, ak, akPub, nonce(t, 32)))
	if err := sim.ExtendPCR(7, []byte("another bootloader")); err != nil {
		t.Fatal(err)
	}
	got := quote(t, tp, ak, akPub, nonce(t, 32))
	if diff := baseline.Diff(got); !slices.Equal(diff, []int{7}) {
		t.Fatalf("Diff after extending PCR 7 = %v, want [7]", diff)
	}
}

func TestResetReattests(t *testing.T) {
	t.Parallel()
	sim, tp := openSim(t)
	ak, akPub := newAK(t, tp)
	key, err := tp.NewTLSKey(ak, nil)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := tp.Signer(key.Blob)
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.ExtendPCR(16, []byte("before reboot")); err != nil {
		t.Fatal(err)
	}
	baseline := attest.Baseline(quote(t, tp, ak, akPub, nonce(t, 32)))
	if err := sim.Reset(); err != nil {
		t.Fatal(err)
	}
	// PCR 16 was extended only in the previous boot: after the reboot it
	// differs, and the rest of the boot state is the same.
	if diff := baseline.Diff(quote(t, tp, ak, akPub, nonce(t, 32))); !slices.Equal(diff, []int{16}) {
		t.Fatalf("Diff after reset = %v, want [16]", diff)
	}
	if err := sim.ExtendPCR(16, []byte("before reboot")); err != nil {
		t.Fatal(err)
	}
	if diff := baseline.Diff(quote(t, tp, ak, akPub, nonce(t, 32))); len(diff) != 0 {
		t.Fatalf("Diff after reset and the same measurement = %v, want none", diff)
	}
	digest := make([]byte, 32)
	if _, err := signer.Sign(nil, digest, crypto.SHA256); err != nil {
		t.Fatalf("Sign after reset with a signer from before: %v", err)
	}
}

func TestKeyBlobFromAnotherTPMRefused(t *testing.T) {
	t.Parallel()
	_, tp := openSim(t)
	_, other := openSim(t)
	ak, _ := newAK(t, tp)
	key, err := tp.NewTLSKey(ak, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = other.Signer(key.Blob)
	if !errors.Is(err, tpm.ErrKeyUnusable) {
		t.Fatalf("Signer(blob from another TPM) = %v, want ErrKeyUnusable", err)
	}
	if !strings.Contains(err.Error(), "bab enroll --reenroll") {
		t.Errorf("error %q does not tell the installer to re-enroll", err)
	}
	if _, err := other.Quote(ak, nil, quotedPCRs); !errors.Is(err, tpm.ErrKeyUnusable) {
		t.Errorf("Quote with an AK from another TPM = %v, want ErrKeyUnusable", err)
	}
}

func TestCertifyForAnotherKeyRefused(t *testing.T) {
	t.Parallel()
	_, tp := openSim(t)
	ak, akPub := newAK(t, tp)
	n := nonce(t, 32)
	key, err := tp.NewTLSKey(ak, n)
	if err != nil {
		t.Fatal(err)
	}
	other, err := tp.NewTLSKey(ak, n)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		area  []byte
		nonce []byte
		want  error
	}{
		{"another key's area", other.Public, n, attest.ErrNotBound},
		{"old nonce", key.Public, nonce(t, 32), attest.ErrNonce},
		{"AK offered as the TLS key", ak.Public, n, attest.ErrNotBound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := attest.VerifyCertify(akPub, tc.area, key.CertifyAttest, key.CertifySignature, tc.nonce)
			if !errors.Is(err, tc.want) {
				t.Errorf("VerifyCertify = %v, want %v", err, tc.want)
			}
		})
	}
	// A quote is not a certification, even when signed by the same AK.
	q, err := tp.Quote(ak, n, quotedPCRs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := attest.VerifyCertify(akPub, key.Public, q.Attest, q.Signature, n); !errors.Is(err, attest.ErrWrongType) {
		t.Errorf("VerifyCertify(quote) = %v, want ErrWrongType", err)
	}
	if _, err := attest.ParseAK(key.Public); !errors.Is(err, attest.ErrNotAK) {
		t.Errorf("ParseAK(TLS key) = %v, want ErrNotAK", err)
	}
}
