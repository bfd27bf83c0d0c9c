// Package config loads the appliance's configuration file, /etc/bab/bab.yaml:
// where Bab keeps its state, which exchanges it connects to, where local
// systems call it (the gateway) and who may, which services this office
// provides and where their requests are forwarded, and how much it logs.
//
// The file is decoded strictly into a versioned schema (unknown keys are
// errors, reported with their line) and converted into a Config with the
// defaults filled in, so the rest of the appliance never sees the file.
package config
