package policy

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/ident"
)

func TestValidateLab(t *testing.T) {
	if err := labBundle().Validate(); err != nil {
		t.Fatalf("labBundle().Validate() = %v, want nil", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(b *Bundle)
		field string
		msg   string
	}{
		{"version 0", func(b *Bundle) { b.Version = 0 }, "version", "must be at least 1"},
		{"expires before issued", func(b *Bundle) { b.Expires = b.Issued.Add(-time.Second) }, "expires", "is not after issued"},
		{"expires equals issued", func(b *Bundle) { b.Expires = b.Issued }, "expires", "is not after issued"},
		{"no expiry", func(b *Bundle) { b.Expires = time.Time{} }, "expires", "is not after issued"},
		{"zero member", func(b *Bundle) { b.Members[1].ID = ident.Member{} }, "members[1].id", "is missing"},
		{"malformed member", func(b *Bundle) { b.Members[1].ID.Class = "mun" }, "members[1].id", `class "mun"`},
		{"duplicate member", func(b *Bundle) { b.Members[2].ID = dgsn }, "members[2].id", "duplicate member MA/GOV/DGSN (first at members[0])"},
		{"duplicate appliance", func(b *Bundle) { b.Appliances[2].ID = dgsnRabat01 }, "appliances[2].id", "duplicate appliance MA/GOV/DGSN:rabat-01 (first at appliances[0])"},
		{"zero appliance", func(b *Bundle) { b.Appliances[0].ID = ident.Appliance{} }, "appliances[0].id", "is missing"},
		{"appliance without a key", func(b *Bundle) { b.Appliances[1].Key = "" }, "appliances[1].key", "MA/GOV/DGSN:rabat-02 has no key"},
		{"two appliances with one key", func(b *Bundle) { b.Appliances[2].Key = b.Appliances[0].Key }, "appliances[2].key",
			"the key of MA/MUN/RABAT:hq is the key of MA/GOV/DGSN:rabat-01 too (appliances[0])"},
		{"key without its prefix", func(b *Bundle) { b.Appliances[0].Key = strings.TrimPrefix(b.Appliances[0].Key, "sha256:") }, "appliances[0].key", "is not a key as the registry writes it"},
		{"key in upper case", func(b *Bundle) { b.Appliances[0].Key = "sha256:" + strings.ToUpper(b.Appliances[0].Key[7:]) }, "appliances[0].key", "is not a key"},
		{"key too short", func(b *Bundle) { b.Appliances[0].Key = b.Appliances[0].Key[:70] }, "appliances[0].key", "is not a key"},
		{"key of another hash", func(b *Bundle) { b.Appliances[0].Key = "sha1:" + b.Appliances[0].Key[7:47] }, "appliances[0].key", "is not a key"},
		{"removed member still a consumer", func(b *Bundle) { b.Members = b.Members[:2] }, "rules[2].consumer", "member MA/MUN/SALE is not listed in members"},
		{"appliance member unlisted", func(b *Bundle) {
			b.Appliances = append(b.Appliances, Appliance{ID: ident.MustAppliance("MA/GOV/DGI:hq"), Key: keyOf(ident.MustAppliance("MA/GOV/DGI:hq"))})
		}, "appliances[3].id", "the appliance's member MA/GOV/DGI is not listed in members"},
		{"duplicate service", func(b *Bundle) { b.Services[2].ID = civilStatus }, "services[2].id", "duplicate service MA/GOV/DGSN/civil-status (first at services[0])"},
		{"service provider unlisted", func(b *Bundle) {
			b.Services = append(b.Services, Service{ID: ident.MustService("MA/GOV/DGI/tax")})
		}, "services[3].id", "the service's provider MA/GOV/DGI is not listed in members"},
		{"zero service", func(b *Bundle) { b.Services = append(b.Services, Service{}) }, "services[3].id", "is missing"},
		{"rule consumer unlisted", func(b *Bundle) { b.Rules[0].Consumer = ident.MustMember("MA/MUN/FES") }, "rules[0].consumer", "member MA/MUN/FES is not listed in members"},
		{"rule consumer zero", func(b *Bundle) { b.Rules[0].Consumer = ident.Member{} }, "rules[0].consumer", "is missing"},
		{"rule service unlisted", func(b *Bundle) { b.Rules[1].Service = ident.MustService("MA/GOV/DGSN/nope") }, "rules[1].service", "service MA/GOV/DGSN/nope is not listed in services"},
		{"rule without methods", func(b *Bundle) { b.Rules[0].Methods = nil }, "rules[0].methods", "must list at least one method"},
		{"lower-case method", func(b *Bundle) { b.Rules[0].Methods[1] = "post" }, "rules[0].methods[1]", `"post" is neither an upper-case HTTP method nor "*"`},
		{"empty method", func(b *Bundle) { b.Rules[0].Methods[0] = "" }, "rules[0].methods[0]", `"" is neither`},
		{"method with space", func(b *Bundle) { b.Rules[0].Methods[0] = "GET " }, "rules[0].methods[0]", `"GET " is neither`},
		{"glob method", func(b *Bundle) { b.Rules[0].Methods[0] = "G*" }, "rules[0].methods[0]", `"G*" is neither`},
		{"rule without paths", func(b *Bundle) { b.Rules[0].PathPrefixes = []string{} }, "rules[0].path_prefixes", "must list at least one path prefix"},
		{"empty path", func(b *Bundle) { b.Rules[0].PathPrefixes[0] = "" }, "rules[0].path_prefixes[0]", `"" does not start with '/'`},
		{"relative path", func(b *Bundle) { b.Rules[0].PathPrefixes[0] = "citizens/" }, "rules[0].path_prefixes[0]", "does not start with '/'"},
		{"dot-dot path", func(b *Bundle) { b.Rules[0].PathPrefixes[0] = "/a/../b" }, "rules[0].path_prefixes[0]", `has a "." or ".." segment`},
		{"dot path", func(b *Bundle) { b.Rules[0].PathPrefixes[0] = "/a/./" }, "rules[0].path_prefixes[0]", `has a "." or ".." segment`},
		{"trailing dot-dot", func(b *Bundle) { b.Rules[0].PathPrefixes[0] = "/a/.." }, "rules[0].path_prefixes[0]", `segment`},
		{"route service unlisted", func(b *Bundle) { b.Routes[0].Service = passports; b.Services = b.Services[:1] }, "routes[0].service", "service MA/GOV/DGSN/passports is not listed in services"},
		{"route without appliances", func(b *Bundle) { b.Routes[1].Appliances = nil }, "routes[1].appliances", "must list at least one appliance"},
		{"route appliance unlisted", func(b *Bundle) { b.Routes[0].Appliances[1] = ident.MustAppliance("MA/GOV/DGSN:fes-01") }, "routes[0].appliances[1]", "appliance MA/GOV/DGSN:fes-01 is not listed in appliances"},
		{"route to another member's appliance", func(b *Bundle) { b.Routes[0].Appliances[1] = rabatHQ }, "routes[0].appliances[1]",
			"appliance MA/MUN/RABAT:hq belongs to MA/MUN/RABAT, not to the service's provider MA/GOV/DGSN"},
		{"appliance twice in a route", func(b *Bundle) { b.Routes[0].Appliances[1] = dgsnRabat01 }, "routes[0].appliances[1]", "listed twice"},
		{"two routes for one service", func(b *Bundle) {
			b.Routes = append(b.Routes, Route{Service: civilStatus, Appliances: []ident.Appliance{dgsnRabat02}})
		}, "routes[2].service", "service MA/GOV/DGSN/civil-status already has a route (routes[0])"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := labBundle()
			tt.edit(b)
			err := b.Validate()
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate() = %v, want an error matching ErrInvalid", err)
			}
			for _, e := range unjoin(err) {
				var ve *ValidationError
				if !errors.As(e, &ve) {
					t.Fatalf("error %v is a %T, want *ValidationError", e, e)
				}
				if ve.Field == tt.field && strings.Contains(ve.Msg, tt.msg) {
					return
				}
			}
			t.Errorf("Validate() = %v\nwant an error at %s containing %q", err, tt.field, tt.msg)
		})
	}
}

// Ops fix a bundle in one round only if they see every problem at once.
func TestValidateReportsAll(t *testing.T) {
	b := labBundle()
	b.Version = 0
	b.Rules[0].Methods = nil
	b.Routes[1].Appliances = nil
	errs := unjoin(b.Validate())
	var fields []string
	for _, e := range errs {
		fields = append(fields, e.(*ValidationError).Field)
	}
	if got, want := strings.Join(fields, " "), "version rules[0].methods routes[1].appliances"; got != want {
		t.Errorf("fields = %s, want %s", got, want)
	}
}

func TestValidateNil(t *testing.T) {
	var b *Bundle
	if err := b.Validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("nil.Validate() = %v, want ErrInvalid", err)
	}
}

func TestValidationErrorMessage(t *testing.T) {
	tests := []struct {
		err  *ValidationError
		want string
	}{
		{&ValidationError{Field: "rules[2].service", Msg: "service X is not listed in services"}, "rules[2].service: service X is not listed in services"},
		{&ValidationError{Msg: "no bundle"}, "no bundle"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}
