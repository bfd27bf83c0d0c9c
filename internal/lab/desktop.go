package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// BuildConsole compiles bab-console into dir: it links OpenGL and X11 with
// cgo, so it needs a C compiler and their headers (scripts/deps).
func BuildConsole(dir string) (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "bab-console")
	// As scripts/package builds it for the package.
	cmd := exec.Command("go", "build", "-tags", "no_emoji", "-trimpath", "-o", out, "./cmd/bab-console")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("lab: build bab-console: %v\n%s", err, b)
	}
	return out, nil
}

// Display is an Xvfb X server of the lab's, for running the console and
// taking screenshots without a screen.
type Display struct {
	Name string // :N
	proc *Proc
}

// DesktopTools reports what is missing to run the console headless.
func DesktopTools() error {
	for _, c := range []string{"Xvfb", "xwininfo", "import", "xdotool", "gcc"} {
		if _, err := exec.LookPath(c); err != nil {
			return fmt.Errorf("%s is not installed (scripts/deps installs it)", c)
		}
	}
	return nil
}

// StartDisplay starts Xvfb at width×height on the first free display
// number from 90, listening on no TCP port.
func StartDisplay(ctx context.Context, dir string, width, height int) (*Display, error) {
	for n := 90; n < 110; n++ {
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n)); err == nil {
			continue
		}
		name := fmt.Sprintf(":%d", n)
		p, err := startProc("Xvfb", filepath.Join(dir, fmt.Sprintf("xvfb-%d.log", n)), nil,
			"Xvfb", name, "-screen", "0", fmt.Sprintf("%dx%dx24", width, height), "-nolisten", "tcp")
		if err != nil {
			return nil, err
		}
		err = poll(ctx, 10*time.Second, func() error {
			if p.Exited() {
				return errors.New("Xvfb exited: " + tail(p.Log()))
			}
			_, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n))
			return err
		})
		if err == nil {
			return &Display{Name: name, proc: p}, nil
		}
		_ = p.Stop()
	}
	return nil, errors.New("lab: no free X display between :90 and :109")
}

// Close stops the X server.
func (d *Display) Close() error { return d.proc.Stop() }

// Env is the environment of a program shown on d.
func (d *Display) Env() []string { return []string{"DISPLAY=" + d.Name} }

// AwaitWindow waits until a window whose name starts with prefix is shown
// and returns its name.
func (d *Display) AwaitWindow(ctx context.Context, prefix string) (string, error) {
	var title string
	err := poll(ctx, 60*time.Second, func() error {
		cmd := exec.Command("xwininfo", "-root", "-tree")
		cmd.Env = append(os.Environ(), d.Env()...)
		out, err := cmd.Output()
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(out), "\n") {
			if i := strings.Index(line, `"`+prefix); i >= 0 {
				rest := line[i+1:]
				title = rest[:strings.IndexByte(rest, '"')]
				return nil
			}
		}
		return fmt.Errorf("no window named %s… yet", prefix)
	})
	return title, err
}

// Screenshot writes the whole screen to path (PNG).
func (d *Display) Screenshot(path string) error {
	cmd := exec.Command("import", "-window", "root", path)
	cmd.Env = append(os.Environ(), d.Env()...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("lab: screenshot: %v: %s", err, out)
	}
	return nil
}

// Frame is the whole screen's pixels, for telling whether it changed.
func (d *Display) Frame() ([]byte, error) {
	cmd := exec.Command("import", "-window", "root", "-depth", "8", "rgb:-")
	cmd.Env = append(os.Environ(), d.Env()...)
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("lab: capture the screen: %v", err)
	}
	return out, nil
}

// Settle waits until the screen differs from before and then holds still
// (two captures in a row alike, or a few tries: a text cursor blinks), and
// returns what it shows: the sign that a click or keys were taken in.
func (d *Display) Settle(ctx context.Context, before []byte) ([]byte, error) {
	var now []byte
	err := poll(ctx, 20*time.Second, func() error {
		var err error
		if now, err = d.Frame(); err != nil {
			return err
		}
		if bytes.Equal(now, before) {
			return errors.New("the screen has not changed")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for range 4 {
		next, err := d.Frame()
		if err != nil {
			return nil, err
		}
		if bytes.Equal(next, now) {
			break
		}
		now = next
	}
	return now, nil
}

// Keys types text into the window that has the focus.
func (d *Display) Keys(text string) error { return d.xdotool("type", "--delay", "30", text) }

// Resize makes the window named prefix… width×height, as a window
// manager does when the window is maximised.
func (d *Display) Resize(prefix string, width, height int) error {
	return d.xdotool("search", "--name", "^"+prefix, "windowsize", "%@", fmt.Sprint(width), fmt.Sprint(height))
}

func (d *Display) xdotool(args ...string) error {
	cmd := exec.Command("xdotool", args...)
	cmd.Env = append(os.Environ(), d.Env()...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("lab: xdotool %s: %v: %s", args[0], err, out)
	}
	return nil
}

// StartConsole runs bin (bab-console) on d with args, its output in dir.
func (d *Display) StartConsole(bin, dir string, env []string, args ...string) (*Proc, error) {
	return startProc("bab-console", filepath.Join(dir, "bab-console.log"), append(d.Env(), env...), append([]string{bin}, args...)...)
}

// Click clicks the left button at x, y of the screen.
func (d *Display) Click(x, y int) error {
	return d.xdotool("mousemove", fmt.Sprint(x), fmt.Sprint(y), "click", "1")
}
