package swtpm

import "errors"

// ErrNotInstalled means the swtpm programs are not on PATH. Tests that need a
// software TPM fail with it rather than skip: CI must install them.
var ErrNotInstalled = errors.New("swtpm is not installed: run scripts/deps (Debian packages swtpm and swtpm-tools)")

// ErrNotReady means the swtpm process started but did not answer TPM
// commands in time.
var ErrNotReady = errors.New("swtpm did not answer in time")

// ErrControl means the swtpm control channel refused a command.
var ErrControl = errors.New("swtpm control channel refused the command")

// ErrStopped means the Sim's process is no longer running.
var ErrStopped = errors.New("swtpm is not running")
