// Package exchange is the central exchange: it terminates the appliances'
// QUIC tunnels, enrolls appliances with one-time tokens and issues their
// certificates, distributes signed policy, checks policy and routing for
// every request and splices the consumer's stream to the provider's, and
// keeps the metadata trace in a signed, append-only log (package tracelog):
// a request it cannot trace is not carried. It never stores a payload, a
// path or an identifier.
package exchange
