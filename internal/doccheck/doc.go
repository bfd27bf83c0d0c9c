// Package doccheck holds repository-wide checks that belong to no single
// package: every package says what it is for, and the daemons stay free of
// the desktop toolkit and of cgo. It has tests only.
package doccheck
