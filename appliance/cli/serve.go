package cli

import (
	"context"
	"io"

	"github.com/babgate/bab/appliance"
	"github.com/babgate/bab/appliance/config"
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
	log := logging.New(stderr, cfg.LogLevel)
	a, err := appliance.New(cfg, log)
	if err != nil {
		return err
	}
	stop, err := profile.Start()
	if err != nil {
		return err
	}
	defer stop()
	return a.Run(ctx, nil)
}

func version() string { return "bab " + appliance.Version }
