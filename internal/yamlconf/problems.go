package yamlconf

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Problems collects the validation errors a config package finds after
// decoding, each placed at the line of the key it is about.
type Problems struct {
	File string     // the file name used in messages
	Root *yaml.Node // the root returned by Decode, for line numbers
	errs []*Error
}

// Add records a problem about the value at path (map keys and sequence
// indexes, as for Line). The message is "PATH: MSG", e.g.
// "gateway.clients[1].name: ..."; with an empty path it is MSG alone, on no
// line, for something missing from the file as a whole.
func (p *Problems) Add(path []any, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	line := 0
	if len(path) > 0 {
		msg = Path(path...) + ": " + msg
		line = Line(p.Root, path...)
	}
	p.errs = append(p.errs, &Error{File: p.File, Line: line, Msg: msg})
}

// Err returns the problems in line order, joined and matching kind (see
// Join), or nil when there are none.
func (p *Problems) Err(kind error) error {
	if len(p.errs) == 0 {
		return nil
	}
	return Join(kind, joinSorted(p.errs))
}

// Path writes a path of map keys and sequence indexes the way messages show
// it: Path("gateway", "clients", 1, "name") is "gateway.clients[1].name".
func Path(path ...any) string {
	var b strings.Builder
	for _, p := range path {
		switch p := p.(type) {
		case int:
			b.WriteString("[" + strconv.Itoa(p) + "]")
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			fmt.Fprint(&b, p)
		}
	}
	return b.String()
}
