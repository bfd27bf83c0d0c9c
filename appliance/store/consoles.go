package store

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

var (
	bucketConsoles = []byte("consoles")
	keyConsoleCA   = []byte("\x00ca") // not a console name: names start with a letter or digit
)

// ConsoleCA is the appliance's own CA for the consoles of its office: it
// issues each paired console's client certificate and the appliance's
// console HTTPS certificate. It is identity material, like the tunnel key.
type ConsoleCA struct {
	Cert []byte `json:"cert"` // DER
	Key  []byte `json:"key"`  // PKCS#8 DER
}

// Console is a paired console: its name, role and certificate serial.
// Revoked consoles stay, so that their names and serials are never reused.
type Console struct {
	Name     string    `json:"name"`
	Role     string    `json:"role"`
	Serial   string    `json:"serial"`
	PairedAt time.Time `json:"paired_at"`
	Revoked  bool      `json:"revoked,omitempty"`
}

// ConsoleCA returns the console CA, or nil if none was made yet.
func (s *Store) ConsoleCA() (*ConsoleCA, error) {
	var ca *ConsoleCA
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketConsoles).Get(keyConsoleCA)
		if v == nil {
			return nil
		}
		ca = &ConsoleCA{}
		if err := json.Unmarshal(v, ca); err != nil {
			return fmt.Errorf("%w: console CA: %v", ErrCorrupt, err)
		}
		return nil
	})
	return ca, err
}

// SetConsoleCA stores the console CA, unless one exists: it returns the
// one in force either way.
func (s *Store) SetConsoleCA(ca *ConsoleCA) (*ConsoleCA, error) {
	b, err := json.Marshal(ca)
	if err != nil {
		return nil, err
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketConsoles)
		if v := bk.Get(keyConsoleCA); v != nil {
			ca = &ConsoleCA{}
			return json.Unmarshal(v, ca)
		}
		return bk.Put(keyConsoleCA, b)
	})
	return ca, err
}

// AddConsole records a newly paired console; a name already used, even by
// a revoked console, is refused.
func (s *Store) AddConsole(c Console) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketConsoles)
		if bk.Get([]byte(c.Name)) != nil {
			return fmt.Errorf("%w: %s", ErrConsoleExists, c.Name)
		}
		return bk.Put([]byte(c.Name), b)
	})
}

// RevokeConsole marks a console revoked, for good.
func (s *Store) RevokeConsole(name string) (*Console, error) {
	var c Console
	err := s.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketConsoles)
		v := bk.Get([]byte(name))
		if v == nil || name == string(keyConsoleCA) {
			return fmt.Errorf("%w: %s", ErrNoConsole, name)
		}
		if err := json.Unmarshal(v, &c); err != nil {
			return fmt.Errorf("%w: console %s: %v", ErrCorrupt, name, err)
		}
		c.Revoked = true
		b, err := json.Marshal(c)
		if err != nil {
			return err
		}
		return bk.Put([]byte(name), b)
	})
	return &c, err
}

// Consoles lists the paired consoles, revoked ones too, by name.
func (s *Store) Consoles() ([]Console, error) {
	var out []Console
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketConsoles).ForEach(func(k, v []byte) error {
			if string(k) == string(keyConsoleCA) {
				return nil
			}
			var c Console
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("%w: console %s: %v", ErrCorrupt, k, err)
			}
			out = append(out, c)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}
