package lab

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ModuleRoot finds the source tree the lab builds from: the directory of
// the go.mod of this module, searched upwards from the working directory.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/babgate/bab\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("lab: run from inside the bab source tree (no go.mod of github.com/babgate/bab above the working directory)")
		}
		dir = parent
	}
}

// Build compiles bab and bab-exchange into dir, statically, as shipped
// (with build tags for a test build).
func Build(dir string, tags ...string) error {
	root, err := ModuleRoot()
	if err != nil {
		return err
	}
	args := []string{"build", "-trimpath", "-o", dir + string(os.PathSeparator)}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	cmd := exec.Command("go", append(args, "./cmd/bab", "./cmd/bab-exchange")...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("lab: build binaries: %v\n%s", err, out)
	}
	return nil
}
