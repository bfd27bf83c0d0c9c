// Package udpsink is a UDP port that swallows every packet, as a firewall
// that drops them does: tests of "no answer" paths use it, since a closed
// port would be refused at once by ICMP instead.
package udpsink

import "net"

// Listen binds a loopback UDP port and discards whatever arrives until the
// returned connection is closed. Its LocalAddr is the address to aim at.
func Listen() (net.PacketConn, error) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	return pc, nil
}
