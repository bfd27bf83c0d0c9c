package exchange

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/wire"
)

// CreateToken makes and stores a one-time token for member, optionally
// bound to one appliance name, valid for ttl.
func (x *Exchange) CreateToken(member ident.Member, name, ekHash string, golden map[int][]byte, ttl time.Duration) (wire.Token, time.Time, error) {
	var raw [4 + 24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return wire.Token{}, time.Time{}, err
	}
	t := wire.Token{ID: hex.EncodeToString(raw[:4]), Secret: base64.RawURLEncoding.EncodeToString(raw[4:]), Pin: x.ca.Pin()}
	now := time.Now().UTC()
	sum := sha256.Sum256([]byte(t.Secret))
	err := x.store.PutToken(&store.Token{ID: t.ID, SecretHash: sum[:], Member: member.String(), Name: name, EKHash: ekHash, Golden: golden, Created: now, Expires: now.Add(ttl)})
	if err != nil {
		return wire.Token{}, time.Time{}, err
	}
	return t, now.Add(ttl), nil
}

// parseGolden reads golden PCR values given as hex SHA-256 digests.
func parseGolden(in map[int]string) (map[int][]byte, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make(map[int][]byte, len(in))
	for pcr, h := range in {
		v, err := hex.DecodeString(h)
		if err != nil || len(v) != 32 || pcr < 0 || pcr > 23 {
			return nil, fmt.Errorf("golden PCR %d=%q: give a PCR from 0 to 23 and its SHA-256 value as 64 hexadecimal digits", pcr, h)
		}
		out[pcr] = v
	}
	return out, nil
}

func validEKHash(s string) bool {
	h, ok := strings.CutPrefix(s, "sha256:")
	if !ok || len(h) != 64 {
		return false
	}
	_, err := hex.DecodeString(h)
	return err == nil
}

func checkSecret(st *store.Token, secret string, name string, now time.Time) error {
	sum := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(sum[:], st.SecretHash) != 1 {
		return ErrTokenSecret
	}
	if now.After(st.Expires) {
		return fmt.Errorf("%w at %s", ErrTokenExpired, st.Expires.UTC().Format(time.RFC3339))
	}
	if st.Name != "" && st.Name != name {
		return fmt.Errorf("%w: it is for the appliance named %q, not %q", ErrTokenName, st.Name, name)
	}
	return nil
}
