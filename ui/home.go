package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/babgate/bab/console"
)

// homeScreen is the office's state at a glance: each note with what to
// do, then the facts behind them and who the clerk is.
type homeScreen struct {
	env   *env
	root  fyne.CanvasObject
	notes *fyne.Container
	facts struct{ exchange, attestation, policy, checked, you *widget.Label }
}

func newHomeScreen(e *env) *homeScreen {
	h := &homeScreen{env: e, notes: container.NewVBox()}
	value := func() *widget.Label {
		l := widget.NewLabel("")
		l.Wrapping = fyne.TextWrapWord
		return l
	}
	h.facts.exchange, h.facts.attestation, h.facts.policy, h.facts.checked, h.facts.you = value(), value(), value(), value(), value()
	key := func(s string) fyne.CanvasObject {
		return widget.NewLabelWithStyle(s, fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
	}
	grid := container.New(layout.NewFormLayout(),
		key(lang.L("home.exchange")), h.facts.exchange,
		key(lang.L("home.attestation")), h.facts.attestation,
		key(lang.L("home.policy")), h.facts.policy,
		key(lang.L("home.checked")), h.facts.checked,
		key(lang.L("home.you")), h.facts.you,
	)
	h.root = container.NewVScroll(container.NewVBox(h.notes, widget.NewSeparator(), grid))
	return h
}

// show puts the appliance's state on the screen.
func (h *homeScreen) show(st *console.Status, err error, who *console.WhoAmI, notes []note) {
	h.notes.Objects = h.notes.Objects[:0]
	for _, n := range notes {
		h.notes.Add(noteView(n))
	}
	h.root.Refresh() // the notes' height changed
	f := describeFacts(st, h.env.clock)
	if err != nil {
		f = describeFacts(nil, h.env.clock)
	}
	h.facts.exchange.SetText(f.exchange)
	h.facts.attestation.SetText(f.attestation)
	h.facts.policy.SetText(f.policy)
	h.facts.checked.SetText(f.checked)
	h.facts.you.SetText(describeWho(who))
}

// describeWho says who the appliance takes the clerk for.
func describeWho(w *console.WhoAmI) string {
	if w == nil {
		return lang.L("fact.unknown")
	}
	member := w.MemberName
	if member == "" {
		member = w.Member
	}
	data := map[string]any{"User": w.User, "Role": roleName(w.Role), "Member": member, "Console": w.Console}
	if w.Console == "local" || w.Console == "" {
		return lang.L("home.you.local", data)
	}
	return lang.L("home.you.paired", data)
}

// roleName is a role in words.
func roleName(r console.Role) string {
	switch r {
	case console.RoleClerk:
		return lang.L("role.clerk")
	case console.RoleOfficeIT:
		return lang.L("role.office_it")
	}
	return string(r)
}

// noteView is a note with its icon: what is the case in bold, what to do
// after it, and the technical detail for office IT in small print.
func noteView(n note) fyne.CanvasObject {
	icon := widget.NewIcon(noteIcon(n.level))
	// A segment that is not inline ends its line: the technical detail
	// goes on a line of its own.
	what := &widget.TextSegment{Text: n.text, Style: widget.RichTextStyle{TextStyle: fyne.TextStyle{Bold: true}, Inline: true}}
	text := widget.NewRichText(what)
	last := &what.Style
	if n.next != "" {
		next := &widget.TextSegment{Text: " " + n.next, Style: widget.RichTextStyleInline}
		text.Segments = append(text.Segments, next)
		last = &next.Style
	}
	if n.tech != "" {
		last.Inline = false
		text.Segments = append(text.Segments, &widget.TextSegment{
			Text:  lang.L("note.tech", map[string]any{"Detail": n.tech}),
			Style: widget.RichTextStyle{ColorName: theme.ColorNamePlaceHolder, SizeName: theme.SizeNameCaptionText},
		})
	}
	text.Wrapping = fyne.TextWrapWord
	return container.NewBorder(nil, nil, container.NewVBox(icon), nil, text)
}

func noteIcon(l level) fyne.Resource {
	switch l {
	case levelOK:
		return theme.NewSuccessThemedResource(theme.ConfirmIcon())
	case levelWarn:
		return theme.NewWarningThemedResource(theme.WarningIcon())
	case levelFail:
		return theme.NewErrorThemedResource(theme.ErrorIcon())
	}
	return theme.InfoIcon()
}
