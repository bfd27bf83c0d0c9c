package policy

import (
	"crypto/ed25519"
	"fmt"
	"time"
)

// Trust is what an appliance trusts: the ops public keys, and how many of
// them must have signed a bundle.
type Trust struct {
	Keys      []ed25519.PublicKey
	Threshold int // distinct keys required; 0 (or less) is treated as 1
}

// Verify checks s against t and returns the bundle if it may be applied at
// time now. Checks run from cheapest-to-forge to most semantic, and the
// payload is decoded only once signatures vouch for it:
//
//   - a signature whose key ID is trusted but which does not verify:
//     [ErrBadSignature] (the payload or signature was tampered with);
//   - no signature by a trusted key but some by others: [ErrUnknownSigner];
//   - fewer distinct trusted keys than t.Threshold: [ErrThreshold];
//   - the payload is not a strictly decodable bundle: [ErrMalformed];
//   - the bundle does not validate: [ErrInvalid];
//   - now is not before the bundle's expiry: [ErrExpired].
//
// Whether the bundle is newer than the one in use is for [CheckNewer].
func (s *Signed) Verify(t Trust, now time.Time) (*Bundle, error) {
	v, err := s.verify(t, now, nil)
	if err != nil {
		return nil, err
	}
	return v.bundle, nil
}

// VerifyOver is [Signed.Verify] followed by [Compile], for an appliance
// or exchange that holds prev (nil if none), a policy VerifyOver returned
// before. The sections of the payload whose bytes are prev's are neither
// decoded, checked nor compiled again; prev's results are shared. The
// verdict is the one Verify would give: prev passed the same checks on
// the same bytes. The policy returned carries s, for [NewDelta] and
// [Policy.Patch].
func (s *Signed) VerifyOver(t Trust, now time.Time, prev *Policy) (*Policy, error) {
	v, err := s.verify(t, now, prev)
	if err != nil {
		return nil, err
	}
	p := compile(v.bundle, v.index, prev, v.same)
	p.signed, p.payload = s, v.payload
	return p, nil
}

// verified is what verify found out on the way.
type verified struct {
	bundle  *Bundle
	payload payload
	same    sectionSet
	index   index
}

func (s *Signed) verify(t Trust, now time.Time, prev *Policy) (*verified, error) {
	trusted := make(map[string]ed25519.PublicKey, len(t.Keys))
	for i, k := range t.Keys {
		if len(k) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("verify policy: %w: trusted key %d is %d bytes, want %d", ErrBadKey, i, len(k), ed25519.PublicKeySize)
		}
		trusted[KeyID(k)] = k
	}
	threshold := max(t.Threshold, 1)

	msg := signedMessage(s.Payload)
	valid := make(map[string]bool, len(s.Signatures))
	var unknown []string
	for _, sig := range s.Signatures {
		pub, ok := trusted[sig.KeyID]
		if !ok {
			unknown = append(unknown, sig.KeyID)
			continue
		}
		if !ed25519.Verify(pub, msg, sig.Sig) {
			return nil, fmt.Errorf("verify policy: %w: signature by %s does not match the payload", ErrBadSignature, sig.KeyID)
		}
		valid[sig.KeyID] = true
	}
	if len(valid) == 0 && len(unknown) > 0 {
		return nil, fmt.Errorf("verify policy: %w: signed only by %s", ErrUnknownSigner, quoteIDs(unknown))
	}
	if len(valid) < threshold {
		return nil, fmt.Errorf("verify policy: %w: %d distinct trusted signatures, %d required", ErrThreshold, len(valid), threshold)
	}

	v := &verified{}
	var err error
	if v.payload, err = splitPayload(s.Payload); err != nil {
		return nil, fmt.Errorf("verify policy: decode bundle: %w", err)
	}
	if v.bundle, v.same, err = v.payload.decode(prev); err != nil {
		return nil, fmt.Errorf("verify policy: %w", err)
	}
	var reuse *index
	if prev != nil {
		reuse = &prev.index
	}
	if v.index, err = v.bundle.validate(reuse, v.same, false); err != nil {
		return nil, fmt.Errorf("verify policy v%d: %w", v.bundle.Version, err)
	}
	if !now.Before(v.bundle.Expires) {
		return nil, fmt.Errorf("verify policy: %w: bundle v%d expired at %s", ErrExpired, v.bundle.Version, v.bundle.Expires.UTC().Format(time.RFC3339))
	}
	return v, nil
}

// CheckNewer returns nil if a bundle of version offered may replace the one
// of version applied, and an error matching [ErrNotNewer] otherwise: an
// appliance never goes back to an older bundle, which could be replayed to
// restore revoked access.
func CheckNewer(applied, offered uint64) error {
	if offered <= applied {
		return fmt.Errorf("%w: bundle v%d is not newer than the applied v%d", ErrNotNewer, offered, applied)
	}
	return nil
}

// quoteIDs lists key IDs for a message; IDs come from outside, so they are
// quoted and only the first few shown.
func quoteIDs(ids []string) string {
	const show = 3
	out := ""
	for i, id := range ids {
		if i == show {
			return fmt.Sprintf("%s and %d more", out, len(ids)-show)
		}
		if i > 0 {
			out += ", "
		}
		out += quoteCut(id)
	}
	return out
}
