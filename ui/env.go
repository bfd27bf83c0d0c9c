package ui

import (
	"context"
	"log"
	"os"
	"time"

	"fyne.io/fyne/v2"
)

// env is what every screen shares: the appliance, the window, the clock,
// and how work leaves and returns to Fyne's goroutine. Tests replace
// async and after with synchronous versions.
type env struct {
	api   Appliance
	app   fyne.App
	win   fyne.Window
	clock clock
	// async runs work off Fyne's goroutine; its results come back
	// through fyne.Do.
	async func(func())
	// after runs f on Fyne's goroutine after d, unless stopped.
	after func(d time.Duration, f func()) (stop func() bool)
	// tick: refresh every RefreshEvery.
	tick bool
	// logf writes a line to the console's log (standard error): what
	// happened and how long it took, never what a lookup asked or got.
	logf func(format string, args ...any)
}

func (e *env) log(format string, args ...any) {
	if e.logf != nil {
		e.logf(format, args...)
	}
}

func defaultEnv(a fyne.App) *env {
	return &env{
		app:   a,
		clock: clock{now: time.Now, loc: time.Local},
		tick:  true,
		logf:  log.New(os.Stderr, "bab-console: ", log.LstdFlags).Printf,
		async: func(f func()) { go f() },
		after: func(d time.Duration, f func()) func() bool {
			return time.AfterFunc(d, func() { fyne.Do(f) }).Stop
		},
	}
}

// How long the console waits for each kind of answer.
const (
	statusTimeout = 8 * time.Second
	listTimeout   = 15 * time.Second
	lookupTimeout = 90 * time.Second
)

// call runs f off Fyne's goroutine with a deadline and hands its result
// to done on Fyne's goroutine.
func call[T any](e *env, timeout time.Duration, f func(context.Context) (T, error), done func(T, error)) {
	e.async(func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		v, err := f(ctx)
		fyne.Do(func() { done(v, err) })
	})
}
