package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/babgate/bab/tracelog"
)

// The trace log (package tracelog has its formats): the records of the
// requests, the stored hashes of the Merkle tree over them, an index from
// request id to record, and the signed checkpoints, each in its own
// bucket. Keys of records are their index, of stored hashes their stored
// hash index (tlog.StoredHashIndex), of checkpoints their tree size, all
// as 8 bytes big-endian, so that each bucket is appended to in order.
var (
	bucketTraceLog         = []byte("trace_log")
	bucketTraceRecords     = []byte("trace_records")
	bucketTraceHashes      = []byte("trace_hashes")
	bucketTraceIDs         = []byte("trace_ids")
	bucketTraceCheckpoints = []byte("trace_checkpoints")

	traceBuckets = [][]byte{bucketTraceLog, bucketTraceRecords, bucketTraceHashes, bucketTraceIDs, bucketTraceCheckpoints,
		bucketEvidenceEntries, bucketEvidenceBatches,
		bucketTraceSubjects, bucketTraceMembers, bucketSubjectKeys}

	keyTraceSigner   = []byte("signer")   // the log key, secret (note signer key)
	keyTraceVerifier = []byte("verifier") // its public half (note verifier key)
	keyTraceSize     = []byte("size")     // records in the tree
	keyTraceFirst    = []byte("first")    // index of the oldest record kept; those before were pruned
)

// TraceEntry is the metadata of one request as the exchange saw it: the
// record the trace log keeps. It never holds a path, a query or a payload.
type TraceEntry = tracelog.Record

// LoggedEntry is a record with its place in the log.
type LoggedEntry struct {
	Index int64 `json:"index"`
	TraceEntry
}

func u64(n int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(n)) }

func getU64(b *bolt.Bucket, k []byte) int64 {
	if v := b.Get(k); len(v) == 8 {
		return int64(binary.BigEndian.Uint64(v))
	}
	return 0
}

// hashReader reads stored hashes inside a transaction.
type hashReader struct{ b *bolt.Bucket }

func (r hashReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		v := r.b.Get(u64(x))
		if len(v) != tlog.HashSize {
			level, n := tlog.SplitStoredHashIndex(x)
			return nil, fmt.Errorf("%w: trace log: stored hash %d (level %d, number %d) is missing", ErrCorrupt, x, level, n)
		}
		copy(out[i][:], v)
	}
	return out, nil
}

// TraceLogKey returns the log's signer and verifier keys (note key texts),
// or "", "" before the exchange made them.
func (s *Store) TraceLogKey() (signer, verifier string, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTraceLog)
		if b == nil {
			return nil
		}
		signer, verifier = string(b.Get(keyTraceSigner)), string(b.Get(keyTraceVerifier))
		return nil
	})
	return signer, verifier, err
}

// SetTraceLogKey stores the log's key once; it is never replaced, since
// every checkpoint and receipt given out is checked with it.
func (s *Store) SetTraceLogKey(signer, verifier string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTraceLog)
		if b.Get(keyTraceSigner) != nil {
			return errors.New("store: the trace log has a key already")
		}
		if err := b.Put(keyTraceSigner, []byte(signer)); err != nil {
			return err
		}
		return b.Put(keyTraceVerifier, []byte(verifier))
	})
}

// TraceState is how far the log goes.
type TraceState struct {
	Size  int64 `json:"size"`  // records appended, pruned ones included
	First int64 `json:"first"` // the oldest record kept; First records were pruned
}

// TraceState returns the log's size and how much of it was pruned.
func (s *Store) TraceState() (TraceState, error) {
	var st TraceState
	err := s.db.View(func(tx *bolt.Tx) error {
		st = traceState(tx)
		return nil
	})
	return st, err
}

func traceState(tx *bolt.Tx) TraceState {
	b := tx.Bucket(bucketTraceLog)
	if b == nil {
		return TraceState{}
	}
	return TraceState{Size: getU64(b, keyTraceSize), First: getU64(b, keyTraceFirst)}
}

// AppendTrace appends records to the log in one transaction: each
// record's encoding and the tree's stored hashes it completes, and the
// request ids of the chunks it completes (trace_ids.go). It returns the
// log's new size.
func (s *Store) AppendTrace(entries []TraceEntry) (int64, error) {
	var size int64
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		size, err = appendTrace(tx, entries)
		return err
	})
	return size, err
}

func appendTrace(tx *bolt.Tx, entries []TraceEntry) (int64, error) {
	a := newLeafAppender(tx, len(entries))
	for i := range entries {
		if _, err := a.add(entries[i].AppendBinary); err != nil {
			return 0, err
		}
	}
	return a.finish()
}

// leafAppender appends leaves (records, evidence batches) to the log in
// one transaction: each leaf's encoding and the stored hashes it
// completes. bbolt keeps the slices it is given until the transaction
// ends, so keys and values live in arenas that are only appended to.
type leafAppender struct {
	tx                 *bolt.Tx
	meta, recs, hashes *bolt.Bucket
	size               int64
	arena, keys        []byte
}

func newLeafAppender(tx *bolt.Tx, n int) *leafAppender {
	a := &leafAppender{tx: tx, meta: tx.Bucket(bucketTraceLog), recs: tx.Bucket(bucketTraceRecords), hashes: tx.Bucket(bucketTraceHashes),
		arena: make([]byte, 0, n*256), keys: make([]byte, 0, n*8*3)}
	// Keys only grow: full pages are best.
	a.recs.FillPercent, a.hashes.FillPercent = 1, 1
	a.size = getU64(a.meta, keyTraceSize)
	return a
}

// add appends the leaf encode appends, and returns its index.
func (a *leafAppender) add(encode func([]byte) ([]byte, error)) (int64, error) {
	n := a.size
	start := len(a.arena)
	var err error
	if a.arena, err = encode(a.arena); err != nil {
		return 0, fmt.Errorf("store: trace record %d: %w", n, err)
	}
	data := a.arena[start:len(a.arena):len(a.arena)]
	hs, err := tlog.StoredHashes(n, data, hashReader{a.hashes})
	if err != nil {
		return 0, fmt.Errorf("store: trace record %d: %w", n, err)
	}
	base := tlog.StoredHashIndex(0, n)
	for j := range hs {
		k := len(a.keys)
		a.keys = binary.BigEndian.AppendUint64(a.keys, uint64(base+int64(j)))
		v := len(a.arena)
		a.arena = append(a.arena, hs[j][:]...)
		if err := a.hashes.Put(a.keys[k:len(a.keys):len(a.keys)], a.arena[v:len(a.arena):len(a.arena)]); err != nil {
			return 0, fmt.Errorf("store: trace record %d: %w", n, err)
		}
	}
	k := len(a.keys)
	a.keys = binary.BigEndian.AppendUint64(a.keys, uint64(n))
	if err := a.recs.Put(a.keys[k:len(a.keys):len(a.keys)], data); err != nil {
		return 0, fmt.Errorf("store: trace record %d: %w", n, err)
	}
	a.size++
	return n, nil
}

// finish records the log's new size and indexes the request ids of the
// chunks it completes (trace_ids.go); it returns the size.
func (a *leafAppender) finish() (int64, error) {
	if err := a.meta.Put(keyTraceSize, u64(a.size)); err != nil {
		return 0, err
	}
	if err := indexChunks(a.tx, a.size); err != nil {
		return 0, err
	}
	_, err := indexSubjectChunks(a.tx, a.size, backlogChunks)
	return a.size, err
}

// Trace returns up to limit of the newest records, newest first.
func (s *Store) Trace(limit int) ([]LoggedEntry, error) {
	var out []LoggedEntry
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTraceRecords)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Last(); k != nil && len(out) < limit; k, v = c.Prev() {
			if tracelog.LeafKind(v) == tracelog.BatchLeaf {
				continue // evidence, listed by trace verify and in receipts
			}
			e := LoggedEntry{Index: int64(binary.BigEndian.Uint64(k))}
			if err := e.UnmarshalBinary(v); err != nil {
				return fmt.Errorf("%w: trace record %d: %v", ErrCorrupt, e.Index, err)
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}
