package exchange

import (
	"crypto/x509"
	"time"

	"github.com/babgate/bab/exchange/store"
	"github.com/babgate/bab/wire"
)

// renew issues a fresh certificate for the registered key, asked for over
// a tunnel that authenticated with that key. The registry records the new
// certificate and keeps the one the tunnel presented as the previous one,
// in case the answer never reaches the appliance.
func (x *Exchange) renew(s *session, csrDER []byte) wire.Renewed {
	csr, err := x509.ParseCertificateRequest(csrDER)
	if err == nil {
		err = csr.CheckSignature()
	}
	if err != nil {
		return wire.Renewed{Error: "invalid certificate request: " + err.Error()}
	}
	kh, err := keyHash(csr.PublicKey)
	if err != nil {
		return wire.Renewed{Error: err.Error()}
	}
	now := time.Now()
	leaf, err := x.ca.IssueClient(csr.PublicKey, s.id.String(), now, x.cfg.CertLifetime)
	if err != nil {
		return wire.Renewed{Error: err.Error()}
	}
	cert, err := x509.ParseCertificate(leaf)
	if err != nil {
		return wire.Renewed{Error: err.Error()}
	}
	// Checked in the transaction that records it: a revocation or a
	// replacement since the tunnel was admitted wins, and the certificate
	// is thrown away.
	_, err = x.store.UpdateAppliance(s.id.String(), func(a *store.Appliance) error {
		if err := renewable(a, s.keyHash, kh); err != nil {
			return err
		}
		a.CertSerial, a.PrevSerial, a.CertExpiry = certSerial(cert), s.serial, cert.NotAfter
		return nil
	})
	if err != nil {
		s.log.Warn("certificate renewal refused", "key", kh, "err", err)
		return wire.Renewed{Error: err.Error()}
	}
	s.log.Info("certificate renewed", "not_after", cert.NotAfter)
	return wire.Renewed{Chain: [][]byte{leaf}}
}

// renewable says whether an appliance whose registry entry is a may have a
// certificate for key, asked over a tunnel that authenticated with
// tunnelKey: only for that key, and only while it is the registered one.
func renewable(a *store.Appliance, tunnelKey, key string) error {
	switch {
	case key != tunnelKey:
		return ErrRenewOtherKey
	case a.Revoked:
		return ErrRenewRevoked
	case a.KeyHash == "" || key != a.KeyHash:
		return ErrRenewNotRegistered
	}
	return nil
}
