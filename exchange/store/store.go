// Package store is the exchange's persistent state in one bbolt file: its
// CA, enrollment tokens, the registry of enrolled appliances, the history of
// signed policy bundles, the counts of the members' quotas, the trace log
// of every request (who, what service, when, outcome, sizes — never the
// payload, the path or an identifier — in a Merkle tree with signed
// checkpoints) and the audit log of ops actions.
package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/babgate/bab/internal/boltdb"
)

var (
	bucketCA         = []byte("ca")
	bucketTokens     = []byte("tokens")
	bucketAppliances = []byte("appliances")
	bucketPolicy     = []byte("policy")
	bucketHistory    = []byte("policy_history")

	keyCert    = []byte("cert")
	keyKey     = []byte("key")
	keyCurrent = []byte("current")
	keyTrustBy = []byte("trust_verified_by")
	keyTrustNx = []byte("trust_next")
	keyStaged  = []byte("staged")
)

// FileName is the store's file inside the state directory.
const FileName = "exchange.db"

// Store is the exchange's open state file.
type Store struct {
	db *bolt.DB
}

// buckets are the file's top-level buckets.
func buckets() [][]byte {
	return append([][]byte{bucketCA, bucketTokens, bucketAppliances, bucketPolicy, bucketHistory, bucketDenied, bucketMeta, bucketLimits, bucketAudit}, traceBuckets...)
}

// Open opens or creates the store in dir.
func Open(dir string) (*Store, error) {
	db, err := boltdb.Open(dir, FileName, buckets(), ErrLocked)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db}
	scrub, err := s.migrate(time.Now())
	if err == nil && scrub {
		err = s.rewrite(dir)
	}
	if err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

// OpenReadOnly opens the store in dir to read it, as ops commands do when
// the exchange is stopped; it fails with ErrLocked while the exchange
// runs. It neither creates nor migrates anything.
func OpenReadOnly(dir string) (*Store, error) {
	db, err := boltdb.OpenReadOnly(dir, FileName, ErrLocked)
	if err != nil {
		return nil, err
	}
	return &Store{db: db}, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// DB exposes the database to tests that check its consistency.
func (s *Store) DB() *bolt.DB { return s.db }

// CA returns the stored CA certificate and key, or nil, nil if none.
func (s *Store) CA() (cert, key []byte, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCA)
		cert = clone(b.Get(keyCert))
		key = clone(b.Get(keyKey))
		return nil
	})
	return cert, key, err
}

// SetCA stores the CA once; it never replaces an existing one, because
// every appliance pins it.
func (s *Store) SetCA(cert, key []byte) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCA)
		if b.Get(keyCert) != nil {
			return errors.New("store: a CA exists already")
		}
		if err := b.Put(keyCert, cert); err != nil {
			return err
		}
		return b.Put(keyKey, key)
	})
}

// Token is an enrollment token as stored (its secret only as a hash).
type Token struct {
	ID         string `json:"id"`
	SecretHash []byte `json:"secret_hash"`
	Member     string `json:"member"`
	Name       string `json:"name,omitempty"`    // appliance name it is bound to, if any
	EKHash     string `json:"ek_hash,omitempty"` // the TPM it is bound to, for TPMs without an EK certificate
	// Golden are PCR values ops require at enrollment (e.g. the approved
	// firmware's); without them the enrollment quote becomes the baseline.
	Golden  map[int][]byte `json:"golden,omitempty"`
	Created time.Time      `json:"created"`
	Expires time.Time      `json:"expires"`
	UsedAt  time.Time      `json:"used_at,omitzero"`
	UsedBy  string         `json:"used_by,omitempty"`
	// Replace says that ops meant the token to enroll a new appliance in
	// place of the one enrolled as Name (token create --replace): without
	// it, a token cannot take a name that is enrolled.
	Replace bool `json:"replace,omitempty"`
}

// Token returns a stored token, or ErrTokenUnknown.
func (s *Store) Token(id string) (*Token, error) {
	var t Token
	err := s.db.View(func(tx *bolt.Tx) error { return getJSON(tx.Bucket(bucketTokens), []byte(id), &t) })
	if errors.Is(err, errMissing) {
		return nil, ErrTokenUnknown
	}
	return &t, err
}

// PutToken stores a new token.
func (s *Store) PutToken(t *Token) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTokens)
		if b.Get([]byte(t.ID)) != nil {
			return fmt.Errorf("store: token id %s exists", t.ID)
		}
		return putJSON(b, []byte(t.ID), t)
	})
}

// RedeemToken spends a token atomically. check runs inside the write
// transaction, may refuse (wrong secret, expired, bound name) and names the
// appliance to enroll; a used token is refused with ErrTokenUsed. A name
// that is enrolled may be taken only by a token made to replace it
// (ErrApplianceExists otherwise). register then runs in the same
// transaction with the entry it replaces (nil for a new name) and returns
// the entry to record. The replaced entry's key and certificates go on the
// deny list, and a key already on it is refused (ErrDenied). So a token is
// spent only when the appliance was registered, and never twice.
func (s *Store) RedeemToken(id string, now time.Time, check func(*Token) (string, error), register func(t *Token, old *Appliance) (*Appliance, error)) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTokens)
		var t Token
		if err := getJSON(b, []byte(id), &t); err != nil {
			if errors.Is(err, errMissing) {
				return ErrTokenUnknown
			}
			return err
		}
		appliance, err := check(&t)
		if err != nil {
			return err
		}
		if !t.UsedAt.IsZero() {
			return fmt.Errorf("%w: used by %s at %s", ErrTokenUsed, t.UsedBy, t.UsedAt.UTC().Format(time.RFC3339))
		}
		old, err := replaced(tx, &t, appliance)
		if err != nil {
			return err
		}
		a, err := register(&t, old)
		if err != nil {
			return err
		}
		if a.ID != appliance {
			return fmt.Errorf("store: registering %s with a token checked for %s", a.ID, appliance)
		}
		if old != nil {
			if err := deny(tx, old, now, "replaced by the enrollment with token "+t.ID); err != nil {
				return err
			}
		}
		switch d, err := denied(tx, a.CertSerial, a.KeyHash); {
		case err != nil:
			return err
		case d != nil:
			return fmt.Errorf("%w: this %s was taken out with %s (%s)", ErrDenied, d.What, d.Appliance, d.Reason)
		}
		t.UsedAt = now
		t.UsedBy = a.ID
		if err := putJSON(b, []byte(id), &t); err != nil {
			return err
		}
		return putJSON(tx.Bucket(bucketAppliances), []byte(a.ID), a)
	})
}

// replaced returns the registry entry a token enrolls over, nil for a new
// name, or ErrApplianceExists when the token was not made to replace it.
func replaced(tx *bolt.Tx, t *Token, appliance string) (*Appliance, error) {
	var old Appliance
	err := getJSON(tx.Bucket(bucketAppliances), []byte(appliance), &old)
	switch {
	case errors.Is(err, errMissing):
		return nil, nil
	case err != nil:
		return nil, err
	case !t.Replace:
		return nil, fmt.Errorf("%s: %w", appliance, ErrApplianceExists)
	}
	return &old, nil
}

// Tokens lists all tokens.
func (s *Store) Tokens() ([]Token, error) {
	var out []Token
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTokens).ForEach(func(k, v []byte) error {
			var t Token
			if err := json.Unmarshal(v, &t); err != nil {
				return fmt.Errorf("%w: token %s: %v", ErrCorrupt, k, err)
			}
			out = append(out, t)
			return nil
		})
	})
	return out, err
}

// Appliance is an enrolled appliance in the registry.
type Appliance struct {
	ID         string    `json:"id"`
	Member     string    `json:"member"`
	EnrolledAt time.Time `json:"enrolled_at"`
	// CertSerial is the certificate issued last (hexadecimal), and
	// PrevSerial the one the last renewal replaced, in case the renewed one
	// never reached the appliance. Both certify KeyHash; the exchange
	// accepts no other.
	CertSerial string    `json:"cert_serial"`
	PrevSerial string    `json:"prev_serial,omitempty"`
	CertExpiry time.Time `json:"cert_expiry"`
	// KeyHash is the SHA-256 of the appliance key's SubjectPublicKeyInfo,
	// "sha256:" and hex: the one key the exchange accepts for it. Entries
	// from before it was kept have none until the appliance connects with
	// CertSerial, which the CA issued for exactly one key.
	KeyHash   string    `json:"key_hash,omitempty"`
	Revoked   bool      `json:"revoked,omitempty"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	// LastSeen is when the appliance's last tunnel ended (the fleet view
	// shows it for appliances that are not connected).
	LastSeen time.Time `json:"last_seen,omitzero"`
	// TrustVersion is the policy version whose verifying ops keys the
	// appliance pinned at enrollment: key rotations announced from that
	// bundle on are delivered to it before the current bundle.
	TrustVersion uint64 `json:"trust_version,omitempty"`
	// KeyKind is "tpm" for an attested appliance, "software" otherwise.
	KeyKind string `json:"key_kind"`
	// The TPM's identity and the boot state recorded at enrollment.
	EKHash   string         `json:"ek_hash,omitempty"`
	AKArea   []byte         `json:"ak_area,omitempty"`
	PCRs     []int          `json:"pcrs,omitempty"`
	Baseline map[int][]byte `json:"baseline,omitempty"`
	// Continuous attestation: the last quote's values and the verdict.
	LastAttested     time.Time      `json:"last_attested,omitzero"`
	LastAttestRTT    time.Duration  `json:"last_attest_rtt_ns,omitempty"` // challenge sent to verdict
	LastPCRs         map[int][]byte `json:"last_pcrs,omitempty"`
	Quarantined      bool           `json:"quarantined,omitempty"`
	QuarantineReason string         `json:"quarantine_reason,omitempty"`
	QuarantinedAt    time.Time      `json:"quarantined_at,omitzero"`
}

// Appliance returns one registry entry, or ErrUnknownAppliance.
func (s *Store) Appliance(id string) (*Appliance, error) {
	var a Appliance
	err := s.db.View(func(tx *bolt.Tx) error {
		return getJSON(tx.Bucket(bucketAppliances), []byte(id), &a)
	})
	if errors.Is(err, errMissing) {
		return nil, ErrUnknownAppliance
	}
	return &a, err
}

// UpdateAppliance changes a registry entry in one transaction.
func (s *Store) UpdateAppliance(id string, f func(*Appliance) error) (*Appliance, error) {
	var a Appliance
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAppliances)
		if err := getJSON(b, []byte(id), &a); err != nil {
			if errors.Is(err, errMissing) {
				return ErrUnknownAppliance
			}
			return err
		}
		if err := f(&a); err != nil {
			return err
		}
		return putJSON(b, []byte(id), &a)
	})
	return &a, err
}

// Appliances lists the registry.
func (s *Store) Appliances() ([]Appliance, error) {
	var out []Appliance
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAppliances).ForEach(func(k, v []byte) error {
			var a Appliance
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("%w: appliance %s: %v", ErrCorrupt, k, err)
			}
			out = append(out, a)
			return nil
		})
	})
	return out, err
}

// CurrentPolicy returns the current signed bundle and its version, or nil.
func (s *Store) CurrentPolicy() ([]byte, uint64, error) {
	var signed []byte
	var version uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketPolicy).Get(keyCurrent)
		if len(v) < 8 {
			return nil
		}
		version = binary.BigEndian.Uint64(v[:8])
		signed = clone(v[8:])
		return nil
	})
	return signed, version, err
}

// PolicyTrust is the ops trust around the current bundle (JSON as the
// policy package writes it): the trust that verified it and the trust in
// force after it. Empty when no bundle rotated the keys yet.
type PolicyTrust struct {
	VerifiedBy, Next []byte
}

// CurrentTrust returns the trust records stored with the current bundle.
func (s *Store) CurrentTrust() (PolicyTrust, error) {
	var t PolicyTrust
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPolicy)
		t = PolicyTrust{VerifiedBy: clone(b.Get(keyTrustBy)), Next: clone(b.Get(keyTrustNx))}
		return nil
	})
	return t, err
}

// SetPolicy makes a verified bundle current, with its trust records, and
// keeps it in the history; the version must be higher than the current one.
func (s *Store) SetPolicy(signed []byte, version uint64, trust PolicyTrust) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPolicy)
		if v := b.Get(keyCurrent); len(v) >= 8 && binary.BigEndian.Uint64(v[:8]) >= version {
			return fmt.Errorf("%w: current is v%d, offered v%d", ErrStale, binary.BigEndian.Uint64(v[:8]), version)
		}
		var vb [8]byte
		binary.BigEndian.PutUint64(vb[:], version)
		if err := b.Put(keyCurrent, append(vb[:], signed...)); err != nil {
			return err
		}
		if err := b.Put(keyTrustBy, trust.VerifiedBy); err != nil {
			return err
		}
		if err := b.Put(keyTrustNx, trust.Next); err != nil {
			return err
		}
		return tx.Bucket(bucketHistory).Put(vb[:], signed)
	})
}

// Staged returns the stored staged rollout (JSON), or nil.
func (s *Store) Staged() ([]byte, error) {
	var v []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		v = clone(tx.Bucket(bucketPolicy).Get(keyStaged))
		return nil
	})
	return v, err
}

// SetStaged stores a staged rollout, or removes it when raw is nil.
func (s *Store) SetStaged(raw []byte) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if raw == nil {
			return tx.Bucket(bucketPolicy).Delete(keyStaged)
		}
		return tx.Bucket(bucketPolicy).Put(keyStaged, raw)
	})
}

// PolicyHistory returns the stored bundles from version from on, oldest
// first.
func (s *Store) PolicyHistory(from uint64) ([][]byte, error) {
	var out [][]byte
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], from)
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketHistory).Cursor()
		for key, v := c.Seek(k[:]); key != nil; key, v = c.Next() {
			out = append(out, clone(v))
		}
		return nil
	})
	return out, err
}

var errMissing = errors.New("missing")

func getJSON(b *bolt.Bucket, k []byte, v any) error {
	raw := b.Get(k)
	if raw == nil {
		return errMissing
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrCorrupt, k, err)
	}
	return nil
}

func putJSON(b *bolt.Bucket, k []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(k, raw)
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}
