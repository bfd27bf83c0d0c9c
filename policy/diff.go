package policy

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/babgate/bab/ident"
)

// Diff describes, one line each, what changes from old to new, in words ops
// can review before signing: "+" added, "-" removed, "~" changed. A nil old
// means everything is new.
func Diff(old, new *Bundle) []string {
	if old == nil {
		old = &Bundle{}
	}
	var out []string
	add := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }
	if old.Version != new.Version {
		add("~ version %d → %d", old.Version, new.Version)
	}
	if !old.Expires.Equal(new.Expires) {
		add("~ expires %s → %s", fmtTime(old.Expires), fmtTime(new.Expires))
	}
	if old.AttestIntervalSeconds != new.AttestIntervalSeconds {
		add("~ attest_interval %s → %s", fmtSeconds(old.AttestIntervalSeconds), fmtSeconds(new.AttestIntervalSeconds))
	}
	diffKeyed(old.Members, new.Members, func(m Member) string { return m.ID.String() },
		func(m Member) string { return fmt.Sprintf("member %s (%s)", m.ID, m.Name) },
		func(a, b Member) string {
			if a.Name != b.Name {
				return fmt.Sprintf("member %s name %q → %q", a.ID, a.Name, b.Name)
			}
			return ""
		}, &out)
	diffKeyed(old.Appliances, new.Appliances, func(a Appliance) string { return a.ID.String() },
		func(a Appliance) string { return "appliance " + a.ID.String() + keyText(a.Key) },
		func(a, b Appliance) string {
			if a.Key != b.Key {
				return fmt.Sprintf("appliance %s key %s → %s", a.ID, cmp.Or(a.Key, "none"), cmp.Or(b.Key, "none"))
			}
			return ""
		}, &out)
	diffKeyed(old.Services, new.Services, func(s Service) string { return s.ID.String() },
		func(s Service) string { return "service " + s.ID.String() },
		func(a, b Service) string {
			switch {
			case a.Description != b.Description:
				return fmt.Sprintf("service %s description %q → %q", a.ID, a.Description, b.Description)
			case a.OpenAPI != b.OpenAPI:
				return fmt.Sprintf("service %s openapi %q → %q", a.ID, a.OpenAPI, b.OpenAPI)
			case !bytes.Equal(a.OpenAPIDoc, b.OpenAPIDoc):
				return fmt.Sprintf("service %s openapi_doc changed (%d → %d bytes)", a.ID, len(a.OpenAPIDoc), len(b.OpenAPIDoc))
			case a.Subject != b.Subject || !slices.Equal(a.SubjectSchemes, b.SubjectSchemes):
				return fmt.Sprintf("service %s subject %s → %s", a.ID, subjectText(a), subjectText(b))
			}
			return ""
		}, &out)
	diffKeyed(old.Rules, new.Rules, ruleKey, func(r Rule) string {
		return fmt.Sprintf("rule %s may call %s: %s %s", r.Consumer, r.Service, strings.Join(r.Methods, ","), strings.Join(r.PathPrefixes, " "))
	}, func(a, b Rule) string {
		var parts []string
		if !slices.Equal(a.Methods, b.Methods) {
			parts = append(parts, fmt.Sprintf("methods %s → %s", strings.Join(a.Methods, ","), strings.Join(b.Methods, ",")))
		}
		if !slices.Equal(a.PathPrefixes, b.PathPrefixes) {
			parts = append(parts, fmt.Sprintf("paths %s → %s", strings.Join(a.PathPrefixes, " "), strings.Join(b.PathPrefixes, " ")))
		}
		if !slices.Equal(a.Query, b.Query) || (a.Query == nil) != (b.Query == nil) {
			parts = append(parts, fmt.Sprintf("query %s → %s", queryText(a.Query), queryText(b.Query)))
		}
		if !a.ConfidentialUntil.Equal(b.ConfidentialUntil) || a.ConfidentialFor != b.ConfidentialFor {
			parts = append(parts, fmt.Sprintf("confidential %s → %s", confidentialText(a), confidentialText(b)))
		}
		if len(parts) == 0 {
			return ""
		}
		return fmt.Sprintf("rule %s → %s: %s", a.Consumer, a.Service, strings.Join(parts, "; "))
	}, &out)
	diffKeyed(old.Routes, new.Routes, func(r Route) string { return r.Service.String() },
		func(r Route) string { return fmt.Sprintf("route %s to %s", r.Service, joinIDs(r.Appliances)) },
		func(a, b Route) string {
			if !slices.Equal(a.Appliances, b.Appliances) {
				return fmt.Sprintf("route %s: %s → %s", a.Service, joinIDs(a.Appliances), joinIDs(b.Appliances))
			}
			return ""
		}, &out)
	diffKeyed(old.ConsoleRoles, new.ConsoleRoles, func(r ConsoleRole) string { return r.Role + " " + r.Member.String() },
		func(r ConsoleRole) string {
			return fmt.Sprintf("console role %s of %s: %s", r.Role, r.Member, joinServices(r.Services))
		},
		func(a, b ConsoleRole) string {
			if !slices.Equal(a.Services, b.Services) {
				return fmt.Sprintf("console role %s of %s: %s → %s", a.Role, a.Member, joinServices(a.Services), joinServices(b.Services))
			}
			return ""
		}, &out)
	if new.NextTrust != nil {
		out = append(out, fmt.Sprintf("~ ops keys rotate after this bundle: %d key(s), %d must sign", len(new.NextTrust.Keys), new.NextTrust.Threshold))
	}
	if old.OnExpiry != new.OnExpiry {
		out = append(out, fmt.Sprintf("~ on_expiry %q → %q", old.OnExpiry, new.OnExpiry))
	}
	return out
}

// keyText is an appliance's key for a diff line, if it has one.
func keyText(key string) string {
	if key == "" {
		return ""
	}
	return " (key " + key + ")"
}

func joinServices(ss []ident.Service) string {
	s := make([]string, len(ss))
	for i, v := range ss {
		s[i] = v.String()
	}
	return strings.Join(s, ", ")
}

// ruleKey identifies a rule by consumer and service; several rules for the
// same pair are told apart by their position among them.
func ruleKey(r Rule) string { return r.Consumer.String() + " " + r.Service.String() }

// diffKeyed compares two lists by key: removed, added, then changed, each
// sorted by key so that the output is stable.
func diffKeyed[T any](old, new []T, key func(T) string, describe func(T) string, changed func(a, b T) string, out *[]string) {
	index := func(list []T) (map[string]T, []string) {
		m := map[string]T{}
		var keys []string
		seen := map[string]int{}
		for _, v := range list {
			k := key(v)
			seen[k]++
			if seen[k] > 1 {
				k = fmt.Sprintf("%s #%d", k, seen[k])
			}
			m[k] = v
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return m, keys
	}
	om, ok := index(old)
	nm, nk := index(new)
	for _, k := range ok {
		if _, still := nm[k]; !still {
			*out = append(*out, "- "+describe(om[k]))
		}
	}
	for _, k := range nk {
		if _, was := om[k]; !was {
			*out = append(*out, "+ "+describe(nm[k]))
		}
	}
	if changed == nil {
		return
	}
	for _, k := range nk {
		if o, was := om[k]; was {
			if c := changed(o, nm[k]); c != "" {
				*out = append(*out, "~ "+c)
			}
		}
	}
}

func joinIDs(as []ident.Appliance) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "(none)"
	}
	return t.UTC().Format(time.RFC3339)
}

func fmtSeconds(s int64) string {
	if s == 0 {
		return "(the exchange's)"
	}
	return (time.Duration(s) * time.Second).String()
}

// queryText shows a rule's query restriction: any, none, or the names.
func queryText(q []string) string {
	switch {
	case q == nil:
		return "any"
	case len(q) == 0:
		return "none"
	}
	return strings.Join(q, ",")
}

// subjectText is what a service says of subjects, for a diff.
func subjectText(s Service) string {
	if s.Subject == "" {
		return "none"
	}
	return s.Subject + " (" + strings.Join(s.SubjectSchemes, ", ") + ")"
}

// confidentialText is a rule's confidentiality, for a diff.
func confidentialText(r Rule) string {
	switch {
	case !r.ConfidentialUntil.IsZero():
		return "until " + fmtTime(r.ConfidentialUntil)
	case r.ConfidentialFor > 0 && r.ConfidentialFor%86400 == 0:
		return fmt.Sprintf("for %dd", r.ConfidentialFor/86400)
	case r.ConfidentialFor > 0:
		return "for " + fmtSeconds(r.ConfidentialFor)
	}
	return "no"
}
