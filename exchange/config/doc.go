// Package config loads the exchange's configuration file,
// /etc/bab-exchange/bab-exchange.yaml: where the exchange keeps its state,
// the address appliances connect to and the names in its certificate, the
// ops keys trusted to sign policy and how many must sign, and the lifetimes
// and intervals it works with.
//
// The file is decoded strictly into a versioned schema (unknown keys are
// errors, reported with their line) and converted into a Config with the
// defaults filled in, so the rest of the exchange never sees the file.
package config
