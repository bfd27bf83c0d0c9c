package pathsim

import (
	"io"
	"net"
	"testing"
	"time"
)

// TestPathRelaysAndBlackHoles: datagrams and bytes cross the path both
// ways; blocked, UDP is dropped and TCP waits, then flows again.
func TestPathRelaysAndBlackHoles(t *testing.T) {
	echoUDP, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echoUDP.Close()
	echoTCP, err := net.Listen("tcp", echoUDP.LocalAddr().String())
	if err != nil {
		t.Skipf("SKIPPED: the echo's UDP port is taken for TCP: %v", err)
	}
	defer echoTCP.Close()
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := echoUDP.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = echoUDP.WriteTo(buf[:n], from)
		}
	}()
	go func() {
		for {
			c, err := echoTCP.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(c, c); c.Close() }()
		}
	}()
	p, err := New(echoUDP.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	u, err := net.Dial("udp", p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	udpRound := func() bool {
		_, _ = u.Write([]byte("ping"))
		_ = u.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		buf := make([]byte, 16)
		n, err := u.Read(buf)
		return err == nil && string(buf[:n]) == "ping"
	}
	if !udpRound() {
		t.Fatal("no UDP echo through the path")
	}
	p.BlockUDP(true)
	if udpRound() || p.UDPDropped.Load() == 0 {
		t.Fatal("UDP crossed a black-holed path")
	}
	p.BlockUDP(false)
	if !udpRound() {
		t.Fatal("no UDP echo once the path is back")
	}

	c, err := net.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p.BlockTCP(true)
	_, _ = c.Write([]byte("hello"))
	_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 5)
	if n, err := c.Read(buf); err == nil {
		t.Fatalf("TCP crossed a blocked path: %q", buf[:n])
	}
	p.BlockTCP(false)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "hello" {
		t.Fatalf("TCP after the path came back: %q, %v", buf, err)
	}
}

// TestPathCutsOneClient: the path lists its UDP clients, and black-holes
// one of them while another's datagrams still cross, then lets it through.
func TestPathCutsOneClient(t *testing.T) {
	echo, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := echo.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = echo.WriteTo(buf[:n], from)
		}
	}()
	p, err := New(echo.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var cs [2]net.Conn
	for i := range cs {
		if cs[i], err = net.Dial("udp", p.Addr); err != nil {
			t.Fatal(err)
		}
		defer cs[i].Close()
	}
	round := func(c net.Conn) bool {
		_, _ = c.Write([]byte("ping"))
		_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		buf := make([]byte, 16)
		n, err := c.Read(buf)
		return err == nil && string(buf[:n]) == "ping"
	}
	for i, c := range cs {
		if !round(c) {
			t.Fatalf("client %d: no echo", i)
		}
	}
	got := p.UDPClients()
	if len(got) != 2 || got[0] != cs[0].LocalAddr().String() || got[1] != cs[1].LocalAddr().String() {
		t.Fatalf("UDPClients = %v, want %v and %v", got, cs[0].LocalAddr(), cs[1].LocalAddr())
	}
	p.BlockUDPClient(got[0], true)
	if round(cs[0]) {
		t.Fatal("the cut client's datagrams crossed")
	}
	if !round(cs[1]) {
		t.Fatal("the other client's datagrams did not cross")
	}
	p.BlockUDPClient(got[0], false)
	if !round(cs[0]) {
		t.Fatal("the cut client's datagrams did not cross once let through")
	}
}
