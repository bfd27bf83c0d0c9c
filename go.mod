module github.com/babgate/bab

go 1.26.0

require (
	// sd_notify readiness/watchdog, socket activation and the journal, in pure Go (design).
	github.com/coreos/go-systemd/v22 v22.7.0
	// TPM 2.0 access: attestation keys, quotes, credential activation, the TPM-resident TLS key (design).
	github.com/google/go-tpm v0.9.8
	// The /metrics endpoint of both daemons in the Prometheus format, rather than a hand-written exposition.
	github.com/prometheus/client_golang v1.25.0
	// Reading /metrics back in the lab's checks: the client's own model and text parser.
	github.com/prometheus/client_model v0.6.3
	github.com/prometheus/common v0.72.0
	// QUIC tunnels between appliances and the exchange (design).
	github.com/quic-go/quic-go v0.65.0
	// The appliance's routing/policy cache and the exchange's registry and trace (design).
	go.etcd.io/bbolt v1.5.0
	// Strict YAML config and policy source decoding with line numbers.
	go.yaml.in/yaml/v3 v3.0.6
	// The admin sockets: the caller's credentials (SO_PEERCRED, and
	// SO_PEERGROUPS, which package syscall lacks) and the ACL entries that
	// let the admin groups in. quic-go requires it already, so it adds no
	// code to the build.
	golang.org/x/sys v0.48.0
)

require (
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/prometheus/procfs v0.22.0 // indirect
	golang.org/x/crypto v0.57.0 // indirect
	golang.org/x/net v0.59.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)
