package transport

// OpenTCPStreams counts a TCP connection's streams not yet freed: ours
// and yamux's (without the signal stream).
func OpenTCPStreams(c Conn) (ours, mux int) {
	tc := c.(*tcpConn)
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return len(tc.streams), tc.mux.NumStreams() - 1
}
