// Package evidence is each appliance's own signed account of the requests
// it sends and answers, kept without keeping a message: for every request
// the consumer's appliance records what it sent and what came back, the
// provider's what it received and what it answered, as keyed digests in an
// Entry; each appliance signs its entries in batches (a Merkle root per
// second or per MaxBatch entries) with an Ed25519 key it certified at
// start with its appliance key (in its TPM: one TPM signature per key, a
// day, not one per batch), and sends the batches to the exchange on the
// control stream, which checks them against the ops-signed policy and
// appends them to its trace log (package tracelog, docs/trace.md). Both
// appliances and the exchange import it.
//
// # What an entry says, and to whom
//
// An entry names the request (its id, consumer, provider, service,
// method, session and number in it: what the exchange routes by and
// already sees) and holds five digests: of the target (method, path,
// query), of the whole head as sealed, of the request's body, of the
// answer's head (or the provider's sealed refusal) and of its body. Each
// is an HMAC-SHA-256 keyed with the request's Salt, which both appliances
// derive from their session's secret (seal.Session.EvidenceSalt) and the
// exchange cannot. A path holds a national number of nine digits; a plain
// SHA-256 of it would be found by trying them all in seconds, and so would
// a small body (a form with that number). Keyed, a digest confirms a guess
// only to someone who holds the salt. The consumer's gateway hands the
// salt to the local system that called (Bab-Evidence-Salt on the answer),
// the provider's appliance to its backend (the same header on the
// request): the systems that hold the bodies hold what checks them, and
// one request's salt reveals nothing of another's.
//
// # Threat model
//
// Trusted: the ops keys and the policy they sign, which binds each
// appliance to its appliance key; each appliance for its own word. Not
// trusted: the exchange, the network, and each appliance about the other.
//
// A compromised exchange (or whoever holds its state file and keys)
//   - cannot forge or alter an appliance's evidence: a batch is signed
//     with a key the appliance key certified, and the exchange checks the
//     certificate against the appliance key the ops-signed policy binds,
//     and refuses (and logs) a batch that does not verify; anyone can
//     check a receipt again offline;
//   - cannot learn from the digests what was asked or answered: they are
//     keyed with a salt it does not have;
//   - cannot drop an appliance's evidence unseen forever: the appliance
//     sends a batch until the exchange acknowledges it as logged, numbers
//     its batches under each key and declares the entries it had to drop;
//     a gap in the numbers, or a request that the appliance's evidence
//     names and the log has no record of, shows it. It can, like any
//     relay, refuse to log (the appliance keeps the batch, bounded, and
//     says so), or log it late;
//   - can still refuse, delay or drop requests, as before.
//
// A compromised consumer appliance cannot deny a request it sent, nor the
// answer it received: its signed entry holds their digests, and the
// provider's entry for the same session and number holds the same ones.
// It can sign false entries about its own requests (say, another body),
// but only for itself: an entry that speaks for another appliance is
// refused, and the provider's entry then disagrees with its own. It cannot
// make evidence in another appliance's name: it holds no other appliance
// key.
//
// A compromised provider appliance cannot deny what it answered to a
// request: the consumer's entry holds the digests of the answer that
// opened under their session, which only the two of them can seal. It can
// lie in its own entries, which the consumer's then contradict.
//
// What evidence cannot prove: that the bodies were true, only which ones
// passed; anything about a request neither appliance saw whole (a body cut
// off has no digest, and says so). Who holds a signing key signs for its
// appliance for the certificate's validity (a day): the key lives only in
// the process's memory, and a restart makes another.
//
// # Costs
//
// Per request and per side: one pass of HMAC-SHA-256 over each body as it
// is copied (the copy goes through Body), three more over the heads, an
// entry of about 300 bytes appended to a slice. No signature and no write
// per request: the Outbox signs once per batch, in its own goroutine, and
// holds at most Limit entries.
package evidence
