// Package policy is the signed policy bundle that central ops publish: who may
// call which service, which appliance serves it, and until when the bundle is
// valid. It parses the ops' YAML source, signs and verifies bundles, and
// answers access and routing questions for the appliance and the exchange.
package policy
