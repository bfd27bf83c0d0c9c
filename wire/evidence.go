package wire

import (
	"encoding/binary"
	"fmt"
)

// Evidence is the payload of an evidence frame: one batch of an
// appliance's evidence as package evidence signs it, with the certificate
// of the key that signed it, so that each frame is checked alone. Binary:
// the certificate and the batch head (strings), the number of entries
// (uvarint), then each entry (string). The exchange checks it against the
// policy and answers with an EvidenceAck.
type Evidence struct {
	Cert    []byte   // evidence.KeyCert, encoded
	Batch   []byte   // evidence.Batch, encoded
	Entries [][]byte // evidence.Entry, encoded, in the batch's order
}

// Bounds of an evidence frame's parts, as package evidence sets them
// (MaxCert, MaxBatchHead, MaxBatch, MaxEntry); wire checks them before
// anything is decoded.
const (
	maxEvidenceCert    = 4 << 10
	maxEvidenceHead    = 2 << 10
	maxEvidenceEntries = 1024
	maxEvidenceEntry   = 4 << 10
)

// MarshalBinary encodes the payload.
func (e *Evidence) MarshalBinary() ([]byte, error) {
	if len(e.Entries) > maxEvidenceEntries {
		return nil, fmt.Errorf("%w: %d evidence entries, at most %d", ErrMalformed, len(e.Entries), maxEvidenceEntries)
	}
	n := 16 + len(e.Cert) + len(e.Batch)
	for _, en := range e.Entries {
		n += 3 + len(en)
	}
	b := make([]byte, 0, n)
	b = appendString(b, string(e.Cert))
	b = appendString(b, string(e.Batch))
	b = binary.AppendUvarint(b, uint64(len(e.Entries)))
	for _, en := range e.Entries {
		b = appendString(b, string(en))
	}
	return b, nil
}

// UnmarshalBinary decodes the payload, refusing parts over their bounds
// before reading them.
func (e *Evidence) UnmarshalBinary(data []byte) error {
	d := decoder{b: data}
	*e = Evidence{Cert: d.bytesMax(maxEvidenceCert, "key certificate"), Batch: d.bytesMax(maxEvidenceHead, "batch")}
	n := d.uvarint()
	if d.err == nil && n > maxEvidenceEntries {
		d.err = fmt.Errorf("%w: %d evidence entries, at most %d", ErrMalformed, n, maxEvidenceEntries)
	}
	if d.err == nil {
		e.Entries = make([][]byte, 0, n)
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		e.Entries = append(e.Entries, d.bytesMax(maxEvidenceEntry, "entry"))
	}
	if d.err == nil && len(d.b) > 0 {
		d.err = fmt.Errorf("%w: %d bytes after the evidence entries", ErrMalformed, len(d.b))
	}
	if d.err != nil {
		*e = Evidence{}
	}
	return d.err
}

// bytesMax reads a string of at most max bytes, as a copy.
func (d *decoder) bytesMax(max int, what string) []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(max) || n > uint64(len(d.b)) {
		d.err = fmt.Errorf("%w: %s of %d bytes (at most %d, %d left)", ErrMalformed, what, n, max, len(d.b))
		return nil
	}
	out := append([]byte(nil), d.b[:n]...)
	d.b = d.b[n:]
	return out
}

// EvidenceAck answers an evidence frame, once the batch is in the trace
// log or refused. Key and Number name the batch (the SHA-256 of its key
// certificate and its number under that key).
type EvidenceAck struct {
	Key    []byte `json:"key"`
	Number uint64 `json:"number"`
	// Index is the batch's record in the trace log, once logged (also
	// when it was logged before: a batch sent again is logged once).
	Index int64 `json:"index"`
	// Error says why the batch was not logged. With Retry, the exchange
	// could not log it now (its trace is full or failing): the appliance
	// keeps it and sends it again later. Without, it was refused: it does
	// not verify (a key not certified by the appliance key the policy
	// binds, a signature, entries that are not the batch's or that speak
	// for another appliance) and will not be logged.
	Error string `json:"error,omitempty"`
	Retry bool   `json:"retry,omitempty"`
}
