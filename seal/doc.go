// Package seal is Bab's end-to-end protection between a consumer
// appliance and a provider appliance, through an exchange that relays
// their requests: a session handshake authenticated by both appliances'
// keys as the ops-signed policy lists them, then every request and answer
// sealed with an AEAD. Both appliances and the exchange import it; the
// exchange only to know what it may read.
//
// # Threat model
//
// Trusted: the ops keys (offline) and the policy they sign, which binds
// each appliance's name to the fingerprint of its key (kept in its TPM
// where there is one); each appliance, for its own requests and answers.
// Not trusted: the exchange and the network between the three.
//
// A compromised exchange (or anyone who took its keys or its host)
//   - cannot read a request's path, query, headers or body, nor an
//     answer's status, headers or body: they are sealed with keys only the
//     two appliances hold, agreed with ephemeral X25519 keys (so a key
//     stolen later opens no past session);
//   - cannot make a request as a consumer, nor answer as a provider: each
//     side of a handshake signs with its appliance key, and each checks the
//     other's key against the ops-signed policy, not against anything the
//     exchange says; the provider takes the consumer's name from the
//     session, and refuses a request whose route head names another;
//   - cannot alter, swap, truncate, replay or redirect a request or an
//     answer: each is sealed under its session, its number in the session
//     and its place in the stream, with the route head's fields as
//     associated data; the provider refuses a number it has seen, a body
//     that ends without its sealed last piece is an error, and a request
//     sent to another provider does not open there;
//   - still sees the metadata it needs to route, enforce the policy and
//     keep the trace: which appliances talk, the service, the method, the
//     consumer's local system and purpose, the request id, sizes and
//     timing; and it can delay, drop or refuse any request (it is the
//     relay), or answer in the provider's place with an error of its own,
//     which the consumer reports as the exchange's, never as the
//     provider's.
//
// A compromised consumer appliance can make whatever requests its own
// member's rules allow, as that member, and no other: the provider checks
// the policy again with the full request (path and query included). It
// cannot read other members' traffic.
//
// A compromised provider appliance can answer anything to requests sent
// to it, and read them; it cannot make requests as another member, nor
// read requests sent to other providers.
//
// # Protocol
//
// Handshake, on a stream of its own: the consumer sends a route head
// naming the service, then a hello (its name, its key, an ephemeral X25519
// key, the time), signed with its appliance key. The exchange chooses a
// provider appliance for the service and passes both on. The provider
// checks the hello's key against the policy's entry for the consumer and
// the time against its clock, answers with a reply (its name, key,
// ephemeral key, the hello's hash, the time, the session's lifetime),
// signed, and both derive the session's keys with HKDF-SHA-256 from the
// X25519 secret, salted with the hash of both messages: one AES-256-GCM
// key per direction and the session's identifier. The consumer checks the
// reply's key against the policy's entry for the provider and that the
// policy routes the service to it.
//
// Each request then carries the session's identifier and a number that
// is never reused within the session. Its head and the pieces of its body
// are sealed with nonces made of that number and the piece's place; the
// last piece is marked as last inside the seal. The answer is sealed the
// same way with the other direction's key, so it is bound to its request.
// An appliance key signs once per session (tens of milliseconds on a
// hardware TPM), never once per request.
//
// The same key schedule gives the session an evidence key (info "bab seal
// v1 evidence"), from which both appliances derive a salt per request
// (Session.EvidenceSalt): package evidence keys the digests of what each
// appliance signs with it, so that they confirm nothing to the exchange,
// which never holds the session's secret.
package seal
