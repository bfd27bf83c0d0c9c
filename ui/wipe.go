package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// What a lookup holds (the details typed, the provider's answer, what
// was copied) lives in the lookup screen only, and goes when the clerk
// closes the result, chooses another service or leaves the console alone
// for IdleWipe. Dropping the references is what Go allows: the answer's
// bytes are overwritten, the strings drawn from them are left to the
// garbage collector.

// wipe drops the result and everything typed in the form, and clears the
// clipboard if it still holds what the console put there.
func (l *lookupScreen) wipe() {
	l.gen++
	if l.result != nil {
		clear(l.result.Body)
		l.result.Body, l.result.Text = nil, ""
		l.result = nil
	}
	if l.form != nil {
		l.form.clear()
		l.form = nil
	}
	if l.copied != "" {
		if cb := l.env.app.Clipboard(); cb.Content() == l.copied {
			cb.SetContent("")
		}
		l.copied = ""
	}
	if l.idle != nil {
		l.idle()
		l.idle = nil
	}
	l.current = nil
	l.setPanel(widget.NewLabel(""))
}

// touch restarts the idle countdown while the screen holds something.
func (l *lookupScreen) touch() {
	if l.idle != nil {
		l.idle()
		l.idle = nil
	}
	if l.current == nil {
		return
	}
	gen := l.gen
	l.idle = l.env.after(IdleWipe, func() {
		if gen == l.gen {
			l.idleWipe()
		}
	})
}

// idleWipe wipes after IdleWipe without a touch, and says so.
func (l *lookupScreen) idleWipe() {
	l.wipe()
	l.list.UnselectAll()
	l.setPanel(messagePanel(note{level: levelUnknown, text: lang.L("lookup.wiped_idle")}))
}

// copyable is a read-only value the clerk can select, with a button that
// copies it.
func (l *lookupScreen) copyable(value string) fyne.CanvasObject {
	label := widget.NewLabel(value)
	label.Selectable = true
	label.Wrapping = fyne.TextWrapWord
	btn := widget.NewButtonWithIcon("", theme.ContentCopyIcon(), func() {
		l.env.app.Clipboard().SetContent(value)
		l.copied = value
		l.touch()
	})
	btn.Importance = widget.LowImportance
	return container.NewBorder(nil, nil, nil, btn, label)
}
