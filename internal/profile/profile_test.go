package profile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestStartWritesWhatTheEnvironmentAsks(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{Env: "cpu.prof", TraceEnv: "run.trace", BlockEnv: "block.prof", MutexEnv: "mutex.prof"}
	for env, name := range files {
		t.Setenv(env, filepath.Join(dir, name))
	}
	stop, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	stop()
	for env, name := range files {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Size() == 0 {
			t.Errorf("%s: %s not written (%v)", env, name, err)
		}
	}
}
