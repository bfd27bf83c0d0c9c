package ident

import (
	"errors"
	"strings"
	"testing"
)

func TestErrorMessage(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{
			err:  second(ParseService("MA/gov/x")),
			want: `invalid service identifier "MA/gov/x": has 3 parts separated by '/', want 4 (country/class/code/name) (expected form MA/GOV/DGSN/civil-status)`,
		},
		{
			err:  second(ParseService("MA/gov/X/y")),
			want: `invalid service identifier "MA/gov/X/y": class "gov" must be 2 to 10 uppercase letters (expected form MA/GOV/DGSN/civil-status)`,
		},
		{
			err:  second(ParseMember("MA/GOV/dgsn")),
			want: `invalid member identifier "MA/GOV/dgsn": code "dgsn" contains 'd'; only A-Z, 0-9 and '-' are allowed (expected form MA/GOV/DGSN)`,
		},
		{
			err:  second(ParseAppliance("MA/GOV/DGSN")),
			want: `invalid appliance identifier "MA/GOV/DGSN": has no ':' between member and appliance name (expected form MA/GOV/DGSN:rabat-01)`,
		},
		{
			err:  third(SplitServicePath("/MA")),
			want: `invalid service path "/MA": has 1 segments, want at least 4 (/country/class/code/name) (expected form /MA/GOV/DGSN/civil-status/...)`,
		},
		{
			err:  second(ParseMember("MA/GOV/\n")),
			want: `invalid member identifier "MA/GOV/\n": code "\n" contains '\n'; only A-Z, 0-9 and '-' are allowed (expected form MA/GOV/DGSN)`,
		},
	}
	for _, tt := range tests {
		if tt.err == nil {
			t.Errorf("got no error, want %s", tt.want)
			continue
		}
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
}

func TestErrorTruncatesInput(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes, cut must not split a rune
	_, err := ParseMember(long)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("ParseMember(long): error %v, want *Error", err)
	}
	if got, want := e.Input, strings.Repeat("é", 40); got != want {
		t.Errorf("Input = %q, want %q", got, want)
	}
	msg := err.Error()
	if !strings.Contains(msg, `"...:`) {
		t.Errorf("message %q does not mark the truncation", msg)
	}
	if len(msg) > 300 {
		t.Errorf("message is %d bytes long, want it bounded", len(msg))
	}
}

func TestErrorIs(t *testing.T) {
	_, err := ParseMember("x")
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("errors.Is(%v, ErrInvalid) = false, want true", err)
	}
	if errors.Is(err, errors.New("invalid identifier")) {
		t.Error("errors.Is matched an unrelated error with the same text")
	}
}

func second[T any](_ T, err error) error { return err }

func third[T, U any](_ T, _ U, err error) error { return err }
