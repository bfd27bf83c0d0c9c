package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketAudit holds one record per state-changing call on the admin
// socket. Records are kept for good: ops actions are few, and who revoked
// an appliance or published a policy matters for as long as the
// federation runs.
var bucketAudit = []byte("audit")

// AuditRecord is one state-changing call on the exchange's admin socket:
// who (as the kernel reported the caller), what, when, and how it ended.
type AuditRecord struct {
	Seq uint64    `json:"seq"` // numbers records in the order they were made
	At  time.Time `json:"at"`  // when the call arrived
	// UID is the caller's, as the kernel reported it; 4294967295 ((uid_t)-1)
	// if it did not.
	UID uint32 `json:"uid"`
	// User is the uid's name on the exchange's machine, "" if it has none.
	User string `json:"user,omitempty"`
	PID  int32  `json:"pid"`
	// Role is what the caller may do: ops, read-only or none.
	Role   string `json:"role"`
	Method string `json:"method"`
	Path   string `json:"path"`
	// Args are the essential arguments: the appliance, the member and
	// name of a token, the policy version (as the bundle states it), the
	// stage, the query.
	Args map[string]string `json:"args,omitempty"`
	// Status is the HTTP status of the answer; 0 while the call runs, or
	// if the exchange stopped during it.
	Status int `json:"status"`
	// Outcome is "ok", the refusal's code, or "unfinished" until the call
	// ends.
	Outcome  string        `json:"outcome"`
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"duration_ns"`
}

// auditKey orders records by arrival: the time, then the sequence number.
func auditKey(r *AuditRecord) []byte {
	var k [16]byte
	binary.BigEndian.PutUint64(k[:8], uint64(r.At.UnixNano()))
	binary.BigEndian.PutUint64(k[8:], r.Seq)
	return k[:]
}

// AddAudit stores a new record and sets its Seq.
func (s *Store) AddAudit(r *AuditRecord) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		seq, err := b.NextSequence()
		if err != nil {
			return fmt.Errorf("store: audit: %w", err)
		}
		r.Seq = seq
		return putAudit(b, r)
	})
}

// UpdateAudit replaces a record AddAudit stored (same At and Seq) with r,
// once the call it records has ended.
func (s *Store) UpdateAudit(r *AuditRecord) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		if b.Get(auditKey(r)) == nil {
			return fmt.Errorf("store: audit record %d of %s: %w", r.Seq, r.At.Format(time.RFC3339Nano), ErrCorrupt)
		}
		return putAudit(b, r)
	})
}

func putAudit(b *bolt.Bucket, r *AuditRecord) error {
	v, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("store: audit: %w", err)
	}
	return b.Put(auditKey(r), v)
}

// Audit returns up to limit of the newest records, newest first.
func (s *Store) Audit(limit int) ([]AuditRecord, error) {
	var out []AuditRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketAudit).Cursor()
		for k, v := c.Last(); k != nil && len(out) < limit; k, v = c.Prev() {
			var r AuditRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("%w: audit record %x: %v", ErrCorrupt, k, err)
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}
