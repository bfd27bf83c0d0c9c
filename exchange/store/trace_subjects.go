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
// (trace_ids.go) in chunks of idChunk records, each chunk's keys sorted,
// once the chunk is complete, so that each page is written once:
//
//   - trace_subjects finds the records about a subject, by the keyed hash
//     of the subject and the key that made it: chunk (8 bytes), key
//     number (4), hash (32), record index (8);
//   - trace_members finds a member's records, as consumer or provider:
//     chunk (8), member, a 0 byte, record index (8).
//
// A lookup seeks once per chunk kept and reads the records not yet in a
// chunk one by one. The log's meta key "indexed_subjects" is where the
// next chunk of both starts; it runs apart from the request-id index's,
// so that a log written before these indexes is indexed once, a few
// chunks at a time (IndexTraceBacklog).
var (
	bucketTraceSubjects = []byte("trace_subjects")
	bucketTraceMembers  = []byte("trace_members")

	keyTraceIndexedSubjects = []byte("indexed_subjects")
)

// backlogChunks bounds the chunks indexed in one transaction, so that a
// large log written before the indexes existed does not hold the write
// lock for long; IndexTraceBacklog catches up.
const backlogChunks = 16

func subjectKey(chunk int64, key uint32, h tracelog.Digest, index int64) []byte {
	k := make([]byte, 0, 8+4+len(h)+8)
	k = binary.BigEndian.AppendUint64(k, uint64(chunk))
	k = binary.BigEndian.AppendUint32(k, key)
	k = append(k, h[:]...)
	return binary.BigEndian.AppendUint64(k, uint64(index))
}

func memberPrefix(chunk int64, member string) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(member)+1+8), uint64(chunk))
	return append(append(k, member...), 0)
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
		var sk, mk [][]byte
		c := tx.Bucket(bucketTraceRecords).Cursor()
		for k, v := c.Seek(u64(indexed)); k != nil && int64(binary.BigEndian.Uint64(k)) < indexed+idChunk; k, v = c.Next() {
			index := int64(binary.BigEndian.Uint64(k))
			var r tracelog.Record
			if err := r.UnmarshalBinary(v); err != nil {
				return false, fmt.Errorf("%w: trace record %d: %v", ErrCorrupt, index, err)
			}
			if !r.SubjectHash.IsZero() && r.SubjectKey != 0 {
				sk = append(sk, subjectKey(indexed, r.SubjectKey, r.SubjectHash, index))
			}
			for _, m := range members(&r) {
				mk = append(mk, binary.BigEndian.AppendUint64(memberPrefix(indexed, m), uint64(index)))
			}
		}
		for _, set := range []struct {
			b    *bolt.Bucket
			keys [][]byte
		}{{subs, sk}, {mems, mk}} {
			slices.SortFunc(set.keys, bytes.Compare)
			for _, k := range set.keys {
				if err := set.b.Put(k, nil); err != nil {
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

// unindexSubject removes a pruned record from the subject and member
// indexes, if its chunk was indexed.
func unindexSubject(tx *bolt.Tx, r *tracelog.Record, index int64) error {
	if index >= getU64(tx.Bucket(bucketTraceLog), keyTraceIndexedSubjects) {
		return nil
	}
	chunk := index - index%idChunk
	if !r.SubjectHash.IsZero() && r.SubjectKey != 0 {
		if err := tx.Bucket(bucketTraceSubjects).Delete(subjectKey(chunk, r.SubjectKey, r.SubjectHash, index)); err != nil {
			return err
		}
	}
	for _, m := range members(r) {
		if err := tx.Bucket(bucketTraceMembers).Delete(binary.BigEndian.AppendUint64(memberPrefix(chunk, m), uint64(index))); err != nil {
			return err
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
		var found []int64
		c := tx.Bucket(bucketTraceSubjects).Cursor()
		keys := slices.Sorted(maps.Keys(hashes))
		for chunk := st.First - st.First%idChunk; chunk < indexed; chunk += idChunk {
			for _, key := range keys {
				h := hashes[key]
				prefix := subjectKey(chunk, key, h, 0)
				prefix = prefix[:len(prefix)-8]
				for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
					found = append(found, int64(binary.BigEndian.Uint64(k[len(prefix):])))
				}
			}
		}
		// Within a chunk, the keys' order put the records apart.
		slices.Sort(found)
		for _, index := range found {
			e, err := readRecord(tx, index)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		rc := tx.Bucket(bucketTraceRecords).Cursor()
		for k, v := rc.Seek(u64(max(indexed, st.First))); k != nil; k, v = rc.Next() {
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
			k, _ := c.Seek(prefix)
			used = k != nil && bytes.HasPrefix(k, prefix)
		}
		rc := tx.Bucket(bucketTraceRecords).Cursor()
		for k, v := rc.Seek(u64(max(indexed, st.First))); k != nil && !used; k, v = rc.Next() {
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
