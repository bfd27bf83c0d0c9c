package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/babgate/bab/internal/manpage"
)

func manCmd(args []string) error {
	fs := flag.NewFlagSet("debdoc man", flag.ContinueOnError)
	bin := fs.String("bin", "", "the built binary to ask for its help (required)")
	name := fs.String("name", "", "the command's name (default: the binary's file name)")
	version := fs.String("version", "", "the version shown in the page footer (required)")
	out := fs.String("out", "", "where to write the page (default: standard output)")
	var files, seeAlso, desc list
	fs.Var(&files, "file", "PATH=TEXT for the FILES section (repeat)")
	fs.Var(&seeAlso, "see-also", "a page for SEE ALSO, like systemctl(1) (repeat)")
	fs.Var(&desc, "description", "a paragraph of DESCRIPTION before the help's own notes (repeat)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *bin == "" || *version == "" {
		return errors.New("-bin and -version are needed")
	}
	if *name == "" {
		*name = filepath.Base(*bin)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := manpage.Collect(ctx, *bin, *name, 10*time.Second)
	if err != nil {
		return err
	}
	p.Version = *version
	if p.Date, err = buildTime(); err != nil {
		return err
	}
	p.Description = append(desc, p.Description...)
	for _, f := range files {
		path, text, ok := strings.Cut(f, "=")
		if !ok {
			return fmt.Errorf("-file %q: write PATH=TEXT", f)
		}
		p.Files = append(p.Files, manpage.Item{Term: path, Text: text})
	}
	p.SeeAlso = seeAlso
	return write(*out, p.Roff())
}
