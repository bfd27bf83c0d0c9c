package lab

import (
	"bytes"
	"io"
	"testing"
)

func TestPatternSelf(t *testing.T) {
	ok, err := PatternEqual(io.LimitReader(Pattern(), 3<<20+17), 3<<20+17)
	if !ok || err != nil {
		t.Fatal(ok, err)
	}
	var b bytes.Buffer
	io.CopyN(&b, Pattern(), 200000)
	d := b.Bytes()
	d[150000] ^= 1
	ok, _ = PatternEqual(bytes.NewReader(d), 200000)
	if ok {
		t.Fatal("flip not seen")
	}
	ok, _ = PatternEqual(bytes.NewReader(d[:199999]), 200000)
	if ok {
		t.Fatal("short not seen")
	}
}
