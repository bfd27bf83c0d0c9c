package packaging

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Two builds of the same tree, so that an upgrade really replaces files.
const (
	oldVersion = "0.1.0~test1"
	newVersion = "0.1.0~test2"
)

// builds holds the packages scripts/package made, by version, shared by
// the tests of this package and removed when they end.
var builds struct {
	sync.Mutex
	dir  string
	debs map[string]map[string]string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builds.dir != "" {
		os.RemoveAll(builds.dir)
	}
	os.Exit(code)
}

// builtPackages runs scripts/package for version, once per test binary,
// and returns the .deb of each package by name.
func builtPackages(t *testing.T, version string) map[string]string {
	t.Helper()
	builds.Lock()
	defer builds.Unlock()
	if debs, ok := builds.debs[version]; ok {
		return debs
	}
	if builds.dir == "" {
		dir, err := os.MkdirTemp("", "bab-packages-")
		must(t, err)
		builds.dir, builds.debs = dir, map[string]map[string]string{}
	}
	out := filepath.Join(builds.dir, version)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join("..", "scripts", "package"), "--version", version, "--out", out)
	cmd.Env = append(os.Environ(), "BAB_VERSION=") // the flag decides
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/package --version %s: %v\n%s", version, err, b)
	}
	debs := map[string]string{}
	for _, p := range packages {
		deb := filepath.Join(out, fmt.Sprintf("%s_%s_amd64.deb", p.name, version))
		if _, err := os.Stat(deb); err != nil {
			t.Fatalf("scripts/package did not make %s: %v", filepath.Base(deb), err)
		}
		debs[p.name] = deb
	}
	builds.debs[version] = debs
	return debs
}
