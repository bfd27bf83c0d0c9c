package lab

import (
	"context"
	"net/http"
	"path/filepath"

	"github.com/babgate/bab/ident"
)

// EnrollNew enrolls and starts a new appliance id, as an office that adds
// a server does: in its own directory, with a new key in like's TPM (a
// software key where like has none). The lab's policy does not list it, so
// it waits for approval. The caller stops it.
func (l *Lab) EnrollNew(ctx context.Context, id ident.Appliance, like *Appliance) (*Appliance, error) {
	a, err := l.writeAppliance(filepath.Join(l.Dir, id.Name), id, "", 0, like.TPM)
	if err != nil {
		return nil, err
	}
	tok, err := l.CreateToken(id.Member, id.Name)
	if err != nil {
		return nil, err
	}
	if err := l.enroll(ctx, a, tok); err != nil {
		return nil, err
	}
	return a, l.StartAppliance(ctx, a)
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
