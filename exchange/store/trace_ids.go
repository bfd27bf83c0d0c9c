package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// The request-id index finds a record by the id its caller got, and the
// appliances' evidence batches that hold entries of that request. Ids are
// random, and a B+tree that takes random keys one batch at a time
// rewrites a page per key: that cost four fifths of the append time. So
// the index is written in chunks of idChunk records, once a chunk is
// complete: its ids sorted, under keys that start with the chunk's first
// index, so that every chunk goes after the last one and each page is
// written once. A lookup seeks once per chunk kept and reads the records
// not yet in a chunk (fewer than idChunk) one by one.
//
// Keys: the chunk's first index (8 bytes), the id, the record's index (8
// bytes); no value. The log's meta key "indexed" is where the next chunk
// starts.

// idChunk is the number of records in a chunk of the index.
const idChunk = 4096

var keyTraceIndexed = []byte("indexed")

// MaxIndexedID is the longest request id the index keeps; a record with a
// longer one (which no gateway makes) is found by its index only.
const MaxIndexedID = 128

func indexable(id string) bool { return id != "" && len(id) <= MaxIndexedID }

// idKey is the index key of the record at index with request id id.
func idKey(id string, index int64) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 16+len(id)), uint64(index-index%idChunk))
	return binary.BigEndian.AppendUint64(append(k, id...), uint64(index))
}

// indexChunks indexes every complete chunk not indexed yet.
func indexChunks(tx *bolt.Tx, size int64) error {
	meta, ids := tx.Bucket(bucketTraceLog), tx.Bucket(bucketTraceIDs)
	ids.FillPercent = 1
	indexed := getU64(meta, keyTraceIndexed)
	if indexed+idChunk > size {
		return nil
	}
	type entry struct {
		id    string
		index int64
	}
	for ; indexed+idChunk <= size; indexed += idChunk {
		chunk := make([]entry, 0, idChunk)
		c := tx.Bucket(bucketTraceRecords).Cursor()
		for k, v := c.Seek(u64(indexed)); k != nil && int64(binary.BigEndian.Uint64(k)) < indexed+idChunk; k, v = c.Next() {
			i := int64(binary.BigEndian.Uint64(k))
			ids, err := leafIDs(tx, i, v)
			if err != nil {
				return fmt.Errorf("%w: trace record %d: %v", ErrCorrupt, i, err)
			}
			for _, id := range ids {
				if indexable(id) {
					chunk = append(chunk, entry{id, i})
				}
			}
		}
		slices.SortFunc(chunk, func(a, b entry) int {
			if c := strings.Compare(a.id, b.id); c != 0 {
				return c
			}
			return int(a.index - b.index)
		})
		for _, e := range chunk {
			if err := ids.Put(idKey(e.id, e.index), nil); err != nil {
				return err
			}
		}
	}
	return meta.Put(keyTraceIndexed, u64(indexed))
}

// findID returns the indexes of the leaves kept about request id id, in
// log order: its records and the evidence batches that hold its entries.
func findID(tx *bolt.Tx, id string, st TraceState) ([]int64, error) {
	var found []int64
	indexed := getU64(tx.Bucket(bucketTraceLog), keyTraceIndexed)
	c := tx.Bucket(bucketTraceIDs).Cursor()
	for chunk := st.First - st.First%idChunk; chunk < indexed; chunk += idChunk {
		prefix := append(u64(chunk), id...)
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if len(k) == len(prefix)+8 {
				found = append(found, int64(binary.BigEndian.Uint64(k[len(prefix):])))
			}
		}
	}
	rc := tx.Bucket(bucketTraceRecords).Cursor()
	for k, v := rc.Seek(u64(max(indexed, st.First))); k != nil; k, v = rc.Next() {
		i := int64(binary.BigEndian.Uint64(k))
		ids, err := leafIDs(tx, i, v)
		if err != nil {
			return nil, fmt.Errorf("%w: trace record %d: %v", ErrCorrupt, i, err)
		}
		if slices.Contains(ids, id) {
			found = append(found, i)
		}
	}
	return found, nil
}

// unindex removes a pruned record's id from the index, if its chunk was
// indexed; a chunk indexed later skips the records already pruned.
func unindex(tx *bolt.Tx, id string, index int64) error {
	if !indexable(id) || index >= getU64(tx.Bucket(bucketTraceLog), keyTraceIndexed) {
		return nil
	}
	return tx.Bucket(bucketTraceIDs).Delete(idKey(id, index))
}
