package ui

import (
	"context"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/babgate/bab/console"
	"github.com/babgate/bab/problem"
)

// activityScreen lists the office's recent exchanges in both directions,
// filtered by direction, outcome and service. Choosing a row copies its
// request id, which is what office IT asks for.
type activityScreen struct {
	env       *env
	root      fyne.CanvasObject
	direction *widget.Select
	outcome   *widget.Select
	service   *widget.SelectEntry
	summary   *widget.Label
	table     *widget.Table
	fit       *fitLayout
	rows      []console.Activity
	services  []string // every service seen, for the filter's list
	loading   bool
}

// The filters' choices, by index.
const (
	filterAll = iota
	filterOut // asked by this office / succeeded
	filterIn  // asked of this office / failed
)

// activityFixed are the columns shown whole; the service has the rest (a
// long service name is cut before who asked, the outcome or a request id).
var activityFixed = []bool{true, true, true, false, true, true, true}

var activityColumns = []string{"activity.col.time", "activity.col.direction", "activity.col.who", "activity.col.service", "activity.col.outcome", "activity.col.duration", "activity.col.request_id"}

func newActivityScreen(e *env) *activityScreen {
	a := &activityScreen{env: e, summary: widget.NewLabel("")}
	a.summary.Wrapping = fyne.TextWrapWord
	a.direction = widget.NewSelect([]string{lang.L("activity.direction.all"), lang.L("activity.direction.out"), lang.L("activity.direction.in")}, nil)
	a.outcome = widget.NewSelect([]string{lang.L("activity.outcome.all"), lang.L("activity.outcome.ok"), lang.L("activity.outcome.failed")}, nil)
	a.direction.SetSelectedIndex(filterAll)
	a.outcome.SetSelectedIndex(filterAll)
	a.direction.OnChanged = func(string) { a.refresh() }
	a.outcome.OnChanged = func(string) { a.refresh() }
	a.service = widget.NewSelectEntry(nil)
	a.service.SetPlaceHolder(lang.L("activity.service.all"))
	a.service.OnSubmitted = func(string) { a.refresh() }
	a.service.OnChanged = func(s string) {
		if s == "" || slices.Contains(a.services, s) {
			a.refresh()
		}
	}
	again := widget.NewButtonWithIcon(lang.L("activity.refresh"), theme.ViewRefreshIcon(), a.refresh)
	filters := container.NewBorder(nil, nil, nil, again, container.NewGridWithColumns(3, a.direction, a.outcome, a.service))

	a.table = widget.NewTableWithHeaders(
		func() (int, int) { return len(a.rows), len(activityColumns) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			if id.Row < len(a.rows) {
				o.(*widget.Label).SetText(a.cell(a.rows[id.Row], id.Col))
			}
		},
	)
	a.table.ShowHeaderColumn = false
	a.table.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	a.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Row < 0 && id.Col >= 0 {
			o.(*widget.Label).SetText(lang.L(activityColumns[id.Col]))
		}
	}
	a.fit = &fitLayout{table: a.table, fixed: activityFixed, texts: a.column}
	a.table.OnSelected = func(id widget.TableCellID) {
		if id.Row >= 0 && id.Row < len(a.rows) {
			e.app.Clipboard().SetContent(a.rows[id.Row].RequestID)
			a.summary.SetText(lang.L("activity.copied", map[string]any{"ID": a.rows[id.Row].RequestID}))
		}
		a.table.UnselectAll()
	}
	a.root = container.NewBorder(container.NewVBox(filters, a.summary), nil, nil, nil, container.New(a.fit, a.table))
	return a
}

// filter is the filter the clerk chose. Failed exchanges are filtered
// here: the appliance filters by one outcome, and failures have many.
func (a *activityScreen) filter() console.ActivityFilter {
	var f console.ActivityFilter
	switch a.direction.SelectedIndex() {
	case filterOut:
		f.Direction = "out"
	case filterIn:
		f.Direction = "in"
	}
	if a.outcome.SelectedIndex() == filterOut {
		f.Outcome = "ok"
	}
	f.Service = a.service.Text
	return f
}

// refresh asks for the activity under the chosen filter.
func (a *activityScreen) refresh() {
	if a.loading || a.env.api == nil {
		return
	}
	a.loading = true
	f := a.filter()
	failedOnly := a.outcome.SelectedIndex() == filterIn
	call(a.env, listTimeout, func(ctx context.Context) ([]console.Activity, error) {
		return a.env.api.Activity(ctx, f)
	}, func(rows []console.Activity, err error) {
		a.loading = false
		if err != nil {
			n := errorNote(err)
			a.rows = nil
			a.summary.SetText(n.text + " " + n.next)
			a.table.Refresh()
			return
		}
		a.rows = a.rows[:0]
		for _, r := range rows {
			if !failedOnly || r.Outcome != "ok" {
				a.rows = append(a.rows, r)
			}
			if r.Service != "" && !slices.Contains(a.services, r.Service) {
				a.services = append(a.services, r.Service)
			}
		}
		slices.Sort(a.services)
		a.service.SetOptions(a.services)
		if len(a.rows) == 0 {
			a.summary.SetText(lang.L("activity.none"))
		} else {
			a.summary.SetText(lang.L("activity.count", map[string]any{"N": number(uint64(len(a.rows)))}))
		}
		a.fit.fit()
		a.table.Refresh()
	})
}

// column is a column's header and the cells it shows.
func (a *activityScreen) column(col int) []string {
	texts := []string{lang.L(activityColumns[col])}
	for _, r := range a.rows {
		texts = append(texts, a.cell(r, col))
	}
	return texts
}

// cell is one column of a row in words.
func (a *activityScreen) cell(r console.Activity, col int) string {
	switch col {
	case 0:
		return a.env.clock.recent(r.At)
	case 1:
		if r.Direction == "in" {
			return lang.L("activity.cell.in")
		}
		return lang.L("activity.cell.out")
	case 2:
		return whoText(r.Who)
	case 3:
		return r.Service
	case 4:
		return outcomeText(r.Outcome)
	case 5:
		return duration(r.Duration)
	case 6:
		return r.RequestID
	}
	return ""
}

// whoText is who asked: a clerk's console system (console/CONSOLE/USER)
// as "USER (CONSOLE)", any other system or appliance as it is named.
func whoText(who string) string {
	if rest, ok := strings.CutPrefix(who, "console/"); ok {
		if console, user, ok := strings.Cut(rest, "/"); ok {
			return user + " (" + console + ")"
		}
	}
	return who
}

// outcomeText is an exchange's outcome in words: the problem's short
// title when it failed.
func outcomeText(outcome string) string {
	if outcome == "ok" {
		return lang.L("activity.outcome.ok")
	}
	return problemNote(&console.ProblemError{Problem: problem.Problem{Code: problem.Code(outcome)}}).short
}

// fitLayout sizes the columns of its table to the width it has: the
// columns marked fixed (time, direction, duration, request id) as wide as
// their widest text, the others sharing what is left in proportion to
// their own widest text, so that the table fits the window rather than
// scroll and only long names are cut.
type fitLayout struct {
	table *widget.Table
	fixed []bool
	texts func(col int) []string // a column's header and cells
	width float32
}

func (l *fitLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	if size.Width != l.width {
		l.width = size.Width
		l.fit()
	}
	for _, o := range objs {
		o.Resize(size)
		o.Move(fyne.NewPos(0, 0))
	}
}

func (l *fitLayout) MinSize(objs []fyne.CanvasObject) fyne.Size { return objs[0].MinSize() }

// fit sets the columns' widths for the layout's width and the texts now
// shown.
func (l *fitLayout) fit() {
	if l.width <= 0 {
		return
	}
	natural := make([]float32, len(l.fixed))
	var fixedSum, flexSum float32
	for col := range l.fixed {
		for i, s := range l.texts(col) {
			// As wide as a label showing it whole: its padding included.
			probe := widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: i == 0})
			natural[col] = max(natural[col], probe.MinSize().Width+theme.Padding())
		}
		if l.fixed[col] {
			fixedSum += natural[col]
		} else {
			flexSum += natural[col]
		}
	}
	room := l.width - float32(len(l.fixed))*theme.Padding() // less the separators
	// The fixed columns leave the others a fifth at least.
	fixedScale := min(1, (room-min(flexSum, room/5))/fixedSum)
	for col, w := range natural {
		switch total := fixedSum + flexSum; {
		case total <= room: // room for all: the extra goes in proportion
			w += (room - total) * w / total
		case l.fixed[col]:
			w *= fixedScale
		default:
			w = (room - fixedSum*fixedScale) * w / flexSum
		}
		l.table.SetColumnWidth(col, w)
	}
}
