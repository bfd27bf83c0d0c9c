package tracelog

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Checkpoint is the log's tree at one size, as the C2SP tlog-checkpoint
// format has it: the origin (the log's name), the number of records, and
// the root hash of the tree over them.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
}

// Text is the checkpoint's note text: three lines, without extension
// lines.
func (c Checkpoint) Text() []byte {
	return fmt.Appendf(nil, "%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Root[:]))
}

// ParseCheckpoint reads a checkpoint's note text, in its one canonical
// form: exactly the three lines Text writes.
func ParseCheckpoint(text []byte) (Checkpoint, error) {
	lines := strings.Split(string(text), "\n")
	if len(lines) != 4 || lines[3] != "" {
		return Checkpoint{}, fmt.Errorf("%w: a checkpoint is three lines (origin, size, root hash)", ErrMalformed)
	}
	c := Checkpoint{Origin: lines[0]}
	if err := CheckOrigin(c.Origin); err != nil {
		return Checkpoint{}, err
	}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != lines[1] {
		return Checkpoint{}, fmt.Errorf("%w: checkpoint size %q", ErrMalformed, lines[1])
	}
	c.Size = n
	if c.Root, err = parseHash(lines[2]); err != nil {
		return Checkpoint{}, fmt.Errorf("%w: checkpoint root hash: %v", ErrMalformed, err)
	}
	return c, nil
}

// parseHash reads a hash in canonical standard base64: Go's decoder
// ignores the unused bits of the last digit and line breaks, so a hash is
// re-encoded and compared.
func parseHash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != len(h) || base64.StdEncoding.EncodeToString(b) != s {
		return h, fmt.Errorf("%q is not a base64 SHA-256 hash", s)
	}
	copy(h[:], b)
	return h, nil
}

// CheckOrigin checks that origin can name a log and its key: not empty,
// UTF-8, no space and no "+" (the note format's rules for key names, which
// C2SP recommends for origins), no control character.
func CheckOrigin(origin string) error {
	if origin == "" || !utf8.ValidString(origin) || strings.ContainsAny(origin, "+") ||
		strings.IndexFunc(origin, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return fmt.Errorf("%w: origin %q: it must be non-empty, without spaces or \"+\" (for example exchange.example.gov/trace/1)", ErrMalformed, origin)
	}
	return nil
}

// NewKey makes a log key named origin: the signer key (secret) and the
// verifier key, in the note package's text forms.
func NewKey(origin string) (signer, verifier string, err error) {
	if err := CheckOrigin(origin); err != nil {
		return "", "", err
	}
	return note.GenerateKey(rand.Reader, origin)
}

// Sign signs c with the log's signer key as a note. The key's name must be
// c's origin.
func Sign(c Checkpoint, s note.Signer) ([]byte, error) {
	if s.Name() != c.Origin {
		return nil, fmt.Errorf("tracelog: signing a checkpoint of %q with the key of %q", c.Origin, s.Name())
	}
	return note.Sign(&note.Note{Text: string(c.Text())}, s)
}

// Open checks that signed is a checkpoint of v's log, signed with v's key,
// and returns it. Other signatures (witnesses' cosignatures, later) are
// allowed; the note must be in its canonical form.
func Open(signed []byte, v note.Verifier) (Checkpoint, error) {
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		switch {
		case errors.As(err, &unverified):
			return Checkpoint{}, fmt.Errorf("%w: it carries no signature by the key %s+%08x (it is another log's, or was signed with another key)", ErrSignature, v.Name(), v.KeyHash())
		case errors.As(err, &invalid):
			return Checkpoint{}, fmt.Errorf("%w: the signature by %s does not match the checkpoint's text (it was changed)", ErrSignature, v.Name())
		}
		return Checkpoint{}, fmt.Errorf("%w: the signed checkpoint: %v", ErrMalformed, err)
	}
	if err := canonicalSignatures(signed, len(n.Text)); err != nil {
		return Checkpoint{}, err
	}
	c, err := ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return Checkpoint{}, err
	}
	if c.Origin != v.Name() {
		return Checkpoint{}, fmt.Errorf("%w: the checkpoint is of the log %q, signed with a key named %q", ErrSignature, c.Origin, v.Name())
	}
	return c, nil
}

// canonicalSignatures refuses signature lines whose base64 is not in its
// canonical form (note.Open decodes leniently), so that no byte of a
// signed checkpoint can change without it failing.
func canonicalSignatures(signed []byte, textLen int) error {
	for line := range bytes.Lines(signed[textLen+1:]) {
		_, rest, _ := bytes.Cut(line, []byte(" ")) // "—"
		_, b64, _ := bytes.Cut(rest, []byte(" "))  // the key name
		b64 = bytes.TrimSuffix(b64, []byte("\n"))
		raw, err := base64.StdEncoding.DecodeString(string(b64))
		if err != nil || base64.StdEncoding.EncodeToString(raw) != string(b64) {
			return fmt.Errorf("%w: a signature line of the checkpoint is not canonical base64", ErrMalformed)
		}
	}
	return nil
}

// NewVerifier reads a log's verifier key (the text `bab-exchange trace
// key` prints).
func NewVerifier(key string) (note.Verifier, error) {
	v, err := note.NewVerifier(strings.TrimSpace(key))
	if err != nil {
		return nil, fmt.Errorf("%w: log key %q: %v (give the line bab-exchange trace key prints: ORIGIN+HASH+KEY)", ErrMalformed, key, err)
	}
	return v, nil
}

// LoadKey reads a log key given on a command line: the key's text
// (ORIGIN+HASH+KEY, as bab-exchange trace key prints it), or the name of
// a file that holds it. It returns the key's text.
func LoadKey(arg string) (string, error) {
	if _, err := note.NewVerifier(strings.TrimSpace(arg)); err == nil {
		return strings.TrimSpace(arg), nil
	}
	b, err := os.ReadFile(arg)
	if err != nil {
		return "", fmt.Errorf("%w: log key %q is neither a key (ORIGIN+HASH+KEY, as bab-exchange trace key prints it) nor a file that holds one", ErrMalformed, arg)
	}
	key := strings.TrimSpace(string(b))
	if _, err := NewVerifier(key); err != nil {
		return "", fmt.Errorf("log key file %s: %w", arg, err)
	}
	return key, nil
}
