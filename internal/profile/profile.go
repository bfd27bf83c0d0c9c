// Package profile lets an operator or the benchmark profile a running
// daemon: with BAB_CPUPROFILE=FILE in its environment, bab serve and
// bab-exchange serve write a CPU profile to FILE until they stop; with
// BAB_BLOCKPROFILE=FILE and BAB_MUTEXPROFILE=FILE they record where
// goroutines waited (on channels, selects, locks) and which locks were
// contended, and write those profiles to FILE when they stop; with
// BAB_TRACE=FILE they write an execution trace (go tool trace) until they
// stop.
package profile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
)

// Env is the environment variable that names the CPU profile file.
const Env = "BAB_CPUPROFILE"

// BlockEnv and MutexEnv name the block and mutex profile files.
const (
	BlockEnv = "BAB_BLOCKPROFILE"
	MutexEnv = "BAB_MUTEXPROFILE"
	TraceEnv = "BAB_TRACE"
)

// Sampling of the block and mutex profiles, when asked for: one blocking
// event per 10 µs spent blocked, one contended lock in 10. Enough to see
// what every request waits on, cheap enough to leave the rates of a
// benchmark near what they are without.
const (
	blockRate     = 10_000 // nanoseconds
	mutexFraction = 10
)

// Start begins profiling as the environment asks; the returned function
// ends it, writes the profiles and must run before the process exits.
func Start() (stop func(), err error) {
	cpu, err := startTo(os.Getenv(Env), pprof.StartCPUProfile, pprof.StopCPUProfile)
	if err != nil {
		return nil, err
	}
	tr, err := startTo(os.Getenv(TraceEnv), trace.Start, trace.Stop)
	if err != nil {
		cpu()
		return nil, err
	}
	block, mutex := os.Getenv(BlockEnv), os.Getenv(MutexEnv)
	if block != "" {
		runtime.SetBlockProfileRate(blockRate)
	}
	if mutex != "" {
		runtime.SetMutexProfileFraction(mutexFraction)
	}
	return func() {
		cpu()
		tr()
		for _, p := range []struct{ name, path string }{{"block", block}, {"mutex", mutex}} {
			if p.path == "" {
				continue
			}
			if err := write(p.name, p.path); err != nil {
				fmt.Fprintln(os.Stderr, err)
			}
		}
	}, nil
}

// startTo starts a recording (the CPU profile, the execution trace) into
// a new file at path, or does nothing when path is empty; stop ends it and
// closes the file.
func startTo(path string, start func(io.Writer) error, end func()) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	if err := start(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("profile: %w", err)
	}
	return func() {
		end()
		f.Close()
	}, nil
}

// write writes the named runtime profile to path.
func write(name, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	err = pprof.Lookup(name).WriteTo(f, 0)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return errors.Join(fmt.Errorf("profile: %s profile", name), err)
	}
	return nil
}
