package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/console"
	"github.com/babgate/bab/internal/lab"
	"github.com/babgate/bab/internal/loudskip"
)

// desk is one run of the real console on a virtual screen.
type desk struct {
	t          *testing.T
	ctx        context.Context
	d          *lab.Display
	p          *lab.Proc
	lang       string
	w, h       int
	frame      []byte // the screen as last seen
	shots      string // where screenshots go ("" for none)
	tabs       map[string]int
	connected  string // the window's title when connected
	lookupTime time.Duration
}

// Where the console's tabs are, by language: x of each label (y is 69).
var consoleTabs = map[string]map[string]int{
	"en": {"home": 45, "lookup": 170, "activity": 300, "office": 410},
	"fr": {"home": 48, "lookup": 190, "activity": 335, "office": 470},
}

var connectedTitle = map[string]string{"en": "Bab — connected", "fr": "Bab — connecté"}

// TestConsoleUnderXvfb starts the real bab-console binary on a virtual
// screen against the lab's commune appliance, through its console socket,
// in English and in French, at 1280×800 and at 1024×768 with the window
// filling the screen: the window comes up connected, a clerk looks up a
// family record (a form with a drop-down and a purpose, a summary, a
// result with sections and a table), the lookup is in the appliance's
// activity with the clerk's identity, and each tab draws. Then a console
// that is neither on the socket nor paired shows the pairing screen, and
// with the exchange stopped the home screen says so. With
// BAB_SCREENSHOTS=DIR it keeps a screenshot of each screen (DIR/1024x768/
// for the smaller screen); docs/console/ holds those of the README.
func TestConsoleUnderXvfb(t *testing.T) {
	if err := lab.DesktopTools(); err != nil {
		loudskip.Skip(t, "the console cannot run headless here: %v", err)
	}
	bin, err := lab.BuildConsole(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	shots := os.Getenv("BAB_SCREENSHOTS")
	l := newLab(t, lab.Options{})
	// What an office's day leaves behind: a paired desk, the complaint
	// desk's requests, one of them refused.
	if _, err := pairConsole(l.Consumer, pairCode(t, l.Consumer, "clerk", "10m"), "desk-3"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		method, path string
		status       int
	}{{"GET", "/citizens/7", 200}, {"GET", "/citizens/12", 200}, {"DELETE", "/citizens/7", 403}} {
		req, err := l.Request(context.Background(), c.method, c.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != c.status {
			t.Fatalf("%s %s: %v %v, want %d", c.method, c.path, res, err, c.status)
		}
		res.Body.Close()
	}
	for _, size := range [][2]int{{1280, 800}, {1024, 768}} {
		for _, lang := range []string{"en", "fr"} {
			t.Run(fmt.Sprintf("%s-%dx%d", lang, size[0], size[1]), func(t *testing.T) {
				k := startDesk(t, bin, lang, size[0], size[1], shots, "--socket", l.Consumer.ConsoleSocket)
				k.lookupFamilyRecord(l)
				for _, tab := range []string{"activity", "office"} {
					k.click(k.tabs[tab], 69)
					k.shot(tab)
				}
				k.stop()
			})
		}
	}
	for _, lang := range []string{"en", "fr"} {
		t.Run("pairing-"+lang, func(t *testing.T) {
			k := startDesk(t, bin, lang, 1280, 800, shots, "--socket", filepath.Join(t.TempDir(), "none.sock"))
			k.awaitTitle(func(title string) bool { return title != "Bab" && title != k.connected })
			k.shot("pairing")
			k.stop()
		})
	}
	if err := l.Exchange.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"en", "fr"} {
		t.Run("unreachable-"+lang, func(t *testing.T) {
			k := startDesk(t, bin, lang, 1280, 800, shots, "--socket", l.Consumer.ConsoleSocket)
			k.awaitTitle(func(title string) bool { return title != "Bab" && title != k.connected })
			k.shot("unreachable")
			k.stop()
		})
	}
}

// startDesk starts the console on a new virtual screen of w×h, its window
// made to fill the screen, and waits for its first screen.
func startDesk(t *testing.T, bin, lang string, w, h int, shots string, args ...string) *desk {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	dir := t.TempDir()
	d, err := lab.StartDisplay(ctx, dir, w, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	k := &desk{t: t, ctx: ctx, d: d, lang: lang, w: w, h: h, tabs: consoleTabs[lang], connected: connectedTitle[lang]}
	if shots != "" {
		k.shots = shots
		if w != 1280 {
			k.shots = filepath.Join(shots, fmt.Sprintf("%dx%d", w, h))
			if err := os.MkdirAll(k.shots, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	start := time.Now()
	env := []string{"HOME=" + dir, "LANG=C.UTF-8"}
	args = append(args, "--lang", lang, "--config-dir", filepath.Join(dir, "config"))
	if k.p, err = d.StartConsole(bin, dir, env, args...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.p.Stop() })
	title := k.awaitTitle(func(title string) bool { return title != "Bab" })
	t.Logf("window %q after %s", title, time.Since(start).Round(10*time.Millisecond))
	if err := d.Resize("Bab", w, h); err != nil {
		t.Fatal(err)
	}
	if k.frame, err = d.Frame(); err != nil {
		t.Fatal(err)
	}
	k.settle()
	return k
}

// awaitTitle waits for a window title that ok accepts and returns it. A
// console that shows none within a minute is asked for its goroutines'
// stacks, which the failure shows with its log and the screen's windows.
func (k *desk) awaitTitle(ok func(string) bool) string {
	k.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		if k.p.Exited() {
			k.t.Fatalf("bab-console exited:\n%s", k.p.Log())
		}
		ctx, cancel := context.WithTimeout(k.ctx, 5*time.Second)
		title, err := k.d.AwaitWindow(ctx, "Bab")
		cancel()
		if err == nil && ok(title) {
			return title
		}
		if err == nil {
			err = errString("window title " + title)
		}
		if time.Now().After(deadline) {
			k.p.Dump()
			k.t.Fatalf("after 1m: %v\nwindows on the screen:\n%s\nbab-console's log:\n%s", err, k.d.Windows(), k.p.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// settle waits for the screen to show the effect of what was just done.
func (k *desk) settle() {
	k.t.Helper()
	f, err := k.d.Settle(k.ctx, k.frame)
	if err != nil {
		k.t.Fatalf("the console did not react: %v\n%s", err, k.p.Log())
	}
	k.frame = f
}

func (k *desk) click(x, y int) {
	k.t.Helper()
	if err := k.d.Click(x, y); err != nil {
		k.t.Fatal(err)
	}
	k.settle()
}

func (k *desk) keys(s string) {
	k.t.Helper()
	if err := k.d.Keys(s); err != nil {
		k.t.Fatal(err)
	}
	k.settle()
}

// shot keeps a screenshot named NAME-LANG.png when screenshots are asked.
func (k *desk) shot(name string) {
	k.t.Helper()
	if k.shots == "" {
		return
	}
	if err := k.d.Screenshot(filepath.Join(k.shots, name+"-"+k.lang+".png")); err != nil {
		k.t.Fatal(err)
	}
}

var shownAfter = regexp.MustCompile(`lookup (\w+) in MA/GOV/ETATCIVIL/family-record: status 200, fields shown ([0-9.]+m?s) after Send`)

// lookupFamilyRecord looks up the family record of holder 42 as a clerk
// does, with the mouse and the keyboard, and checks that it reached the
// registry with the clerk's identity and purpose.
func (k *desk) lookupFamilyRecord(l *lab.Lab) {
	k.t.Helper()
	k.shot("home")
	k.click(k.tabs["lookup"], 69)
	k.click(100, 230) // the second service of the catalog: family records
	k.click(k.w*3/5, 236)
	k.keys("42") // the holder's national number
	k.click(k.w*3/5, 310)
	k.click(k.w*3/5, 344) // "full" in the drop-down
	k.shot("lookup")
	k.click(k.w-45, k.h-23) // Continue
	k.shot("confirm")
	if err := k.d.Click(k.w-45, k.h-23); err != nil { // Send
		k.t.Fatal(err)
	}
	var id string
	waitFor(k.t, 30*time.Second, func() error {
		m := shownAfter.FindStringSubmatch(k.p.Log())
		if m == nil {
			return fmt.Errorf("no lookup answered in the console's log yet:\n%s", k.p.Log())
		}
		id = m[1]
		var err error
		k.lookupTime, err = time.ParseDuration(m[2])
		return err
	})
	k.t.Logf("one lookup: fields shown %s after Send", k.lookupTime)
	k.settle()
	k.shot("result")

	acts, err := console.DialSocket(l.Consumer.ConsoleSocket)
	if err != nil {
		k.t.Fatal(err)
	}
	defer acts.Close()
	list, err := acts.Activity(k.ctx, console.ActivityFilter{Direction: "out"})
	if err != nil {
		k.t.Fatal(err)
	}
	user := os.Getenv("USER")
	for _, a := range list {
		if a.RequestID == id {
			if a.Outcome != "ok" || !strings.HasPrefix(a.Who, "console/local/") || a.Service != lab.FamilyRecord.String() || (user != "" && a.Who != "console/local/"+user) {
				k.t.Errorf("the console's lookup is in the activity as %+v", a)
			}
			return
		}
	}
	k.t.Errorf("the console's lookup %s is not in the appliance's activity: %+v", id, list)
}

func (k *desk) stop() {
	if strings.Contains(k.p.Log(), "panic") {
		k.t.Errorf("bab-console logged a panic:\n%s", k.p.Log())
	}
	if rss, err := k.p.RSS(); err == nil {
		k.t.Logf("bab-console RSS %.1f MB", float64(rss)/1e6)
	}
	_ = k.p.Stop()
}
