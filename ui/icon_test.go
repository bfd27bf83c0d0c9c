package ui

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
)

// TestIcon: the console gives the app its icon, and Fyne draws that SVG:
// the door's terracotta where the door is.
func TestIcon(t *testing.T) {
	a := &iconApp{App: test.NewTempApp(t)}
	c := New(a)
	t.Cleanup(c.Window().Close)
	if a.icon != Icon {
		t.Fatalf("the app's icon is %v, want the console's", a.icon)
	}

	img := canvas.NewImageFromResource(Icon)
	img.FillMode = canvas.ImageFillStretch
	w := test.NewTempWindow(t, img)
	w.SetPadded(false)
	w.Resize(fyne.NewSize(128, 128))
	shot := w.Canvas().Capture()
	// 102,154 of the icon's 256: the left leaf of the door.
	x, y := shot.Bounds().Dx()*102/256, shot.Bounds().Dy()*154/256
	r, g, b, _ := shot.At(x, y).RGBA()
	if near := func(v uint32, want uint8) bool { d := int(v>>8) - int(want); return d > -12 && d < 12 }; !near(r, 0xb4) || !near(g, 0x53) || !near(b, 0x2a) {
		t.Errorf("pixel %d,%d of the drawn icon is #%02x%02x%02x, want the door's #b4532a", x, y, r>>8, g>>8, b>>8)
	}
}

// iconApp records the icon it is given: the test app ignores it.
type iconApp struct {
	fyne.App
	icon fyne.Resource
}

func (a *iconApp) SetIcon(r fyne.Resource) { a.icon = r }
