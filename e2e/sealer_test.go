package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/seal"
	"github.com/babgate/bab/wire"
)

// sealer speaks the end-to-end protocol by hand, with an appliance's real
// identity and key: what a tampered appliance would send, on a tunnel the
// test made (dialAs) or, playing the exchange too, straight to the
// provider on the rogue exchange's connection.
type sealer struct {
	id       *seal.Identity
	p        *policy.Policy // the lab's when made: its keys and routes check the replies
	sessions map[string]*seal.Session
}

func newSealer(t *testing.T, h *heldIdentity, l *lab.Lab) *sealer {
	t.Helper()
	name, err := ident.ParseAppliance(h.id.Appliance)
	if err != nil {
		t.Fatal(err)
	}
	id, err := seal.NewIdentity(name, h.signer)
	if err != nil {
		t.Fatal(err)
	}
	p, err := l.Policy()
	if err != nil {
		t.Fatal(err)
	}
	return &sealer{id: id, p: p, sessions: map[string]*seal.Session{}}
}

// roundTrip sends head (without a body) sealed in a session for its
// service, opening one first if needed, and returns the answer's first
// frame opened: a response head, or an error (a sealed refusal comes back
// as the error frame it carries). head.ConsumerAppliance is passed on as
// the exchange would set it.
func (s *sealer) roundTrip(t *testing.T, conn *quic.Conn, head wire.RequestHead) (wire.FrameType, []byte) {
	t.Helper()
	return s.roundTripAbout(t, conn, head, "")
}

// roundTripAbout is roundTrip for a request whose route head names subject
// (Bab-Subject; "" for none), sealed with the rest.
func (s *sealer) roundTripAbout(t *testing.T, conn *quic.Conn, head wire.RequestHead, subject string) (wire.FrameType, []byte) {
	t.Helper()
	sess := s.sessions[head.Service]
	if sess == nil {
		var ft wire.FrameType
		var payload []byte
		if sess, ft, payload = s.handshake(t, conn, head); sess == nil {
			return ft, payload
		}
		s.sessions[head.Service] = sess
	}
	seq := sess.Next()
	route := wire.RouteHead{ID: head.ID, Service: head.Service, Method: head.Method, Provider: sess.Provider.String(),
		Session: sess.ID, Seq: seq, ContentLength: 0, ConsumerSystem: head.ConsumerSystem, Purpose: head.Purpose,
		Timeout: head.Timeout, ConsumerAppliance: head.ConsumerAppliance, Subject: subject}
	inner, _ := (&wire.RequestHead{Path: head.Path, Query: head.Query, Header: head.Header}).MarshalBinary()
	rb, _ := route.MarshalBinary()
	b := wire.AppendFrame(nil, wire.FrameRoute, rb)
	b = sess.AppendFrame(b, wire.FrameSealedHead, seal.ToProvider, seq, 0, false, route.AuthBytes(), inner)
	ft, payload := exchangeFrames(t, conn, b)
	switch ft {
	case wire.FrameSealedError:
		_, text, err := sess.OpenError(seq, payload)
		if err != nil {
			t.Fatalf("sealed refusal does not open: %v", err)
		}
		return wire.FrameError, text
	case wire.FrameSealedHead:
		plain, err := sess.Open(nil, seal.ToConsumer, seq, 0, false, nil, payload)
		if err != nil {
			t.Fatalf("sealed answer does not open: %v", err)
		}
		return wire.FrameResponseHead, plain
	}
	return ft, payload
}

// handshake opens a session for head's service; on a refusal it returns
// the refusal's frame instead.
func (s *sealer) handshake(t *testing.T, conn *quic.Conn, head wire.RequestHead) (*seal.Session, wire.FrameType, []byte) {
	t.Helper()
	pend, err := seal.Start(s.id, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	route := wire.RouteHead{ID: head.ID + "-session", Service: head.Service, Timeout: 10 * time.Second, ConsumerAppliance: head.ConsumerAppliance}
	rb, _ := route.MarshalBinary()
	ft, payload := exchangeFrames(t, conn, wire.AppendFrame(wire.AppendFrame(nil, wire.FrameRoute, rb), wire.FrameSealHello, pend.Hello()))
	if ft != wire.FrameSealReply {
		return nil, ft, payload
	}
	svc, _ := ident.ParseService(head.Service)
	p := s.p
	sess, err := pend.Finish(payload, p.ApplianceKey,
		func(a ident.Appliance) bool { return routes(p, svc, a) }, time.Now())
	if err != nil {
		t.Fatalf("session reply: %v", err)
	}
	return sess, 0, nil
}

func routes(p *policy.Policy, svc ident.Service, a ident.Appliance) bool {
	for _, r := range p.Routes(svc) {
		if r == a {
			return true
		}
	}
	return false
}

// exchangeFrames sends b on a new stream, closes its side, and returns the
// first frame of the answer.
func exchangeFrames(t *testing.T, conn *quic.Conn, b []byte) (wire.FrameType, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := conn.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_ = s.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := s.Write(b); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	ft, payload, err := wire.ReadFrame(wire.NewReader(s), wire.MaxHead+seal.Overhead)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	s.CancelRead(wire.CodeCanceled)
	return ft, payload
}
