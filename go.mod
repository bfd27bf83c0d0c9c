module github.com/babgate/bab

go 1.26.0

require (
	// The clerks' desktop console (design); only ui/ and cmd/bab-console import it, a test keeps it out of the daemons.
	fyne.io/fyne/v2 v2.7.1
	// sd_notify readiness/watchdog, socket activation and the journal, in pure Go (design).
	github.com/coreos/go-systemd/v22 v22.7.0
	// scripts/debdoc icon: the console's SVG icon rasterised into the
	// package's PNGs by the renderer Fyne draws it with; already in Fyne's graph.
	github.com/fyne-io/oksvg v0.2.0
	// TPM 2.0 access: attestation keys, quotes, credential activation, the TPM-resident TLS key (design).
	github.com/google/go-tpm v0.9.8
	// Streams over one TLS connection for the TCP fallback transport
	// (transport/tcp.go): its resets carry an error code, it half-closes,
	// has deadlines and per-stream flow control with windows that grow.
	// MPL-2.0, with BSD-3-clause parts: the packages carry both texts.
	github.com/libp2p/go-yamux/v5 v5.1.0
	// The /metrics endpoint of both daemons in the Prometheus format, rather than a hand-written exposition.
	github.com/prometheus/client_golang v1.25.0
	// Reading /metrics back in the lab's checks: the client's own model and text parser.
	github.com/prometheus/client_model v0.6.3
	github.com/prometheus/common v0.72.0
	// QUIC tunnels between appliances and the exchange (design).
	github.com/quic-go/quic-go v0.65.0
	// With fyne-io/oksvg, for scripts/debdoc icon; already in Fyne's graph.
	github.com/srwiley/rasterx v0.0.0-20220730225603-2ab79fcdd4ef
	// The appliance's routing/policy cache and the exchange's registry and trace (design).
	go.etcd.io/bbolt v1.5.0
	// Strict YAML config and policy source decoding with line numbers.
	go.yaml.in/yaml/v3 v3.0.6
	// The exchange's trace log: Merkle tree hashing, stored hashes and
	// inclusion and consistency proofs (sumdb/tlog), and the signed notes
	// its checkpoints are (sumdb/note), as the Go checksum database uses
	// them; small, no dependencies of its own in the build.
	golang.org/x/mod v0.41.0
	// The admin sockets: the caller's credentials (SO_PEERCRED, and
	// SO_PEERGROUPS, which package syscall lacks) and the ACL entries that
	// let the admin groups in. quic-go requires it already, so it adds no
	// code to the build.
	golang.org/x/sys v0.48.0
	// Accent-insensitive search in the console's catalog; already in Fyne's graph.
	golang.org/x/text v0.42.0
)

require (
	fyne.io/systray v1.11.1-0.20250603113521-ca66a66d8b58 // indirect
	github.com/BurntSushi/toml v1.5.0 // indirect
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/fredbi/uri v1.1.1 // indirect
	github.com/fsnotify/fsnotify v1.9.0 // indirect
	github.com/fyne-io/gl-js v0.2.0 // indirect
	github.com/fyne-io/glfw-js v0.3.0 // indirect
	github.com/fyne-io/image v0.1.1 // indirect
	github.com/go-gl/gl v0.0.0-20231021071112-07e5d0ea2e71 // indirect
	github.com/go-gl/glfw/v3.3/glfw v0.0.0-20240506104042-037f3cc74f2a // indirect
	github.com/go-text/render v0.2.0 // indirect
	github.com/go-text/typesetting v0.2.1 // indirect
	github.com/godbus/dbus/v5 v5.1.0 // indirect
	github.com/hack-pad/go-indexeddb v0.3.2 // indirect
	github.com/hack-pad/safejs v0.1.0 // indirect
	github.com/jeandeaual/go-locale v0.0.0-20250612000132-0ef82f21eade // indirect
	github.com/jsummers/gobmp v0.0.0-20230614200233-a9de23ed2e25 // indirect
	github.com/libp2p/go-buffer-pool v0.0.2 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/nfnt/resize v0.0.0-20180221191011-83c6a9932646 // indirect
	github.com/nicksnyder/go-i18n/v2 v2.5.1 // indirect
	github.com/prometheus/procfs v0.22.0 // indirect
	github.com/rymdport/portal v0.4.2 // indirect
	github.com/srwiley/oksvg v0.0.0-20221011165216-be6e8873101c // indirect
	github.com/stretchr/testify v1.12.1 // indirect
	github.com/yuin/goldmark v1.7.8 // indirect
	golang.org/x/crypto v0.57.0 // indirect
	golang.org/x/image v0.24.0 // indirect
	golang.org/x/net v0.59.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)
