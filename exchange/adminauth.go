package exchange

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/user"
	"strconv"

	"github.com/babgate/bab/internal/adminsock"
)

// Who may do what on the admin socket. Its file permissions let in root,
// the exchange's user and group, and, through an ACL entry, the read-only
// group (admin_readonly_group); the kernel refuses everyone else at
// connect. On each connection the kernel then says who connected
// (adminsock.PeerOf): root, the exchange's user and members of its group
// are ops and may do anything; members of the read-only group may list
// and show (GET and HEAD) and nothing else; anyone else is refused every
// request.

// role is what a caller may do.
type role string

const (
	roleOps      role = "ops"
	roleReadOnly role = "read-only"
	roleNone     role = "none"
)

// caller is who sent a request on the admin socket.
type caller struct {
	adminsock.Peer
	User string // the uid's name, "" if it has none here
	Role role
	err  error // why the credentials could not be read (Role is none)
}

// name is the caller as messages and logs show it.
func (c caller) name() string {
	if c.User == "" {
		return fmt.Sprintf("uid %d", c.UID)
	}
	return fmt.Sprintf("%s (uid %d)", c.User, c.UID)
}

// adminAccess is the exchange's own identity and the read-only group,
// looked up once at start.
type adminAccess struct {
	uid, gid  uint32
	group     string // the exchange's group's name
	readGID   uint32
	readGroup string // "" when there is no read-only group
}

func newAdminAccess(readGroup string, log *slog.Logger) adminAccess {
	a := adminAccess{uid: uint32(os.Geteuid()), gid: uint32(os.Getegid()), group: strconv.Itoa(os.Getegid())}
	if g, err := user.LookupGroupId(a.group); err == nil {
		a.group = g.Name
	}
	if readGroup == "" {
		return a
	}
	g, err := user.LookupGroup(readGroup)
	if err != nil {
		log.Info("no read-only group on the admin socket", "admin_readonly_group", readGroup, "reason", err.Error())
		return a
	}
	gid, _ := strconv.ParseUint(g.Gid, 10, 32)
	a.readGID, a.readGroup = uint32(gid), readGroup
	return a
}

// callerOf says who connected c and what they may do.
func (a adminAccess) callerOf(c net.Conn) caller {
	p, err := adminsock.PeerOf(c)
	if err != nil {
		return unknownCaller(err)
	}
	cl := caller{Peer: p, Role: a.roleOf(p)}
	if u, err := user.LookupId(strconv.FormatUint(uint64(p.UID), 10)); err == nil {
		cl.User = u.Username
	}
	return cl
}

// roleOf is what a peer may do: root, the exchange's user and its group
// are ops; the read-only group reads; anyone else nothing.
func (a adminAccess) roleOf(p adminsock.Peer) role {
	switch {
	case p.UID == 0 || p.UID == a.uid || p.InGroup(a.gid):
		return roleOps
	case a.readGroup != "" && p.InGroup(a.readGID):
		return roleReadOnly
	}
	return roleNone
}

type callerKey struct{}

// withCaller is the admin server's ConnContext: it puts the connection's
// caller in the context of each request on it.
func (a adminAccess) withCaller(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, callerKey{}, a.callerOf(c))
}

// callerFrom is the request's caller; a request that did not come through
// the admin socket has none and may do nothing.
func callerFrom(r *http.Request) caller {
	if c, ok := r.Context().Value(callerKey{}).(caller); ok {
		return c
	}
	return unknownCaller(errors.New("the request did not come through the admin socket"))
}

// noID is the uid and gid recorded for a caller the kernel did not name:
// (uid_t)-1, which no user has, rather than 0, which is root's.
const noID = ^uint32(0)

func unknownCaller(err error) caller {
	return caller{Peer: adminsock.Peer{UID: noID, GID: noID}, Role: roleNone, err: err}
}

// readOnly reports whether a method only reads.
func readOnly(method string) bool { return method == http.MethodGet || method == http.MethodHead }

// authorize refuses, with 403 and the reason, what the caller may not do.
func (a adminAccess) authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := callerFrom(r)
		switch {
		case c.Role == roleOps:
		case c.Role == roleReadOnly && r.URL.Path == PathSubjectReport:
			adminErr(w, http.StatusForbidden, "read_only", fmt.Sprintf(
				"refused: a subject report lists one person's requests, which only ops see; %s is in the read-only group %s (reports need root or group %s)", c.name(), a.readGroup, a.group))
			return
		case c.Role == roleReadOnly && readOnly(r.Method):
		case c.Role == roleReadOnly:
			adminErr(w, http.StatusForbidden, "read_only", fmt.Sprintf(
				"refused: %s is in the read-only group %s, which may list and show but not change anything; "+
					"changes need root or group %s", c.name(), a.readGroup, a.group))
			return
		case c.err != nil:
			adminErr(w, http.StatusForbidden, "forbidden", "refused: the exchange cannot tell who is calling: "+c.err.Error())
			return
		default:
			adminErr(w, http.StatusForbidden, "forbidden", fmt.Sprintf(
				"refused: %s is neither root nor in group %s%s", c.name(), a.group, a.readOnlyHint()))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (a adminAccess) readOnlyHint() string {
	if a.readGroup == "" {
		return ""
	}
	return " or " + a.readGroup
}
