package tracelog

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// Record is the metadata of one request as the exchange saw it: a leaf of
// the log. It never holds the path, the query, a body or an identifier in
// clear. The fields after Duration are optional; the ones marked "coming"
// are defined now so that the format has room for them, and are empty
// until the exchange fills them.
type Record struct {
	At             time.Time `json:"at"`                        // when the request reached the exchange
	ID             string    `json:"id"`                        // request id, from the consumer's gateway
	Consumer       string    `json:"consumer"`                  // consumer appliance, as its certificate names it
	ConsumerSystem string    `json:"consumer_system,omitempty"` // the local system or clerk, as the consumer's appliance named it
	Provider       string    `json:"provider,omitempty"`        // provider appliance; empty when refused before one was chosen
	Service        string    `json:"service"`
	Method         string    `json:"method"`
	Purpose        string    `json:"purpose,omitempty"` // as the caller declared it
	Outcome        string    `json:"outcome"`           // "ok", a problem code, or "reset:NAME"
	Status         int       `json:"status,omitempty"`  // the provider's HTTP status, when it answered
	RequestBytes   int64     `json:"request_bytes"`
	ResponseBytes  int64     `json:"response_bytes"`
	// Duration is from the request's arrival at the exchange to the end of
	// its answer.
	Duration time.Duration `json:"duration_ns"`

	// Reserved, and left empty: the appliances' signed evidence of a
	// request comes after its record is written, and is logged in leaves
	// of its own (BatchRecord), linked to the record by the request id.
	ConsumerEvidence Digest `json:"consumer_evidence,omitzero"`
	ConsumerBatch    Digest `json:"consumer_batch,omitzero"`
	ProviderEvidence Digest `json:"provider_evidence,omitzero"`
	ProviderBatch    Digest `json:"provider_batch,omitzero"`
	// SubjectHash is a keyed hash (HMAC-SHA-256) of the subject the
	// request is about, so that a citizen's requests can be found without
	// the log naming the citizen; SubjectKey is the exchange's subject key
	// that made it (keys are rotated). Both are absent for a request
	// about no one in particular.
	SubjectHash Digest `json:"subject_hash,omitzero"`
	// Reserved, and left empty for the same reason: the appliances'
	// entries hold keyed digests of both bodies, which a receipt with
	// evidence carries (bab trace verify-receipt --body --salt).
	RequestBodyDigest  Digest `json:"request_body_sha256,omitzero"`
	ResponseBodyDigest Digest `json:"response_body_sha256,omitzero"`
	SubjectKey         uint32 `json:"subject_key,omitempty"`
	// ConfidentialUntil is until when the rule that granted the request
	// holds it back from subject reports (an investigation's); the zero
	// time (absent) means never. Kept to the second.
	ConfidentialUntil time.Time `json:"confidential_until,omitzero"`

	// Unknown holds fields of a newer version of the format, kept as they
	// came so that the record still encodes to the bytes that were logged.
	Unknown []Field `json:"unknown,omitempty"`
}

// Field is an optional field of a record as encoded: its tag and value.
type Field struct {
	Tag   uint64 `json:"tag"`
	Value []byte `json:"value"`
}

// The tags of the optional fields. Tags are never reused; a newer version
// adds higher ones, which older readers keep in Record.Unknown.
const (
	TagConsumerEvidence   = 1
	TagConsumerBatch      = 2
	TagProviderEvidence   = 3
	TagProviderBatch      = 4
	TagSubjectHash        = 5
	TagRequestBodyDigest  = 6
	TagResponseBodyDigest = 7
	TagSubjectKey         = 8
	TagConfidentialUntil  = 9
	lastDigestTag         = TagResponseBodyDigest
	lastKnownTag          = TagConfidentialUntil
)

// digests are the optional digest fields this version knows, by tag.
func (r *Record) digests() [lastDigestTag + 1]*Digest {
	return [...]*Digest{nil, &r.ConsumerEvidence, &r.ConsumerBatch, &r.ProviderEvidence, &r.ProviderBatch,
		&r.SubjectHash, &r.RequestBodyDigest, &r.ResponseBodyDigest}
}

// Digest is a SHA-256 digest; the zero value means absent.
type Digest [sha256.Size]byte

// IsZero reports whether d is absent.
func (d Digest) IsZero() bool { return d == Digest{} }

// String is d in hexadecimal, as sha256sum prints it.
func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// MarshalText writes d in hexadecimal.
func (d Digest) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads d from hexadecimal.
func (d *Digest) UnmarshalText(b []byte) error {
	if len(b) != 2*len(d) {
		return fmt.Errorf("%w: a SHA-256 digest is %d hexadecimal digits, not %d", ErrMalformed, 2*len(d), len(b))
	}
	_, err := hex.Decode(d[:], b)
	return err
}

// BodyDigests are the body digests r holds, by what they are of.
func (r *Record) BodyDigests() map[string]Digest {
	out := map[string]Digest{}
	if !r.RequestBodyDigest.IsZero() {
		out["request body"] = r.RequestBodyDigest
	}
	if !r.ResponseBodyDigest.IsZero() {
		out["response body"] = r.ResponseBodyDigest
	}
	return out
}
