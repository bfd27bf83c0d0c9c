package store

import (
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/babgate/bab/evidence"
	"github.com/babgate/bab/internal/canon"
	"github.com/babgate/bab/tracelog"
)

// The appliances' evidence in the trace log: each batch the exchange
// checked is a leaf of the log (tracelog.BatchRecord: its signed head and
// its key's certificate), appended in the same transaction as its entries,
// which are kept beside the log, under the leaf's index, so that a receipt
// proves one entry without giving out the others. The entries' request ids
// go into the id index with the records' (trace_ids.go), so that a receipt
// finds a request's evidence as it finds its record. A batch is logged
// once, however often its appliance sends it: bucketEvidenceBatches knows
// each by its key's certificate and its number.
var (
	bucketEvidenceEntries = []byte("evidence_entries") // leaf index → the batch's entries
	bucketEvidenceBatches = []byte("evidence_batches") // certificate hash, number → leaf index
)

// EvidenceBatch is a batch an appliance sent, checked, to log.
type EvidenceBatch struct {
	Leaf    tracelog.BatchRecord
	Key     evidence.Digest // the SHA-256 of its key certificate
	Number  uint64
	Entries [][]byte
}

// LoggedBatch is what became of a batch: its leaf's index, and whether it
// was logged before.
type LoggedBatch struct {
	Index int64
	Again bool
}

// AppendEvidence appends batches to the log in one transaction, each with
// its entries; a batch logged before is not appended again.
func (s *Store) AppendEvidence(batches []EvidenceBatch) ([]LoggedBatch, int64, error) {
	out := make([]LoggedBatch, len(batches))
	var size int64
	err := s.db.Update(func(tx *bolt.Tx) error {
		a := newLeafAppender(tx, len(batches)*4)
		known, kept := tx.Bucket(bucketEvidenceBatches), tx.Bucket(bucketEvidenceEntries)
		kept.FillPercent = 1
		for i := range batches {
			b := &batches[i]
			key := batchKey(b.Key, b.Number)
			if v := known.Get(key); len(v) == 8 {
				out[i] = LoggedBatch{Index: int64(binary.BigEndian.Uint64(v)), Again: true}
				continue
			}
			index, err := a.add(func(buf []byte) ([]byte, error) { return b.Leaf.AppendBinary(buf), nil })
			if err != nil {
				return err
			}
			if err := known.Put(key, u64(index)); err != nil {
				return err
			}
			if err := kept.Put(u64(index), encodeEntries(b.Entries)); err != nil {
				return err
			}
			out[i] = LoggedBatch{Index: index}
		}
		var err error
		size, err = a.finish()
		return err
	})
	return out, size, err
}

func batchKey(key evidence.Digest, number uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(nil), key[:]...), number)
}

func encodeEntries(entries [][]byte) []byte {
	n := 0
	for _, e := range entries {
		n += len(e) + 2
	}
	b := make([]byte, 0, n)
	for _, e := range entries {
		b = canon.AppendBytes(b, e)
	}
	return b
}

func decodeEntries(v []byte) ([][]byte, error) {
	d := canon.NewDecoder(v)
	var out [][]byte
	for d.Err() == nil && len(d.Rest()) > 0 {
		out = append(out, d.Bytes(evidence.MaxEntry))
	}
	return out, d.End()
}

// batchEntries returns the entries kept for the batch leaf at index.
func batchEntries(tx *bolt.Tx, index int64) ([][]byte, error) {
	b := tx.Bucket(bucketEvidenceEntries)
	if b == nil {
		return nil, fmt.Errorf("%w: the entries of the evidence batch at record %d are missing", ErrCorrupt, index)
	}
	v := b.Get(u64(index))
	if v == nil {
		return nil, fmt.Errorf("%w: the entries of the evidence batch at record %d are missing", ErrCorrupt, index)
	}
	es, err := decodeEntries(v)
	if err != nil {
		return nil, fmt.Errorf("%w: the entries of the evidence batch at record %d: %v", ErrCorrupt, index, err)
	}
	return es, nil
}

// leafIDs are the request ids a leaf is about: a record's, or those of a
// batch's entries.
func leafIDs(tx *bolt.Tx, index int64, v []byte) ([]string, error) {
	if tracelog.LeafKind(v) != tracelog.BatchLeaf {
		id, err := tracelog.RecordID(v)
		if err != nil {
			return nil, err
		}
		return []string{id}, nil
	}
	es, err := batchEntries(tx, index)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(es))
	for _, e := range es {
		id, err := evidence.RequestID(e)
		if err != nil {
			return nil, fmt.Errorf("%w: evidence batch at record %d: %v", ErrCorrupt, index, err)
		}
		if len(ids) == 0 || ids[len(ids)-1] != id {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// leafTime is when a leaf was written: a record's request time, a batch's
// logging time.
func leafTime(v []byte) (time.Time, string, error) {
	if tracelog.LeafKind(v) == tracelog.BatchLeaf {
		var b tracelog.BatchRecord
		err := b.UnmarshalBinary(v)
		return b.At, "", err
	}
	var r tracelog.Record
	err := r.UnmarshalBinary(v)
	return r.At, r.ID, err
}

// pruneBatch deletes what is kept beside a pruned batch leaf: its entries,
// their ids in the index, and its name among the batches logged (a batch
// sent again after its retention would be logged again, as new).
func pruneBatch(tx *bolt.Tx, index int64, v []byte) error {
	var leaf tracelog.BatchRecord
	if err := leaf.UnmarshalBinary(v); err != nil {
		return err
	}
	ids, err := leafIDs(tx, index, v)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := unindex(tx, id, index); err != nil {
			return err
		}
	}
	var b evidence.Batch
	var c evidence.KeyCert
	if b.UnmarshalBinary(leaf.Batch) == nil && c.UnmarshalBinary(leaf.Cert) == nil {
		if err := tx.Bucket(bucketEvidenceBatches).Delete(batchKey(c.Hash(), b.Number)); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketEvidenceEntries).Delete(u64(index))
}

// verifyBatchLeaf checks a batch leaf as trace verify does: its key
// certificate is signed by the appliance key it names, its head by the
// certified key, and the entries kept beside it are its entries, whole,
// each speaking for its appliance. It says how many entries it checked.
func verifyBatchLeaf(tx *bolt.Tx, index int64, v []byte, rep *TraceReport) {
	var leaf tracelog.BatchRecord
	if err := leaf.UnmarshalBinary(v); err != nil {
		rep.add("record", index, "", "is an evidence batch that does not decode: %v", err)
		return
	}
	rep.Batches++
	_, b, err := leaf.Open()
	if err != nil {
		rep.add("record", index, "", "is an evidence batch of %s that does not verify: %v", leaf.Appliance, err)
		return
	}
	es, err := batchEntries(tx, index)
	if err != nil {
		rep.add("record", index, "", "is an evidence batch of %s: %v", leaf.Appliance, err)
		return
	}
	if err := b.VerifyEntries(es); err != nil {
		rep.add("record", index, "", "is an evidence batch of %s whose entries kept beside the log were changed: %v", leaf.Appliance, err)
		return
	}
	rep.Entries += int64(len(es))
}

// requestEvidence finds the entries of request id in the batches kept,
// with their proofs, under a checkpoint of size records; leaves are the
// leaves the index gives for id.
func requestEvidence(tx *bolt.Tx, id string, leaves []int64, size int64) ([]tracelog.ReceiptBatch, error) {
	var out []tracelog.ReceiptBatch
	recs := tx.Bucket(bucketTraceRecords)
	hr := hashReader{tx.Bucket(bucketTraceHashes)}
	for _, index := range leaves {
		v := recs.Get(u64(index))
		if tracelog.LeafKind(v) != tracelog.BatchLeaf || index >= size {
			continue
		}
		es, err := batchEntries(tx, index)
		if err != nil {
			return nil, err
		}
		rb := tracelog.ReceiptBatch{Leaf: clone(v), Index: index}
		for pos, e := range es {
			var en evidence.Entry
			if en.UnmarshalBinary(e) != nil || en.ID != id {
				continue
			}
			path, err := evidence.Prove(es, pos)
			if err != nil {
				return nil, err
			}
			rb.Entries = append(rb.Entries, tracelog.ReceiptEntry{Entry: clone(e), Position: uint64(pos), Path: path})
		}
		if len(rb.Entries) == 0 {
			continue
		}
		if rb.Proof, err = tlog.ProveRecord(size, index, hr); err != nil {
			return nil, fmt.Errorf("store: trace receipt of the evidence batch at record %d: %w", index, err)
		}
		out = append(out, rb)
	}
	return out, nil
}
