package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/babgate/bab/appliance"
	"github.com/babgate/bab/appliance/config"
)

func status(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("status")
	cfgPath := fs.String("config", DefaultConfig, "config file")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+cfg.Admin.Listen+"/v1/status", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return diagnose(cfg)
	}
	defer resp.Body.Close()
	var st appliance.Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return fmt.Errorf("read status: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	printStatus(stdout, &st, time.Now())
	return nil
}

func printStatus(w io.Writer, st *appliance.Status, now time.Time) {
	fmt.Fprintf(w, "Appliance   %s (%s)\n", st.Appliance, st.Software)
	fmt.Fprintf(w, "Gateway     %s\n", st.Gateway)
	switch {
	case st.Policy.Version == 0:
		fmt.Fprintf(w, "Policy      none yet — requests are refused until the exchange sends one\n")
	case st.Policy.Expired:
		fmt.Fprintf(w, "Policy      v%d EXPIRED at %s — %s\n", st.Policy.Version, st.Policy.Expires.Format(time.RFC3339), st.Policy.Note)
	case st.Policy.Note != "":
		fmt.Fprintf(w, "Policy      v%d, WARNING: %s\n", st.Policy.Version, st.Policy.Note)
	default:
		fmt.Fprintf(w, "Policy      v%d, expires %s (in %s)\n", st.Policy.Version, st.Policy.Expires.Format(time.RFC3339), appliance.PlainDuration(st.Policy.Expires.Sub(now)))
	}
	for _, t := range st.Tunnels {
		if t.Connected {
			fmt.Fprintf(w, "Tunnel      %s up since %s, rtt %s\n", t.Addr, t.Since.Format(time.RFC3339), t.RTT)
		} else {
			fmt.Fprintf(w, "Tunnel      %s DOWN (%d attempts) last error: %s\n", t.Addr, t.Attempts, t.LastError)
		}
	}
	fmt.Fprintf(w, "Certificate %s key, valid until %s\n", st.Certificate.Key, st.Certificate.NotAfter.Format(time.RFC3339))
	if st.Quarantine != "" {
		fmt.Fprintf(w, "QUARANTINE  the exchange refuses this appliance's requests: %s\n", st.Quarantine)
		fmt.Fprintf(w, "            after a legitimate update, central ops accept the new state (bab-exchange appliance rebaseline %s)\n", st.Appliance)
	}
	for _, s := range st.Services {
		fmt.Fprintf(w, "Provides    %s\n", s)
	}
}
