package exchange

import (
	"crypto"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/ident"
	"github.com/babgate/bab/policy"
	"github.com/babgate/bab/transport"
	"github.com/babgate/bab/wire"
)

// keyHash names a public key as the registry, the deny list and the
// policy do (policy.KeyHash).
func keyHash(pub crypto.PublicKey) (string, error) { return policy.KeyHash(pub) }

// certSerial is a certificate's serial as the registry keeps it.
func certSerial(c *x509.Certificate) string { return hex.EncodeToString(c.SerialNumber.Bytes()) }

// refusal is why a tunnel is refused: the close code and the reason the
// appliance is told.
type refusal struct {
	code   quic.ApplicationErrorCode
	reason string
}

func (r *refusal) Error() string { return r.reason }

func unenrolled(reason string) error { return &refusal{wire.CloseUnenrolled, reason} }

func revoked(format string, args ...any) error {
	return &refusal{wire.CloseRevoked, "revoked by the exchange: " + fmt.Sprintf(format, args...)}
}

// admit decides, on every connect, whether a certificate that verified
// against the CA may open a tunnel for id: its key must be the registered
// one, the certificate the one issued last (or the one the last renewal
// replaced), neither on the deny list, and the appliance not revoked. A
// valid certificate is not enough: a revoked appliance's certificate, or
// the certificate of an appliance enrolled over since, still verifies.
func (x *Exchange) admit(id ident.Appliance, cert *x509.Certificate) (*store.Appliance, error) {
	serial := certSerial(cert)
	kh, err := keyHash(cert.PublicKey)
	if err != nil {
		return nil, unenrolled("the certificate's key is unusable")
	}
	reg, denial, err := x.store.Admission(id.String(), serial, kh)
	switch {
	case denial != nil:
		return nil, revoked("this %s was %s on %s", denial.What, denial.Reason, denial.At.Format(time.DateOnly))
	case errors.Is(err, store.ErrUnknownAppliance):
		return nil, unenrolled("appliance not enrolled at this exchange")
	case err != nil:
		return nil, unenrolled("the exchange could not read its registry")
	case reg.Revoked:
		return nil, revoked("revoked by ops on %s", reg.RevokedAt.Format(time.DateOnly))
	case reg.KeyHash == "":
		return x.adoptKey(reg, serial, kh)
	case kh != reg.KeyHash:
		return nil, revoked("another appliance was enrolled as %s in place of this key", id)
	case serial != reg.CertSerial && serial != reg.PrevSerial:
		return nil, unenrolled("certificate superseded by a newer one")
	}
	return reg, nil
}

// adoptKey records the key of an appliance registered before the registry
// kept keys, from the certificate issued to it last: the CA issued that
// serial for exactly one key. Any other certificate is refused.
func (x *Exchange) adoptKey(reg *store.Appliance, serial, kh string) (*store.Appliance, error) {
	if serial != reg.CertSerial {
		return nil, unenrolled("certificate superseded by a newer one")
	}
	reg, err := x.store.UpdateAppliance(reg.ID, func(a *store.Appliance) error {
		if a.Revoked || a.CertSerial != serial || (a.KeyHash != "" && a.KeyHash != kh) {
			return ErrRegistryChanged
		}
		a.KeyHash = kh
		return nil
	})
	if err != nil {
		return nil, unenrolled("the registry changed while the appliance connected; try again")
	}
	x.log.Info("recorded the key of an appliance registered without one", "appliance", reg.ID, "key", kh)
	return reg, nil
}

// refuse closes a tunnel the exchange does not admit, with the code and
// reason that tell the appliance why.
func refuse(conn transport.Conn, log *slog.Logger, err error) {
	r, ok := errors.AsType[*refusal](err)
	if !ok {
		r = &refusal{wire.CloseUnenrolled, err.Error()}
	}
	log.Warn("refusing tunnel", "code", uint64(r.code), "reason", r.reason)
	conn.CloseWithError(r.code, r.reason)
}
