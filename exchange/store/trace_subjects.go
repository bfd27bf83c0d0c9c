package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/babgate/bab/tracelog"
)

// Two more indexes of the trace log, built like the request-id index
// (trace_ids.go) a chunk of idChunk records at a time, once the chunk is
// complete, its keys sorted so that each page is written once; but one
// key per subject or member and chunk, whose value lists the chunk's
// records of it, rather than one key per record:
//
//   - trace_subjects finds the records about a subject, by the keyed hash
//     of the subject and the key that made it: chunk (8 bytes), key
//     number (4), hash (32);
//   - trace_members finds a member's records, as consumer or provider:
//     chunk (8), member, a 0 byte.
//
// A value is the records' places in the chunk, increasing, each as a
// uvarint of its distance from the one before (the first from the
// chunk's start). A lookup reads one key per chunk kept, and the records
// not yet in a chunk one by one. Pruning deletes a chunk's keys once all
// its records are pruned; until then, lookups skip the pruned ones. The
// log's meta key "indexed_subjects" is where the next chunk of both
// starts; it runs apart from the request-id index's, so that a log
// written before these indexes is indexed once, a few chunks at a time
// (IndexTraceBacklog).
var (
	bucketTraceSubjects = []byte("trace_subjects")
	bucketTraceMembers  = []byte("trace_members")

	keyTraceIndexedSubjects = []byte("indexed_subjects")
)

// backlogChunks bounds the chunks indexed in one transaction, so that a
// large log written before the indexes existed does not hold the write
// lock for long; IndexTraceBacklog catches up.
const backlogChunks = 16

func subjectIndexKey(chunk int64, key uint32, h tracelog.Digest) []byte {
	k := make([]byte, 0, 8+4+len(h))
	k = binary.BigEndian.AppendUint64(k, uint64(chunk))
	k = binary.BigEndian.AppendUint32(k, key)
	return append(k, h[:]...)
}

func memberIndexKey(chunk int64, member string) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(member)+1), uint64(chunk))
	return append(append(k, member...), 0)
}

// appendPlaces encodes increasing record indexes of the chunk.
func appendPlaces(b []byte, chunk int64, indexes []int64) []byte {
	prev := chunk
	for _, i := range indexes {
		b = binary.AppendUvarint(b, uint64(i-prev))
		prev = i
	}
	return b
}

// places decodes a value of the chunk's index, keeping the records at or
// after from.
func places(v []byte, chunk, from int64) ([]int64, error) {
	var out []int64
	at := chunk
	for first := true; len(v) > 0; first = false {
		d, n := binary.Uvarint(v)
		if n <= 0 || d >= idChunk || at+int64(d) >= chunk+idChunk || !first && d == 0 {
			return nil, fmt.Errorf("%w: an index entry of the trace log's chunk %d does not decode", ErrCorrupt, chunk)
		}
		at += int64(d)
		v = v[n:]
		if at >= from {
			out = append(out, at)
		}
	}
	return out, nil
}

// memberOf is the member part of an appliance identifier, "" if none.
func memberOf(appliance string) string {
	m, _, ok := strings.Cut(appliance, ":")
	if !ok || m == "" || strings.IndexByte(m, 0) >= 0 {
		return ""
	}
	return m
}

// members are the members a record belongs to: its consumer's and its
// provider's, once each.
func members(r *tracelog.Record) []string {
	c, p := memberOf(r.Consumer), memberOf(r.Provider)
	switch {
	case c == "":
		return nil
	case p == "" || p == c:
		return []string{c}
	}
	return []string{c, p}
}

// indexSubjectChunks indexes up to budget complete chunks not in the
// subject and member indexes yet, and reports whether it caught up.
func indexSubjectChunks(tx *bolt.Tx, size int64, budget int) (bool, error) {
	meta, subs, mems := tx.Bucket(bucketTraceLog), tx.Bucket(bucketTraceSubjects), tx.Bucket(bucketTraceMembers)
	subs.FillPercent, mems.FillPercent = 1, 1
	indexed := getU64(meta, keyTraceIndexedSubjects)
	start := indexed
	if first := traceState(tx).First; indexed < first-first%idChunk {
		indexed = first - first%idChunk
	}
	for n := 0; indexed+idChunk <= size && n < budget; n++ {
		sk, mk := map[string][]int64{}, map[string][]int64{}
		c := tx.Bucket(bucketTraceRecords).Cursor()
		for k, v := c.Seek(u64(indexed)); k != nil && int64(binary.BigEndian.Uint64(k)) < indexed+idChunk; k, v = c.Next() {
			if tracelog.LeafKind(v) == tracelog.BatchLeaf {
				continue // an appliance's evidence, not a request
			}
			index := int64(binary.BigEndian.Uint64(k))
			var r tracelog.Record
			if err := r.UnmarshalBinary(v); err != nil {
				return false, fmt.Errorf("%w: trace record %d: %v", ErrCorrupt, index, err)
			}
			if !r.SubjectHash.IsZero() && r.SubjectKey != 0 {
				key := string(subjectIndexKey(indexed, r.SubjectKey, r.SubjectHash))
				sk[key] = append(sk[key], index)
			}
			for _, m := range members(&r) {
				key := string(memberIndexKey(indexed, m))
				mk[key] = append(mk[key], index)
			}
		}
		for _, set := range []struct {
			b    *bolt.Bucket
			keys map[string][]int64
		}{{subs, sk}, {mems, mk}} {
			for _, k := range slices.Sorted(maps.Keys(set.keys)) {
				if err := set.b.Put([]byte(k), appendPlaces(nil, indexed, set.keys[k])); err != nil {
					return false, err
				}
			}
		}
		indexed += idChunk
	}
	if indexed != start {
		if err := meta.Put(keyTraceIndexedSubjects, u64(indexed)); err != nil {
			return false, err
		}
	}
	return indexed+idChunk > size, nil
}

// IndexTraceBacklog indexes a few chunks of the records of a log written
// before the subject and member indexes existed, in one transaction, and
// reports whether none is left. The exchange calls it at start until it
// is done; lookups are right meanwhile, only slower.
func (s *Store) IndexTraceBacklog() (done bool, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		done, err = indexSubjectChunks(tx, traceState(tx).Size, backlogChunks)
		return err
	})
	return done, err
}

// unindexChunks deletes the subject and member index keys of the chunks
// whose records were all pruned: those before first's chunk.
func unindexChunks(tx *bolt.Tx, first int64) error {
	for _, name := range [][]byte{bucketTraceSubjects, bucketTraceMembers} {
		c := tx.Bucket(name).Cursor()
		for k, _ := c.First(); k != nil && int64(binary.BigEndian.Uint64(k[:8])) < first-first%idChunk; k, _ = c.First() {
			if err := c.Delete(); err != nil {
				return err
			}
		}
	}
	return nil
}

// readRecord decodes the record kept at index.
func readRecord(tx *bolt.Tx, index int64) (LoggedEntry, error) {
	e := LoggedEntry{Index: index}
	v := tx.Bucket(bucketTraceRecords).Get(u64(index))
	if v == nil {
		return e, fmt.Errorf("%w: trace record %d is indexed but missing", ErrCorrupt, index)
	}
	if err := e.UnmarshalBinary(v); err != nil {
		return e, fmt.Errorf("%w: trace record %d: %v", ErrCorrupt, index, err)
	}
	return e, nil
}

// TraceBySubject returns the records kept about a subject, in log order:
// those whose subject hash is hashes[k] for the key k that made it. The
// caller hashes the subject with every key it holds; the store never sees
// the subject.
func (s *Store) TraceBySubject(hashes map[uint32]tracelog.Digest) ([]LoggedEntry, error) {
	var out []LoggedEntry
	err := s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketTraceSubjects) == nil {
			return nil
		}
		st := traceState(tx)
		indexed := getU64(tx.Bucket(bucketTraceLog), keyTraceIndexedSubjects)
		b := tx.Bucket(bucketTraceSubjects)
		keys := slices.Sorted(maps.Keys(hashes))
		var found []int64
		for chunk := st.First - st.First%idChunk; chunk < indexed; chunk += idChunk {
			for _, key := range keys {
				v := b.Get(subjectIndexKey(chunk, key, hashes[key]))
				if v == nil {
					continue
				}
				in, err := places(v, chunk, st.First)
				if err != nil {
					return err
				}
				found = append(found, in...)
			}
		}
		slices.Sort(found) // the keys of one chunk put its records apart
		for _, index := range found {
			e, err := readRecord(tx, index)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		rc := tx.Bucket(bucketTraceRecords).Cursor()
		for k, v := rc.Seek(u64(max(indexed, st.First))); k != nil; k, v = rc.Next() {
			if tracelog.LeafKind(v) == tracelog.BatchLeaf {
				continue
			}
			e := LoggedEntry{Index: int64(binary.BigEndian.Uint64(k))}
			if err := e.UnmarshalBinary(v); err != nil {
				return fmt.Errorf("%w: trace record %d: %v", ErrCorrupt, e.Index, err)
			}
			if h, ok := hashes[e.SubjectKey]; ok && e.SubjectKey != 0 && e.SubjectHash == h {
				out = append(out, e)
			}
		}
		return nil
	})
	return out, err
}

// SubjectKeyInUse reports whether a record kept was hashed with the
// subject key id.
func (s *Store) SubjectKeyInUse(id uint32) (bool, error) {
	var used bool
	err := s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketTraceSubjects) == nil {
			return nil
		}
		st := traceState(tx)
		indexed := getU64(tx.Bucket(bucketTraceLog), keyTraceIndexedSubjects)
		c := tx.Bucket(bucketTraceSubjects).Cursor()
		for chunk := st.First - st.First%idChunk; chunk < indexed && !used; chunk += idChunk {
			prefix := binary.BigEndian.AppendUint32(u64(chunk), id)
			for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && !used; k, v = c.Next() {
				// Only the chunk pruning has begun may list pruned records.
				in, err := places(v, chunk, st.First)
				if err != nil {
					return err
				}
				used = len(in) > 0
			}
		}
		rc := tx.Bucket(bucketTraceRecords).Cursor()
		for k, v := rc.Seek(u64(max(indexed, st.First))); k != nil && !used; k, v = rc.Next() {
			if tracelog.LeafKind(v) == tracelog.BatchLeaf {
				continue
			}
			var r tracelog.Record
			if err := r.UnmarshalBinary(v); err != nil {
				return fmt.Errorf("%w: trace record %d: %v", ErrCorrupt, binary.BigEndian.Uint64(k), err)
			}
			used = r.SubjectKey == id
		}
		return nil
	})
	return used, err
}
