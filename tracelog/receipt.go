package tracelog

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// ReceiptHeader is the first line of a receipt: receipts are C2SP
// tlog-proof documents.
const ReceiptHeader = "c2sp.org/tlog-proof@v1"

// MaxReceipt is the largest receipt read.
const MaxReceipt = 1 << 20

// Receipt proves that a record is in the log: the record (the proof's
// "extra" data), its index, the inclusion proof and the signed checkpoint
// the proof leads to.
type Receipt struct {
	Record     []byte // the record's encoding, as logged
	Index      int64
	Proof      tlog.RecordProof
	Checkpoint []byte // the signed note
}

// Marshal writes the receipt in the C2SP tlog-proof format.
func (r *Receipt) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString(ReceiptHeader + "\n")
	b.WriteString("extra " + base64.StdEncoding.EncodeToString(r.Record) + "\n")
	b.WriteString("index " + strconv.FormatInt(r.Index, 10) + "\n")
	for _, h := range r.Proof {
		b.WriteString(base64.StdEncoding.EncodeToString(h[:]) + "\n")
	}
	b.WriteString("\n")
	b.Write(r.Checkpoint)
	return b.Bytes()
}

// ParseReceipt reads a receipt. It must be in its canonical form, byte for
// byte as Marshal writes it, so that a changed byte anywhere is refused
// here or when the receipt is verified.
func ParseReceipt(b []byte) (*Receipt, error) {
	bad := func(format string, args ...any) (*Receipt, error) {
		return nil, fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
	}
	lines, cp, err := splitReceipt(b, ReceiptHeader, ": this is not a trace receipt")
	if err != nil {
		return nil, err
	}
	if len(lines) < 3 || !strings.HasPrefix(lines[1], "extra ") {
		return bad("line 2 is not \"extra\" and the record")
	}
	r := &Receipt{Checkpoint: cp}
	b64 := strings.TrimPrefix(lines[1], "extra ")
	if r.Record, err = base64.StdEncoding.DecodeString(b64); err != nil || base64.StdEncoding.EncodeToString(r.Record) != b64 {
		return bad("line 2: the record is not canonical base64")
	}
	idx, ok := strings.CutPrefix(lines[2], "index ")
	n, err := strconv.ParseInt(idx, 10, 64)
	if !ok || err != nil || n < 0 || strconv.FormatInt(n, 10) != idx {
		return bad("line 3 is not \"index\" and a record number")
	}
	r.Index = n
	for i, l := range lines[3:] {
		h, err := parseHash(l)
		if err != nil {
			return bad("line %d of the inclusion proof: %v", i+4, err)
		}
		r.Proof = append(r.Proof, h)
	}
	if !bytes.Equal(r.Marshal(), b) {
		return bad("not in its canonical form")
	}
	return r, nil
}

// Verified is what a receipt proves.
type Verified struct {
	Record     Record
	Index      int64
	Checkpoint Checkpoint
	KeyName    string // the name of the log key that signed the checkpoint
	// Evidence is the appliances' entries of the request that an
	// EvidenceReceipt carried, in log order.
	Evidence []Evidence
}

// Verify checks the receipt against the log key v: the checkpoint is
// signed with it, the record decodes, and the inclusion proof leads from
// the record's leaf hash at Index to the checkpoint's root.
func (r *Receipt) Verify(v note.Verifier) (*Verified, error) {
	c, err := Open(r.Checkpoint, v)
	if err != nil {
		return nil, err
	}
	if r.Index >= c.Size {
		return nil, fmt.Errorf("%w: record %d is beyond the checkpoint's %d records", ErrNotIncluded, r.Index, c.Size)
	}
	if err := tlog.CheckRecord(r.Proof, c.Size, c.Root, r.Index, tlog.RecordHash(r.Record)); err != nil {
		return nil, fmt.Errorf("%w: the inclusion proof does not lead from record %d to the root hash signed for %d records (the record, its index or the proof was changed)",
			ErrNotIncluded, r.Index, c.Size)
	}
	var rec Record
	if err := rec.UnmarshalBinary(r.Record); err != nil {
		return nil, fmt.Errorf("the record: %w", err)
	}
	return &Verified{Record: rec, Index: r.Index, Checkpoint: c, KeyName: v.Name()}, nil
}

// splitReceipt checks a receipt's size, first line (header) and the blank
// line before its checkpoint, and returns its lines and the checkpoint;
// why is added to the error when the header is another.
func splitReceipt(b []byte, header, why string) ([]string, []byte, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
	}
	if len(b) > MaxReceipt {
		return nil, nil, bad("%d bytes, more than %d", len(b), MaxReceipt)
	}
	head, cp, ok := bytes.Cut(b, []byte("\n\n"))
	if !ok {
		return nil, nil, bad("no blank line before the checkpoint")
	}
	lines := strings.Split(string(head), "\n")
	if lines[0] != header {
		return nil, nil, bad("the first line is not %s%s", header, why)
	}
	return lines, cp, nil
}
