package cli

import (
	"context"
	"io"
	"log/slog"

	"github.com/babgate/bab/appliance"
	"github.com/babgate/bab/appliance/config"
	"github.com/babgate/bab/internal/gctune"
	"github.com/babgate/bab/internal/logging"
	"github.com/babgate/bab/internal/profile"
	"github.com/babgate/bab/internal/sd"
)

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlags("serve")
	cfgPath := fs.String("config", DefaultConfig, "config file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	log := logging.ForDaemon("bab", stderr, cfg.LogLevel)
	activated, err := activatedListeners(log)
	if err != nil {
		return err
	}
	a, err := appliance.New(cfg, log)
	if err != nil {
		return err
	}
	a.UseListeners(activated)
	stop, err := profile.Start()
	if err != nil {
		return err
	}
	defer stop()
	defer gctune.Start(gctune.DefaultRoom)()
	return sd.Run(ctx, log, a, a.Run)
}

// activatedListeners takes the sockets the service manager passed
// (bab.socket): the one named "gateway" serves the local gateway, the one
// named "admin" the admin API. Others are reported and left alone.
func activatedListeners(log *slog.Logger) (appliance.Listeners, error) {
	all, err := sd.Listeners()
	if err != nil {
		return appliance.Listeners{}, err
	}
	var ls appliance.Listeners
	if ls.Gateway, err = sd.Listener(all, "gateway"); err != nil {
		return ls, err
	}
	if ls.Admin, err = sd.Listener(all, "admin"); err != nil {
		return ls, err
	}
	for name := range all {
		if name != "gateway" && name != "admin" {
			log.Warn("ignoring a socket from the service manager: name it gateway or admin (FileDescriptorName=)", "name", name)
		}
	}
	if ls.Gateway != nil {
		log.Info("gateway socket from the service manager", "addr", ls.Gateway.Addr().String())
	}
	return ls, nil
}

func version() string { return "bab " + appliance.Version }
