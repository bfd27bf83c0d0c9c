// Package ui is bab-console, the clerks' desktop console, drawn with Fyne:
// the office's connection at a glance, once-only lookups of records held
// by other administrations, the office's recent activity and, for office
// IT, the appliance itself. It talks only to its own office's appliance,
// through an Appliance (package console's Client in the program, a stub
// in tests), and keeps what it looks up in memory only: nothing goes
// into Fyne's Preferences or storage, and a result is dropped when the
// clerk closes it, chooses another service or leaves it for 5 minutes.
//
// Every string goes through fyne.io/fyne/v2/lang, with the French and
// English texts in translations/.
package ui

import (
	"context"

	"github.com/babgate/bab/console"
)

// Appliance is what the screens ask of the office's appliance: the
// methods of console.Client they use.
type Appliance interface {
	WhoAmI(context.Context) (*console.WhoAmI, error)
	Status(context.Context) (*console.Status, error)
	Catalog(context.Context) ([]console.Service, error)
	Lookup(context.Context, console.LookupRequest) (*console.LookupResult, error)
	Activity(context.Context, console.ActivityFilter) ([]console.Activity, error)
	Office(context.Context) (*console.Office, error)
	Revoke(ctx context.Context, name string) error
}

var _ Appliance = (*console.Client)(nil)
