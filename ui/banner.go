package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// banner is the coloured strip at the top of the window: the office's
// worst state in a sentence and what to do, green, orange or red.
type banner struct {
	widget.BaseWidget
	level level
	text  *widget.RichText
}

func newBanner() *banner {
	b := &banner{text: widget.NewRichText()}
	b.text.Wrapping = fyne.TextWrapWord
	b.ExtendBaseWidget(b)
	return b
}

// show puts n on the banner.
func (b *banner) show(n note) {
	b.level = n.level
	fg := b.foreground()
	b.text.Segments = []widget.RichTextSegment{
		&widget.TextSegment{Text: n.text, Style: widget.RichTextStyle{ColorName: fg, TextStyle: fyne.TextStyle{Bold: true}, Inline: true}},
	}
	if n.next != "" {
		b.text.Segments = append(b.text.Segments,
			&widget.TextSegment{Text: " " + n.next, Style: widget.RichTextStyle{ColorName: fg, Inline: true}})
	}
	b.text.Refresh()
	b.Refresh()
}

func (b *banner) background() fyne.ThemeColorName {
	switch b.level {
	case levelOK:
		return theme.ColorNameSuccess
	case levelWarn:
		return theme.ColorNameWarning
	case levelFail:
		return theme.ColorNameError
	}
	return theme.ColorNameDisabledButton
}

func (b *banner) foreground() fyne.ThemeColorName {
	switch b.level {
	case levelOK:
		return theme.ColorNameForegroundOnSuccess
	case levelWarn:
		return theme.ColorNameForegroundOnWarning
	case levelFail:
		return theme.ColorNameForegroundOnError
	}
	return theme.ColorNameForeground
}

func (b *banner) CreateRenderer() fyne.WidgetRenderer {
	rect := canvas.NewRectangle(theme.Color(b.background()))
	return &bannerRenderer{b: b, rect: rect, stack: container.NewStack(rect, container.NewPadded(b.text))}
}

type bannerRenderer struct {
	b     *banner
	rect  *canvas.Rectangle
	stack *fyne.Container
}

func (r *bannerRenderer) Layout(s fyne.Size)           { r.stack.Resize(s) }
func (r *bannerRenderer) MinSize() fyne.Size           { return r.stack.MinSize() }
func (r *bannerRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.stack} }
func (r *bannerRenderer) Destroy()                     {}

// Refresh follows the level and the theme, which may change while the
// console runs.
func (r *bannerRenderer) Refresh() {
	r.rect.FillColor = theme.Color(r.b.background())
	r.rect.Refresh()
	r.b.text.Refresh()
}
