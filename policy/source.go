package policy

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/babgate/bab/ident"
	"go.yaml.in/yaml/v3"
)

// maxSourceSize caps a policy source like a signed bundle: a source bigger
// than the largest bundle could never be published anyway.
const maxSourceSize = MaxSignedSize

// The source file as ops write it. Identifiers are plain strings here and
// parsed afterwards, so that a bad one is reported with its line (yaml
// reports errors from UnmarshalText without one).
type sourceFile struct {
	Version  uint64 `yaml:"version"`
	Expires  string `yaml:"expires"`
	ValidFor string `yaml:"valid_for"`
	// AttestInterval is how often TPM appliances are checked, e.g. 10m.
	AttestInterval string `yaml:"attest_interval"`
	// NextOpsKeys rotates the ops keys from the next bundle on.
	NextOpsKeys *sourceTrust `yaml:"next_ops_keys"`
	// OnExpiry is serve (default) or refuse.
	OnExpiry string `yaml:"on_expiry"`
	// ConsoleRoles are the clerks' roles.
	ConsoleRoles []sourceRole      `yaml:"console_roles"`
	Members      []sourceMember    `yaml:"members"`
	Appliances   []sourceAppliance `yaml:"appliances"`
	Services     []sourceService   `yaml:"services"`
	Rules        []sourceRule      `yaml:"rules"`
	Routes       []sourceRoute     `yaml:"routes"`
}

// sourceAppliance is an appliances entry: its identifier alone
// ("MA/MUN/RABAT:hq", its key to be filled from the registry), or a
// mapping with id and key.
type sourceAppliance struct {
	ID  string `yaml:"id"`
	Key string `yaml:"key"`
}

func (a *sourceAppliance) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Decode(&a.ID)
	case yaml.MappingNode:
		// Decoded by hand: a Node's own Decode does not refuse unknown
		// keys, and a misspelt "key" must not silently leave it out.
		var errs []string
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			var into *string
			switch k.Value {
			case "id":
				into = &a.ID
			case "key":
				into = &a.Key
			default:
				errs = append(errs, fmt.Sprintf("line %d: unknown key %s in an appliance (its identifier, or a mapping with id and key)", k.Line, quoteCut(k.Value)))
				continue
			}
			if val.Kind != yaml.ScalarNode || val.Decode(into) != nil {
				errs = append(errs, fmt.Sprintf("line %d: %s of an appliance must be a string", val.Line, k.Value))
			}
		}
		if len(errs) > 0 {
			return &yaml.TypeError{Errors: errs}
		}
		return nil
	}
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: an appliance is its identifier, or a mapping with id and key", n.Line)}}
}

type sourceTrust struct {
	Threshold int      `yaml:"threshold"`
	Keys      []string `yaml:"keys"`
}

type sourceMember struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
}

type sourceService struct {
	ID          string `yaml:"id"`
	Description string `yaml:"description"`
	OpenAPI     string `yaml:"openapi"`
	OpenAPIDoc  any    `yaml:"openapi_doc"` // the OpenAPI 3 document itself, in YAML
	// Subject is required or optional: requests name the person their
	// data is about, in one of SubjectSchemes.
	Subject        string   `yaml:"subject"`
	SubjectSchemes []string `yaml:"subject_schemes"`
}

type sourceRole struct {
	Role     string   `yaml:"role"`
	Member   string   `yaml:"member"`
	Services []string `yaml:"services"`
}

type sourceRule struct {
	Consumer string   `yaml:"consumer"`
	Service  string   `yaml:"service"`
	Methods  []string `yaml:"methods"`
	Paths    []string `yaml:"paths"`
	Query    []string `yaml:"query"` // absent: any query; [] none; else the parameter names allowed
	Rate     string   `yaml:"rate"`  // e.g. 100/min
	Quota    string   `yaml:"quota"` // e.g. 10000/d
	Purpose  string   `yaml:"purpose"`
	// ConfidentialUntil (a date) or ConfidentialFor (a duration such as
	// 180d) hold the rule's requests back from subject reports.
	ConfidentialUntil string `yaml:"confidential_until"`
	ConfidentialFor   string `yaml:"confidential_for"`
}

type sourceRoute struct {
	Service    string   `yaml:"service"`
	Appliances []string `yaml:"appliances"`
}

// ParseSource reads the YAML policy source ops write, strictly (unknown
// keys are errors), and returns the validated bundle it describes, issued
// at now. The expiry is given either as "expires" (an RFC 3339 time) or as
// "valid_for" (a Go duration such as 720h, or whole days such as 30d).
//
// Appliances may be written without their keys: the bundle then lacks
// them, and [FillKeys] fills them from the exchange's registry before it
// can be signed. The keys written are checked as Validate checks them.
//
// Every error is a [*SourceError] placing it at name:line; all are
// returned, joined and in line order. Syntax and identifier errors are
// reported first and alone, since validating around them would mostly
// repeat them.
func ParseSource(name string, data []byte, now time.Time) (*Bundle, error) {
	if len(data) > maxSourceSize {
		return nil, &SourceError{Name: name, Line: 1, Err: syntaxError(fmt.Sprintf("source is %d bytes, the limit is %d", len(data), maxSourceSize))}
	}
	src, root, err := decodeSource(name, data)
	if err != nil {
		return nil, err
	}
	b, errs := src.bundle(now)
	if len(errs) == 0 {
		errs = unjoin(b.validateDraft())
	}
	if len(errs) > 0 {
		return nil, placeErrors(name, root, errs)
	}
	return b, nil
}

// decodeSource decodes data twice: strictly into a sourceFile, and into a
// node tree that later places validation errors on their lines.
func decodeSource(name string, data []byte) (*sourceFile, *yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var src sourceFile
	if err := dec.Decode(&src); errors.Is(err, io.EOF) {
		return nil, nil, &SourceError{Name: name, Line: 1, Err: syntaxError("the policy source is empty")}
	} else if err != nil {
		return nil, nil, yamlErrors(name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, nil, &SourceError{Name: name, Line: max(extra.Line, 1), Err: syntaxError("only one YAML document is allowed")}
	} else if !errors.Is(err, io.EOF) {
		return nil, nil, yamlErrors(name, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, nil, yamlErrors(name, err)
	}
	return &src, &doc, nil
}

// bundle converts the source; errs are *ValidationErrors named by the
// Bundle's JSON paths, like those of Validate.
func (src *sourceFile) bundle(now time.Time) (b *Bundle, errs []error) {
	bad := func(field string, format string, args ...any) {
		errs = append(errs, &ValidationError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	b = &Bundle{Version: src.Version, Issued: now}
	switch {
	case src.Expires != "" && src.ValidFor != "":
		bad("valid_for", "give either expires or valid_for, not both")
	case src.Expires != "":
		t, err := parseTime(src.Expires)
		if err != nil {
			bad("expires", "%s is not a time such as 2027-01-31T00:00:00Z", quoteCut(src.Expires))
		}
		b.Expires = t
	case src.ValidFor != "":
		d, err := parseValidFor(src.ValidFor)
		if err != nil {
			bad("valid_for", "%v", err)
		}
		b.Expires = now.Add(d)
	default:
		bad("expires", "one of expires or valid_for is required")
	}

	if src.AttestInterval != "" {
		d, err := parseValidFor(src.AttestInterval)
		if err != nil || d%time.Second != 0 {
			bad("attest_interval_s", "%s is not a whole number of seconds, minutes or hours such as 10m", quoteCut(src.AttestInterval))
		}
		b.AttestIntervalSeconds = int64(d / time.Second)
	}
	b.OnExpiry = src.OnExpiry
	for i, r := range src.ConsoleRoles {
		m, err := ident.ParseMember(r.Member)
		if err != nil {
			bad(fmt.Sprintf("console_roles[%d].member", i), "%v", err)
		}
		role := ConsoleRole{Role: r.Role, Member: m}
		for j, s := range r.Services {
			svc, err := ident.ParseService(s)
			if err != nil {
				bad(fmt.Sprintf("console_roles[%d].services[%d]", i, j), "%v", err)
			}
			role.Services = append(role.Services, svc)
		}
		b.ConsoleRoles = append(b.ConsoleRoles, role)
	}
	if n := src.NextOpsKeys; n != nil {
		spec := &TrustSpec{Threshold: n.Threshold}
		for i, k := range n.Keys {
			raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(k))
			if err != nil {
				bad(fmt.Sprintf("next_trust.keys[%d]", i), "is not a key as bab-exchange policy keygen prints it (base64)")
			}
			spec.Keys = append(spec.Keys, raw)
		}
		b.NextTrust = spec
	}
	for i, m := range src.Members {
		id, err := ident.ParseMember(m.ID)
		if err != nil {
			bad(fmt.Sprintf("members[%d].id", i), "%v", err)
		}
		b.Members = append(b.Members, Member{ID: id, Name: m.Name})
	}
	for i, a := range src.Appliances {
		id, err := ident.ParseAppliance(a.ID)
		if err != nil {
			bad(fmt.Sprintf("appliances[%d].id", i), "%v", err)
		}
		b.Appliances = append(b.Appliances, Appliance{ID: id, Key: a.Key})
	}
	for i, s := range src.Services {
		id, err := ident.ParseService(s.ID)
		if err != nil {
			bad(fmt.Sprintf("services[%d].id", i), "%v", err)
		}
		svc := Service{ID: id, Description: s.Description, OpenAPI: s.OpenAPI, Subject: s.Subject, SubjectSchemes: s.SubjectSchemes}
		if s.OpenAPIDoc != nil {
			doc, err := json.Marshal(s.OpenAPIDoc)
			if err != nil {
				bad(fmt.Sprintf("services[%d].openapi_doc", i), "%v", err)
			}
			svc.OpenAPIDoc = doc
		}
		b.Services = append(b.Services, svc)
	}
	for i, r := range src.Rules {
		consumer, err := ident.ParseMember(r.Consumer)
		if err != nil {
			bad(fmt.Sprintf("rules[%d].consumer", i), "%v", err)
		}
		svc, err := ident.ParseService(r.Service)
		if err != nil {
			bad(fmt.Sprintf("rules[%d].service", i), "%v", err)
		}
		rule := Rule{Consumer: consumer, Service: svc, Methods: r.Methods, PathPrefixes: r.Paths, Query: r.Query, Purpose: r.Purpose}
		if r.ConfidentialUntil != "" {
			t, err := parseTime(r.ConfidentialUntil)
			if err != nil {
				bad(fmt.Sprintf("rules[%d].confidential_until", i), "%s is not a date such as 2027-01-31", quoteCut(r.ConfidentialUntil))
			}
			rule.ConfidentialUntil = t
		}
		if r.ConfidentialFor != "" {
			d, err := parseValidFor(r.ConfidentialFor)
			if err != nil || d%time.Second != 0 {
				bad(fmt.Sprintf("rules[%d].confidential_for_s", i), "%s is not a whole number of days, hours or minutes such as 180d", quoteCut(r.ConfidentialFor))
			}
			rule.ConfidentialFor = int64(d / time.Second)
		}
		for _, l := range []struct{ key, text string }{{"rate", r.Rate}, {"quota", r.Quota}} {
			if l.text == "" {
				continue
			}
			lim, err := parseLimit(l.text)
			if err != nil {
				bad(fmt.Sprintf("rules[%d].%s", i, l.key), "%v", err)
				continue
			}
			rule.Limits = append(rule.Limits, lim)
		}
		b.Rules = append(b.Rules, rule)
	}
	for i, r := range src.Routes {
		svc, err := ident.ParseService(r.Service)
		if err != nil {
			bad(fmt.Sprintf("routes[%d].service", i), "%v", err)
		}
		route := Route{Service: svc}
		for j, s := range r.Appliances {
			a, err := ident.ParseAppliance(s)
			if err != nil {
				bad(fmt.Sprintf("routes[%d].appliances[%d]", i, j), "%v", err)
			}
			route.Appliances = append(route.Appliances, a)
		}
		b.Routes = append(b.Routes, route)
	}
	return b, errs
}

// parseLimit reads "N/unit" with unit s, min, h or d.
func parseLimit(s string) (Limit, error) {
	n, unit, ok := strings.Cut(strings.TrimSpace(s), "/")
	per := map[string]int64{"s": 1, "min": 60, "h": 3600, "d": 86400}[strings.TrimSpace(unit)]
	count, err := strconv.ParseInt(strings.TrimSpace(n), 10, 64)
	if !ok || per == 0 || err != nil || count < 1 {
		return Limit{}, fmt.Errorf("%s is not a limit such as 100/min (a count per s, min, h or d)", quoteCut(s))
	}
	return Limit{Requests: count, PerSeconds: per}, nil
}

// parseTime accepts RFC 3339, and a bare date as midnight UTC because that
// is what people write for "until the end of January".
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Parse(time.DateOnly, s)
}

// parseValidFor parses a Go duration, or a whole number of days ("30d"),
// which Go durations lack and policy lifetimes are naturally counted in.
func parseValidFor(s string) (time.Duration, error) {
	const day = 24 * time.Hour
	d, err := time.ParseDuration(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, perr := strconv.ParseUint(days, 10, 64)
		if perr != nil || n > math.MaxInt64/uint64(day) {
			return 0, fmt.Errorf("%s is not a whole number of days such as 30d", quoteCut(s))
		}
		d, err = time.Duration(n)*day, nil
	}
	if err != nil {
		return 0, fmt.Errorf("%s is not a duration such as 720h or 30d", quoteCut(s))
	}
	if d <= 0 {
		return 0, fmt.Errorf("%s must be positive", quoteCut(s))
	}
	return d, nil
}

// unjoin lists the errors inside err (as made by errors.Join).
func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
