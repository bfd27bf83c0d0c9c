package appliance

import (
	"encoding/hex"
	"net"
	"time"

	"github.com/babgate/bab/agent/tunnel"
)

// Status is what bab status prints and the control socket serves.
type Status struct {
	Appliance string       `json:"appliance"`
	Member    string       `json:"member"`
	Software  string       `json:"software"`
	Ready     bool         `json:"ready"`
	Gateway   string       `json:"gateway"`
	Policy    PolicyStatus `json:"policy"`
	// Tunnels has one state per exchange address, summing up its lanes
	// (Lanes, LanesUp); Lanes has each lane's, address by address.
	Tunnels     []tunnel.State `json:"tunnels"`
	Lanes       []tunnel.State `json:"lanes,omitempty"`
	Certificate CertStatus     `json:"certificate"`
	Services    []string       `json:"services"` // provided here
	// Quarantine is the exchange's reason while it holds this appliance
	// in quarantine, empty otherwise.
	Quarantine string `json:"quarantine,omitempty"`
	// AttestedAt is when the exchange's last attestation verdict arrived;
	// zero before the first since the start, and for software keys.
	AttestedAt time.Time `json:"attested_at,omitzero"`
	// Recent are the last warnings and errors the appliance logged,
	// oldest first.
	Recent []LogRecord `json:"recent,omitempty"`
}

// PolicyStatus describes the policy in force.
type PolicyStatus struct {
	Version uint64    `json:"version"`
	Expires time.Time `json:"expires,omitzero"`
	Expired bool      `json:"expired"`
	// Note is the warning before expiry, or the state after it.
	Note      string    `json:"note,omitempty"`
	AppliedAt time.Time `json:"applied_at,omitzero"`
	// Problem says why no policy is in force although one was cached: it
	// did not verify. The exchange's next push repairs it.
	Problem string `json:"problem,omitempty"`
	// Pending says the policy in force does not list this appliance: it
	// waits for central ops to approve it, and may not call or be called.
	Pending bool `json:"pending,omitempty"`
	// OtherKey is the key the policy in force binds to this appliance's
	// name when that is not this appliance's key: it was re-enrolled or
	// replaced since central ops approved it, and may not call or be
	// called until they approve its key.
	OtherKey string `json:"other_key,omitempty"`
}

// CertStatus describes the tunnel certificate.
type CertStatus struct {
	NotAfter time.Time `json:"not_after"`
	Key      string    `json:"key"`
	// KeyHash names the key as central ops see it (fleet show) and the
	// policy binds it to this appliance's name: sha256: and the hash of
	// its public key.
	KeyHash string `json:"key_hash,omitempty"`
	// Serial is the certificate's serial in hexadecimal, as the exchange's
	// fleet show lists it.
	Serial string `json:"serial,omitempty"`
}

// Status returns the appliance's current state.
func (a *Appliance) Status() Status {
	st := Status{Appliance: a.id.String(), Member: a.id.Member.String(), Software: Version, Ready: a.ready.Load()}
	if ad, ok := a.gatewayAddr.Load().(net.Addr); ok {
		st.Gateway = ad.String()
	}
	if p := a.policy.Load(); p != nil {
		st.Policy = PolicyStatus{Version: p.Version(), Expires: p.Expires(), Expired: time.Now().After(p.Expires()), Note: a.expiryNote(time.Now()),
			Pending: !p.HasAppliance(a.id), OtherKey: a.otherKey(p)}
		if sp, err := a.store.Policy(); err == nil && sp != nil {
			st.Policy.AppliedAt = sp.AppliedAt
		}
	}
	if why := a.policyProblem.Load(); why != nil {
		st.Policy.Problem = *why
	}
	for _, l := range a.links {
		st.Tunnels = append(st.Tunnels, l.state())
	}
	for _, t := range a.tunnels {
		st.Lanes = append(st.Lanes, t.State())
	}
	if c := a.cert.Load(); c != nil && c.Leaf != nil {
		st.Certificate = CertStatus{NotAfter: c.Leaf.NotAfter, Key: string(a.key.Kind), KeyHash: a.keyHash, Serial: hex.EncodeToString(c.Leaf.SerialNumber.Bytes())}
	}
	if r := a.quarantine.Load(); r != nil {
		st.Quarantine = *r
	}
	if ns := a.attestedAt.Load(); ns != 0 {
		st.AttestedAt = time.Unix(0, ns)
	}
	st.Recent = a.recent.records()
	for svc := range a.backends {
		st.Services = append(st.Services, svc.String())
	}
	return st
}

// notReady says why the appliance cannot carry requests, or "" if it can:
// a policy is loaded and at least one tunnel is up (for a TPM appliance,
// with the exchange's boot-state verdict on that connection, since the
// exchange routes nothing before it).
func (a *Appliance) notReady() string {
	if !a.ready.Load() {
		return "starting"
	}
	p := a.policy.Load()
	if p == nil {
		return "no policy yet"
	}
	if !p.HasAppliance(a.id) {
		return "waiting for central approval: the policy in force does not list this appliance"
	}
	if k := a.otherKey(p); k != "" {
		return "waiting for central approval of this appliance's key: the policy in force binds its name to another key (" + k + "), that of the machine ops approved"
	}
	// The reason names each exchange address, for whoever reads it in
	// monitoring.
	msg := "no tunnel to the exchange is up"
	for i, l := range a.links {
		st := l.state()
		if st.Connected && (a.tpm == nil || st.Checked) {
			return ""
		}
		if st.Connected {
			msg = "the exchange has not yet verified the boot state on any tunnel"
			continue
		}
		sep := ", "
		if i == 0 {
			sep = ": "
		}
		msg += sep + "tunnel to " + l.addr + " down"
	}
	return msg
}
