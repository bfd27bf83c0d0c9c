// Package exchange is the central exchange: it terminates the appliances'
// QUIC tunnels, enrolls appliances with one-time tokens and issues their
// certificates, distributes signed policy, checks policy and routing for
// every request and splices the consumer's stream to the provider's, and
// keeps the metadata trace. It never stores a payload.
package exchange
