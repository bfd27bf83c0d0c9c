package packaging

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/babgate/bab/internal/loudskip"
)

// maxBinary is the design's budget for a static daemon binary.
const maxBinary = 20 << 20

// pkg is what a package must be and do.
type pkg struct {
	name string
	// console: the clerks' desktop console, built with cgo; no service,
	// no user, no configuration, no maintainer scripts, and the fields
	// below up to entries unset.
	console    bool
	recommends string
	user       string   // the service's user, with a group of its name
	groups     []string // its supplementary groups
	// people are the groups the package makes for the staff who may use
	// the admin socket.
	people []string
	conf   string // the config directory
	state  string // the state directory
	units  []string
	sysctl string
	// entries is the package's files (not directories) with the mode and
	// owner dpkg-deb -c shows. Directories must be root/root drwxr-xr-x.
	entries map[string]string
}

func (p pkg) confFile() string { return p.conf + "/" + p.name + ".yaml" }

var packages = []pkg{
	{
		name: "bab", recommends: "tpm-udev", user: "bab", groups: []string{"tss"}, people: []string{"bab-admin", "bab-console"},
		conf: "/etc/bab", state: "/var/lib/bab",
		units: []string{"bab.service", "bab.socket"}, sysctl: "30-bab.conf",
		entries: map[string]string{
			"./etc/bab/bab.yaml":                   "-rw-r--r-- root/root",
			"./usr/bin/bab":                        "-rwxr-xr-x root/root",
			"./usr/lib/systemd/system/bab.service": "-rw-r--r-- root/root",
			"./usr/lib/systemd/system/bab.socket":  "-rw-r--r-- root/root",
			"./usr/lib/sysctl.d/30-bab.conf":       "-rw-r--r-- root/root",
			"./usr/share/doc/bab/changelog.gz":     "-rw-r--r-- root/root",
			"./usr/share/doc/bab/copyright":        "-rw-r--r-- root/root",
			"./usr/share/lintian/overrides/bab":    "-rw-r--r-- root/root",
			"./usr/share/man/man1/bab.1.gz":        "-rw-r--r-- root/root",
		},
	},
	{
		name: "bab-exchange", user: "bab-exchange", people: []string{"bab-exchange-ro"},
		conf: "/etc/bab-exchange", state: "/var/lib/bab-exchange",
		units: []string{"bab-exchange.service"}, sysctl: "30-bab-exchange.conf",
		entries: map[string]string{
			"./etc/bab-exchange/bab-exchange.yaml":          "-rw-r--r-- root/root",
			"./usr/bin/bab-exchange":                        "-rwxr-xr-x root/root",
			"./usr/lib/systemd/system/bab-exchange.service": "-rw-r--r-- root/root",
			"./usr/lib/sysctl.d/30-bab-exchange.conf":       "-rw-r--r-- root/root",
			"./usr/share/doc/bab-exchange/changelog.gz":     "-rw-r--r-- root/root",
			"./usr/share/doc/bab-exchange/copyright":        "-rw-r--r-- root/root",
			"./usr/share/lintian/overrides/bab-exchange":    "-rw-r--r-- root/root",
			"./usr/share/man/man1/bab-exchange.1.gz":        "-rw-r--r-- root/root",
		},
	},
	{
		name: "bab-console", console: true, recommends: "libxrandr2, libxinerama1, libxcursor1, libxrender1, libxi6, libxxf86vm1",
		entries: map[string]string{
			"./usr/bin/bab-console":                                           "-rwxr-xr-x root/root",
			"./usr/share/applications/org.babgate.console.desktop":            "-rw-r--r-- root/root",
			"./usr/share/doc/bab-console/changelog.gz":                        "-rw-r--r-- root/root",
			"./usr/share/doc/bab-console/copyright":                           "-rw-r--r-- root/root",
			"./usr/share/icons/hicolor/128x128/apps/org.babgate.console.png":  "-rw-r--r-- root/root",
			"./usr/share/icons/hicolor/256x256/apps/org.babgate.console.png":  "-rw-r--r-- root/root",
			"./usr/share/icons/hicolor/48x48/apps/org.babgate.console.png":    "-rw-r--r-- root/root",
			"./usr/share/icons/hicolor/scalable/apps/org.babgate.console.svg": "-rw-r--r-- root/root",
			"./usr/share/man/man1/bab-console.1.gz":                           "-rw-r--r-- root/root",
		},
	},
}

// daemons are the packages of the two services, bab and bab-exchange.
func daemons() []pkg {
	var d []pkg
	for _, p := range packages {
		if !p.console {
			d = append(d, p)
		}
	}
	return d
}

// TestDebianPackages builds bab, bab-exchange and bab-console twice with
// scripts/package (two versions), checks what the packages hold, runs
// lintian on them, and takes them through install, reinstall, upgrade,
// remove and purge in a scratch root, checking users, owners, modes and
// what survives each step. The console's package is checked for what a
// desktop program needs instead: Depends naming every library its binary
// links, its desktop entry, icons and man page, and nothing left behind.
func TestDebianPackages(t *testing.T) {
	if os.Geteuid() != 0 {
		loudskip.Skip(t, "needs root: installs the packages into a scratch root with dpkg --root and overlayfs (run the tests as root to cover the packaging)")
	}
	for _, tool := range []string{"dpkg", "dpkg-deb", "lintian", "systemd-analyze", "git", "dpkg-shlibdeps", "readelf", "desktop-file-validate", "groff"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: scripts/deps installs what the packaging tests need", tool)
		}
	}
	root := newScratchRoot(t, "passwd") // before the build: it may skip
	oldDebs := builtPackages(t, oldVersion)
	newDebs := builtPackages(t, newVersion)

	t.Run("contents", func(t *testing.T) {
		for _, p := range packages {
			checkContents(t, p, newDebs[p.name], newVersion)
		}
	})
	t.Run("lintian", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		args := []string{"--fail-on", "error,warning"}
		for _, p := range packages {
			args = append(args, newDebs[p.name])
		}
		out, err := exec.CommandContext(ctx, "lintian", args...).CombinedOutput()
		if err != nil {
			t.Errorf("lintian %v (fix the package, or add an override with its reason in packaging/deb/PACKAGE/lintian-overrides):\n%s", err, out)
		}
	})
	t.Run("lifecycle", func(t *testing.T) {
		lifecycle(t, root, oldDebs, newDebs)
	})
	t.Run("console", func(t *testing.T) {
		consoleLifecycle(t, oldDebs["bab-console"], newDebs["bab-console"])
	})
	t.Run("existing accounts", func(t *testing.T) {
		existingAccounts(t, newDebs["bab"])
	})
}

func checkContents(t *testing.T, p pkg, deb, version string) {
	t.Helper()
	listing := output(t, "dpkg-deb", "-c", deb)
	got := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(listing), "\n") {
		f := strings.Fields(l)
		if len(f) < 6 {
			t.Fatalf("%s: unexpected dpkg-deb -c line %q", p.name, l)
		}
		mode, owner, size, path := f[0], f[1], f[2], f[len(f)-1]
		if strings.HasPrefix(mode, "d") {
			if mode != "drwxr-xr-x" || owner != "root/root" {
				t.Errorf("%s: directory %s is %s %s, want drwxr-xr-x root/root (postinst sets the rest)", p.name, path, mode, owner)
			}
			continue
		}
		got[path] = mode + " " + owner
		if path == "./usr/bin/"+p.name && !p.console && atoi(t, size) > maxBinary {
			t.Errorf("%s: the binary is %s bytes, over the design's budget of %d", p.name, size, maxBinary)
		}
	}
	for path, want := range p.entries {
		if got[path] != want {
			t.Errorf("%s: %s is %q, want %q", p.name, path, got[path], want)
		}
	}
	for path := range got {
		if _, ok := p.entries[path]; !ok {
			t.Errorf("%s: unexpected file %s in the package (add it to the test if it belongs there)", p.name, path)
		}
	}

	fields := map[string]string{}
	for _, l := range strings.Split(output(t, "dpkg-deb", "-f", deb, "Package", "Version", "Architecture", "Depends", "Pre-Depends", "Recommends", "Section", "Priority", "Maintainer", "Installed-Size"), "\n") {
		if k, v, ok := strings.Cut(l, ": "); ok {
			fields[k] = v
		}
	}
	want := map[string]string{"Package": p.name, "Version": version, "Architecture": "amd64", "Depends": "passwd", "Pre-Depends": "", "Recommends": p.recommends, "Section": "net", "Priority": "optional"}
	if p.console {
		want["Section"] = "x11"
		delete(want, "Depends") // checkConsole checks it against the binary
	}
	for k, v := range want {
		if fields[k] != v {
			t.Errorf("%s: control field %s is %q, want %q", p.name, k, fields[k], v)
		}
	}
	if !strings.Contains(fields["Maintainer"], "<") || atoi(t, fields["Installed-Size"]) <= 0 {
		t.Errorf("%s: Maintainer %q or Installed-Size %q missing", p.name, fields["Maintainer"], fields["Installed-Size"])
	}
	info := output(t, "dpkg-deb", "-I", deb)
	if p.console {
		// Nothing to configure and no account to make: the bab package
		// makes group bab-console, on the appliance's server.
		var members []string
		for _, m := range regexp.MustCompile(`(?m)^\s+\d+ bytes,\s+\d+ lines\s+(?:\*\s+)?(\S+)`).FindAllStringSubmatch(info, -1) {
			members = append(members, m[1])
		}
		if !slices.Equal(members, []string{"control", "md5sums"}) {
			t.Errorf("%s: control members %v, want only control and md5sums (no conffiles, no maintainer scripts):\n%s", p.name, members, info)
		}
		checkConsole(t, deb, fields["Depends"])
		return
	}
	if got := strings.TrimSpace(output(t, "dpkg-deb", "-I", deb, "conffiles")); got != p.confFile() {
		t.Errorf("%s: conffiles %q, want only %s", p.name, got, p.confFile())
	}
	for _, s := range []string{"postinst", "prerm", "postrm"} {
		if !regexpLine(info, `\*\s+`+s+`\s+#!/bin/sh`) {
			t.Errorf("%s: maintainer script %s missing, not executable or not /bin/sh:\n%s", p.name, s, info)
		}
	}
	if strings.Contains(info, "preinst") || strings.Contains(info, " config ") {
		t.Errorf("%s: unexpected preinst or config script:\n%s", p.name, info)
	}
}

// lifecycle installs both packages, reinstalls and upgrades them with an
// administrator's changes in place, removes and purges them.
func lifecycle(t *testing.T, r *scratchRoot, oldDebs, newDebs map[string]string) {
	both := func(debs map[string]string) []string { return []string{debs["bab"], debs["bab-exchange"]} }
	names := []string{"bab", "bab-exchange"}
	packages := daemons()

	out := r.dpkg(t, append([]string{"-i"}, both(oldDebs)...)...)
	for _, p := range packages {
		checkInstalled(t, r, p, oldVersion)
		if !strings.Contains(out, p.name+": edit "+p.confFile()) {
			t.Errorf("%s: postinst does not say what to do next:\n%s", p.name, out)
		}
	}
	before := r.accounts(t)

	// What an administrator does after installing: bab enroll as root
	// (here it opens the state file and stops at the missing TPM), a
	// state file of each daemon, an edited config, a file beside it.
	out, err := r.chroot("/usr/bin/bab", "enroll", "--exchange", "127.0.0.1:1", "--token", "test")
	if err == nil || !strings.Contains(out, "TPM") {
		t.Errorf("bab enroll in the scratch root: want a failure about the missing TPM, got %v:\n%s", err, out)
	}
	kept := map[string]string{}
	for _, p := range packages {
		a := r.accounts(t)
		identity := p.state + "/identity.test"
		write(t, r, identity, "identity of "+p.name, 0o600, a.users[p.user].uid, a.gids[p.user])
		kept[identity] = "identity of " + p.name
		// A file the administrator adds beside the config (a TLS key, an
		// ops key): dpkg does not know it; purge must still remove it.
		added := p.conf + "/added-by-admin.test"
		write(t, r, added, "secret of "+p.name, 0o640, 0, a.gids[p.user])
		kept[added] = "secret of " + p.name
		conf, err := os.ReadFile(r.path(p.confFile()))
		must(t, err)
		edited := string(conf) + "\n# Edited by the administrator.\n"
		must(t, os.WriteFile(r.path(p.confFile()), []byte(edited), 0o640))
		kept[p.confFile()] = edited
	}
	checkFile(t, r, "/var/lib/bab/bab.db", 0o600, "bab", "bab") // root's enroll, the service's file
	checkKept := func(step string) {
		t.Helper()
		for path, want := range kept {
			if b, err := os.ReadFile(r.path(path)); err != nil || string(b) != want {
				t.Errorf("after %s: %s changed or is gone (%v)", step, path, err)
			}
		}
		if _, _, _, ok := r.stat(t, "/var/lib/bab/bab.db"); !ok {
			t.Errorf("after %s: /var/lib/bab/bab.db is gone", step)
		}
	}

	r.dpkg(t, append([]string{"-i"}, both(oldDebs)...)...) // postinst again: idempotent
	for _, p := range packages {
		checkInstalled(t, r, p, oldVersion)
	}
	checkKept("reinstalling")
	sameAccounts(t, "reinstalling", before, r.accounts(t))

	out = r.dpkg(t, append([]string{"-i"}, both(newDebs)...)...)
	if strings.Contains(out, "Configuration file") {
		t.Errorf("upgrade asked about a config file:\n%s", out)
	}
	for _, p := range packages {
		checkInstalled(t, r, p, newVersion)
	}
	checkKept("the upgrade")
	sameAccounts(t, "the upgrade", before, r.accounts(t))
	verifyUnits(t, r)

	r.dpkg(t, append([]string{"-r"}, names...)...)
	for _, p := range packages {
		if st, v := dpkgStatus(t, r, p.name); st != "deinstall ok config-files" || v != newVersion {
			t.Errorf("after remove: %s is %q %q, want config-files kept", p.name, st, v)
		}
		for _, f := range []string{"/usr/bin/" + p.name, "/usr/lib/sysctl.d/" + p.sysctl, "/usr/share/man/man1/" + p.name + ".1.gz"} {
			if _, _, _, ok := r.stat(t, f); ok {
				t.Errorf("after remove: %s is still there", f)
			}
		}
		for _, u := range p.units {
			if _, _, _, ok := r.stat(t, "/usr/lib/systemd/system/"+u); ok {
				t.Errorf("after remove: unit %s is still there", u)
			}
		}
		checkFile(t, r, p.conf, os.ModeDir|0o750, "root", p.user)
		checkFile(t, r, p.confFile(), 0o640, "root", p.user)
		checkFile(t, r, p.state, os.ModeDir|0o700, p.user, p.user)
	}
	checkKept("remove")
	sameAccounts(t, "remove", before, r.accounts(t))

	r.dpkg(t, append([]string{"-P"}, names...)...)
	for _, p := range packages {
		if st, _ := dpkgStatus(t, r, p.name); st != "" {
			t.Errorf("after purge: %s is still known to dpkg as %q", p.name, st)
		}
		for _, d := range []string{p.conf, p.state} {
			if _, _, _, ok := r.stat(t, d); ok {
				t.Errorf("after purge: %s is still there", d)
			}
		}
	}
	if b, err := os.ReadFile(r.path("/var/lib/dpkg/statoverride")); err == nil && len(bytes.TrimSpace(b)) > 0 {
		t.Errorf("after purge: dpkg-statoverride entries left:\n%s", b)
	}
	// The users stay, as Debian does for system users (postrm says why).
	sameAccounts(t, "purge", before, r.accounts(t))
}

// checkInstalled checks an installed package: dpkg's record, the users,
// the files with their owners and modes, nothing enabled.
func checkInstalled(t *testing.T, r *scratchRoot, p pkg, version string) {
	t.Helper()
	if st, v := dpkgStatus(t, r, p.name); st != "install ok installed" || v != version {
		t.Fatalf("%s: dpkg says %q %q, want installed %s", p.name, st, v, version)
	}
	a := r.accounts(t)
	u, ok := a.users[p.user]
	switch {
	case !ok:
		t.Fatalf("%s: no user %s", p.name, p.user)
	case u.group != p.user || u.home != p.state || u.shell != "/usr/sbin/nologin":
		t.Errorf("%s: user %s has group %q, home %q, shell %q; want group %s, home %s, no login shell", p.name, p.user, u.group, u.home, u.shell, p.user, p.state)
	case u.uid == 0 || u.uid >= 1000:
		t.Errorf("%s: user %s has uid %d, want a system uid", p.name, p.user, u.uid)
	}
	for _, g := range p.groups {
		if !slices.Contains(a.members[g], p.user) {
			t.Errorf("%s: user %s is not in group %s (members %v)", p.name, p.user, g, a.members[g])
		}
	}
	for _, g := range p.people {
		if gid, ok := a.gids[g]; !ok || gid == 0 || gid >= 1000 {
			t.Errorf("%s: group %s is %d (made %v), want a system group", p.name, g, gid, ok)
		}
	}
	checkFile(t, r, "/usr/bin/"+p.name, 0o755, "root", "root")
	for _, u := range p.units {
		checkFile(t, r, "/usr/lib/systemd/system/"+u, 0o644, "root", "root")
		for _, target := range []string{"multi-user.target.wants", "sockets.target.wants"} {
			if _, _, _, ok := r.stat(t, "/etc/systemd/system/"+target+"/"+u); ok {
				t.Errorf("%s: %s is enabled; it must not be before enrollment", p.name, u)
			}
		}
	}
	checkFile(t, r, "/usr/lib/sysctl.d/"+p.sysctl, 0o644, "root", "root")
	sysctl, err := os.ReadFile(r.path("/usr/lib/sysctl.d/" + p.sysctl))
	must(t, err)
	for _, want := range []string{"net.core.rmem_max = 7500000", "net.core.wmem_max = 7500000"} {
		if !strings.Contains(string(sysctl), want) {
			t.Errorf("%s: %s lacks %q", p.name, p.sysctl, want)
		}
	}
	checkFile(t, r, p.conf, os.ModeDir|0o750, "root", p.user)
	checkFile(t, r, p.confFile(), 0o640, "root", p.user)
	checkFile(t, r, p.state, os.ModeDir|0o700, p.user, p.user)
	if m, _ := filepath.Glob(r.path(p.conf + "/*.dpkg-*")); len(m) > 0 {
		t.Errorf("%s: dpkg left %v", p.name, m)
	}

	out, err := r.chroot("/usr/bin/"+p.name, "version")
	if err != nil || !strings.Contains(out, version) {
		t.Errorf("%s version: %v %q, want %s", p.name, err, out, version)
	}
	man := gunzip(t, r.path("/usr/share/man/man1/"+p.name+".1.gz"))
	for _, want := range []string{".TH " + strings.ToUpper(strings.ReplaceAll(p.name, "-", `\-`)) + " 1", ".SH COMMANDS", `\fBserve\fR`, `\fB\-\-config\fR`, version} {
		if !strings.Contains(man, want) {
			t.Errorf("%s: man page lacks %q", p.name, want)
		}
	}
	if cl := gunzip(t, r.path("/usr/share/doc/"+p.name+"/changelog.gz")); !strings.HasPrefix(cl, p.name+" ("+version+") ") {
		first, _, _ := strings.Cut(cl, "\n")
		t.Errorf("%s: changelog starts %q, want an entry for %s", p.name, first, version)
	}
}

// existingAccounts installs bab where the TPM stack already made group tss
// and an earlier installation left user bab outside it: both are kept
// (same ids), and bab joins tss.
func existingAccounts(t *testing.T, deb string) {
	r := newScratchRoot(t, "passwd")
	appendTo := func(file, line string) {
		f, err := os.OpenFile(r.path(file), os.O_APPEND|os.O_WRONLY, 0)
		must(t, err)
		_, err = f.WriteString(line + "\n")
		must(t, err)
		must(t, f.Close())
	}
	appendTo("/etc/group", "tss:x:120:")
	appendTo("/etc/gshadow", "tss:!::")
	appendTo("/etc/passwd", "tss:x:110:120:TPM software stack:/var/lib/tpm:/bin/false")
	appendTo("/etc/shadow", "tss:!:19000::::::")
	appendTo("/etc/group", "bab:x:151:")
	appendTo("/etc/gshadow", "bab:!::")
	appendTo("/etc/passwd", "bab:x:150:151:Bab appliance:/var/lib/bab:/usr/sbin/nologin")
	appendTo("/etc/shadow", "bab:!:19000::::::")
	r.dpkg(t, "-i", deb)
	a := r.accounts(t)
	if a.users["bab"].uid != 150 || a.gids["bab"] != 151 || a.gids["tss"] != 120 || a.users["tss"].uid != 110 {
		t.Errorf("existing ids changed: bab %d:%d, tss group %d, tss user %d", a.users["bab"].uid, a.gids["bab"], a.gids["tss"], a.users["tss"].uid)
	}
	if !slices.Contains(a.members["tss"], "bab") {
		t.Errorf("bab did not join group tss: members %v", a.members["tss"])
	}
	checkFile(t, r, "/var/lib/bab", os.ModeDir|0o700, "bab", "bab")
	checkFile(t, r, "/etc/bab/bab.yaml", 0o640, "root", "bab")
}

// verifyUnits has systemd check the installed units against the scratch
// root: syntax, known settings, and that ExecStart's binary exists.
func verifyUnits(t *testing.T, r *scratchRoot) {
	t.Helper()
	args := []string{"systemd-analyze", "verify", "--man=no", "--root=" + r.dir}
	for _, p := range daemons() {
		for _, u := range p.units {
			args = append(args, "/usr/lib/systemd/system/"+u)
		}
	}
	out, err := r.run(args...)
	if err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("%v:\n%s", err, out)
	}
}

func sameAccounts(t *testing.T, step string, before, after accounts) {
	t.Helper()
	for _, p := range daemons() {
		if before.users[p.user] != after.users[p.user] || before.gids[p.user] != after.gids[p.user] {
			t.Errorf("after %s: user or group %s changed: %+v %d, before %+v %d", step, p.user, after.users[p.user], after.gids[p.user], before.users[p.user], before.gids[p.user])
		}
		for _, g := range p.people {
			if before.gids[g] != after.gids[g] {
				t.Errorf("after %s: group %s changed: %d, before %d", step, g, after.gids[g], before.gids[g])
			}
		}
	}
	if before.gids["tss"] != after.gids["tss"] {
		t.Errorf("after %s: group tss changed", step)
	}
}

// checkFile checks a file's type, permissions, owner and group (by name,
// looked up in the scratch root).
func checkFile(t *testing.T, r *scratchRoot, path string, want os.FileMode, owner, group string) {
	t.Helper()
	mode, uid, gid, ok := r.stat(t, path)
	if !ok {
		t.Errorf("%s is missing", path)
		return
	}
	a := r.accounts(t)
	wantUID, wantGID := a.users[owner].uid, a.gids[group]
	if mode.Type() != want.Type() || mode.Perm() != want.Perm() || uid != wantUID || gid != wantGID {
		t.Errorf("%s is %v %d:%d, want %v %s:%s (%d:%d)", path, mode, uid, gid, want, owner, group, wantUID, wantGID)
	}
}

// dpkgStatus is the package's Status and Version in the scratch root's
// dpkg database, empty when dpkg does not know it.
func dpkgStatus(t *testing.T, r *scratchRoot, name string) (status, version string) {
	t.Helper()
	b, err := os.ReadFile(r.path("/var/lib/dpkg/status"))
	must(t, err)
	for _, stanza := range strings.Split(string(b), "\n\n") {
		fields := map[string]string{}
		for _, l := range strings.Split(stanza, "\n") {
			if k, v, ok := strings.Cut(l, ": "); ok {
				fields[k] = v
			}
		}
		if fields["Package"] == name {
			return fields["Status"], fields["Version"]
		}
	}
	return "", ""
}

func write(t *testing.T, r *scratchRoot, path, content string, mode os.FileMode, uid, gid int) {
	t.Helper()
	p := r.path(path)
	must(t, os.WriteFile(p, []byte(content), mode))
	must(t, os.Chown(p, uid, gid))
}

func gunzip(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	must(t, err)
	defer f.Close()
	z, err := gzip.NewReader(f)
	must(t, err)
	b, err := io.ReadAll(z)
	must(t, err)
	return string(b)
}

func output(t *testing.T, name string, args ...string) string {
	t.Helper()
	b, err := exec.Command(name, args...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr)
	}
	return string(b)
}

// regexpLine reports whether a line of text matches expr.
func regexpLine(text, expr string) bool {
	return regexp.MustCompile(`(?m)` + expr).MatchString(text)
}
