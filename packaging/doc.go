// Package packaging holds the Debian packaging of bab, bab-exchange and
// bab-console: the nfpm files of bab-exchange and bab-console (bab's is
// nfpm.yaml at the root), the systemd units, the maintainer scripts, the
// commented default configs, the sysctl drop-ins and the console's desktop
// entry (its icon is ui/icon's, which the console embeds). It has no Go
// code; its tests build the packages with scripts/package and check them:
// contents, lintian, the units' validity and hardening, the console's
// Depends against the libraries its binary links, install, upgrade,
// remove and purge in a scratch root, and both daemons running under
// their units in a container booted with systemd.
package packaging
