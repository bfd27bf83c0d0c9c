package store

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/babgate/bab/tracelog"
)

// TraceReport is what VerifyTrace found.
type TraceReport struct {
	Origin       string         `json:"origin"`
	Size         int64          `json:"size"`         // records in the tree
	Pruned       int64          `json:"pruned"`       // records deleted after the retention period; their hashes are still checked
	Records      int64          `json:"records"`      // records checked, evidence batches included
	Batches      int64          `json:"batches"`      // of those, the appliances' evidence batches: signatures, key certificates and entries checked
	Entries      int64          `json:"entries"`      // the entries of those batches
	Hashes       int64          `json:"hashes"`       // stored hashes checked
	Checkpoints  int            `json:"checkpoints"`  // signed checkpoints checked
	Checkpointed int64          `json:"checkpointed"` // records covered by the newest valid checkpoint
	Problems     []TraceProblem `json:"problems,omitempty"`
	More         int            `json:"more_problems,omitempty"` // found beyond those listed
}

// TraceProblem is one thing in the log that does not verify.
type TraceProblem struct {
	Kind      string `json:"kind"`  // "record", "hash", "checkpoint" or "log"
	Index     int64  `json:"index"` // the record's index, the hash's stored index, the checkpoint's size
	RequestID string `json:"request_id,omitempty"`
	Problem   string `json:"problem"`
}

// maxProblems is how many problems a report lists.
const maxProblems = 50

func (r *TraceReport) add(kind string, index int64, id, format string, args ...any) {
	if len(r.Problems) == maxProblems {
		r.More++
		return
	}
	r.Problems = append(r.Problems, TraceProblem{Kind: kind, Index: index, RequestID: id, Problem: fmt.Sprintf(format, args...)})
}

// VerifyTrace checks the whole log in one read transaction: every record
// kept hashes to the leaf the tree holds for it, and every evidence batch
// verifies (its key certificate, its signature, the entries kept beside
// it); every stored hash of the
// tree is the hash of its two children; every checkpoint is signed with
// the log key, its root is the tree's at its size, and it is consistent
// with the checkpoint before it; the current tree is consistent with the
// newest. v is the log key to check with; nil means the one in the state
// file. Problems are listed in that order, records first.
func (s *Store) VerifyTrace(v note.Verifier) (*TraceReport, error) {
	rep := &TraceReport{}
	err := s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketTraceRecords) == nil {
			return nil // a file no exchange of this version opened yet
		}
		st := traceState(tx)
		rep.Size, rep.Pruned = st.Size, st.First
		stored := string(tx.Bucket(bucketTraceLog).Get(keyTraceVerifier))
		switch {
		case v != nil && stored != "" && !sameKey(v, stored):
			rep.add("log", 0, "", "the state file's log key is %s, not the key given (%s+%08x): the file is another log's, or its key was replaced", stored, v.Name(), v.KeyHash())
		case v == nil && stored != "":
			var err error
			if v, err = tracelog.NewVerifier(stored); err != nil {
				rep.add("log", 0, "", "the state file's log key does not read: %v", err)
			}
		case v == nil && st.Size > 0:
			rep.add("log", 0, "", "the log has %d records but no key", st.Size)
		}
		if v != nil {
			rep.Origin = v.Name()
		}
		verifyRecords(tx, st, rep)
		verifyHashes(tx, st, rep)
		verifyCheckpoints(tx, st, v, rep)
		return nil
	})
	return rep, err
}

func sameKey(v note.Verifier, key string) bool {
	w, err := tracelog.NewVerifier(key)
	return err == nil && w.Name() == v.Name() && w.KeyHash() == v.KeyHash()
}

// verifyRecords checks that the records kept are First to Size-1, each
// decoding and hashing to its leaf.
func verifyRecords(tx *bolt.Tx, st TraceState, rep *TraceReport) {
	hashes := tx.Bucket(bucketTraceHashes)
	c := tx.Bucket(bucketTraceRecords).Cursor()
	if k, v := c.First(); k != nil && int64(binary.BigEndian.Uint64(k)) < st.First {
		rep.add("record", int64(binary.BigEndian.Uint64(k)), idOf(v), "is kept, though the log says its first %d records were pruned: it was put back", st.First)
	}
	next := st.First
	for k, v := c.Seek(u64(st.First)); k != nil; k, v = c.Next() {
		i := int64(binary.BigEndian.Uint64(k))
		if i >= st.Size {
			rep.add("record", i, idOf(v), "is beyond the log's %d records: it was added after the fact", st.Size)
			break
		}
		if i > next {
			rep.add("record", next, "", "is missing (records %d to %d are gone, and the log prunes only from its start)", next, i-1)
		}
		next = i + 1
		rep.Records++
		var r tracelog.Record
		if tracelog.LeafKind(v) == tracelog.BatchLeaf {
			verifyBatchLeaf(tx, i, v, rep)
		} else if err := r.UnmarshalBinary(v); err != nil {
			rep.add("record", i, "", "does not decode: %v", err)
			continue
		}
		leaf := hashes.Get(u64(tlog.StoredHashIndex(0, i)))
		if h := tlog.RecordHash(v); len(leaf) != tlog.HashSize || tlog.Hash(leaf) != h {
			rep.add("record", i, r.ID, "was changed: its bytes do not hash to the leaf the tree holds for it")
		}
	}
	if next < st.Size {
		rep.add("record", next, "", "is missing (records %d to %d are gone, and the log prunes only from its start)", next, st.Size-1)
	}
}

func idOf(v []byte) string {
	var r tracelog.Record
	_ = r.UnmarshalBinary(v)
	return r.ID
}

// verifyHashes checks, in one pass in storage order, that each stored
// hash above the leaves is the hash of its two children: those are the
// last two stored at the level below.
func verifyHashes(tx *bolt.Tx, st TraceState, rep *TraceReport) {
	want := tlog.StoredHashCount(st.Size)
	var last [64][2]tlog.Hash
	c := tx.Bucket(bucketTraceHashes).Cursor()
	next := int64(0)
	for k, v := c.First(); k != nil; k, v = c.Next() {
		i := int64(binary.BigEndian.Uint64(k))
		level, n := tlog.SplitStoredHashIndex(i)
		switch {
		case i >= want:
			rep.add("hash", i, "", "stored hash %d (level %d) is beyond the tree of %d records: it was added after the fact", i, level, st.Size)
			return
		case i != next || len(v) != tlog.HashSize:
			rep.add("hash", next, "", "stored hash %d is missing or damaged; the hashes after it are not checked", next)
			return
		}
		next++
		rep.Hashes++
		h := tlog.Hash(v)
		if level > 0 && tlog.NodeHash(last[level-1][0], last[level-1][1]) != h {
			lo := n << level
			rep.add("hash", i, "", "stored hash %d (level %d, over records %d to %d) is not the hash of its two children: the tree was changed", i, level, lo, lo+1<<level-1)
		}
		last[level][0], last[level][1] = last[level][1], h
	}
	if next < want {
		rep.add("hash", next, "", "stored hashes %d to %d are missing: the tree of %d records needs %d", next, want-1, st.Size, want)
	}
}

// verifyCheckpoints checks every stored checkpoint, oldest first, and the
// current tree against the newest valid one.
func verifyCheckpoints(tx *bolt.Tx, st TraceState, v note.Verifier, rep *TraceReport) {
	hr := hashReader{tx.Bucket(bucketTraceHashes)}
	var prev *tracelog.Checkpoint
	c := tx.Bucket(bucketTraceCheckpoints).Cursor()
	for k, signed := c.First(); k != nil; k, signed = c.Next() {
		size := int64(binary.BigEndian.Uint64(k))
		rep.Checkpoints++
		if v == nil {
			rep.add("checkpoint", size, "", "cannot be checked without the log key")
			continue
		}
		cp, err := tracelog.Open(signed, v)
		switch {
		case err != nil:
			rep.add("checkpoint", size, "", "does not verify: %v", err)
			continue
		case cp.Size != size:
			rep.add("checkpoint", size, "", "is stored as the checkpoint of %d records but signs %d", size, cp.Size)
			continue
		case size > st.Size:
			rep.add("checkpoint", size, "", "signs %d records, but the log has only %d: records were removed from its end", size, st.Size)
			continue
		}
		root, err := tlog.TreeHash(size, hr)
		if err != nil || root != cp.Root {
			rep.add("checkpoint", size, "", "signs a root hash that is not the stored tree's at %d records: the tree or the checkpoint was changed", size)
			continue
		}
		if prev != nil && !consistent(hr, *prev, cp) {
			rep.add("checkpoint", size, "", "is not consistent with the checkpoint of %d records before it", prev.Size)
		}
		prev = &cp
		rep.Checkpointed = size
	}
	if prev == nil {
		return
	}
	root, err := tlog.TreeHash(st.Size, hr)
	if err != nil || !consistent(hr, *prev, tracelog.Checkpoint{Size: st.Size, Root: root}) {
		rep.add("log", st.Size, "", "the current tree of %d records is not consistent with the newest checkpoint (%d records)", st.Size, prev.Size)
	}
}

// consistent reports whether the tree of b extends the tree of a, by a
// consistency proof made from the stored hashes.
func consistent(hr hashReader, a, b tracelog.Checkpoint) bool {
	proof, err := tlog.ProveTree(b.Size, a.Size, hr)
	return err == nil && tlog.CheckTree(proof, b.Size, b.Root, a.Size, a.Root) == nil
}
