// Package store is the appliance's only persistent state: its identity
// (key material, certificate, pinned trust), the last good policy bundle
// with the routing table derived from it, and the counts of its quotas, in
// one bbolt file, and the consoles it paired (names, roles, certificate
// serials, and its console CA). Payloads are never stored here or anywhere
// else.
package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/babgate/bab/internal/boltdb"
)

var (
	bucketIdentity = []byte("identity")
	bucketPolicy   = []byte("policy")
	bucketRoutes   = []byte("routes")

	keyRecord  = []byte("record")
	keyBundle  = []byte("bundle")
	keyVersion = []byte("version")
	keyApplied = []byte("applied_at")
	keyTrustBy = []byte("trust_verified_by")
	keyTrustNx = []byte("trust_next")
)

// FileName is the store's file inside the state directory.
const FileName = "bab.db"

// Store is an open state file. Only one process may hold it.
type Store struct {
	db *bolt.DB
}

// Open opens (creating if needed) the store in dir. If another process has
// it open, Open fails after a second with ErrLocked instead of waiting.
func Open(dir string) (*Store, error) {
	db, err := boltdb.Open(dir, FileName, [][]byte{bucketIdentity, bucketPolicy, bucketRoutes, bucketLimits, bucketConsoles}, ErrLocked)
	if err != nil {
		return nil, err
	}
	return &Store{db: db}, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// DB exposes the database to tests that check its consistency.
func (s *Store) DB() *bolt.DB { return s.db }

// Identity is what enrollment leaves behind.
type Identity struct {
	Appliance       string    `json:"appliance"`
	KeyKind         string    `json:"key_kind"`
	KeyBlob         []byte    `json:"key_blob"`
	Chain           [][]byte  `json:"chain"` // DER, leaf first
	CA              []byte    `json:"ca"`    // DER of the exchange CA
	OpsKeys         [][]byte  `json:"ops_keys"`
	PolicyThreshold int       `json:"policy_threshold"`
	Exchanges       []string  `json:"exchanges"`
	EnrolledAt      time.Time `json:"enrolled_at"`
	// For a TPM appliance: the TPM it enrolled with and its attestation
	// key, kept for the exchange's periodic quotes.
	TPMDevice string `json:"tpm_device,omitempty"`
	AKBlob    []byte `json:"ak_blob,omitempty"`
	AKArea    []byte `json:"ak_area,omitempty"`
}

// Identity returns the stored identity, or ErrNotEnrolled.
func (s *Store) Identity() (*Identity, error) {
	var id *Identity
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketIdentity).Get(keyRecord)
		if v == nil {
			return ErrNotEnrolled
		}
		id = new(Identity)
		if err := json.Unmarshal(v, id); err != nil {
			return fmt.Errorf("%w: identity record: %v", ErrCorrupt, err)
		}
		return nil
	})
	return id, err
}

// SetIdentity replaces the identity record.
func (s *Store) SetIdentity(id *Identity) error {
	b, err := json.Marshal(id)
	if err != nil {
		return fmt.Errorf("store: encode identity: %w", err)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketIdentity).Put(keyRecord, b)
	})
}

// UpdateChain stores a renewed certificate chain.
func (s *Store) UpdateChain(chain [][]byte) error {
	id, err := s.Identity()
	if err != nil {
		return err
	}
	id.Chain = chain
	return s.SetIdentity(id)
}

// Policy is the last good bundle as stored.
type Policy struct {
	Signed    []byte // exactly as signed and received
	Version   uint64
	AppliedAt time.Time
	Trust     Trust
}

// Trust is the ops trust around a stored bundle, as the policy package
// writes it (JSON): the trust that verified the bundle, so that it can be
// checked again after a restart, and the trust in force after it, which
// differs when the bundle rotated the ops keys. Empty for bundles stored
// before keys could rotate: the keys pinned at enrollment apply.
type Trust struct {
	VerifiedBy, Next []byte
}

// Policy returns the stored bundle, or nil when none was ever applied.
func (s *Store) Policy() (*Policy, error) {
	var p *Policy
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPolicy)
		signed := b.Get(keyBundle)
		if signed == nil {
			return nil
		}
		v := b.Get(keyVersion)
		if len(v) != 8 {
			return fmt.Errorf("%w: policy version record", ErrCorrupt)
		}
		p = &Policy{Signed: append([]byte(nil), signed...), Version: binary.BigEndian.Uint64(v)}
		if t := b.Get(keyApplied); t != nil {
			_ = p.AppliedAt.UnmarshalText(t)
		}
		p.Trust = Trust{VerifiedBy: clone(b.Get(keyTrustBy)), Next: clone(b.Get(keyTrustNx))}
		return nil
	})
	return p, err
}

// ApplyPolicy stores a verified bundle and its routing table in one
// transaction: after a crash the file holds either the old pair or the new
// one, never a mix.
func (s *Store) ApplyPolicy(signed []byte, version uint64, routes map[string][]string, trust Trust, now time.Time) error {
	return s.putPolicy(signed, version, routes, trust, now, false)
}

// RepairPolicy is ApplyPolicy for an appliance that refused the stored
// bundle as damaged: it may also replace a bundle of the same version (the
// exchange pushes the version in force, which is likely the one that was
// damaged), never an older one.
func (s *Store) RepairPolicy(signed []byte, version uint64, routes map[string][]string, trust Trust, now time.Time) error {
	return s.putPolicy(signed, version, routes, trust, now, true)
}

func (s *Store) putPolicy(signed []byte, version uint64, routes map[string][]string, trust Trust, now time.Time, same bool) error {
	var vb [8]byte
	binary.BigEndian.PutUint64(vb[:], version)
	at, _ := now.UTC().MarshalText()
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPolicy)
		if old := b.Get(keyVersion); len(old) == 8 && (binary.BigEndian.Uint64(old) > version || binary.BigEndian.Uint64(old) == version && !same) {
			return fmt.Errorf("%w: stored v%d, offered v%d", ErrStale, binary.BigEndian.Uint64(old), version)
		}
		if err := b.Put(keyBundle, signed); err != nil {
			return err
		}
		if err := b.Put(keyVersion, vb[:]); err != nil {
			return err
		}
		if err := b.Put(keyApplied, at); err != nil {
			return err
		}
		for k, v := range map[string][]byte{string(keyTrustBy): trust.VerifiedBy, string(keyTrustNx): trust.Next} {
			if err := putOrDelete(b, []byte(k), v); err != nil {
				return err
			}
		}
		if err := tx.DeleteBucket(bucketRoutes); err != nil {
			return err
		}
		rb, err := tx.CreateBucket(bucketRoutes)
		if err != nil {
			return err
		}
		for svc, apps := range routes {
			v, err := json.Marshal(apps)
			if err != nil {
				return err
			}
			if err := rb.Put([]byte(svc), v); err != nil {
				return err
			}
		}
		return nil
	})
}

// Routes returns the stored routing table.
func (s *Store) Routes() (map[string][]string, error) {
	out := map[string][]string{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRoutes).ForEach(func(k, v []byte) error {
			var apps []string
			if err := json.Unmarshal(v, &apps); err != nil {
				return fmt.Errorf("%w: route %q: %v", ErrCorrupt, k, err)
			}
			out[string(k)] = apps
			return nil
		})
	})
	return out, err
}

func putOrDelete(b *bolt.Bucket, k, v []byte) error {
	if v == nil {
		return b.Delete(k)
	}
	return b.Put(k, v)
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}
