// Package profile lets an operator or the benchmark take a CPU profile of a
// running daemon: with BAB_CPUPROFILE=FILE in its environment, bab serve and
// bab-exchange serve write a CPU profile to FILE until they stop.
package profile

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// Env is the environment variable that names the profile file.
const Env = "BAB_CPUPROFILE"

// Start begins profiling if Env is set; the returned function ends it and
// must run before the process exits.
func Start() (stop func(), err error) {
	path := os.Getenv(Env)
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
