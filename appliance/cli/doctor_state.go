package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// serviceUser is the user the packaged service runs as.
const serviceUser = "bab"

// owner is who owns a file, by id and, where the system knows, by name.
type owner struct {
	uid, gid  uint32
	user, grp string
}

func ownerOf(fi fs.FileInfo) (owner, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return owner{}, false
	}
	o := owner{uid: st.Uid, gid: st.Gid, user: strconv.FormatUint(uint64(st.Uid), 10), grp: strconv.FormatUint(uint64(st.Gid), 10)}
	if u, err := user.LookupId(o.user); err == nil {
		o.user = u.Username
	}
	if g, err := user.LookupGroupId(o.grp); err == nil {
		o.grp = g.Name
	}
	return o, true
}

// checkStateDir checks that the state directory and the files in it (the
// state file holds the appliance's key and identity) belong to one user,
// the one the service runs as, and that nobody else can read them. The
// directory's owner is the reference; service, when not empty and a user
// of that name exists, is the user the service is expected to run as.
func checkStateDir(dir, service string) []finding {
	const check = "state directory"
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return []finding{{check: check, result: dir + " does not exist yet (enrollment creates it)"}}
	case errors.Is(err, fs.ErrPermission):
		return []finding{{check: check, result: err.Error(), v: warn, fix: "run the check as root: sudo bab doctor"}}
	case err != nil:
		return []finding{{check: check, result: err.Error(), v: fail, fix: "set state_dir in bab.yaml to a directory the service user can use"}}
	case !fi.IsDir():
		return []finding{{check: check, result: dir + " is not a directory", v: fail, fix: "set state_dir in bab.yaml to a directory, or remove " + dir}}
	}
	own, ok := ownerOf(fi)
	if !ok {
		return []finding{{check: check, result: dir + ": its owner cannot be read on this system", v: warn}}
	}
	var out []finding
	if service != "" && own.user != service {
		if _, err := user.Lookup(service); err == nil {
			out = append(out, finding{check: check, v: warn,
				result: fmt.Sprintf("%s belongs to %s, but the packaged service runs as %s", dir, own.user, service),
				fix:    fmt.Sprintf("sudo chown -R %s:%s %s", service, service, dir)})
		}
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		out = append(out, finding{check: check, v: fail,
			result: fmt.Sprintf("%s is mode %o: other users can look into the appliance's identity", dir, perm),
			fix:    "sudo chmod 700 " + dir})
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		me := "this user"
		if u, err := user.Current(); err == nil {
			me = u.Username
		}
		return append(out, finding{check: check, v: warn,
			result: fmt.Sprintf("cannot look inside %s as %s: %v", dir, me, err),
			fix:    "run the check as root (sudo bab doctor) or as " + own.user})
	}
	for _, e := range entries {
		out = append(out, checkStateFile(filepath.Join(dir, e.Name()), own)...)
	}
	if len(out) == 0 {
		out = append(out, finding{check: check, result: fmt.Sprintf("%s belongs to %s and only it can read the files in it", dir, own.user)})
	}
	return out
}

// checkStateFile checks one entry of the state directory against the
// directory's owner.
func checkStateFile(path string, dirOwner owner) []finding {
	const check = "state directory"
	fi, err := os.Lstat(path)
	if err != nil {
		return []finding{{check: check, result: err.Error(), v: warn}}
	}
	var out []finding
	if o, ok := ownerOf(fi); ok && o.uid != dirOwner.uid {
		out = append(out, finding{check: check, v: fail,
			result: fmt.Sprintf("%s belongs to %s, not to %s who owns the directory: the service cannot use it", path, o.user, dirOwner.user),
			fix:    fmt.Sprintf("sudo chown %s:%s %s", dirOwner.user, dirOwner.grp, path)})
	}
	if perm := fi.Mode().Perm(); fi.Mode().IsRegular() && perm&0o077 != 0 {
		out = append(out, finding{check: check, v: fail,
			result: fmt.Sprintf("%s is mode %o: other users can read the appliance's key and identity", path, perm),
			fix:    "sudo chmod 600 " + path})
	}
	if perm := fi.Mode().Perm(); fi.IsDir() && perm&0o077 != 0 {
		out = append(out, finding{check: check, v: fail,
			result: fmt.Sprintf("%s is mode %o: other users can look into it", path, perm),
			fix:    "sudo chmod 700 " + path})
	}
	return out
}
