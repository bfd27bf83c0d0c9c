package ui

import (
	_ "embed"

	"fyne.io/fyne/v2"
)

// Version is the console's version; set at build time.
var Version = "dev"

//go:embed icon/org.babgate.console.svg
var iconSVG []byte

// Icon is the console's icon, an arched gate ("bab" is a door) on a
// rounded tile: the app's and so its window's. The Debian package
// installs the same SVG, and PNGs drawn from it, in the hicolor theme as
// org.babgate.console, the app's ID.
var Icon fyne.Resource = fyne.NewStaticResource("org.babgate.console.svg", iconSVG)
