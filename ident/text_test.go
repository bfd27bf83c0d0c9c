package ident

import (
	"encoding"
	"encoding/json"
	"errors"
	"testing"
)

// textValue is implemented by *Member, *Service and *Appliance.
type textValue interface {
	encoding.TextMarshaler
	encoding.TextUnmarshaler
	String() string
}

func TestTextRoundTrip(t *testing.T) {
	tests := []struct {
		in    textValue
		fresh func() textValue
	}{
		{ptr(MustMember("MA/GOV/DGSN")), func() textValue { return new(Member) }},
		{ptr(MustService("MA/GOV/DGSN/civil-status")), func() textValue { return new(Service) }},
		{ptr(MustAppliance("MA/GOV/DGSN:rabat-01")), func() textValue { return new(Appliance) }},
	}
	for _, tt := range tests {
		text, err := tt.in.MarshalText()
		if err != nil {
			t.Fatalf("%v.MarshalText: %v", tt.in, err)
		}
		if string(text) != tt.in.String() {
			t.Errorf("MarshalText = %q, want %q", text, tt.in.String())
		}
		got := tt.fresh()
		if err := got.UnmarshalText(text); err != nil {
			t.Fatalf("UnmarshalText(%q): %v", text, err)
		}
		if got.String() != tt.in.String() {
			t.Errorf("round trip of %v gave %v", tt.in, got)
		}
	}
}

func TestMarshalTextRefusesInvalid(t *testing.T) {
	tests := []struct {
		name string
		v    encoding.TextMarshaler
	}{
		{"zero member", Member{}},
		{"zero service", Service{}},
		{"zero appliance", Appliance{}},
		{"lower-case country", Member{"ma", "GOV", "DGSN"}},
		{"slash in code", Member{"MA", "GOV", "DG/SN"}},
		{"service without name", Service{Member: MustMember("MA/GOV/DGSN")}},
		{"service without member", Service{Name: "x"}},
		{"appliance without member", Appliance{Name: "x"}},
		{"colon in appliance name", Appliance{MustMember("MA/GOV/DGSN"), "a:b"}},
	}
	for _, tt := range tests {
		text, err := tt.v.MarshalText()
		if err == nil {
			t.Errorf("%s: MarshalText = %q, want error", tt.name, text)
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: error %v does not match ErrInvalid", tt.name, err)
		}
	}
}

func TestUnmarshalTextLeavesValueOnError(t *testing.T) {
	m := MustMember("MA/GOV/DGSN")
	if err := m.UnmarshalText([]byte("nope")); err == nil {
		t.Fatal("UnmarshalText(nope) succeeded")
	}
	if m != MustMember("MA/GOV/DGSN") {
		t.Errorf("failed UnmarshalText changed the value to %v", m)
	}
}

type record struct {
	Consumer  Member             `json:"consumer"`
	Service   Service            `json:"service"`
	Appliance Appliance          `json:"appliance"`
	ByService map[Service]string `json:"by_service"`
}

func TestJSONRoundTrip(t *testing.T) {
	in := record{
		Consumer:  MustMember("MA/MUN/RABAT"),
		Service:   MustService("MA/GOV/DGSN/civil-status"),
		Appliance: MustAppliance("MA/GOV/DGSN:rabat-01"),
		ByService: map[Service]string{MustService("MA/GOV/DGSN/civil-status"): "ok"},
	}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"consumer":"MA/MUN/RABAT","service":"MA/GOV/DGSN/civil-status","appliance":"MA/GOV/DGSN:rabat-01","by_service":{"MA/GOV/DGSN/civil-status":"ok"}}`
	if string(data) != want {
		t.Errorf("json.Marshal = %s\nwant %s", data, want)
	}
	var got record
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if got.Consumer != in.Consumer || got.Service != in.Service || got.Appliance != in.Appliance || got.ByService[in.Service] != "ok" {
		t.Errorf("JSON round trip gave %+v, want %+v", got, in)
	}
}

func TestJSONRejects(t *testing.T) {
	tests := []string{
		`{"consumer":"ma/mun/rabat"}`,
		`{"consumer":""}`,
		`{"service":"MA/GOV/DGSN"}`,
		`{"appliance":"MA/GOV/DGSN/x"}`,
	}
	for _, in := range tests {
		var r record
		err := json.Unmarshal([]byte(in), &r)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("json.Unmarshal(%s): error %v, want one matching ErrInvalid", in, err)
		}
	}
	if _, err := json.Marshal(record{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("json.Marshal(zero record): error %v, want one matching ErrInvalid", err)
	}
}

func ptr[T any](v T) *T { return &v }
