package exchange

import "io"

// tap receives a copy of every byte the exchange relays on request
// streams, in a build made for tests (tag babtap, tap_babtap.go), so that
// a test can check what the exchange could have read. Shipped builds have
// none: tapped returns its writer as it is.
var tap io.Writer

func tapped(w io.Writer) io.Writer {
	if tap == nil {
		return w
	}
	return io.MultiWriter(w, tap)
}
