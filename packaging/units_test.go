package packaging

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// maxExposure is the exposure systemd-analyze security gives each unit
// today (0 is fully confined, 10 unprotected). A unit that loses some of
// its hardening scores higher and fails; lower the figure when the unit
// gets stricter. What remains is what the daemons need: the network
// (PrivateNetwork, the address families, no IP allow list: both talk to
// addresses only their config knows), for bab the TPM (DeviceAllow) and
// group tss (SupplementaryGroups), the host's root directory, and the
// host's users (no PrivateUsers: the admin sockets let in groups the
// services must see, and the exchange must see who calls on its socket;
// the units say more).
var maxExposure = map[string]float64{
	"bab.service":          1.3,
	"bab-exchange.service": 1.2,
}

// required are the settings the units must keep, beyond what the exposure
// score measures: how systemd runs and supervises the daemons.
var required = map[string][]string{
	"bab.service": {
		"Type=notify", "NotifyAccess=main", "WatchdogSec=30s", "Restart=on-failure",
		"User=bab", "SupplementaryGroups=tss", "StateDirectory=bab", "StateDirectoryMode=0700",
		"ConfigurationDirectory=bab", "RuntimeDirectory=bab", "RuntimeDirectoryMode=0755",
		"ExecStart=/usr/bin/bab serve --config /etc/bab/bab.yaml",
		"PrivateDevices=yes", "BindPaths=-/dev/tpmrm0", "DevicePolicy=closed", "DeviceAllow=/dev/tpmrm0 rw",
		"UMask=0077",
		"RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "SystemCallFilter=@system-service",
		"CapabilityBoundingSet=", "WantedBy=multi-user.target",
	},
	"bab.socket": {
		"ListenStream=127.0.0.1:8080", "FileDescriptorName=gateway", "Service=bab.service", "WantedBy=sockets.target",
	},
	"bab-exchange.service": {
		"Type=notify", "NotifyAccess=main", "WatchdogSec=30s", "Restart=on-failure",
		"User=bab-exchange", "StateDirectory=bab-exchange", "StateDirectoryMode=0700",
		"ConfigurationDirectory=bab-exchange", "RuntimeDirectory=bab-exchange", "RuntimeDirectoryMode=0755",
		"ExecStart=/usr/bin/bab-exchange serve --config /etc/bab-exchange/bab-exchange.yaml",
		"PrivateDevices=yes", "UMask=0077",
		"RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "SystemCallFilter=@system-service",
		"CapabilityBoundingSet=", "WantedBy=multi-user.target",
	},
}

// TestUnitSettings checks that each unit keeps the settings the daemons
// rely on (exact lines, comments aside).
func TestUnitSettings(t *testing.T) {
	for unit, want := range required {
		f, err := os.Open("systemd/" + unit)
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]bool{}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			have[strings.TrimSpace(sc.Text())] = true
		}
		f.Close()
		for _, w := range want {
			if !have[w] {
				t.Errorf("%s: missing %q", unit, w)
			}
		}
	}
}

var overall = regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`)

// TestUnitExposure has systemd-analyze score each service's confinement
// from its file and fails when one is less confined than recorded.
func TestUnitExposure(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Fatal("systemd-analyze not found: scripts/deps installs it (package systemd)")
	}
	for unit, limit := range maxExposure {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		out, err := exec.CommandContext(ctx, "systemd-analyze", "security", "--offline=true", "--no-pager", "systemd/"+unit).CombinedOutput()
		cancel()
		m := overall.FindSubmatch(out)
		if m == nil {
			t.Errorf("systemd-analyze security %s: %v, no overall exposure in:\n%s", unit, err, out)
			continue
		}
		got, err := strconv.ParseFloat(string(m[1]), 64)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: exposure %.1f (recorded %.1f)", unit, got, limit)
		if got > limit {
			t.Errorf("%s: exposure %.1f, over the recorded %.1f: a hardening setting was lost; these are the open ones:\n%s", unit, got, limit, openItems(string(out)))
		}
	}
}

// openItems are the lines of the security report that cost exposure.
func openItems(report string) string {
	var b strings.Builder
	for _, l := range strings.Split(report, "\n") {
		if strings.HasPrefix(l, "✗") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}
