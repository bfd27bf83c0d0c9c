package wire

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// ALPN protocol names. One exchange listener serves both: tunnels need a
// client certificate, enrollment does not (it has a one-time token instead).
const (
	ALPNTunnel = "bab/1"
	ALPNEnroll = "bab-enroll/1"
)

// Hello is the first frame an appliance sends on a new tunnel.
type Hello struct {
	Appliance     string `json:"appliance"`
	Software      string `json:"software"`
	PolicyVersion uint64 `json:"policy_version"`
	// PolicyDeltas says the appliance takes policy-delta frames; an
	// exchange sends an older appliance only whole bundles.
	PolicyDeltas bool `json:"policy_deltas,omitempty"`
	// KeepsAlive says the appliance pings whenever nothing arrived for a
	// second, so that something arrives from it at least every second or
	// so: a tunnel of it on which nothing arrived for seconds is on a dead
	// path. An older appliance's idle tunnel may be silent for longer.
	KeepsAlive bool `json:"keeps_alive,omitempty"`
	// Lane names this connection among the appliance's: the exchange
	// address it dialled and the lane's number there. An appliance dials
	// a lane again only after it gave up its previous connection, so a
	// new one with a lane replaces the older one of that lane at once,
	// which the exchange may not have noticed is dead.
	Lane string `json:"lane,omitempty"`
}

// Welcome answers Hello with the exchange's view of the session.
type Welcome struct {
	Exchange   string    `json:"exchange"`
	Heartbeat  Millis    `json:"heartbeat_ms"` // 0 or within [MinHeartbeat, MaxHeartbeat]
	ServerTime time.Time `json:"server_time"`
}

// Probe takes the place of Hello when an appliance only checks the
// exchange (bab doctor): the exchange answers with a Welcome, whose
// ServerTime gives the clock skew, and closes the connection without
// starting a session, so the appliance's running tunnel, its routing and
// its attestation are left alone. It has no fields yet.
type Probe struct{}

// Policy carries a whole signed bundle, in its JSON or binary form, or,
// when that is much smaller, the same bytes DEFLATE-compressed: a bundle listing a
// thousand appliances repeats their identifiers, and pushing it to all of
// them is the exchange's largest cost.
type Policy struct {
	Bundle  json.RawMessage `json:"bundle,omitempty"` // the JSON form, as ops sign it
	Raw     []byte          `json:"raw,omitempty"`    // the binary form (policy.Signed.MarshalBinary)
	Deflate []byte          `json:"deflate,omitempty"`
}

// PolicyAck reports what the appliance did with a pushed bundle.
type PolicyAck struct {
	Version uint64 `json:"version"` // the version the push carried (0 if unreadable)
	Applied uint64 `json:"applied"` // the version the appliance enforces now
	Error   string `json:"error,omitempty"`
	// Resend asks for the whole bundle: a delta was told against another
	// bundle than the one the appliance holds.
	Resend bool `json:"resend,omitempty"`
}

// Ping and Pong are the control stream heartbeat.
type Ping struct {
	Seq uint64 `json:"seq"`
}

// Pong answers a Ping with the same sequence number.
type Pong struct {
	Seq uint64 `json:"seq"`
}

// Renew asks for a new certificate for the appliance's key before the
// current one expires.
type Renew struct {
	CSR []byte `json:"csr"` // DER
}

// Renewed answers Renew.
type Renewed struct {
	Chain [][]byte `json:"chain,omitempty"` // DER, leaf first
	Error string   `json:"error,omitempty"`
}

// Attest asks a TPM appliance for a fresh quote of its boot state.
type Attest struct {
	Nonce []byte `json:"nonce"`
	PCRs  []int  `json:"pcrs"`
}

// Quote answers Attest: the TPM's signed statement and the PCR values it
// covers, or why none could be made.
type Quote struct {
	Nonce     []byte         `json:"nonce"` // the challenge it answers
	Attest    []byte         `json:"attest,omitempty"`
	Signature []byte         `json:"signature,omitempty"`
	PCRValues map[int][]byte `json:"pcr_values,omitempty"`
	Error     string         `json:"error,omitempty"`
}

// Attested tells the appliance the exchange's verdict. A quarantined
// appliance keeps its tunnel but carries no requests until a quote matches
// its baseline again or ops accept a new baseline.
type Attested struct {
	Quarantined bool   `json:"quarantined"`
	Reason      string `json:"reason,omitempty"`
}

// Enroll opens an enrollment connection. An appliance with a TPM sends
// TPM and no CSR, and then answers a Challenge with a Proof; one with a
// software key sends only the CSR.
type Enroll struct {
	Token string     `json:"token"`
	Name  string     `json:"name"`          // the appliance's name within its member
	CSR   []byte     `json:"csr,omitempty"` // DER, signed by a software key
	TPM   *EnrollTPM `json:"tpm,omitempty"`
}

// EnrollTPM presents the appliance's TPM: its endorsement key (with the
// maker's certificate when the TPM has one) and a fresh attestation key.
type EnrollTPM struct {
	EKCert []byte `json:"ek_cert,omitempty"` // DER
	EKArea []byte `json:"ek_area"`           // TPMT_PUBLIC
	AKArea []byte `json:"ak_area"`           // TPMT_PUBLIC
}

// Challenge asks the appliance to prove that its attestation key lives in
// the same TPM as its endorsement key (credential activation), and to
// quote its boot state and certify its new TLS key with the nonce.
type Challenge struct {
	IDObject  []byte `json:"id_object"`
	EncSecret []byte `json:"enc_secret"`
	Nonce     []byte `json:"nonce"`
	PCRs      []int  `json:"pcrs"`
}

// Proof answers a Challenge.
type Proof struct {
	Secret           []byte         `json:"secret"`
	QuoteAttest      []byte         `json:"quote_attest"`
	QuoteSignature   []byte         `json:"quote_signature"`
	PCRValues        map[int][]byte `json:"pcr_values"`
	KeyArea          []byte         `json:"key_area"` // TPMT_PUBLIC of the TLS key
	CertifyAttest    []byte         `json:"certify_attest"`
	CertifySignature []byte         `json:"certify_signature"`
	CSR              []byte         `json:"csr"` // signed by the TLS key, in the TPM
}

// Enrolled answers Enroll.
type Enrolled struct {
	Appliance       string   `json:"appliance,omitempty"`
	Chain           [][]byte `json:"chain,omitempty"` // DER, leaf first
	CA              []byte   `json:"ca,omitempty"`    // DER of the exchange CA
	OpsKeys         [][]byte `json:"ops_keys,omitempty"`
	PolicyThreshold int      `json:"policy_threshold,omitempty"` // never negative once decoded
	Error           *Error   `json:"error,omitempty"`
}

// WriteJSON writes v as a frame of type t.
func WriteJSON(w io.Writer, t FrameType, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", t, err)
	}
	return WriteFrame(w, t, b)
}

// DecodeJSON decodes a control payload into v. Unknown fields are ignored
// so that a newer exchange can add fields without breaking older appliances.
// Numbers out of their field's bounds (bounds.go) fail with ErrOutOfRange
// as well as ErrMalformed.
func DecodeJSON(t FrameType, payload []byte, v any) error {
	if err := json.Unmarshal(payload, v); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrMalformed, t, err)
	}
	return nil
}
