package ui

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/babgate/bab/console"
)

// stub is an appliance whose answers the test sets; the zero value
// answers with empty values.
type stub struct {
	who         *console.WhoAmI
	whoErr      error
	status      *console.Status
	statusErr   error
	catalog     []console.Service
	catalogErr  error
	result      *console.LookupResult
	lookupErr   error
	activity    []console.Activity
	activityErr error
	office      *console.Office
	officeErr   error
	revokeErr   error

	lookups  []console.LookupRequest
	filters  []console.ActivityFilter
	revoked  []string
	catalogs int
}

func (s *stub) WhoAmI(context.Context) (*console.WhoAmI, error) {
	if s.who == nil && s.whoErr == nil {
		return &console.WhoAmI{}, nil
	}
	return s.who, s.whoErr
}

func (s *stub) Status(context.Context) (*console.Status, error) {
	if s.status == nil && s.statusErr == nil {
		return &console.Status{}, nil
	}
	return s.status, s.statusErr
}

func (s *stub) Catalog(context.Context) ([]console.Service, error) {
	s.catalogs++
	return s.catalog, s.catalogErr
}

func (s *stub) Lookup(_ context.Context, r console.LookupRequest) (*console.LookupResult, error) {
	s.lookups = append(s.lookups, r)
	if s.result == nil {
		return nil, s.lookupErr
	}
	res := *s.result
	res.Body = slices.Clone(s.result.Body) // the console wipes its copy
	return &res, s.lookupErr
}

func (s *stub) Activity(_ context.Context, f console.ActivityFilter) ([]console.Activity, error) {
	s.filters = append(s.filters, f)
	return s.activity, s.activityErr
}

func (s *stub) Office(context.Context) (*console.Office, error) {
	if s.office == nil && s.officeErr == nil {
		return &console.Office{}, nil
	}
	return s.office, s.officeErr
}

func (s *stub) Revoke(_ context.Context, name string) error {
	s.revoked = append(s.revoked, name)
	return s.revokeErr
}

// now is the tests' fixed time: 10:45 on 14 March 2026, UTC.
var now = time.Date(2026, 3, 14, 10, 45, 0, 0, time.UTC)

// timers are the idle timers a test console started, for the test to fire.
type timers struct{ fns []*func() }

func (ts *timers) fire() {
	for _, f := range ts.fns {
		if *f != nil {
			(*f)()
		}
	}
}

// newTestConsole is a console on a headless test app, in English unless
// the test chose another language, that does its work synchronously.
func newTestConsole(t *testing.T, api Appliance) (*Console, *timers) {
	t.Helper()
	a := test.NewTempApp(t)
	ts := &timers{}
	e := &env{
		app:   a,
		clock: clock{now: func() time.Time { return now }, loc: time.UTC},
		async: func(f func()) { f() },
		after: func(_ time.Duration, f func()) func() bool {
			fn := f
			ts.fns = append(ts.fns, &fn)
			return func() bool { fn = nil; return true }
		},
	}
	c := newConsole(e)
	c.env.win.Resize(windowSize)
	t.Cleanup(c.env.win.Close)
	if api != nil {
		c.Connect(api)
	}
	return c, ts
}

// useLanguage loads the translations in lang for one test.
func useLanguage(t *testing.T, lang string) {
	t.Helper()
	t.Setenv("LANGUAGE", lang)
	t.Setenv("LC_ALL", "")
	t.Setenv("LC_MESSAGES", "")
	t.Setenv("LANG", "")
	if err := LoadTranslations(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.Setenv("LANGUAGE", "en")
		if err := LoadTranslations(); err != nil {
			t.Error(err)
		}
	})
}

func TestMain(m *testing.M) {
	os.Setenv("LANGUAGE", "en")
	os.Unsetenv("LC_ALL")
	os.Unsetenv("LC_MESSAGES")
	os.Unsetenv("LANG")
	if err := LoadTranslations(); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

// objects lists every object drawn in o, as the markup snapshots walk
// them (test.LaidOutObjects misses a table's cells).
func objects(o fyne.CanvasObject) []fyne.CanvasObject {
	if o == nil || !o.Visible() {
		return nil
	}
	all := []fyne.CanvasObject{o}
	switch v := o.(type) {
	case *fyne.Container:
		for _, kid := range v.Objects {
			all = append(all, objects(kid)...)
		}
	case fyne.Widget:
		for _, kid := range test.WidgetRenderer(v).Objects() {
			all = append(all, objects(kid)...)
		}
	}
	return all
}

// texts is every piece of text drawn in o, one per line.
func texts(o fyne.CanvasObject) string {
	var b strings.Builder
	for _, obj := range objects(o) {
		if t, ok := obj.(*canvas.Text); ok && strings.TrimSpace(t.Text) != "" {
			b.WriteString(t.Text)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// wantText fails unless every want is drawn somewhere in o.
func wantText(t *testing.T, o fyne.CanvasObject, want ...string) {
	t.Helper()
	got := texts(o)
	flat := strings.Join(strings.Fields(got), " ")
	for _, w := range want {
		if !strings.Contains(flat, strings.Join(strings.Fields(w), " ")) {
			t.Errorf("%q not shown; the screen says:\n%s", w, got)
		}
	}
}

// noText fails if any of these is drawn in o.
func noText(t *testing.T, o fyne.CanvasObject, unwanted ...string) {
	t.Helper()
	flat := strings.Join(strings.Fields(texts(o)), " ")
	for _, u := range unwanted {
		if strings.Contains(flat, u) {
			t.Errorf("%q shown, want it gone", u)
		}
	}
}

// findButton returns the button labelled text in o.
func findButton(t *testing.T, o fyne.CanvasObject, text string) *widget.Button {
	t.Helper()
	for _, obj := range objects(o) {
		if b, ok := obj.(*widget.Button); ok && b.Text == text && b.Visible() {
			return b
		}
	}
	t.Fatalf("no button %q; the screen says:\n%s", text, texts(o))
	return nil
}

// findIconButton returns the i-th copy button drawn in o.
func findIconButton(t *testing.T, o fyne.CanvasObject, i int) *widget.Button {
	t.Helper()
	for _, obj := range objects(o) {
		if b, ok := obj.(*widget.Button); ok && b.Text == "" && b.Icon == theme.ContentCopyIcon() && b.Visible() {
			if i == 0 {
				return b
			}
			i--
		}
	}
	t.Fatalf("not enough copy buttons")
	return nil
}

// tlsRefusal is the appliance refusing this console's certificate.
func tlsRefusal() error { return fmt.Errorf("status: %w", tls.AlertError(44)) }

// langL is lang.L for tests that need a key's text.
func langL(key string) string { return lang.L(key) }
