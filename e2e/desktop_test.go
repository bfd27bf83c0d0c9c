package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/internal/loudskip"
)

// TestConsoleUnderXvfb starts the real bab-console binary on a virtual
// screen against the lab's commune appliance, through its console socket,
// in English and in French: the window comes up, says the office is
// connected in its title, and stays up. With BAB_SCREENSHOTS=DIR it keeps
// a screenshot of each (docs/console/ holds those of the README).
func TestConsoleUnderXvfb(t *testing.T) {
	if err := lab.DesktopTools(); err != nil {
		loudskip.Skip(t, "the console cannot run headless here: %v", err)
	}
	bin, err := lab.BuildConsole(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	l := newLab(t, lab.Options{})
	for _, c := range []struct {
		lang, connected string
		tabs            map[string]int // screenshot name → x of the tab's label
	}{
		{"en", "Bab — connected", map[string]int{"lookup": 170, "activity": 300, "office": 410}},
		{"fr", "Bab — connecté", map[string]int{"lookup": 190, "activity": 335, "office": 470}},
	} {
		t.Run(c.lang, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			dir := t.TempDir()
			d, err := lab.StartDisplay(ctx, dir, 1280, 800)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			start := time.Now()
			p, err := d.StartConsole(bin, dir, []string{"HOME=" + dir}, "--socket", l.Consumer.ConsoleSocket, "--lang", c.lang, "--config-dir", filepath.Join(dir, "config"))
			if err != nil {
				t.Fatal(err)
			}
			defer p.Stop()
			var title string
			waitFor(t, time.Minute, func() error {
				if p.Exited() {
					t.Fatalf("bab-console exited:\n%s", p.Log())
				}
				title, err = d.AwaitWindow(ctx, "Bab")
				if err == nil && title != c.connected {
					err = errString("window title " + title)
				}
				return err
			})
			t.Logf("%s: window %q after %s", c.lang, title, time.Since(start).Round(10*time.Millisecond))
			if rss, err := p.RSS(); err == nil {
				t.Logf("%s: bab-console RSS %.1f MB", c.lang, float64(rss)/1e6)
			}
			shot := filepath.Join(dir, "home.png")
			if err := d.Screenshot(shot); err != nil {
				t.Fatal(err)
			}
			if fi, err := os.Stat(shot); err != nil || fi.Size() < 10<<10 {
				t.Fatalf("screenshot: %v", err)
			}
			if out := os.Getenv("BAB_SCREENSHOTS"); out != "" {
				b, _ := os.ReadFile(shot)
				if err := os.WriteFile(filepath.Join(out, "home-"+c.lang+".png"), b, 0o644); err != nil {
					t.Fatal(err)
				}
				// The other tabs, by clicking their labels where the
				// window puts them (screenshots only: nothing is asserted).
				for name, x := range c.tabs {
					if err := d.Click(x, 69); err != nil {
						t.Fatal(err)
					}
					time.Sleep(time.Second) // let it draw; a picture, not a condition
					if err := d.Screenshot(filepath.Join(out, name+"-"+c.lang+".png")); err != nil {
						t.Fatal(err)
					}
				}
			}
			if strings.Contains(p.Log(), "panic") {
				t.Errorf("bab-console logged a panic:\n%s", p.Log())
			}
		})
	}
}
