// Package wire is the format spoken on Bab's QUIC tunnels between an
// appliance and the exchange. Every stream starts with one frame that says
// what the stream is for: a control hello, a request head, or an enrollment
// request. After a request or response head the stream carries the raw body
// until the sender closes its side, so bodies of any size stream without
// being held in memory. docs/wire.md describes the format in full.
package wire
