package evidence

import (
	"crypto/sha256"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// A batch's entries are the leaves of a Merkle tree hashed as the trace
// log's (RFC 6962: a leaf is SHA-256(0x00 ‖ entry), a node SHA-256(0x01 ‖
// left ‖ right)), so that one entry is proven to be in a signed batch by
// a path of about log2(N) hashes, and the rest of the batch stays with
// the exchange. golang.org/x/mod/sumdb/tlog computes it, over the tree's
// stored hashes kept in memory.

// tree is a batch's stored hashes, by tlog's stored hash index.
type tree []tlog.Hash

func (t tree) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(t)) {
			return nil, fmt.Errorf("evidence: stored hash %d of %d", x, len(t))
		}
		out[i] = t[x]
	}
	return out, nil
}

func newTree(entries [][]byte) (tree, error) {
	t := make(tree, 0, 2*len(entries))
	for i, e := range entries {
		hs, err := tlog.StoredHashes(int64(i), e, t)
		if err != nil {
			return nil, err
		}
		t = append(t, hs...)
	}
	return t, nil
}

// Root is the Merkle root of a batch's entries. It hashes level by level,
// carrying the last node of a level with an odd count up unchanged, which
// gives RFC 6962's tree (whose left subtree is the largest power of two):
// one allocation, where tlog's stored hashes take one per entry.
func Root(entries [][]byte) (Digest, error) {
	if len(entries) == 0 {
		return Digest{}, fmt.Errorf("evidence: the root of no entries")
	}
	level := make([]Digest, len(entries))
	h := sha256.New()
	for i, e := range entries {
		h.Reset()
		h.Write([]byte{0x00})
		h.Write(e)
		h.Sum(level[i][:0])
	}
	var node [1 + 2*sha256.Size]byte
	node[0] = 0x01
	for n := len(level); n > 1; n = (n + 1) / 2 {
		for i := 0; i < n/2; i++ {
			copy(node[1:], level[2*i][:])
			copy(node[1+sha256.Size:], level[2*i+1][:])
			level[i] = sha256.Sum256(node[:])
		}
		if n%2 == 1 {
			level[n/2] = level[n-1]
		}
	}
	return level[0], nil
}

// Prove is the path from entry i of a batch to its root.
func Prove(entries [][]byte, i int) ([]Digest, error) {
	t, err := newTree(entries)
	if err != nil {
		return nil, err
	}
	p, err := tlog.ProveRecord(int64(len(entries)), int64(i), t)
	if err != nil {
		return nil, err
	}
	out := make([]Digest, len(p))
	for j := range p {
		out[j] = Digest(p[j])
	}
	return out, nil
}

// CheckPath checks that entry, at position i of a batch of count entries,
// leads by path to root.
func CheckPath(path []Digest, count uint64, root Digest, i uint64, entry []byte) error {
	p := make(tlog.RecordProof, len(path))
	for j := range path {
		p[j] = tlog.Hash(path[j])
	}
	if i >= count || count > MaxBatch {
		return fmt.Errorf("%w: entry %d of a batch of %d", ErrNotIncluded, i, count)
	}
	if err := tlog.CheckRecord(p, int64(count), tlog.Hash(root), int64(i), tlog.RecordHash(entry)); err != nil {
		return fmt.Errorf("%w: entry %d of %d does not lead to the batch's root (the entry, its place or the path was changed)", ErrNotIncluded, i, count)
	}
	return nil
}
