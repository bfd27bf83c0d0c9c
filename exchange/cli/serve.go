package cli

import (
	"context"
	"io"
	"sync"

	"github.com/babgate/bab/exchange"
	"github.com/babgate/bab/exchange/config"
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
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	x.OnReady(func() {
		if err := sd.Ready(x.Summary()); err != nil {
			log.Warn("could not tell the service manager the exchange is ready", "err", err)
		}
		wg.Go(func() { sd.Supervise(ctx, log, x.Summary, x.Alive) })
	})
	err = x.Run(ctx)
	sd.Stopping("stopped")
	return err
}

func versionString() string { return exchange.Version }
