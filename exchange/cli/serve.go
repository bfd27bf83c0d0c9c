package cli

import (
	"context"
	"io"

	"github.com/babgate/bab/exchange"
	"github.com/babgate/bab/exchange/config"
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
	log := logging.ForDaemon("bab-exchange", stderr, cfg.LogLevel)
	x, err := exchange.New(cfg, log)
	if err != nil {
		return err
	}
	stop, err := profile.Start()
	if err != nil {
		return err
	}
	defer stop()
	defer gctune.Start(gctune.DefaultRoom)()
	return sd.Run(ctx, log, x, func(ctx context.Context, ready func()) error {
		x.OnReady(ready)
		return x.Run(ctx)
	})
}

func versionString() string { return exchange.Version }
