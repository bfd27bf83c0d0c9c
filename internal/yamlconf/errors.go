package yamlconf

import (
	"errors"
	"strconv"
)

// Error is a config problem at a place in a file; Error() is
// "FILE:LINE: MSG" (or "FILE: MSG" when Line is 0).
type Error struct {
	File string // the file as named by the caller
	Line int    // 1-based line, 0 when the problem has no single place
	Msg  string // what is wrong, in plain words
}

func (e *Error) Error() string {
	switch {
	case e.File == "" && e.Line == 0:
		return e.Msg
	case e.File == "":
		return "line " + strconv.Itoa(e.Line) + ": " + e.Msg
	case e.Line == 0:
		return e.File + ": " + e.Msg
	}
	return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
}

// Join joins errs like errors.Join and makes the result also match kind
// (errors.Is) without adding kind's text, so the message stays one
// "FILE:LINE: MSG" line per problem. It returns nil when all errs are nil.
func Join(kind error, errs ...error) error {
	joined := errors.Join(errs...)
	if joined == nil {
		return nil
	}
	return &kindError{kind: kind, err: joined}
}

type kindError struct {
	kind error
	err  error
}

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.kind, e.err} }
