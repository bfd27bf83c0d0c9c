package ui

import (
	"regexp"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/babgate/bab/console"
)

// lookupForm is the form of one service: its operations, each operation's
// parameters as fields (drop-downs for those with a list of values, a
// check of the pattern for those with one), and the purpose when the
// rules ask for one.
type lookupForm struct {
	svc      console.Service
	ops      []console.Operation
	op       int
	opSelect *widget.Select
	fields   []*paramField
	fieldBox *fyne.Container
	opRow    []fyne.CanvasObject // label and drop-down of the operation, when there are several
	purpose  *widget.Select
	purpRow  []fyne.CanvasObject
	purpErr  *widget.Label
	root     fyne.CanvasObject
	cont     *widget.Button
	touched  func()
}

// freePath is the operation of a service without a declared one: a GET
// of a path the clerk types.
const freePath = "{path}"

func newLookupForm(s console.Service, touched func(), next func(console.LookupRequest)) *lookupForm {
	f := &lookupForm{svc: s, ops: s.Operations, touched: touched, fieldBox: container.NewVBox()}
	if len(f.ops) == 0 {
		f.ops = []console.Operation{{Path: freePath}}
	}
	// The service as the catalog lists it: what it is, who holds it, its
	// name in the policy.
	title := widget.NewLabelWithStyle(s.ID, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameSubHeadingText
	title.Wrapping = fyne.TextWrapWord
	head := []fyne.CanvasObject{title,
		widget.NewLabel(lang.L("form.provider", map[string]any{"Provider": providerName(&s)}))}
	if s.Description != "" {
		title.SetText(s.Description)
		id := widget.NewLabel(s.ID)
		id.SizeName = theme.SizeNameCaptionText
		head = append(head, id)
	}
	if len(f.ops) > 1 {
		names := make([]string, len(f.ops))
		for i, o := range f.ops {
			names[i] = opName(o)
		}
		f.opSelect = widget.NewSelect(names, func(string) {
			f.op = f.opSelect.SelectedIndex()
			f.build()
			touched()
		})
		f.opRow = []fyne.CanvasObject{keyLabel(lang.L("form.operation")), f.opSelect}
	}
	if len(s.Purposes) > 0 {
		f.purpErr = errorLabel()
		f.purpose = widget.NewSelect(s.Purposes, func(string) { f.purpErr.Hide(); touched() })
		f.purpose.PlaceHolder = lang.L("form.purpose.choose")
		if len(s.Purposes) == 1 {
			f.purpose.SetSelectedIndex(0)
		}
		hint := hintLabel(lang.L("form.purpose.hint"))
		f.purpRow = []fyne.CanvasObject{keyLabel(lang.L("form.purpose") + " *"), container.NewVBox(f.purpose, hint, f.purpErr)}
	}
	if f.opSelect != nil {
		f.opSelect.SetSelectedIndex(0) // builds the fields
	} else {
		f.build()
	}
	f.cont = widget.NewButtonWithIcon(lang.L("form.continue"), theme.NavigateNextIcon(), func() {
		touched()
		if req, ok := f.request(); ok {
			next(req)
		}
	})
	f.cont.Importance = widget.HighImportance
	body := container.NewVBox(append(head, widget.NewSeparator(), f.fieldBox, hintLabel(lang.L("form.required")))...)
	f.root = container.NewBorder(nil, container.NewHBox(layout.NewSpacer(), f.cont), nil, nil, container.NewVScroll(body))
	return f
}

// opName is an operation as the drop-down lists it.
func opName(o console.Operation) string {
	if o.Summary != "" {
		return o.Summary
	}
	return o.Path
}

// build makes the fields of the chosen operation, between the choice of
// operation and the purpose, so that all line up.
func (f *lookupForm) build() {
	f.fields = nil
	cells := append([]fyne.CanvasObject(nil), f.opRow...)
	for _, p := range operationParams(f.ops[f.op]) {
		pf := newParamField(p, f.touched)
		f.fields = append(f.fields, pf)
		cells = append(cells, pf.label, pf.box)
	}
	cells = append(cells, f.purpRow...)
	f.fieldBox.Objects = []fyne.CanvasObject{container.New(layout.NewFormLayout(), cells...)}
	if f.root != nil {
		f.root.Refresh() // the fields' height changed
	}
}

// operationParams are the operation's parameters, with any parameter of
// the path template that the service forgot to declare; the free path
// of a service without operations is one field.
func operationParams(o console.Operation) []console.Param {
	if o.Path == freePath {
		return []console.Param{{Name: "path", In: "path", Required: true, Description: lang.L("form.path.hint"), Pattern: "^/"}}
	}
	params := append([]console.Param(nil), o.Params...)
	declared := map[string]bool{}
	for _, p := range params {
		if p.In == "path" {
			declared[p.Name] = true
		}
	}
	for _, m := range pathParam.FindAllStringSubmatch(o.Path, -1) {
		if !declared[m[1]] {
			declared[m[1]] = true
			params = append(params, console.Param{Name: m[1], In: "path", Required: true})
		}
	}
	return params
}

var pathParam = regexp.MustCompile(`\{([^{}]+)\}`)

// request checks every field and returns the request they make; each
// field that fails says why under it.
func (f *lookupForm) request() (console.LookupRequest, bool) {
	op := f.ops[f.op]
	req := console.LookupRequest{Service: f.svc.ID, Path: op.Path, Params: map[string]string{}}
	ok := true
	for _, pf := range f.fields {
		v := pf.value()
		if err := pf.check(v); err != nil {
			ok = false
			continue
		}
		if v != "" {
			req.Params[pf.param.Name] = v
		}
	}
	if op.Path == freePath {
		req.Path, req.Params = req.Params["path"], nil
	}
	if f.purpose != nil {
		req.Purpose = f.purpose.Selected
		if req.Purpose == "" {
			f.purpErr.SetText(lang.L("form.purpose.missing"))
			f.purpErr.Show()
			ok = false
		}
	}
	if len(req.Params) == 0 {
		req.Params = nil
	}
	return req, ok
}

// clear empties every field.
func (f *lookupForm) clear() {
	for _, pf := range f.fields {
		if pf.entry != nil {
			pf.entry.SetText("")
		}
		if pf.choice != nil {
			pf.choice.ClearSelected()
		}
	}
	f.fields = nil
	f.fieldBox.Objects = nil
}
