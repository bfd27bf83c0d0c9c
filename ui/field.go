package ui

import (
	"errors"
	"regexp"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/babgate/bab/console"
)

// paramField is one parameter's label, input, hint and error.
type paramField struct {
	param  console.Param
	label  *widget.Label
	entry  *widget.Entry
	choice *widget.Select
	errMsg *widget.Label
	box    *fyne.Container
	re     *regexp.Regexp
}

func newParamField(p console.Param, touched func()) *paramField {
	pf := &paramField{param: p, errMsg: errorLabel()}
	name := humanize(p.Name)
	if pf.required() {
		name += " *"
	}
	pf.label = keyLabel(name)
	if p.Pattern != "" {
		// OpenAPI patterns are ECMA-262; one Go cannot read is left to
		// the provider to check.
		pf.re, _ = regexp.Compile(p.Pattern)
	}
	var input fyne.CanvasObject
	if len(p.Enum) > 0 {
		pf.choice = widget.NewSelect(p.Enum, func(string) { pf.errMsg.Hide(); touched() })
		pf.choice.PlaceHolder = lang.L("form.choose")
		input = pf.choice
	} else {
		pf.entry = widget.NewEntry()
		pf.entry.Validator = pf.validate
		pf.entry.OnChanged = func(s string) {
			if pf.errMsg.Visible() && pf.validate(s) == nil {
				pf.errMsg.Hide()
			}
			touched()
		}
		input = pf.entry
	}
	rows := []fyne.CanvasObject{input}
	if p.Description != "" {
		rows = append(rows, hintLabel(p.Description))
	}
	pf.box = container.NewVBox(append(rows, pf.errMsg)...)
	return pf
}

// required: path parameters always are.
func (pf *paramField) required() bool { return pf.param.Required || pf.param.In == "path" }

func (pf *paramField) value() string {
	if pf.choice != nil {
		return pf.choice.Selected
	}
	return strings.TrimSpace(pf.entry.Text)
}

// validate says what is wrong with v, in words.
func (pf *paramField) validate(v string) error {
	v = strings.TrimSpace(v)
	switch {
	case v == "" && pf.required():
		return errors.New(lang.L("form.field.missing"))
	case v == "":
		return nil
	case pf.re != nil && !pf.re.MatchString(v):
		return errors.New(lang.L("form.field.pattern"))
	case len(pf.param.Enum) > 0 && !contains(pf.param.Enum, v):
		return errors.New(lang.L("form.field.enum"))
	}
	return nil
}

// check validates v and shows the error under the field.
func (pf *paramField) check(v string) error {
	err := pf.validate(v)
	if err != nil {
		pf.errMsg.SetText(err.Error())
		pf.errMsg.Show()
	} else {
		pf.errMsg.Hide()
	}
	return err
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// errorLabel is a hidden line for a field's error.
func errorLabel() *widget.Label {
	l := widget.NewLabel("")
	l.Importance = widget.DangerImportance
	l.Wrapping = fyne.TextWrapWord
	l.Hide()
	return l
}

// hintLabel is a line of help under a field.
func hintLabel(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.SizeName = theme.SizeNameCaptionText
	l.Wrapping = fyne.TextWrapWord
	return l
}

// humanize turns a field name from a provider's schema into a label:
// birth_date, birthDate and birth-date become "Birth date"; words in
// capitals stay so.
func humanize(name string) string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, string(cur))
			cur = cur[:0]
		}
	}
	rs := []rune(name)
	for i, r := range rs {
		switch {
		case r == '_' || r == '-' || r == '.' || r == ' ':
			flush()
			continue
		case i > 0 && isUpper(r) && !isUpper(rs[i-1]):
			flush()
		}
		cur = append(cur, r)
	}
	flush()
	for i, w := range words {
		if strings.ToUpper(w) != w || len([]rune(w)) == 1 {
			w = strings.ToLower(w)
		}
		if i == 0 {
			r := []rune(w)
			w = strings.ToUpper(string(r[0])) + string(r[1:])
		}
		words[i] = w
	}
	return strings.Join(words, " ")
}

func isUpper(r rune) bool { return r >= 'A' && r <= 'Z' }
