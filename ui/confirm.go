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

// confirmPanel says, before anything is sent, what will be asked, of
// whom and for what purpose, and that the request carries the clerk's
// name.
func confirmPanel(s *console.Service, f *lookupForm, req console.LookupRequest, who *console.WhoAmI, back, send func()) fyne.CanvasObject {
	provider := providerName(s)
	title := widget.NewLabelWithStyle(lang.L("confirm.title"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameSubHeadingText
	what := opName(f.ops[f.op])
	if f.ops[f.op].Path == freePath {
		what = req.Path
	}
	intro := wrapped(lang.L("confirm.ask", map[string]any{"Provider": provider, "Service": s.ID, "Operation": what}))
	var cells []fyne.CanvasObject
	for _, pf := range f.fields {
		if v := req.Params[pf.param.Name]; v != "" {
			cells = append(cells, widget.NewLabelWithStyle(humanize(pf.param.Name), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), wrapped(v))
		}
	}
	rows := []fyne.CanvasObject{title, intro}
	if len(cells) > 0 {
		rows = append(rows, widget.NewLabel(lang.L("confirm.with")), container.New(layout.NewFormLayout(), cells...))
	}
	if req.Purpose != "" {
		rows = append(rows, wrapped(lang.L("confirm.purpose", map[string]any{"Purpose": req.Purpose})))
	} else {
		rows = append(rows, wrapped(lang.L("confirm.no_purpose")))
	}
	user := ""
	if who != nil {
		user = who.User
	}
	rows = append(rows, wrapped(lang.L("confirm.recorded", map[string]any{"User": user, "Provider": provider})))
	backBtn := widget.NewButtonWithIcon(lang.L("confirm.back"), theme.NavigateBackIcon(), back)
	sendBtn := widget.NewButtonWithIcon(lang.L("confirm.send"), theme.MailSendIcon(), send)
	sendBtn.Importance = widget.HighImportance
	return container.NewBorder(nil, container.NewHBox(backBtn, layout.NewSpacer(), sendBtn), nil, nil,
		container.NewVScroll(container.NewVBox(rows...)))
}

// wrapped is a label that wraps at word boundaries.
func wrapped(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.Wrapping = fyne.TextWrapWord
	return l
}
