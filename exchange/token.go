package exchange

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/wire"
)

// CreateToken makes and stores a one-time token for member, optionally
// bound to one appliance name, valid for ttl. A name that is enrolled
// needs replace, ops' word that a new appliance takes its place; replace
// needs a name that is enrolled.
func (x *Exchange) CreateToken(member ident.Member, name, ekHash string, golden map[int][]byte, ttl time.Duration, replace bool) (wire.Token, time.Time, error) {
	if err := x.checkTokenName(member, name, replace); err != nil {
		return wire.Token{}, time.Time{}, err
	}
	var raw [4 + 24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return wire.Token{}, time.Time{}, err
	}
	t := wire.Token{ID: hex.EncodeToString(raw[:4]), Secret: base64.RawURLEncoding.EncodeToString(raw[4:]), Pin: x.ca.Pin(), Ops: x.OpsFingerprint()}
	now := time.Now().UTC()
	sum := sha256.Sum256([]byte(t.Secret))
	err := x.store.PutToken(&store.Token{ID: t.ID, SecretHash: sum[:], Member: member.String(), Name: name, EKHash: ekHash, Golden: golden,
		Created: now, Expires: now.Add(ttl), Replace: replace})
	if err != nil {
		return wire.Token{}, time.Time{}, err
	}
	return t, now.Add(ttl), nil
}

// checkTokenName refuses a token for an enrolled name without replace, and
// replace without an enrolled name. Enrollment checks again, in the
// transaction that registers, for names taken after the token was made.
func (x *Exchange) checkTokenName(member ident.Member, name string, replace bool) error {
	if name == "" {
		if replace {
			return fmt.Errorf("token: %w", ErrNothingToReplace)
		}
		return nil
	}
	id := member.String() + ":" + name
	_, err := x.store.Appliance(id)
	switch {
	case err == nil && !replace:
		return fmt.Errorf("token: %s %w", id, ErrNameEnrolled)
	case errors.Is(err, store.ErrUnknownAppliance) && replace:
		return fmt.Errorf("token: %s: %w", id, ErrNothingToReplace)
	case errors.Is(err, store.ErrUnknownAppliance):
		return nil
	}
	return err
}

// serveTokenCreate answers POST /v1/tokens on the admin API.
func (x *Exchange) serveTokenCreate(w http.ResponseWriter, r *http.Request) {
	var req TokenRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil {
		adminErr(w, http.StatusBadRequest, "bad_request", "decode request: "+err.Error())
		return
	}
	auditArg(r, "member", req.Member)
	if req.Name != "" {
		auditArg(r, "name", req.Name)
	}
	if req.Replace {
		auditArg(r, "replace", "true")
	}
	if req.EKHash != "" {
		auditArg(r, "ek_hash", req.EKHash)
	}
	if req.TTL != "" {
		auditArg(r, "ttl", req.TTL)
	}
	m, ttl, golden, code, err := parseTokenRequest(&req)
	if err != nil {
		adminErr(w, http.StatusBadRequest, code, err.Error())
		return
	}
	t, exp, err := x.CreateToken(m, req.Name, req.EKHash, golden, ttl, req.Replace)
	switch {
	case errors.Is(err, ErrNameEnrolled):
		adminErr(w, http.StatusConflict, "appliance_exists", err.Error())
	case errors.Is(err, ErrNothingToReplace):
		adminErr(w, http.StatusNotFound, "nothing_to_replace", err.Error())
	case err != nil:
		adminErr(w, http.StatusInternalServerError, "internal", err.Error())
	default:
		writeJSON(w, http.StatusOK, TokenResponse{Token: t.String(), Member: m.String(), Expires: exp})
	}
}

// parseTokenRequest checks a token request's fields; on error, code is the
// admin API's code for it.
func parseTokenRequest(req *TokenRequest) (m ident.Member, ttl time.Duration, golden map[int][]byte, code string, err error) {
	if m, err = ident.ParseMember(req.Member); err != nil {
		return m, 0, nil, "bad_member", err
	}
	ttl = 24 * time.Hour
	if req.TTL != "" {
		if ttl, err = time.ParseDuration(req.TTL); err != nil || ttl <= 0 {
			return m, 0, nil, "bad_ttl", fmt.Errorf("ttl %q: give a positive duration such as 24h", req.TTL)
		}
	}
	if req.Name != "" {
		if _, err := ident.ParseAppliance(m.String() + ":" + req.Name); err != nil {
			return m, 0, nil, "bad_name", err
		}
	}
	if req.EKHash != "" && !validEKHash(req.EKHash) {
		return m, 0, nil, "bad_ek_hash", fmt.Errorf("ek hash %q: expected sha256: and 64 hexadecimal digits, as bab enroll prints it", req.EKHash)
	}
	if golden, err = parseGolden(req.Golden); err != nil {
		return m, 0, nil, "bad_golden", err
	}
	return m, ttl, golden, "", nil
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
