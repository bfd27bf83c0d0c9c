package cli

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/babgate/bab/appliance/config"
)

// client prints the gateway.clients lines for a local system: a fresh
// token and its hash, or the hash of the system's client certificate. The
// config file then holds only hashes.
func client(args []string, stdout io.Writer) error {
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			fmt.Fprintln(stdout, clientUsage)
			return nil
		}
	}
	if len(args) >= 2 && !config.ValidClientName(args[1]) {
		return fmt.Errorf("%q is not a client name: use 1 to 63 lowercase letters, digits and hyphens, starting with a letter or digit, such as civil-registry\n%s", args[1], clientUsage)
	}
	if len(args) >= 2 && args[0] == "token" {
		var raw [32]byte
		_, _ = rand.Read(raw[:])
		tok := base64.RawURLEncoding.EncodeToString(raw[:])
		sum := sha256.Sum256([]byte(tok))
		fmt.Fprintf(stdout, "Token for %s (give it to that system; it is shown only now):\n  %s\n\nAdd to gateway.clients in bab.yaml:\n    - name: %s\n      token_sha256: %x\n", args[1], tok, args[1], sum)
		return nil
	}
	if len(args) >= 3 && args[0] == "cert" {
		raw, err := os.ReadFile(args[2])
		if err != nil {
			return err
		}
		der := raw
		if b, _ := pem.Decode(raw); b != nil {
			if b.Type != "CERTIFICATE" {
				return fmt.Errorf("%s holds a %s, not a CERTIFICATE", args[2], b.Type)
			}
			der = b.Bytes
		}
		fmt.Fprintf(stdout, "Add to gateway.clients in bab.yaml:\n    - name: %s\n      cert_sha256: %x\n", args[1], sha256.Sum256(der))
		return nil
	}
	return errors.New(clientUsage)
}

const clientUsage = "usage: bab client token NAME | bab client cert NAME CERT.pem"
