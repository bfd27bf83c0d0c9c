package tracelog

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/babgate/bab/evidence"
)

// EvidenceReceiptHeader is the first line of a receipt that carries the
// appliances' evidence with the record.
const EvidenceReceiptHeader = "bab/trace-receipt@v1"

// EvidenceReceipt proves that a record is in the log and, with it, the
// evidence both appliances signed of the same request: each batch leaf
// that holds an entry of it, with its inclusion proof, and each such entry
// with its path to its batch's root; every proof leads to the one signed
// checkpoint at the end. A text format in the manner of C2SP tlog-proof,
// line by line:
//
//	bab/trace-receipt@v1
//	record INDEX BASE64          the request's record
//	proof BASE64                 its inclusion proof, one hash a line
//	batch INDEX BASE64           a batch leaf (BatchRecord), then its proof
//	proof BASE64
//	entry POSITION BASE64        an entry of that batch (evidence.Entry)
//	path BASE64                  its path to the batch's root, one hash a line
//	                             (a blank line)
//	CHECKPOINT                   the signed checkpoint, as in a Receipt
//
// Batches come in log order, entries in batch order.
type EvidenceReceipt struct {
	Record     []byte
	Index      int64
	Proof      tlog.RecordProof
	Batches    []ReceiptBatch
	Checkpoint []byte
}

// ReceiptBatch is a batch leaf in a receipt, with the entries of the
// request it holds.
type ReceiptBatch struct {
	Leaf    []byte // BatchRecord
	Index   int64
	Proof   tlog.RecordProof
	Entries []ReceiptEntry
}

// ReceiptEntry is an entry with its place in its batch and its path to the
// batch's root.
type ReceiptEntry struct {
	Entry    []byte
	Position uint64
	Path     []evidence.Digest
}

// Marshal writes the receipt.
func (r *EvidenceReceipt) Marshal() []byte {
	var b bytes.Buffer
	b64 := base64.StdEncoding.EncodeToString
	b.WriteString(EvidenceReceiptHeader + "\n")
	fmt.Fprintf(&b, "record %d %s\n", r.Index, b64(r.Record))
	for _, h := range r.Proof {
		b.WriteString("proof " + b64(h[:]) + "\n")
	}
	for _, bt := range r.Batches {
		fmt.Fprintf(&b, "batch %d %s\n", bt.Index, b64(bt.Leaf))
		for _, h := range bt.Proof {
			b.WriteString("proof " + b64(h[:]) + "\n")
		}
		for _, e := range bt.Entries {
			fmt.Fprintf(&b, "entry %d %s\n", e.Position, b64(e.Entry))
			for _, h := range e.Path {
				b.WriteString("path " + b64(h[:]) + "\n")
			}
		}
	}
	b.WriteString("\n")
	b.Write(r.Checkpoint)
	return b.Bytes()
}

// ParseEvidenceReceipt reads a receipt with evidence, in its canonical form
// only, byte for byte as Marshal writes it.
func ParseEvidenceReceipt(b []byte) (*EvidenceReceipt, error) {
	bad := func(format string, args ...any) (*EvidenceReceipt, error) {
		return nil, fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
	}
	lines, cp, err := splitReceipt(b, EvidenceReceiptHeader, "")
	if err != nil {
		return nil, err
	}
	r := &EvidenceReceipt{Checkpoint: cp}
	var bt *ReceiptBatch
	var en *ReceiptEntry
	for i, l := range lines[1:] {
		word, rest, _ := strings.Cut(l, " ")
		n := i + 2
		switch {
		case word == "record" && i == 0:
			idx, data, err := indexAndData(rest)
			if err != nil {
				return bad("line %d: %v", n, err)
			}
			r.Index, r.Record = idx, data
		case word == "batch" && i > 0:
			idx, data, err := indexAndData(rest)
			if err != nil {
				return bad("line %d: %v", n, err)
			}
			r.Batches = append(r.Batches, ReceiptBatch{Leaf: data, Index: idx})
			bt, en = &r.Batches[len(r.Batches)-1], nil
		case word == "entry" && bt != nil:
			pos, data, err := indexAndData(rest)
			if err != nil {
				return bad("line %d: %v", n, err)
			}
			bt.Entries = append(bt.Entries, ReceiptEntry{Entry: data, Position: uint64(pos)})
			en = &bt.Entries[len(bt.Entries)-1]
		case word == "proof" && en == nil && i > 0:
			h, err := parseHash(rest)
			if err != nil {
				return bad("line %d: %v", n, err)
			}
			if bt == nil {
				r.Proof = append(r.Proof, h)
			} else {
				bt.Proof = append(bt.Proof, h)
			}
		case word == "path" && en != nil:
			h, err := parseHash(rest)
			if err != nil {
				return bad("line %d: %v", n, err)
			}
			en.Path = append(en.Path, evidence.Digest(h))
		default:
			return bad("line %d is not what a receipt has there", n)
		}
	}
	if r.Record == nil {
		return bad("no record")
	}
	if !bytes.Equal(r.Marshal(), b) {
		return bad("not in its canonical form")
	}
	return r, nil
}

// indexAndData reads "N BASE64" with N a canonical decimal, 0 or more.
func indexAndData(s string) (int64, []byte, error) {
	num, b64, ok := strings.Cut(s, " ")
	n, err := strconv.ParseInt(num, 10, 64)
	if !ok || err != nil || n < 0 || strconv.FormatInt(n, 10) != num {
		return 0, nil, fmt.Errorf("%q is not a number and its data", s)
	}
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(data) == 0 || base64.StdEncoding.EncodeToString(data) != b64 {
		return 0, nil, fmt.Errorf("the data is not canonical base64")
	}
	return n, data, nil
}

// Evidence is one appliance's entry of a request, as a receipt proved it:
// the entry, the batch that holds it and where, and the certificate of the
// key that signed the batch.
type Evidence struct {
	Entry      evidence.Entry
	Batch      evidence.Batch
	Cert       evidence.KeyCert
	BatchIndex int64     // the batch's record in the log
	Position   uint64    // the entry's place in its batch
	LoggedAt   time.Time // when the exchange logged the batch
	Policy     uint64    // the policy version it checked the key against
}

// Verify checks everything the receipt says, against the log key v: the
// checkpoint is signed; the record and every batch leaf are in its tree;
// every key certificate is signed by the appliance key it names and every
// batch by the key certified, within its validity; every entry is in its
// batch, speaks for that batch's appliance, and is of the record's request
// (the same id, consumer, provider, service and method).
func (r *EvidenceReceipt) Verify(v note.Verifier) (*Verified, error) {
	c, err := Open(r.Checkpoint, v)
	if err != nil {
		return nil, err
	}
	rec, err := verifyLeaf(c, r.Index, r.Proof, r.Record, "the record")
	if err != nil {
		return nil, err
	}
	var out Verified
	out.Index, out.Checkpoint, out.KeyName = r.Index, c, v.Name()
	if err := out.Record.UnmarshalBinary(rec); err != nil {
		return nil, fmt.Errorf("the record: %w", err)
	}
	last := int64(-1)
	for _, bt := range r.Batches {
		if bt.Index <= last || bt.Index == r.Index {
			return nil, fmt.Errorf("%w: batch %d out of order or twice", ErrMalformed, bt.Index)
		}
		last = bt.Index
		what := fmt.Sprintf("the batch at record %d", bt.Index)
		if _, err := verifyLeaf(c, bt.Index, bt.Proof, bt.Leaf, what); err != nil {
			return nil, err
		}
		var leaf BatchRecord
		if err := leaf.UnmarshalBinary(bt.Leaf); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		cert, batch, err := leaf.Open()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		if len(bt.Entries) == 0 {
			return nil, fmt.Errorf("%w: %s holds no entry of the request", ErrMalformed, what)
		}
		prev := int64(-1)
		for _, e := range bt.Entries {
			if int64(e.Position) <= prev {
				return nil, fmt.Errorf("%w: %s: entries out of order or twice", ErrMalformed, what)
			}
			prev = int64(e.Position)
			if err := evidence.CheckPath(e.Path, batch.Count, batch.Root, e.Position, e.Entry); err != nil {
				return nil, fmt.Errorf("%s: %w", what, err)
			}
			ev := Evidence{Batch: *batch, Cert: *cert, BatchIndex: bt.Index, Position: e.Position, LoggedAt: leaf.At, Policy: leaf.Policy}
			if err := ev.Entry.UnmarshalBinary(e.Entry); err != nil {
				return nil, fmt.Errorf("%s, entry %d: %w", what, e.Position, err)
			}
			if err := sameRequest(&out.Record, &ev.Entry, batch.Appliance); err != nil {
				return nil, fmt.Errorf("%s, entry %d: %w", what, e.Position, err)
			}
			out.Evidence = append(out.Evidence, ev)
		}
	}
	return &out, nil
}

// verifyLeaf checks that leaf is at index in c's tree.
func verifyLeaf(c Checkpoint, index int64, proof tlog.RecordProof, leaf []byte, what string) ([]byte, error) {
	if index >= c.Size {
		return nil, fmt.Errorf("%w: %s is record %d, beyond the checkpoint's %d records", ErrNotIncluded, what, index, c.Size)
	}
	if err := tlog.CheckRecord(proof, c.Size, c.Root, index, tlog.RecordHash(leaf)); err != nil {
		return nil, fmt.Errorf("%w: the inclusion proof of %s does not lead from record %d to the root hash signed for %d records (it, its index or the proof was changed)",
			ErrNotIncluded, what, index, c.Size)
	}
	return leaf, nil
}

// sameRequest checks that an entry is of the record's request and speaks
// for the batch's appliance.
func sameRequest(r *Record, e *evidence.Entry, appliance string) error {
	switch {
	case e.Speaker() != appliance:
		return fmt.Errorf("%w: it is %s's word, in a batch of %s", evidence.ErrBatch, e.Speaker(), appliance)
	case e.ID != r.ID:
		return fmt.Errorf("%w: it is of request %q, the record of %q", ErrOtherRequest, e.ID, r.ID)
	case e.Consumer != r.Consumer || e.Service != r.Service || e.Method != r.Method || (r.Provider != "" && e.Provider != r.Provider):
		return fmt.Errorf("%w: it names %s calling %s %s at %s, the record %s calling %s %s at %s", ErrOtherRequest,
			e.Consumer, e.Method, e.Service, e.Provider, r.Consumer, r.Method, r.Service, r.Provider)
	}
	return nil
}

// AnyReceipt is a receipt of either form: a Receipt (the record alone, a
// C2SP tlog-proof) or an EvidenceReceipt.
type AnyReceipt interface {
	Marshal() []byte
	Verify(v note.Verifier) (*Verified, error)
}

// ParseAnyReceipt reads a receipt of either form, by its first line.
func ParseAnyReceipt(b []byte) (AnyReceipt, error) {
	if bytes.HasPrefix(b, []byte(EvidenceReceiptHeader+"\n")) {
		return ParseEvidenceReceipt(b)
	}
	return ParseReceipt(b)
}
