package lab

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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

// StartDisplay starts Xvfb at width×height on a free display of its
// choosing, listening on no TCP port, and returns once it accepts clients.
func StartDisplay(ctx context.Context, dir string, width, height int) (*Display, error) {
	// Xvfb picks a free display and writes its number to the pipe once it
	// accepts clients (-displayfd): choosing the number here raced with an
	// X server still ending, and a socket file does not say the server is
	// ready.
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	p, err := startProcFiles("Xvfb", filepath.Join(dir, "xvfb.log"), nil, 0, []*os.File{w},
		"Xvfb", "-displayfd", "3", "-screen", "0", fmt.Sprintf("%dx%dx24", width, height), "-nolisten", "tcp")
	w.Close()
	if err != nil {
		return nil, err
	}
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(io.LimitReader(r, 16)).ReadString('\n')
		got <- strings.TrimSpace(line)
	}()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	select {
	case n := <-got:
		if _, err := strconv.Atoi(n); err != nil || p.Exited() {
			_ = p.Stop()
			return nil, fmt.Errorf("lab: Xvfb gave no display (%q): %s", n, tail(p.Log()))
		}
		return &Display{Name: ":" + n, proc: p}, nil
	case <-ctx.Done():
		_ = p.Stop()
		return nil, fmt.Errorf("lab: Xvfb not ready after 30s: %s", tail(p.Log()))
	}
}

// Close stops the X server.
func (d *Display) Close() error { return d.proc.Stop() }

// Env is the environment of a program shown on d.
func (d *Display) Env() []string { return []string{"DISPLAY=" + d.Name} }

// Windows lists the screen's windows (xwininfo -tree), for a report.
func (d *Display) Windows() string {
	cmd := exec.Command("xwininfo", "-root", "-tree")
	cmd.Env = append(os.Environ(), d.Env()...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Sprintf("xwininfo: %v\n%s", err, out)
	}
	return string(out)
}

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
