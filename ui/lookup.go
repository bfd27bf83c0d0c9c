package ui

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"golang.org/x/text/unicode/norm"

	"github.com/babgate/bab/console"
	"github.com/babgate/bab/problem"
)

// IdleWipe is how long a lookup's details and result stay on screen
// without the clerk touching them.
const IdleWipe = 5 * time.Minute

// lookupScreen is the once-only lookup: the services the clerk's role may
// look up on the left, on the right the chosen service's form, the
// summary before sending, then the answer or the error.
//
// What the clerk typed and what the provider answered is held here only,
// and dropped by wipe: when the clerk closes the result, chooses another
// service, or leaves the screen alone for IdleWipe.
type lookupScreen struct {
	env  *env
	who  *console.WhoAmI
	root fyne.CanvasObject

	search   *widget.Entry
	list     *widget.List
	services []console.Service
	shown    []int // indexes into services that match the search
	loaded   bool
	loadErr  error
	loading  bool
	panel    *fyne.Container

	current *console.Service
	form    *lookupForm
	result  *console.LookupResult
	gen     int // counts wipes, so that a late answer to a wiped request is dropped
	copied  string
	idle    func() bool
}

func newLookupScreen(e *env) *lookupScreen {
	l := &lookupScreen{env: e, panel: container.NewStack()}
	l.search = widget.NewEntry()
	l.search.SetPlaceHolder(lang.L("lookup.search"))
	l.search.OnChanged = func(string) { l.filter() }
	l.list = widget.NewList(
		func() int { return len(l.shown) },
		func() fyne.CanvasObject {
			name := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
			provider, id := widget.NewLabel(""), widget.NewLabel("")
			id.SizeName = theme.SizeNameCaptionText
			for _, l := range []*widget.Label{name, provider, id} {
				l.Truncation = fyne.TextTruncateEllipsis
			}
			// The lines of one service close together, services apart.
			return container.New(layout.NewCustomPaddedVBoxLayout(-2*theme.InnerPadding()), name, provider, id)
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			s := l.services[l.shown[id]]
			box := o.(*fyne.Container)
			title := s.Description
			if title == "" {
				title = s.ID
			}
			box.Objects[0].(*widget.Label).SetText(title)
			box.Objects[1].(*widget.Label).SetText(providerName(&s))
			box.Objects[2].(*widget.Label).SetText(s.ID)
		},
	)
	l.list.OnSelected = func(id widget.ListItemID) {
		if id < len(l.shown) {
			l.choose(l.services[l.shown[id]])
		}
	}
	left := container.NewBorder(l.search, nil, nil, nil, l.list)
	split := container.NewHSplit(left, l.panel)
	split.Offset = 0.32
	l.root = split
	l.showCatalogState()
	return l
}

// providerName is the providing administration in words.
func providerName(s *console.Service) string {
	if s.ProviderName != "" {
		return s.ProviderName
	}
	return s.Provider
}

// opened is called when the clerk opens the tab: the catalog is asked
// for if it is not there yet.
func (l *lookupScreen) opened() {
	if !l.loaded || l.loadErr != nil {
		l.reload()
	}
	l.touch()
}

// reload asks for the catalog again: at start, and when the policy or
// the clerk's role changes.
func (l *lookupScreen) reload() {
	if l.loading {
		return
	}
	l.loading = true
	call(l.env, listTimeout, l.env.api.Catalog, func(s []console.Service, err error) {
		l.loading = false
		l.loaded = true
		l.loadErr = err
		if err == nil {
			l.services = s
		}
		l.filter()
		if l.current != nil && l.find(l.current.ID) == nil && l.result == nil {
			l.wipe() // the service is no longer allowed
			l.current = nil
		}
		if l.current == nil {
			l.showCatalogState()
		}
	})
}

// find returns the catalog's service with this id.
func (l *lookupScreen) find(id string) *console.Service {
	for i := range l.services {
		if l.services[i].ID == id {
			return &l.services[i]
		}
	}
	return nil
}

// filter shows the services that match the search, ignoring case and
// accents.
func (l *lookupScreen) filter() {
	q := fold(l.search.Text)
	l.shown = l.shown[:0]
	for i, s := range l.services {
		if q == "" || strings.Contains(fold(s.ID+" "+s.Provider+" "+s.ProviderName+" "+s.Description), q) {
			l.shown = append(l.shown, i)
		}
	}
	l.list.UnselectAll()
	l.list.Refresh()
}

// fold is s in lower case without accents, for searching.
func fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(strings.TrimSpace(s))) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// showCatalogState fills the right side when no service is chosen.
func (l *lookupScreen) showCatalogState() {
	var pe *console.ProblemError
	switch {
	case !l.loaded:
		l.setPanel(messagePanel(note{level: levelUnknown, text: lang.L("lookup.loading")}))
	case errors.As(l.loadErr, &pe) && pe.Code() == problem.NotAllowed:
		l.setPanel(messagePanel(l.noAccess()))
	case l.loadErr != nil:
		l.setPanel(messagePanel(errorNote(l.loadErr)))
	case len(l.services) == 0:
		l.setPanel(messagePanel(l.noAccess()))
	default:
		l.setPanel(messagePanel(note{level: levelUnknown, text: lang.L("lookup.choose")}))
	}
}

// noAccess says that the clerk's role may look up nothing.
func (l *lookupScreen) noAccess() note {
	role := lang.L("fact.unknown")
	if l.who != nil {
		role = roleName(l.who.Role)
	}
	return note{level: levelWarn, text: lang.L("lookup.no_access.text", map[string]any{"Role": role}), next: lang.L("lookup.no_access.next")}
}

func (l *lookupScreen) setPanel(o fyne.CanvasObject) {
	l.panel.Objects = []fyne.CanvasObject{o}
	l.panel.Refresh()
}

// choose opens the form of a service, wiping what the previous one held.
func (l *lookupScreen) choose(s console.Service) {
	if l.current != nil && l.current.ID == s.ID && l.form != nil {
		return
	}
	l.wipe()
	l.current = &s
	l.form = newLookupForm(s, l.touch, l.confirm)
	l.setPanel(l.form.root)
	l.touch()
}

// confirm shows what will be asked, of whom, for what, before sending.
func (l *lookupScreen) confirm(req console.LookupRequest) {
	l.touch()
	l.setPanel(confirmPanel(l.current, l.form, req, l.who,
		func() { l.touch(); l.setPanel(l.form.root) },
		func() { l.send(req) }))
}

// send asks the provider through the appliance.
func (l *lookupScreen) send(req console.LookupRequest) {
	gen := l.gen
	provider := providerName(l.current)
	sent := time.Now()
	bar := widget.NewProgressBarInfinite()
	l.setPanel(container.NewVBox(
		widget.NewLabel(lang.L("lookup.sending", map[string]any{"Provider": provider})), bar))
	call(l.env, lookupTimeout, func(ctx context.Context) (*console.LookupResult, error) {
		return l.env.api.Lookup(ctx, req)
	}, func(res *console.LookupResult, err error) {
		bar.Stop()
		if gen != l.gen {
			if res != nil {
				clear(res.Body) // asked for by a lookup since wiped
			}
			return
		}
		if err != nil {
			l.env.log("lookup in %s failed after %s: %v", req.Service, time.Since(sent).Round(time.Millisecond), problemCode(err))
			l.failed(err)
			return
		}
		l.result = res
		l.setPanel(resultPanel(l, res))
		l.touch()
		l.env.log("lookup %s in %s: status %d, fields shown %s after Send", res.RequestID, req.Service, res.Status, time.Since(sent).Round(time.Millisecond))
	})
}

// failed shows a lookup's error in words, with the way back to the form.
func (l *lookupScreen) failed(err error) {
	var id string
	var pe *console.ProblemError
	if errors.As(err, &pe) {
		id = pe.Problem.RequestID
	}
	var rows []fyne.CanvasObject
	rows = append(rows, noteView(errorNote(err)))
	if id != "" {
		rows = append(rows, container.NewBorder(nil, nil, widget.NewLabel(lang.L("lookup.request_id")), nil, l.copyable(id)))
	}
	back := widget.NewButtonWithIcon(lang.L("lookup.back"), theme.NavigateBackIcon(), func() {
		l.touch()
		l.setPanel(l.form.root)
	})
	closeBtn := widget.NewButtonWithIcon(lang.L("lookup.close"), theme.CancelIcon(), l.closeResult)
	l.setPanel(container.NewBorder(nil, container.NewHBox(back, closeBtn), nil, nil, container.NewVScroll(container.NewVBox(rows...))))
	l.touch()
}

// closeResult wipes the result and the details, and offers the same
// service's form again, empty.
func (l *lookupScreen) closeResult() {
	s := l.current
	l.wipe()
	if s != nil {
		l.choose(*s)
	}
}

// messagePanel is a note alone in the panel.
func messagePanel(n note) fyne.CanvasObject {
	return container.NewVBox(noteView(n))
}
