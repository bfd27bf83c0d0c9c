// Package pathsim is a network path between appliances and an exchange on
// loopback that tests can cut: it relays UDP and TCP arriving on one
// port to the exchange's port, and can black-hole either, as a firewall
// that drops packets does (no answer, no ICMP, no reset). Tests of
// fallback, dead-path detection and recovery aim appliances at Addr.
package pathsim

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// Path relays UDP and TCP from Addr to the target.
type Path struct {
	// Addr is the loopback address, the same port for UDP and TCP, to
	// give appliances as the exchange's.
	Addr   string
	target string
	pc     net.PacketConn
	ln     net.Listener
	udpOff atomic.Bool
	tcpOff atomic.Bool
	// UDPDropped counts datagrams dropped while UDP was black-holed.
	UDPDropped atomic.Uint64

	// cut holds the client addresses whose UDP is black-holed alone
	// (BlockUDPClient), as strings.
	cut sync.Map

	mu      sync.Mutex
	cond    *sync.Cond // signalled when TCP is let through again
	peers   map[string]*net.UDPConn
	clients []string // the UDP client addresses, in the order they came
	conns   []net.Conn
	closed  bool
}

// New starts a path to target (host:port, UDP and TCP).
func New(target string) (*Path, error) {
	p := &Path{target: target, peers: map[string]*net.UDPConn{}}
	p.cond = sync.NewCond(&p.mu)
	var err error
	for range 20 { // the UDP port's TCP twin may be taken: try another
		if p.pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			return nil, err
		}
		if p.ln, err = net.Listen("tcp", p.pc.LocalAddr().String()); err == nil {
			break
		}
		p.pc.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("pathsim: no port free for both UDP and TCP: %w", err)
	}
	p.Addr = p.pc.LocalAddr().String()
	go p.relayUDP()
	go p.acceptTCP()
	return p, nil
}

// BlockUDP black-holes UDP in both directions (on) or lets it through.
func (p *Path) BlockUDP(on bool) { p.udpOff.Store(on) }

// BlockTCP stalls TCP in both directions (on): bytes wait, as on a path
// that drops every segment, and flow again when it is let through.
func (p *Path) BlockTCP(on bool) {
	p.tcpOff.Store(on)
	if !on {
		p.mu.Lock()
		p.cond.Broadcast()
		p.mu.Unlock()
	}
}

// UDPClients lists the client addresses (host:port) that sent UDP
// through the path, in the order they came: each QUIC connection an
// appliance dials has its own socket, so each is one connection.
func (p *Path) UDPClients() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.clients...)
}

// BlockUDPClient black-holes the UDP of one client address (on), both
// ways, or lets it through again: one connection's path dies while the
// others' carry on.
func (p *Path) BlockUDPClient(addr string, on bool) {
	if on {
		p.cut.Store(addr, true)
	} else {
		p.cut.Delete(addr)
	}
}

func (p *Path) isCut(addr string) bool {
	_, ok := p.cut.Load(addr)
	return ok
}

// Close stops the relay and closes every connection through it.
func (p *Path) Close() {
	p.mu.Lock()
	p.closed = true
	for _, c := range p.peers {
		c.Close()
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.cond.Broadcast()
	p.mu.Unlock()
	p.pc.Close()
	p.ln.Close()
}

func (p *Path) relayUDP() {
	buf := make([]byte, 64<<10)
	for {
		n, from, err := p.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		if p.udpOff.Load() || p.isCut(from.String()) {
			p.UDPDropped.Add(1)
			continue
		}
		up, err := p.peer(from)
		if err != nil {
			continue
		}
		_, _ = up.Write(buf[:n])
	}
}

// peer is the upstream socket of one client address, made on its first
// datagram; what comes back on it goes to that client.
func (p *Path) peer(from net.Addr) (*net.UDPConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, net.ErrClosed
	}
	if up := p.peers[from.String()]; up != nil {
		return up, nil
	}
	raddr, err := net.ResolveUDPAddr("udp", p.target)
	if err != nil {
		return nil, err
	}
	up, err := net.DialUDP("udp", nil, raddr)
	if err != nil {
		return nil, err
	}
	p.peers[from.String()] = up
	p.clients = append(p.clients, from.String())
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := up.Read(buf)
			if err != nil {
				return
			}
			if p.udpOff.Load() || p.isCut(from.String()) {
				p.UDPDropped.Add(1)
				continue
			}
			_, _ = p.pc.WriteTo(buf[:n], from)
		}
	}()
	return up, nil
}

func (p *Path) acceptTCP() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.relayTCP(c)
	}
}

func (p *Path) relayTCP(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns = append(p.conns, c, up)
	p.mu.Unlock()
	go p.copyTCP(up, c)
	p.copyTCP(c, up)
}

// copyTCP copies src to dst, holding each chunk while TCP is blocked; a
// clean end of src is passed on as a half-close.
func (p *Path) copyTCP(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && (!p.waitTCP() || write(dst, buf[:n]) != nil) {
			err = net.ErrClosed
		}
		if errors.Is(err, io.EOF) {
			if tc, ok := dst.(*net.TCPConn); ok {
				_ = tc.CloseWrite()
				return
			}
		}
		if err != nil {
			dst.Close()
			src.Close()
			return
		}
	}
}

func write(dst net.Conn, b []byte) error {
	_, err := dst.Write(b)
	return err
}

// waitTCP waits while TCP is blocked; false once the path is closed.
func (p *Path) waitTCP() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.tcpOff.Load() && !p.closed {
		p.cond.Wait()
	}
	return !p.closed
}
