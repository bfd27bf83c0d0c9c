module github.com/babgate/bab

go 1.26.0

require (
	// TPM 2.0 access: attestation keys, quotes, credential activation, the TPM-resident TLS key (design).
	github.com/google/go-tpm v0.9.8
	// QUIC tunnels between appliances and the exchange (design).
	github.com/quic-go/quic-go v0.65.0
	// The appliance's routing/policy cache and the exchange's registry and trace (design).
	go.etcd.io/bbolt v1.5.0
	// Strict YAML config and policy source decoding with line numbers.
	go.yaml.in/yaml/v3 v3.0.6
)

require (
	golang.org/x/crypto v0.54.0 // indirect
	golang.org/x/net v0.56.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
)
