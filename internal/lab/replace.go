package lab

import (
	"context"
	"encoding/json"
	"path/filepath"

	"github.com/babgate/bab/exchange"
	"github.com/babgate/bab/ident"
)

// CreateReplaceToken asks the exchange for a token that enrolls a new
// appliance in place of the enrolled id, as ops do with
// token create --replace NAME.
func (l *Lab) CreateReplaceToken(id ident.Appliance) (string, error) {
	body, _ := json.Marshal(exchange.TokenRequest{Member: id.Member.String(), Name: id.Name, Replace: true, TTL: "1h"})
	var tr exchange.TokenResponse
	if err := l.Exchange.Call("POST", "/v1/tokens", body, &tr); err != nil {
		return "", err
	}
	return tr.Token, nil
}

// EnrollInPlaceOf enrolls a second bab process under a's identifier with
// token, as office IT do when a machine is replaced: in its own directory
// (a's name with suffix), with its own key (a new one in a's TPM, or a
// software key where a has none) and a's services. It starts the new
// appliance and returns it; the caller stops it. a keeps its state and may
// be started again. The lab's policies keep binding the name to a's key:
// the new appliance carries requests once Approve(b) and a push make them
// bind its own.
func (l *Lab) EnrollInPlaceOf(ctx context.Context, a *Appliance, suffix, token string) (*Appliance, error) {
	backend := ""
	if a == l.Provider {
		backend = l.Backend.URL
	}
	b, err := l.writeAppliance(filepath.Join(l.Dir, a.ID.Name+"-"+suffix), a.ID, backend, 0, a.TPM)
	if err != nil {
		return nil, err
	}
	if err := l.enroll(ctx, b, token); err != nil {
		return nil, err
	}
	return b, l.StartAppliance(ctx, b)
}
