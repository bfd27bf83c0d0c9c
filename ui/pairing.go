package ui

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/babgate/bab/console"
	"github.com/babgate/bab/problem"
)

// PairFunc pairs the console with the appliance at addr
// (https://HOST:PORT) with the code office IT read from bab console pair,
// under the console's name, and returns the appliance to talk to.
type PairFunc func(ctx context.Context, addr, code, name string) (Appliance, error)

// pairTimeout bounds one pairing attempt.
const pairTimeout = 30 * time.Second

// pairingForm is the first-run screen of a console that has neither the
// socket nor a certificate: the appliance's address, the code and a name.
type pairingForm struct {
	addr, code, name *widget.Entry
	msg              *fyne.Container
	button           *widget.Button
	root             fyne.CanvasObject
}

// ShowPairing fills the window with the pairing form; once paired, the
// console connects to the appliance. hint, when not empty, says why
// pairing is needed (such as a socket this account may not use).
func (c *Console) ShowPairing(addr, name, hint string, pair PairFunc) {
	f := &pairingForm{addr: widget.NewEntry(), code: widget.NewEntry(), name: widget.NewEntry(), msg: container.NewVBox()}
	f.addr.SetText(addr)
	f.addr.SetPlaceHolder("https://bab.example.local:8443")
	f.code.SetPlaceHolder("XXXX-XXXX-XXXX-XXXX-XXXX")
	f.code.Validator = func(s string) error {
		_, _, err := console.SplitCode(s)
		return err
	}
	f.name.SetText(name)
	title := widget.NewLabelWithStyle(lang.L("pair.title"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameSubHeadingText
	rows := []fyne.CanvasObject{title, wrapped(lang.L("pair.intro"))}
	if hint != "" {
		rows = append(rows, noteView(note{level: levelWarn, text: hint}))
	}
	form := container.New(layout.NewFormLayout(),
		keyLabel(lang.L("pair.addr")), container.NewVBox(f.addr, hintLabel(lang.L("pair.addr.hint"))),
		keyLabel(lang.L("pair.code")), container.NewVBox(f.code, hintLabel(lang.L("pair.code.hint"))),
		keyLabel(lang.L("pair.name")), container.NewVBox(f.name, hintLabel(lang.L("pair.name.hint"))),
	)
	f.button = widget.NewButtonWithIcon(lang.L("pair.button"), theme.ConfirmIcon(), func() { c.pair(f, pair) })
	f.button.Importance = widget.HighImportance
	rows = append(rows, form, f.msg, container.NewHBox(layout.NewSpacer(), f.button))
	f.root = container.NewPadded(container.NewVScroll(container.NewVBox(rows...)))
	c.env.win.SetTitle(lang.L("window.title", map[string]any{"State": lang.L("pair.short")}))
	c.env.win.SetContent(f.root)
	f.root.Refresh() // a second pass, for the wrapped texts' heights
}

// pair checks the form, pairs, and connects.
func (c *Console) pair(f *pairingForm, pair PairFunc) {
	addr, ok := applianceURL(f.addr.Text)
	var problems []note
	if !ok {
		problems = append(problems, simpleNote(levelFail, "pair.bad_address", ""))
	}
	if _, _, err := console.SplitCode(f.code.Text); err != nil {
		problems = append(problems, simpleNote(levelFail, "pair.bad_code", ""))
	}
	name := strings.TrimSpace(f.name.Text)
	if name == "" {
		problems = append(problems, simpleNote(levelFail, "pair.no_name", ""))
	}
	if len(problems) > 0 {
		f.show(problems...)
		return
	}
	code := f.code.Text
	f.show(note{level: levelUnknown, text: lang.L("pair.working", map[string]any{"Addr": addr})})
	f.button.Disable()
	call(c.env, pairTimeout, func(ctx context.Context) (Appliance, error) {
		return pair(ctx, addr, code, name)
	}, func(api Appliance, err error) {
		f.button.Enable()
		if err != nil {
			f.show(pairErrorNote(err, addr))
			return
		}
		f.code.SetText("")
		c.Connect(api)
	})
}

func (f *pairingForm) show(notes ...note) {
	f.msg.Objects = f.msg.Objects[:0]
	for _, n := range notes {
		f.msg.Add(noteView(n))
	}
	f.root.Refresh()
}

// applianceURL accepts what a person types for the appliance's address:
// https://HOST:PORT, or HOST:PORT alone.
func applianceURL(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Hostname() == "" || u.User != nil {
		return "", false
	}
	return u.Scheme + "://" + u.Host, true
}

// pairErrorNote words a failed pairing.
func pairErrorNote(err error, addr string) note {
	var pe *console.ProblemError
	switch {
	case errors.Is(err, console.ErrBadCode):
		return simpleNote(levelFail, "pair.bad_code", err.Error())
	case errors.Is(err, console.ErrWrongAppliance):
		return simpleNote(levelFail, "pair.wrong_appliance", err.Error())
	case errors.Is(err, console.ErrWrongAddress):
		return simpleNote(levelFail, "pair.wrong_address", err.Error())
	case errors.As(err, &pe):
		switch pe.Code() {
		case problem.Unauthenticated, problem.BadRequest, problem.NotAllowed:
			return simpleNote(levelFail, "pair.refused", err.Error())
		}
		return problemNote(pe)
	}
	n := errorNote(err)
	if errorKey(err) == "error.unreachable" {
		n.text = lang.L("pair.unreachable", map[string]any{"Addr": addr})
	}
	return n
}

// SocketRefusedHint says that the appliance's console socket is on this
// machine but the account may not use it.
func SocketRefusedHint() string { return lang.L("pair.socket_refused") }

// PairingUnreadableHint says that this console's pairing could not be
// used, so it must be paired again.
func PairingUnreadableHint() string { return lang.L("pair.unreadable") }
