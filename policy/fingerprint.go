package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"slices"
)

// fingerprintDomain keeps a fingerprint from being the hash of anything
// else Bab hashes.
const fingerprintDomain = "bab-ops-trust/1\x00"

// Fingerprint names the trust in 43 characters, so that an enrollment
// token can carry the ops keys a new appliance must pin and the appliance
// need not take them from the exchange on its word. It is the SHA-256 of
//
//	"bab-ops-trust/1\x00"
//	the threshold, at least 1, as 8 bytes big-endian
//	the distinct keys, 32 raw bytes each, in increasing byte order
//
// in base64url without padding, the encoding of a token's other parts.
// Two trusts that accept the same bundles have the same fingerprint: the
// order of the keys, a key listed twice and a threshold of 0 (which
// [Signed.Verify] treats as 1) do not change it.
func (t Trust) Fingerprint() string {
	keys := make([][]byte, 0, len(t.Keys))
	for _, k := range t.Keys {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, bytes.Compare)
	keys = slices.CompactFunc(keys, bytes.Equal)
	h := sha256.New()
	h.Write([]byte(fingerprintDomain))
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(max(t.Threshold, 1))))
	for _, k := range keys {
		h.Write(k)
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}
