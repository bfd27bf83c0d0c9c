package lab

import (
	"context"
	"net/http"

	"github.com/babgate/bab/ident"
)

// EnrollNew enrolls and starts a new appliance id, as an office that adds
// a server does: in its own directory, with a new key in like's TPM (a
// software key where like has none). The lab's policy does not list it, so
// it waits for approval (a policy listing it needs its Key). The caller
// stops it.
func (l *Lab) EnrollNew(ctx context.Context, id ident.Appliance, like *Appliance) (*Appliance, error) {
	return l.addAppliance(ctx, id, "", 0, like.TPM)
}

// Request builds a request from the commune's local system through a's
// gateway, as Lab.Request does through the consumer's.
func (a *Appliance) Request(ctx context.Context, method, path string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, a.GatewayURL+"/"+CivilStatus.String()+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.Token)
	return req, nil
}
