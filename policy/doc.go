// Package policy is the signed policy bundle that central ops publish: which
// appliances take part, each bound to its key, who may call which service,
// which appliance serves it, and until when the bundle is valid. It parses
// the ops' YAML source, fills the appliances' keys from the exchange's
// registry, signs and verifies bundles, answers access, routing and
// appliance key questions for the appliance and the exchange, and names the
// ops keys in the fingerprint enrollment tokens carry.
package policy
