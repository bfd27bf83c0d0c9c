package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/wire"
)

// Session is what a consumer and a provider appliance share after a
// handshake: who they are and the keys that seal their requests and
// answers. It holds no secret on disk, and is safe for concurrent use.
type Session struct {
	ID                       [wire.SessionIDLen]byte
	Consumer, Provider       ident.Appliance
	ConsumerKey, ProviderKey string // the keys the handshake checked, as policy.KeyHash writes them
	Expires                  time.Time

	toProvider, toConsumer cipher.AEAD
	last                   atomic.Uint64 // the consumer's last request number
	seen                   window        // the provider's request numbers seen
	// consumerName and providerName are Consumer's and Provider's
	// String, made once: every request names them.
	consumerName, providerName string
	// evidence is the session's evidence key, which only the two
	// appliances hold: the salts of their evidence digests derive from it.
	evidence [32]byte
}

// ConsumerName is Consumer.String().
func (s *Session) ConsumerName() string {
	if s.consumerName == "" {
		return s.Consumer.String()
	}
	return s.consumerName
}

// ProviderName is Provider.String().
func (s *Session) ProviderName() string {
	if s.providerName == "" {
		return s.Provider.String()
	}
	return s.providerName
}

// EvidenceSalt is the salt of the evidence digests of request seq
// (package evidence): 32 bytes that both appliances derive from the
// session's evidence key and nobody else can, different for every
// request, so that handing one request's salt to a verifier reveals
// nothing of the others'. It is SHA-256 of a label, the evidence key and
// the number: the key is secret and of fixed length, the input too, so no
// HMAC is needed, and it costs no allocation.
func (s *Session) EvidenceSalt(seq uint64) [32]byte {
	const label = "bab seal v1 evidence salt\x00"
	var b [len(label) + 32 + 8]byte
	copy(b[:], label)
	copy(b[len(label):], s.evidence[:])
	binary.BigEndian.PutUint64(b[len(label)+32:], seq)
	return sha256.Sum256(b[:])
}

// Direction says who seals: requests go to the provider, answers to the
// consumer; each direction has its own key.
type Direction byte

const (
	ToProvider Direction = 1
	ToConsumer Direction = 2
)

// Overhead is what sealing adds to a head or a piece of body.
const Overhead = 16

// newAEAD makes a direction's AEAD from its key: AES-256-GCM (a build for
// measurement only replaces it, see off_babnoseal.go).
var newAEAD = func(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// Next numbers the consumer's next request in the session. Numbers start
// at 1 and are never reused, which is what keeps the nonces unique.
func (s *Session) Next() uint64 { return s.last.Add(1) }

// Admit is the provider's check of a request's number: each is taken once,
// and the session must not have expired.
func (s *Session) Admit(seq uint64, now time.Time) error {
	if now.After(s.Expires) {
		return ErrExpired
	}
	if !s.seen.admit(seq) {
		return fmt.Errorf("%w: request %d of session %x", ErrReplayed, seq, s.ID[:4])
	}
	return nil
}

func (s *Session) aead(d Direction) cipher.AEAD {
	if d == ToProvider {
		return s.toProvider
	}
	return s.toConsumer
}

// A sealed unit is a request's or answer's head (piece 0) or a piece of
// its body (1, 2, …). Its nonce is the request's number and the piece's;
// its associated data names the session, the direction, both numbers,
// whether it is the body's last piece, and what the caller adds (the
// route head's fields, for a request's head).

const aadFixed = len("bab-seal") + wire.SessionIDLen + 1 + 8 + 4 + 1

func (s *Session) nonceAAD(d Direction, seq uint64, piece uint32, last bool, extra []byte) ([12]byte, []byte) {
	var nonce [12]byte
	binary.BigEndian.PutUint64(nonce[:8], seq)
	binary.BigEndian.PutUint32(nonce[8:], piece)
	aad := make([]byte, 0, aadFixed+len(extra))
	aad = append(aad, "bab-seal"...)
	aad = append(aad, s.ID[:]...)
	aad = append(aad, byte(d))
	aad = append(aad, nonce[:]...)
	if last {
		aad = append(aad, 1)
	} else {
		aad = append(aad, 0)
	}
	return nonce, append(aad, extra...)
}

// Seal appends the sealed form of plain to dst.
func (s *Session) Seal(dst []byte, d Direction, seq uint64, piece uint32, last bool, extra, plain []byte) []byte {
	nonce, aad := s.nonceAAD(d, seq, piece, last, extra)
	return s.aead(d).Seal(dst, nonce[:], plain, aad)
}

// AppendFrame appends a frame of type t holding plain sealed, as Seal
// seals it: what a sender writes.
func (s *Session) AppendFrame(b []byte, t wire.FrameType, d Direction, seq uint64, piece uint32, last bool, extra, plain []byte) []byte {
	b = append(b, byte(t))
	b = binary.AppendUvarint(b, uint64(len(plain)+Overhead))
	return s.Seal(b, d, seq, piece, last, extra, plain)
}

// Open appends the opened form of sealed to dst, or fails with
// ErrTampered.
func (s *Session) Open(dst []byte, d Direction, seq uint64, piece uint32, last bool, extra, sealed []byte) ([]byte, error) {
	nonce, aad := s.nonceAAD(d, seq, piece, last, extra)
	out, err := s.aead(d).Open(dst, nonce[:], sealed, aad)
	if err != nil {
		return nil, fmt.Errorf("%w (request %d, piece %d)", ErrTampered, seq, piece)
	}
	return out, nil
}

// SealError is the payload of a sealed-error frame: the problem's code in
// clear (for the exchange's trace and metrics, and authenticated) and its
// text sealed.
func (s *Session) SealError(seq uint64, code string, text []byte) []byte {
	b := append([]byte{byte(len(code))}, code...)
	return s.Seal(b, ToConsumer, seq, 0, true, []byte(code), text)
}

// ErrorCode reads a sealed-error frame's code without opening it: what
// the exchange may know.
func ErrorCode(payload []byte) (string, bool) {
	if len(payload) == 0 || int(payload[0]) >= len(payload) {
		return "", false
	}
	return string(payload[1 : 1+int(payload[0])]), true
}

// OpenError opens a sealed-error frame.
func (s *Session) OpenError(seq uint64, payload []byte) (code string, text []byte, err error) {
	code, ok := ErrorCode(payload)
	if !ok {
		return "", nil, fmt.Errorf("%w: sealed error frame", ErrMalformed)
	}
	text, err = s.Open(nil, ToConsumer, seq, 0, true, []byte(code), payload[1+len(code):])
	return code, text, err
}
