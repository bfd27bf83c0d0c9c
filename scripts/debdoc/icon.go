package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"

	"github.com/fyne-io/oksvg"
	"github.com/srwiley/rasterx"
)

// iconCmd rasterises the console's SVG icon into a square PNG for the
// hicolor theme's fixed sizes, with the SVG renderer Fyne draws it with
// in the running console, so the two look alike. The same SVG gives the
// same bytes every time.
func iconCmd(args []string) error {
	fs := flag.NewFlagSet("debdoc icon", flag.ContinueOnError)
	svg := fs.String("svg", "", "the SVG icon (required)")
	size := fs.Int("size", 0, "the PNG's width and height in pixels (required)")
	out := fs.String("out", "", "where to write the PNG (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *svg == "" || *size <= 0 || *out == "" {
		return errors.New("-svg, -size and -out are needed")
	}
	src, err := os.ReadFile(*svg)
	if err != nil {
		return err
	}
	b, err := rasterise(src, *size)
	if err != nil {
		return fmt.Errorf("%s: %w", *svg, err)
	}
	return os.WriteFile(*out, b, 0o644)
}

// rasterise draws an SVG into a size×size PNG. An element the renderer
// does not know is an error rather than a silent gap in the picture.
func rasterise(svg []byte, size int) (out []byte, err error) {
	icon, err := oksvg.ReadIconStream(bytes.NewReader(svg), oksvg.StrictErrorMode)
	if err != nil {
		return nil, err
	}
	if icon.ViewBox.W <= 0 || icon.ViewBox.W != icon.ViewBox.H {
		return nil, fmt.Errorf("the viewBox is %gx%g; an icon's must be square", icon.ViewBox.W, icon.ViewBox.H)
	}
	defer func() {
		if r := recover(); r != nil { // the renderer panics on some paths
			out, err = nil, fmt.Errorf("drawing the icon: %v", r)
		}
	}()
	icon.SetTarget(0, 0, float64(size), float64(size))
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	scanner := rasterx.NewScannerGV(size, size, img, img.Bounds())
	icon.Draw(rasterx.NewDasher(size, size, scanner), 1)
	var b bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
