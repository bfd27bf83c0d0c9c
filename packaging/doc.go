// Package packaging holds the Debian packaging of bab and bab-exchange:
// the nfpm file of bab-exchange (bab's is nfpm.yaml at the root), the
// systemd units, the maintainer scripts, the commented default configs and
// the sysctl drop-ins. It has no Go code; its tests build the packages with
// scripts/package and check them: contents, lintian, the units' validity
// and hardening, install, upgrade, remove and purge in a scratch root, and
// both daemons running under their units in a container booted with
// systemd.
package packaging
