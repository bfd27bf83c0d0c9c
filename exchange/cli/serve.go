package cli

import (
	"context"
	"io"

	"github.com/babgate/bab/exchange"
	"github.com/babgate/bab/exchange/config"
	"github.com/babgate/bab/internal/logging"
	"github.com/babgate/bab/internal/profile"
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
	x, err := exchange.New(cfg, logging.New(stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	stop, err := profile.Start()
	if err != nil {
		return err
	}
	defer stop()
	return x.Run(ctx)
}

func versionString() string { return exchange.Version }
