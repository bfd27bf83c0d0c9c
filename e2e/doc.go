// Package e2e holds the end-to-end tests: each starts a whole federation of
// real bab and bab-exchange processes on loopback through internal/lab and
// checks what a local system, an office and central ops would see.
package e2e
