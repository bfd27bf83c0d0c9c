// Package sd is the daemons' side of systemd: readiness and status
// notifications, the watchdog, socket activation and the journal.
package sd

import (
	"github.com/coreos/go-systemd/v22/activation"
	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/coreos/go-systemd/v22/journal"
)

var (
	_ = activation.Listeners
	_ = daemon.SdNotify
	_ = journal.Enabled
)
