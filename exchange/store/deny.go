package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketDenied is the deny list: certificate serials and keys the exchange
// refuses for good. Entries are keyed "serial/HEX" and "key/sha256:HEX";
// nothing removes one, enrollment included.
var bucketDenied = []byte("denied")

// What a denial names.
const (
	DenySerial = "serial" // a certificate serial, in hexadecimal
	DenyKey    = "key"    // a key's SubjectPublicKeyInfo hash, "sha256:" and hex
)

// Denial is one entry of the deny list.
type Denial struct {
	What      string    `json:"what"` // DenySerial or DenyKey
	Value     string    `json:"value"`
	Appliance string    `json:"appliance"` // whose it was
	At        time.Time `json:"at"`
	Reason    string    `json:"reason"` // "revoked by ops", "replaced by a new enrollment"
}

func denyKey(what, value string) []byte { return []byte(what + "/" + value) }

// deny puts a's key and the certificates the exchange accepted for it on
// the deny list. An entry already there keeps its first reason.
func deny(tx *bolt.Tx, a *Appliance, at time.Time, reason string) error {
	b := tx.Bucket(bucketDenied)
	for _, d := range []Denial{{What: DenyKey, Value: a.KeyHash}, {What: DenySerial, Value: a.CertSerial}, {What: DenySerial, Value: a.PrevSerial}} {
		k := denyKey(d.What, d.Value)
		if d.Value == "" || b.Get(k) != nil {
			continue
		}
		d.Appliance, d.At, d.Reason = a.ID, at.UTC(), reason
		if err := putJSON(b, k, &d); err != nil {
			return fmt.Errorf("store: deny %s %s: %w", d.What, d.Value, err)
		}
	}
	return nil
}

// denied returns the deny-list entry for the serial or the key hash, or nil.
func denied(tx *bolt.Tx, serial, keyHash string) (*Denial, error) {
	b := tx.Bucket(bucketDenied)
	for _, k := range [][]byte{denyKey(DenyKey, keyHash), denyKey(DenySerial, serial)} {
		var d Denial
		switch err := getJSON(b, k, &d); {
		case err == nil:
			return &d, nil
		case !errors.Is(err, errMissing):
			return nil, err
		}
	}
	return nil, nil
}

// Admission returns, in one read, what the exchange needs to decide on a
// tunnel: the registry entry of id (or ErrUnknownAppliance) and the
// deny-list entry for the certificate's serial or its key, or nil.
func (s *Store) Admission(id, serial, keyHash string) (*Appliance, *Denial, error) {
	var a Appliance
	var d *Denial
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		if d, err = denied(tx, serial, keyHash); err != nil {
			return err
		}
		return getJSON(tx.Bucket(bucketAppliances), []byte(id), &a)
	})
	switch {
	case errors.Is(err, errMissing):
		return nil, d, ErrUnknownAppliance
	case err != nil:
		return nil, nil, err
	}
	return &a, d, nil
}

// Denials lists the deny-list entries of one appliance, keys first.
func (s *Store) Denials(id string) ([]Denial, error) {
	var out []Denial
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDenied).ForEach(func(k, v []byte) error {
			var d Denial
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("%w: deny-list entry %s: %v", ErrCorrupt, k, err)
			}
			if d.Appliance == id {
				out = append(out, d)
			}
			return nil
		})
	})
	return out, err
}

// Revoke takes an appliance out for good, in one transaction: its entry is
// marked revoked, and its key and certificates go on the deny list, so
// that no later enrollment under its name brings them back.
func (s *Store) Revoke(id string, at time.Time, reason string) (*Appliance, error) {
	var a Appliance
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAppliances)
		if err := getJSON(b, []byte(id), &a); err != nil {
			if errors.Is(err, errMissing) {
				return ErrUnknownAppliance
			}
			return err
		}
		if !a.Revoked {
			a.Revoked, a.RevokedAt = true, at.UTC()
		}
		if err := deny(tx, &a, at, reason); err != nil {
			return err
		}
		return putJSON(b, []byte(id), &a)
	})
	return &a, err
}
