// Package tracelog is the format of the exchange's trace log, which both
// sides use: the exchange writes records and signs checkpoints; anyone who
// holds the log's public key checks them offline — `bab-exchange trace
// verify` over the whole log, `bab trace verify-receipt` over one receipt
// on an appliance, with no exchange and no network.
//
// The log is an append-only Merkle tree (RFC 6962 hashing, as
// golang.org/x/mod/sumdb/tlog computes it) whose leaves are Records: the
// metadata of one request as the exchange carried or refused it, in a
// compact, versioned, canonical binary encoding. A Checkpoint is the tree's
// size and root hash in the C2SP tlog-checkpoint format, signed as a note
// (golang.org/x/mod/sumdb/note, Ed25519) with the log's own key, whose name
// is the log's origin. A Receipt is one record with its index, an inclusion
// proof and a signed checkpoint, in the C2SP tlog-proof format, the record
// in its "extra" line. docs/trace.md specifies all three.
//
// The log's other leaves are the appliances' signed batches of evidence
// (BatchRecord), which the exchange appends as they arrive; an
// EvidenceReceipt proves a record together with both appliances' entries
// of the same request, each in its batch, under one checkpoint.
//
// Threat model. What the log protects against: a change to the trace after
// the fact by someone who can write the exchange's state file or its
// backups, but who does not hold every checkpoint and receipt given out. A
// record changed, removed or inserted after a checkpoint covered it no
// longer hashes into that checkpoint's root; a history rewritten from some
// point on needs new checkpoints that are inconsistent with the earlier
// ones. `trace verify` finds the first, and anyone holding an earlier
// checkpoint or a receipt finds the second.
//
// What it does not protect against, today:
//   - The holder of the log key. The key is kept in the exchange's state
//     file, so whoever can rewrite the file can rewrite the log and sign it
//     again; only checkpoints and receipts kept outside the exchange show
//     that. Publishing checkpoints to the appliances and to witnesses, who
//     would refuse an inconsistent one, is the next step.
//   - Requests the exchange never recorded. The exchange refuses a request
//     it cannot trace, but an exchange that is itself compromised could
//     carry one untraced; the appliances' own signed evidence (package
//     evidence), which the log holds in batch leaves beside the records,
//     shows that.
//   - What a record says. It is the exchange's account: the consumer
//     system, the purpose and the request id come from the consumer's
//     appliance and are not checked by the exchange.
//
// Privacy. A record holds no path, no query, no body and no identifier in
// clear: only who called which service how, when, and how it ended. The
// subject field that comes later holds a keyed hash (HMAC), so that an
// identifier cannot be found by hashing candidates. Stored hashes of
// pruned records stay, so that old checkpoints can still be checked; a
// leaf hash reveals nothing of a record that is gone (each holds a random
// request id and a time in nanoseconds).
package tracelog
