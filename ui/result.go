package ui

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/babgate/bab/console"
)

// maxRows is how many items of a list the console draws.
const maxRows = 200

// resultPanel shows a provider's answer as labelled, copyable, read-only
// fields: nested objects as sections, lists of records as tables, never
// the raw JSON; with the provider, the time and the request id.
func resultPanel(l *lookupScreen, res *console.LookupResult) fyne.CanvasObject {
	provider := providerName(l.current)
	title := widget.NewLabelWithStyle(lang.L("result.title", map[string]any{"Provider": provider}), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameSubHeadingText
	title.Wrapping = fyne.TextWrapWord
	meta := widget.NewLabel(lang.L("result.meta", map[string]any{"Time": l.env.clock.whenExact(res.At), "Duration": duration(res.Duration)}))
	id := container.NewBorder(nil, nil, widget.NewLabel(lang.L("lookup.request_id")), nil, l.copyable(res.RequestID))
	rows := []fyne.CanvasObject{title, meta, id}
	if n, ok := providerStatusNote(res.Status, provider); ok {
		rows = append(rows, noteView(n))
	}
	rows = append(rows, widget.NewSeparator(), resultBody(l, res))
	closeBtn := widget.NewButtonWithIcon(lang.L("result.close"), theme.DeleteIcon(), l.closeResult)
	closeBtn.Importance = widget.HighImportance
	return container.NewBorder(nil, container.NewHBox(layout.NewSpacer(), closeBtn), nil, nil,
		container.NewVScroll(container.NewVBox(rows...)))
}

// providerStatusNote words an answer other than success from the
// provider's own system.
func providerStatusNote(status int, provider string) (note, bool) {
	if status/100 == 2 || status == 0 {
		return note{}, false
	}
	key := "other"
	switch {
	case status == 404 || status == 410:
		key = "not_found"
	case status == 400 || status == 422:
		key = "bad_input"
	case status == 401 || status == 403:
		key = "forbidden"
	case status >= 500:
		key = "failed"
	}
	data := map[string]any{"Provider": provider, "Status": strconv.Itoa(status)}
	return note{
		level: levelWarn,
		text:  lang.L("result.status."+key+".text", data),
		next:  lang.L("result.status."+key+".next", data),
	}, true
}

// resultBody draws the answer's body.
func resultBody(l *lookupScreen, res *console.LookupResult) fyne.CanvasObject {
	switch {
	case len(res.Body) > 0:
		n, err := parseJSON(res.Body)
		if err != nil {
			return messagePanel(note{level: levelWarn, text: lang.L("result.unreadable"), tech: err.Error()})
		}
		v := &resultView{l: l}
		if n.kind == jScalar {
			return container.New(layout.NewFormLayout(), keyLabel(lang.L("result.value")), l.copyable(v.scalar(n)))
		}
		return v.nested(n)
	case res.Text != "":
		return l.copyable(res.Text)
	default:
		return widget.NewLabel(lang.L("result.empty"))
	}
}

// resultView draws JSON values as fields, sections and tables.
type resultView struct {
	l *lookupScreen
}

func (v *resultView) nested(n *jnode) fyne.CanvasObject {
	if n.kind == jArray {
		return v.array(n)
	}
	return v.object(n)
}

// object draws an object's scalars as fields and its other values as
// sections, in the provider's order.
func (v *resultView) object(n *jnode) fyne.CanvasObject {
	box := container.NewVBox()
	var cells []fyne.CanvasObject
	flush := func() {
		if len(cells) > 0 {
			box.Add(container.New(layout.NewFormLayout(), cells...))
			cells = nil
		}
	}
	for i, k := range n.keys {
		kid := n.kids[i]
		if kid.kind == jScalar {
			cells = append(cells, keyLabel(humanize(k)), v.l.copyable(v.scalar(kid)))
			continue
		}
		flush()
		box.Add(widget.NewCard("", humanize(k), v.nested(kid)))
	}
	flush()
	if len(n.keys) == 0 {
		box.Add(widget.NewLabel(lang.L("result.none")))
	}
	return box
}

// array draws a list of records as a table, a list of values as numbered
// fields, and anything else as numbered sections.
func (v *resultView) array(n *jnode) fyne.CanvasObject {
	if len(n.kids) == 0 {
		return widget.NewLabel(lang.L("result.none"))
	}
	items := n.kids
	box := container.NewVBox()
	if len(items) > maxRows {
		box.Add(widget.NewLabel(lang.L("result.truncated", map[string]any{"Shown": number(maxRows), "Total": number(uint64(len(items)))})))
		items = items[:maxRows]
	}
	allFlat, allScalar := true, true
	for _, k := range items {
		allFlat = allFlat && k.flat()
		allScalar = allScalar && k.kind == jScalar
	}
	switch {
	case allFlat:
		box.Add(v.table(items))
	case allScalar:
		var cells []fyne.CanvasObject
		for i, k := range items {
			cells = append(cells, keyLabel(strconv.Itoa(i+1)), v.l.copyable(v.scalar(k)))
		}
		box.Add(container.New(layout.NewFormLayout(), cells...))
	default:
		for i, k := range items {
			box.Add(widget.NewCard("", lang.L("result.item", map[string]any{"N": i + 1}), v.nested(k)))
		}
	}
	return box
}

// table draws records of scalars with a column per key and a button
// that copies a row, tab-separated for a spreadsheet.
func (v *resultView) table(rows []*jnode) fyne.CanvasObject {
	var cols []string
	seen := map[string]bool{}
	for _, r := range rows {
		for _, k := range r.keys {
			if !seen[k] {
				seen[k] = true
				cols = append(cols, k)
			}
		}
	}
	grid := container.New(layout.NewGridLayoutWithColumns(len(cols) + 1))
	for _, c := range cols {
		grid.Add(keyLabel(humanize(c)))
	}
	grid.Add(layout.NewSpacer())
	for _, r := range rows {
		values := make([]string, len(cols))
		for i, k := range r.keys {
			for j, c := range cols {
				if c == k {
					values[j] = v.scalar(r.kids[i])
				}
			}
		}
		for _, s := range values {
			cell := widget.NewLabel(s)
			cell.Selectable = true
			cell.Wrapping = fyne.TextWrapWord
			grid.Add(cell)
		}
		line := strings.Join(values, "\t")
		btn := widget.NewButtonWithIcon("", theme.ContentCopyIcon(), func() {
			v.l.env.app.Clipboard().SetContent(line)
			v.l.copied = line
			v.l.touch()
		})
		btn.Importance = widget.LowImportance
		grid.Add(container.NewHBox(btn))
	}
	return container.NewHScroll(grid)
}

var (
	isoDate = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	isoTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}`)
)

// scalar is a value in words: dates and numbers the language's way,
// true and false as yes and no, null as a dash.
func (v *resultView) scalar(n *jnode) string {
	clk := v.l.env.clock
	switch s := n.scalar.(type) {
	case nil:
		return "—"
	case bool:
		if s {
			return lang.L("result.yes")
		}
		return lang.L("result.no")
	case json.Number:
		return decimal(s.String())
	case string:
		if isoDate.MatchString(s) {
			if t, err := time.Parse(time.DateOnly, s); err == nil {
				return clk.date(t)
			}
		}
		if isoTime.MatchString(s) {
			if t, err := time.Parse(time.RFC3339, s); err == nil {
				return clk.whenExact(t)
			}
		}
		return s
	}
	return ""
}

// keyLabel is a field's name.
func keyLabel(s string) *widget.Label {
	return widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
}
