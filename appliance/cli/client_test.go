package cli

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
)

func TestClientToken(t *testing.T) {
	var out bytes.Buffer
	if err := client([]string{"token", "civil-registry"}, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	tok := strings.TrimSpace(lines[1])
	want := fmt.Sprintf("token_sha256: %x", sha256.Sum256([]byte(tok)))
	if len(tok) < 40 || !strings.Contains(out.String(), "- name: civil-registry") || !strings.Contains(out.String(), want) {
		t.Fatalf("token output does not pair the token with its hash:\n%s", out.String())
	}
}

func TestClientRefusesFlagsAndBadNames(t *testing.T) {
	for _, args := range [][]string{{"token", "-h"}, {"-h"}, {"cert", "--help"}} {
		var out bytes.Buffer
		if err := client(args, &out); err != nil || !strings.HasPrefix(out.String(), "usage: bab client") {
			t.Errorf("client %q: err %v, output %q; want the usage", args, err, out.String())
		}
	}
	for _, name := range []string{"Civil_Registry", "-x", "", strings.Repeat("a", 64)} {
		var out bytes.Buffer
		err := client([]string{"token", name}, &out)
		if err == nil || !strings.Contains(err.Error(), "not a client name") || out.Len() != 0 {
			t.Errorf("client token %q: err %v, output %q; want a refusal and no token", name, err, out.String())
		}
	}
}
