package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/babgate/bab/internal/boltdb"
	"reflect"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// openTest opens a store in a fresh directory; see openAt.
func openTest(t *testing.T) *Store {
	t.Helper()
	return openAt(t, t.TempDir())
}

// openAt opens the store in dir and, when the test ends, checks the file's
// consistency before closing it, so that a transaction that broke the
// B+tree fails the test that ran it.
func openAt(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	boltdb.CheckOnCleanup(t, s.DB())
	return s
}

// TestCA checks that the CA is stored once and kept across restarts:
// every appliance pins it, so replacing it would orphan the fleet.
func TestCA(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir)
	if cert, key, err := s.CA(); cert != nil || key != nil || err != nil {
		t.Fatalf("CA() on a fresh store = %q, %q, %v; want nil, nil, nil", cert, key, err)
	}
	if err := s.SetCA([]byte("cert-1"), []byte("key-1")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCA([]byte("cert-2"), []byte("key-2")); err == nil {
		t.Error("a second SetCA succeeded")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	cert, key, err := openAt(t, dir).CA()
	if err != nil || string(cert) != "cert-1" || string(key) != "key-1" {
		t.Errorf("CA() after reopening = %q, %q, %v; want the first CA", cert, key, err)
	}
}

var (
	tokenNow = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	errCheck = errors.New("secret does not match")
)

func putTestToken(t *testing.T, s *Store, id string) {
	t.Helper()
	err := s.PutToken(&Token{ID: id, SecretHash: []byte("hash"), Member: "MA/MUN/RABAT",
		Created: tokenNow.Add(-time.Hour), Expires: tokenNow.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
}

func getToken(t *testing.T, s *Store, id string) Token {
	t.Helper()
	ts, err := s.Tokens()
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range ts {
		if tk.ID == id {
			return tk
		}
	}
	t.Fatalf("token %s not stored", id)
	return Token{}
}

func register(id string) func(*Token, *Appliance) (*Appliance, error) {
	return func(tk *Token, _ *Appliance) (*Appliance, error) {
		return &Appliance{ID: id, Member: tk.Member, EnrolledAt: tokenNow, CertSerial: "01", CertExpiry: tokenNow.Add(24 * time.Hour)}, nil
	}
}

// accept is a check that accepts the token for id.
func accept(id string) func(*Token) (string, error) {
	return func(*Token) (string, error) { return id, nil }
}

func TestPutTokenDuplicate(t *testing.T) {
	s := openTest(t)
	putTestToken(t, s, "0a1b2c3d")
	if err := s.PutToken(&Token{ID: "0a1b2c3d", Member: "MA/GOV/OTHER"}); err == nil {
		t.Fatal("a second token with the same id was stored")
	}
	if got := getToken(t, s, "0a1b2c3d"); got.Member != "MA/MUN/RABAT" {
		t.Errorf("the duplicate replaced the first token: %+v", got)
	}
}

func TestRedeemToken(t *testing.T) {
	errRegister := errors.New("certificate could not be issued")
	tests := []struct {
		name     string
		id       string
		check    func(*Token) (string, error)
		register func(*Token, *Appliance) (*Appliance, error)
		wantErr  error
	}{
		{"unknown id", "ffffffff", accept("MA/MUN/RABAT:hq"), register("MA/MUN/RABAT:hq"), ErrTokenUnknown},
		{"check refuses", "0a1b2c3d", func(*Token) (string, error) { return "", errCheck }, register("MA/MUN/RABAT:hq"), errCheck},
		{"register fails", "0a1b2c3d", accept("MA/MUN/RABAT:hq"), func(*Token, *Appliance) (*Appliance, error) { return nil, errRegister }, errRegister},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t)
			putTestToken(t, s, "0a1b2c3d")
			err := s.RedeemToken(tc.id, tokenNow, tc.check, tc.register)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("RedeemToken = %v, want %v", err, tc.wantErr)
			}
			// Nothing was spent and nothing registered.
			if got := getToken(t, s, "0a1b2c3d"); !got.UsedAt.IsZero() || got.UsedBy != "" {
				t.Errorf("the token was spent by a failed redemption: %+v", got)
			}
			if as, err := s.Appliances(); err != nil || len(as) != 0 {
				t.Errorf("Appliances() = %v, %v; want none", as, err)
			}
			// And it still works.
			if err := s.RedeemToken("0a1b2c3d", tokenNow, accept("MA/MUN/RABAT:hq"), register("MA/MUN/RABAT:hq")); err != nil {
				t.Errorf("redeeming after the failure: %v", err)
			}
		})
	}
}

func TestRedeemTokenOnce(t *testing.T) {
	s := openTest(t)
	putTestToken(t, s, "0a1b2c3d")
	var checked *Token
	check := func(tk *Token) (string, error) { checked = tk; return "MA/MUN/RABAT:hq", nil }
	if err := s.RedeemToken("0a1b2c3d", tokenNow, check, register("MA/MUN/RABAT:hq")); err != nil {
		t.Fatal(err)
	}
	if checked == nil || checked.Member != "MA/MUN/RABAT" || !bytes.Equal(checked.SecretHash, []byte("hash")) {
		t.Errorf("check saw %+v, want the stored token", checked)
	}
	tk := getToken(t, s, "0a1b2c3d")
	if !tk.UsedAt.Equal(tokenNow) || tk.UsedBy != "MA/MUN/RABAT:hq" {
		t.Errorf("spent token = used at %v by %q, want %v by MA/MUN/RABAT:hq", tk.UsedAt, tk.UsedBy, tokenNow)
	}
	a, err := s.Appliance("MA/MUN/RABAT:hq")
	if err != nil || a.Member != "MA/MUN/RABAT" || a.CertSerial != "01" {
		t.Errorf("Appliance() = %+v, %v; want the registered appliance", a, err)
	}

	// A second redemption, even for another name, is refused and changes
	// nothing.
	err = s.RedeemToken("0a1b2c3d", tokenNow.Add(time.Minute), accept("MA/MUN/RABAT:annex"), register("MA/MUN/RABAT:annex"))
	if !errors.Is(err, ErrTokenUsed) {
		t.Fatalf("second RedeemToken = %v, want ErrTokenUsed", err)
	}
	if got := getToken(t, s, "0a1b2c3d"); !reflect.DeepEqual(got, tk) {
		t.Errorf("the refused redemption changed the token: %+v, want %+v", got, tk)
	}
	if _, err := s.Appliance("MA/MUN/RABAT:annex"); !errors.Is(err, ErrUnknownAppliance) {
		t.Errorf("the refused redemption registered an appliance: %v", err)
	}
}

func TestAppliances(t *testing.T) {
	s := openTest(t)
	if _, err := s.Appliance("MA/MUN/RABAT:hq"); !errors.Is(err, ErrUnknownAppliance) {
		t.Errorf("Appliance() of an unknown id = %v, want ErrUnknownAppliance", err)
	}
	putTestToken(t, s, "0a1b2c3d")
	want := Appliance{ID: "MA/MUN/RABAT:hq", Member: "MA/MUN/RABAT", EnrolledAt: tokenNow, CertSerial: "0a", CertExpiry: tokenNow.Add(time.Hour), KeyHash: "sha256:aa"}
	err := s.RedeemToken("0a1b2c3d", tokenNow, accept(want.ID), func(*Token, *Appliance) (*Appliance, error) { w := want; return &w, nil })
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Appliance(want.ID)
	if err != nil || !reflect.DeepEqual(*got, want) {
		t.Errorf("Appliance() = %+v, %v; want %+v", got, err, want)
	}
}

// history reads the policy history bucket, which has no accessor yet.
func history(t *testing.T, s *Store) map[uint64]string {
	t.Helper()
	out := map[uint64]string{}
	err := s.DB().View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketHistory).ForEach(func(k, v []byte) error {
			out[binary.BigEndian.Uint64(k)] = string(v)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSetPolicy(t *testing.T) {
	s := openTest(t)
	if signed, v, err := s.CurrentPolicy(); signed != nil || v != 0 || err != nil {
		t.Fatalf("CurrentPolicy() on a fresh store = %q, %d, %v", signed, v, err)
	}
	for _, v := range []uint64{1, 2, 7} {
		if err := s.SetPolicy(fmt.Appendf(nil, "bundle v%d", v), v, PolicyTrust{}); err != nil {
			t.Fatalf("SetPolicy(v%d): %v", v, err)
		}
	}
	want := map[uint64]string{1: "bundle v1", 2: "bundle v2", 7: "bundle v7"}
	for _, v := range []uint64{7, 6, 0} {
		if err := s.SetPolicy([]byte("replayed"), v, PolicyTrust{}); !errors.Is(err, ErrStale) {
			t.Errorf("SetPolicy(v%d) over v7 = %v, want ErrStale", v, err)
		}
	}
	signed, v, err := s.CurrentPolicy()
	if err != nil || v != 7 || string(signed) != "bundle v7" {
		t.Errorf("CurrentPolicy() = %q, %d, %v; want bundle v7", signed, v, err)
	}
	if got := history(t, s); !reflect.DeepEqual(got, want) {
		t.Errorf("history = %v, want %v", got, want)
	}
}
