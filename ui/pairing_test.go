package ui

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/babgate/bab/console"
	"github.com/babgate/bab/problem"
)

const goodCode = "K7Q2-MXF4-7H3M-PQ2R-AB3C"

// pairingConsole shows the pairing form; pair answers with api or err.
func pairingConsole(t *testing.T, api Appliance, err error) (*Console, *[]string) {
	t.Helper()
	c, _ := newTestConsole(t, nil)
	var calls []string
	c.ShowPairing("", "desk-3", "", func(_ context.Context, addr, code, name string) (Appliance, error) {
		calls = append(calls, addr+" "+code+" "+name)
		return api, err
	})
	return c, &calls
}

func pairingEntries(t *testing.T, c *Console) (addr, code, name *widget.Entry) {
	t.Helper()
	var es []*widget.Entry
	for _, o := range objects(c.env.win.Canvas().Content()) {
		if e, ok := o.(*widget.Entry); ok {
			es = append(es, e)
		}
	}
	if len(es) != 3 {
		t.Fatalf("%d entries on the pairing screen, want 3", len(es))
	}
	return es[0], es[1], es[2]
}

func TestPairing(t *testing.T) {
	s := &stub{who: clerk(), status: connected()}
	c, calls := pairingConsole(t, s, nil)
	test.AssertRendersToMarkup(t, "pairing/form.xml", c.env.win.Canvas())
	if got := c.env.win.Title(); got != "Bab — pairing" {
		t.Errorf("title %q", got)
	}
	addr, code, _ := pairingEntries(t, c)
	addr.SetText("bab.mairie.local:8443")
	code.SetText("k7q2 mxf4 7h3m pq2r ab3c")
	test.Tap(findButton(t, c.env.win.Canvas().Content(), "Pair"))
	if len(*calls) != 1 || (*calls)[0] != "https://bab.mairie.local:8443 k7q2 mxf4 7h3m pq2r ab3c desk-3" {
		t.Fatalf("pair calls %q", *calls)
	}
	if c.tabs == nil || c.banner.level != levelOK {
		t.Fatal("after pairing the console did not connect")
	}
	if code.Text != "" {
		t.Error("the code stays in the form after use")
	}
}

func TestPairingRefusals(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"wrong appliance", fmt.Errorf("pair: %w", console.ErrWrongAppliance), "is not the one that printed the code"},
		{"address the server does not know", fmt.Errorf("pair: %w: x509: certificate is valid for 10.0.0.5, not bab.local", console.ErrWrongAddress), "does not answer to this address"},
		{"code refused", &console.ProblemError{Status: 401, Problem: *problem.New(problem.Unauthenticated, "wrong or expired pairing code")}, "The server refused the code: it is wrong or no longer valid."},
		{"unreachable", errors.New("dial tcp 10.0.0.5:8443: connect: connection refused"), "The console cannot reach https://10.0.0.5:8443."},
		{"rate limited", &console.ProblemError{Status: 429, Problem: *problem.New(problem.RateLimited, "")}, "Too many"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := pairingConsole(t, nil, tc.err)
			addr, code, _ := pairingEntries(t, c)
			addr.SetText("https://10.0.0.5:8443")
			code.SetText(goodCode)
			test.Tap(findButton(t, c.env.win.Canvas().Content(), "Pair"))
			if tc.want == "Too many" {
				tc.want = problemNote(tc.err.(*console.ProblemError)).text
			}
			wantText(t, c.env.win.Canvas().Content(), tc.want)
			if c.tabs != nil {
				t.Error("connected after a failed pairing")
			}
		})
	}
}

func TestPairingFormChecks(t *testing.T) {
	c, calls := pairingConsole(t, nil, nil)
	addr, code, name := pairingEntries(t, c)
	addr.SetText("ftp://somewhere")
	code.SetText("1234")
	name.SetText(" ")
	test.Tap(findButton(t, c.env.win.Canvas().Content(), "Pair"))
	wantText(t, c.env.win.Canvas().Content(), "The server address is not valid.", "The code does not have the expected form.", "Give this computer a name.")
	if len(*calls) != 0 {
		t.Error("an invalid form was sent")
	}
}

func TestPairingHint(t *testing.T) {
	c, _ := newTestConsole(t, nil)
	c.ShowPairing("https://bab.local:8443", "desk", SocketRefusedHint(), nil)
	wantText(t, c.env.win.Canvas().Content(), "add your account to the group bab-console")
}

func TestApplianceURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://bab.local:8443":     "https://bab.local:8443",
		" bab.local:8443 ":           "https://bab.local:8443",
		"https://10.0.0.5:8443/path": "https://10.0.0.5:8443",
		"http://bab.local:8443":      "",
		"https://":                   "",
		"https://u:p@bab.local":      "",
	} {
		got, ok := applianceURL(in)
		if got != want || ok != (want != "") {
			t.Errorf("applianceURL(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}
