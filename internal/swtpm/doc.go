// Package swtpm runs software TPM 2.0 processes for tests and the lab. Each
// Sim is a freshly manufactured TPM with EK certificates issued by its own
// local certificate authority, served on a Unix socket that agent/tpm.Open
// accepts, with a control channel for simulated reboots.
package swtpm
