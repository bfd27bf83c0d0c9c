package tracelog

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/babgate/bab/evidence"
	"github.com/babgate/bab/internal/canon"
)

// The log has two kinds of leaves, told apart by their first byte: a
// request's Record (RecordVersion, 0x01) and an appliance's batch of
// evidence (BatchLeaf, 0xe1), which the exchange appends as each batch
// arrives and verifies. Batches are leaves of their own rather than fields
// of the records because of the order things happen in: a request's
// record is written within a fifth of a second of its end, an appliance's
// batch a second or more later (much later after an outage), and the log
// is append-only; holding records back for their evidence would make the
// trace wait on its least reliable appliance. So the record and the
// evidence are linked by what both carry, the request id (and, between
// the two appliances' entries, the session and request number).

// BatchLeaf is the first byte of a batch leaf (version 1).
const BatchLeaf = 0xe1

// MaxBatchRecord is the largest batch leaf read.
const MaxBatchRecord = 8 << 10

// LeafKind is what an encoded leaf is: RecordVersion or BatchLeaf (or
// another byte, which this version does not read).
func LeafKind(data []byte) byte {
	if len(data) == 0 {
		return 0
	}
	return data[0]
}

// BatchRecord is an appliance's signed batch of evidence as the exchange
// logged it: the batch's head (its Merkle root, signed) and the
// certificate of the key that signed it. The batch's entries are kept by
// the exchange beside the log (they hash into the root, which is in the
// log): a receipt carries only the entries of its request, each with its
// path to the root, and nothing of the other requests of the batch.
// Encoding: BatchLeaf, when it was logged (zig-zag varint, nanoseconds),
// the appliance (string), the policy version the exchange checked the key
// certificate against (uvarint), the certificate and the batch head
// (strings).
type BatchRecord struct {
	At        time.Time // when the exchange logged it
	Appliance string    // the appliance whose tunnel it came on
	Policy    uint64    // the policy that bound the appliance key when it was checked
	Cert      []byte    // evidence.KeyCert
	Batch     []byte    // evidence.Batch
}

// AppendBinary appends the leaf's encoding to b.
func (r *BatchRecord) AppendBinary(b []byte) []byte {
	b = append(b, BatchLeaf)
	b = binary.AppendVarint(b, r.At.UnixNano())
	b = canon.AppendString(b, r.Appliance)
	b = binary.AppendUvarint(b, r.Policy)
	b = canon.AppendBytes(b, r.Cert)
	return canon.AppendBytes(b, r.Batch)
}

// UnmarshalBinary reads a batch leaf in its one canonical encoding.
func (r *BatchRecord) UnmarshalBinary(data []byte) error {
	*r = BatchRecord{}
	d := canon.NewDecoder(data)
	switch {
	case len(data) > MaxBatchRecord:
		d.Fail("batch leaf of %d bytes, more than %d", len(data), MaxBatchRecord)
	case LeafKind(data) != BatchLeaf:
		d.Fail("not a batch leaf")
	}
	d.Byte()
	r.At = time.Unix(0, d.Varint()).UTC()
	r.Appliance = d.String(MaxBatchRecord)
	r.Policy = d.Uvarint()
	r.Cert = append([]byte(nil), d.Bytes(evidence.MaxCert)...)
	r.Batch = append([]byte(nil), d.Bytes(evidence.MaxBatchHead)...)
	if err := d.End(); err != nil {
		*r = BatchRecord{}
		return err
	}
	return nil
}

// Open checks what can be checked of the batch without the policy: the
// key certificate is signed by the appliance key it names, the batch by
// the certified key, within its validity, and both are the leaf's
// appliance's. Whether that appliance key is the appliance's is what the
// exchange checked against policy Policy when it logged the batch.
func (r *BatchRecord) Open() (*evidence.KeyCert, *evidence.Batch, error) {
	var c evidence.KeyCert
	var b evidence.Batch
	if err := c.UnmarshalBinary(r.Cert); err != nil {
		return nil, nil, fmt.Errorf("the key certificate: %w", err)
	}
	if err := b.UnmarshalBinary(r.Batch); err != nil {
		return nil, nil, fmt.Errorf("the batch: %w", err)
	}
	if err := c.Verify(); err != nil {
		return nil, nil, err
	}
	if c.Appliance != r.Appliance {
		return nil, nil, fmt.Errorf("%w: it is %s's, logged as %s's", evidence.ErrCertificate, c.Appliance, r.Appliance)
	}
	if err := b.Verify(&c); err != nil {
		return nil, nil, err
	}
	return &c, &b, nil
}
