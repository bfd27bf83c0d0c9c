package store

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

const hq = "MA/MUN/RABAT:hq"

// enrollTest registers hq with key and serial through a token, replacing
// the entry there if replace.
func enrollTest(t *testing.T, s *Store, token, key, serial string, replace bool) error {
	t.Helper()
	err := s.PutToken(&Token{ID: token, SecretHash: []byte("hash"), Member: "MA/MUN/RABAT", Name: "hq", Replace: replace,
		Created: tokenNow.Add(-time.Hour), Expires: tokenNow.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return s.RedeemToken(token, tokenNow, accept(hq), func(tk *Token, old *Appliance) (*Appliance, error) {
		return &Appliance{ID: hq, Member: tk.Member, CertSerial: serial, KeyHash: key}, nil
	})
}

func TestRevokeDeniesKeyAndCertificates(t *testing.T) {
	s := openTest(t)
	if err := enrollTest(t, s, "00000001", "sha256:k1", "c1", false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateAppliance(hq, func(a *Appliance) error { a.PrevSerial = "c0"; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, d, err := s.Admission(hq, "c1", "sha256:k1"); err != nil || d != nil {
		t.Fatalf("Admission before the revocation = %+v, %v; want no denial", d, err)
	}
	a, err := s.Revoke(hq, tokenNow, "revoked by ops")
	if err != nil || !a.Revoked || !a.RevokedAt.Equal(tokenNow) {
		t.Fatalf("Revoke = %+v, %v", a, err)
	}
	for _, c := range []struct{ serial, key, want string }{
		{"c1", "sha256:other", DenySerial},
		{"c0", "sha256:other", DenySerial},
		{"c9", "sha256:k1", DenyKey},
	} {
		if _, d, err := s.Admission(hq, c.serial, c.key); err != nil || d == nil || d.What != c.want || d.Appliance != hq || d.Reason != "revoked by ops" {
			t.Errorf("Admission(%s, %s) = %+v, %v; want a %s denial", c.serial, c.key, d, err, c.want)
		}
	}
	ds, err := s.Denials(hq)
	if err != nil || len(ds) != 3 || ds[0].What != DenyKey {
		t.Errorf("Denials = %+v, %v; want the key, then two serials", ds, err)
	}
}

func TestEnrollOverAnEnrolledName(t *testing.T) {
	s := openTest(t)
	if err := enrollTest(t, s, "00000001", "sha256:k1", "c1", false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Revoke(hq, tokenNow, "revoked by ops"); err != nil {
		t.Fatal(err)
	}
	// Without --replace the name is taken, revoked or not.
	if err := enrollTest(t, s, "00000002", "sha256:k2", "c2", false); !errors.Is(err, ErrApplianceExists) {
		t.Fatalf("enrollment over an enrolled name = %v, want ErrApplianceExists", err)
	}
	// A replacement with the revoked key is refused.
	if err := enrollTest(t, s, "00000003", "sha256:k1", "c3", true); !errors.Is(err, ErrDenied) {
		t.Fatalf("replacement with the revoked key = %v, want ErrDenied", err)
	}
	// With --replace and a new key, the new appliance is registered and
	// the deny list keeps the old key and certificate with their reason.
	var seen *Appliance
	err := s.PutToken(&Token{ID: "00000004", Member: "MA/MUN/RABAT", Name: "hq", Replace: true, Expires: tokenNow.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	err = s.RedeemToken("00000004", tokenNow, accept(hq), func(tk *Token, old *Appliance) (*Appliance, error) {
		seen = old
		return &Appliance{ID: hq, Member: tk.Member, CertSerial: "c4", KeyHash: "sha256:k4"}, nil
	})
	if err != nil || seen == nil || seen.KeyHash != "sha256:k1" {
		t.Fatalf("replacement = %v, register saw %+v", err, seen)
	}
	a, d, err := s.Admission(hq, "c4", "sha256:k4")
	if err != nil || d != nil || a.Revoked || a.KeyHash != "sha256:k4" {
		t.Errorf("the new appliance: %+v, %+v, %v", a, d, err)
	}
	if _, d, _ := s.Admission(hq, "c1", "sha256:k1"); d == nil || d.Reason != "revoked by ops" {
		t.Errorf("the old key after the replacement: %+v, want its revocation", d)
	}
	// Replacing the new one puts its key on the list in turn.
	if err := enrollTest(t, s, "00000005", "sha256:k5", "c5", true); err != nil {
		t.Fatal(err)
	}
	if _, d, _ := s.Admission(hq, "c4", "sha256:x"); d == nil || d.Reason != "replaced by the enrollment with token 00000005" {
		t.Errorf("the replaced certificate: %+v", d)
	}
}

// TestMigrateRevokedToDenyList opens a file as an older exchange left it:
// a revoked appliance without key hash and no deny list. Its certificate
// goes on the list; the appliance that is not revoked stays as it was.
func TestMigrateRevokedToDenyList(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir)
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketMeta).Delete(keyLayout); err != nil {
			return err
		}
		b := tx.Bucket(bucketAppliances)
		for _, raw := range []string{
			`{"id":"MA/MUN/RABAT:hq","member":"MA/MUN/RABAT","cert_serial":"c1","revoked":true,"key_kind":"tpm"}`,
			`{"id":"MA/MUN/RABAT:annex","member":"MA/MUN/RABAT","cert_serial":"c2","key_kind":"tpm"}`,
		} {
			var a Appliance
			if err := json.Unmarshal([]byte(raw), &a); err != nil {
				return err
			}
			if err := b.Put([]byte(a.ID), []byte(raw)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, dir)
	if _, d, err := s.Admission(hq, "c1", "sha256:unknown"); err != nil || d == nil || d.What != DenySerial {
		t.Errorf("the revoked certificate after the migration: %+v, %v", d, err)
	}
	a, d, err := s.Admission("MA/MUN/RABAT:annex", "c2", "sha256:k2")
	if err != nil || d != nil || a.KeyHash != "" || a.CertSerial != "c2" {
		t.Errorf("the appliance in good standing after the migration: %+v, %+v, %v", a, d, err)
	}
}
