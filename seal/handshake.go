package seal

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/wire"
)

// Identity is an appliance's name and key, as a handshake presents them.
type Identity struct {
	Name   ident.Appliance
	signer crypto.Signer
	spki   []byte
}

// NewIdentity takes the appliance key (an ECDSA P-256 key in the TPM, or
// the software key of an appliance without one).
func NewIdentity(name ident.Appliance, s crypto.Signer) (*Identity, error) {
	spki, err := x509.MarshalPKIXPublicKey(s.Public())
	if err != nil {
		return nil, fmt.Errorf("seal: appliance key: %w", err)
	}
	return &Identity{Name: name, signer: s, spki: spki}, nil
}

// Keys tells the key the ops-signed policy binds to an appliance, as
// policy.KeyHash writes it, and whether it lists the appliance at all.
type Keys func(ident.Appliance) (string, bool)

// MaxSkew is how far a handshake message's time may be from the
// receiver's clock.
const MaxSkew = 2 * time.Minute

// Domain separation for the two signatures and the key schedule.
const (
	helloContext = "bab seal v1 hello\x00"
	replyContext = "bab seal v1 reply\x00"
	keysInfo     = "bab seal v1 keys"
	evidenceInfo = "bab seal v1 evidence"
)

// Pending is a consumer's handshake between its hello and the reply.
type Pending struct {
	id    *Identity
	eph   *ecdh.PrivateKey
	hello []byte
}

// Start makes the consumer's hello.
func Start(id *Identity, now time.Time) (*Pending, error) {
	eph, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	m := wire.SealHello{Consumer: id.Name.String(), Key: id.spki, Share: eph.PublicKey().Bytes(), Time: now}
	if m.Sig, err = Sign(id.signer, helloContext, m.Signed()); err != nil {
		return nil, err
	}
	hello, _ := m.MarshalBinary()
	return &Pending{id: id, eph: eph, hello: hello}, nil
}

// Hello is the message to send.
func (p *Pending) Hello() []byte { return p.hello }

// Accept is the provider's side: it checks a hello against the policy's
// keys and its clock, and returns the session and the reply to send.
func Accept(id *Identity, hello []byte, keys Keys, now time.Time, life time.Duration) (*Session, []byte, error) {
	var m wire.SealHello
	if err := m.UnmarshalBinary(hello); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	consumer, err := ident.ParseAppliance(m.Consumer)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: hello: %w", ErrMalformed, err)
	}
	if err := verify(consumer, keys, m.Key, helloContext, m.Signed(), m.Sig, m.Time, now); err != nil {
		return nil, nil, fmt.Errorf("hello from %s: %w", consumer, err)
	}
	peer, err := ecdh.X25519().NewPublicKey(m.Share)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: hello's key share: %w", ErrMalformed, err)
	}
	eph, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	r := wire.SealReply{Provider: id.Name.String(), Key: id.spki, Share: eph.PublicKey().Bytes(),
		Hello: sha256.Sum256(hello), Time: now, Life: life}
	if r.Sig, err = Sign(id.signer, replyContext, r.Signed()); err != nil {
		return nil, nil, err
	}
	reply, _ := r.MarshalBinary()
	secret, err := eph.ECDH(peer)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: hello's key share: %w", ErrMalformed, err)
	}
	s, err := newSession(secret, hello, reply, consumer, id.Name, policy.KeyHashOf(m.Key), policy.KeyHashOf(id.spki), now.Add(life))
	return s, reply, err
}

// Finish is the consumer's side of the reply: it checks the provider's key
// against the policy, that serves says the policy routes the service to
// it, and that it answers this hello; it returns the session.
func (p *Pending) Finish(reply []byte, keys Keys, serves func(ident.Appliance) bool, now time.Time) (*Session, error) {
	var m wire.SealReply
	if err := m.UnmarshalBinary(reply); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	provider, err := ident.ParseAppliance(m.Provider)
	if err != nil {
		return nil, fmt.Errorf("%w: reply: %w", ErrMalformed, err)
	}
	if err := verify(provider, keys, m.Key, replyContext, m.Signed(), m.Sig, m.Time, now); err != nil {
		return nil, fmt.Errorf("reply from %s: %w", provider, err)
	}
	if m.Hello != sha256.Sum256(p.hello) {
		return nil, fmt.Errorf("reply from %s: %w", provider, ErrWrongReply)
	}
	if !serves(provider) {
		return nil, fmt.Errorf("reply from %s: %w", provider, ErrNotProvider)
	}
	peer, err := ecdh.X25519().NewPublicKey(m.Share)
	if err != nil {
		return nil, fmt.Errorf("%w: reply's key share: %w", ErrMalformed, err)
	}
	secret, err := p.eph.ECDH(peer)
	if err != nil {
		return nil, fmt.Errorf("%w: reply's key share: %w", ErrMalformed, err)
	}
	life := min(m.Life, time.Hour*24)
	return newSession(secret, p.hello, reply, p.id.Name, provider, policy.KeyHashOf(p.id.spki), policy.KeyHashOf(m.Key), now.Add(life))
}

// verify checks a handshake message: the key is the one the policy lists
// for name, the signature verifies with it, and it was made about now.
func verify(name ident.Appliance, keys Keys, spki []byte, context string, signed, sig []byte, at, now time.Time) error {
	want, ok := keys(name)
	if !ok || want == "" || policy.KeyHashOf(spki) != want {
		return ErrUnknownKey
	}
	if err := CheckSignature(spki, context, signed, sig); err != nil {
		return err
	}
	if d := now.Sub(at); d > MaxSkew || d < -MaxSkew {
		return fmt.Errorf("%w: made at %s, %s from this clock", ErrStale, at.UTC().Format(time.RFC3339), d.Round(time.Second))
	}
	return nil
}

// CheckSignature checks a signature made with Sign by the appliance key
// whose SubjectPublicKeyInfo is spki. It fails with ErrMalformed when the
// key does not parse, ErrBadSignature when the signature does not verify.
func CheckSignature(spki []byte, context string, signed, sig []byte) error {
	pub, err := x509.ParsePKIXPublicKey(spki)
	if err != nil {
		return fmt.Errorf("%w: key: %w", ErrMalformed, err)
	}
	msg := append([]byte(context), signed...)
	var good bool
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		digest := sha256.Sum256(msg)
		good = ecdsa.VerifyASN1(k, digest[:], sig)
	case ed25519.PublicKey:
		good = ed25519.Verify(k, msg, sig)
	}
	if !good {
		return ErrBadSignature
	}
	return nil
}

// Sign signs a message with an appliance key, after a context string
// that says what the message is (domain separation): ECDSA keys sign the
// SHA-256 of context and message, ed25519 keys the two themselves. The
// handshake signs with it, and so does package evidence, once per key it
// certifies.
func Sign(s crypto.Signer, context string, signed []byte) ([]byte, error) {
	msg := append([]byte(context), signed...)
	if _, ok := s.Public().(ed25519.PublicKey); ok {
		return s.Sign(rand.Reader, msg, crypto.Hash(0))
	}
	digest := sha256.Sum256(msg)
	sig, err := s.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("seal: sign with the appliance key: %w", err)
	}
	return sig, nil
}

// newSession derives a session's keys and identifier from the X25519
// secret, salted with the hash of both handshake messages.
func newSession(secret, hello, reply []byte, consumer, provider ident.Appliance, ck, pk string, expires time.Time) (*Session, error) {
	salt := sha256.Sum256(append(append([]byte(nil), hello...), reply...))
	okm, err := hkdf.Key(sha256.New, secret, salt[:], keysInfo, 2*32+wire.SessionIDLen)
	if err != nil {
		return nil, err
	}
	s := &Session{Consumer: consumer, Provider: provider, ConsumerKey: ck, ProviderKey: pk, Expires: expires,
		consumerName: consumer.String(), providerName: provider.String()}
	copy(s.ID[:], okm[64:])
	ek, err := hkdf.Key(sha256.New, secret, salt[:], evidenceInfo, len(s.evidence))
	if err != nil {
		return nil, err
	}
	copy(s.evidence[:], ek)
	if s.toProvider, err = newAEAD(okm[:32]); err != nil {
		return nil, err
	}
	if s.toConsumer, err = newAEAD(okm[32:64]); err != nil {
		return nil, err
	}
	return s, nil
}
