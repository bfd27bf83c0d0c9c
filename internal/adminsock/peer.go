package adminsock

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Peer is who is at the other end of a connection to a Unix socket, as
// the kernel recorded it when they connected: it cannot be forged by the
// caller, and later changes of the caller (setuid, a fork handed the
// descriptor) do not change it.
type Peer struct {
	PID int32
	UID uint32
	GID uint32 // primary group
	// Groups are the supplementary groups, as the caller's process had them
	// (a group joined since the caller logged in is not there yet).
	Groups []uint32
}

// InGroup reports whether the peer had gid as its primary or a
// supplementary group.
func (p Peer) InGroup(gid uint32) bool { return p.GID == gid || slices.Contains(p.Groups, gid) }

// PeerOf reads the credentials of the process that connected c, which
// must be a Unix socket connection.
func PeerOf(c net.Conn) (Peer, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return Peer{}, fmt.Errorf("peer credentials: %T is not a Unix socket connection", c)
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return Peer{}, fmt.Errorf("peer credentials: %w", err)
	}
	var p Peer
	var credErr, groupsErr error
	err = raw.Control(func(fd uintptr) {
		var cred *unix.Ucred
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
		if credErr == nil {
			p.PID, p.UID, p.GID = cred.Pid, cred.Uid, cred.Gid
			p.Groups, groupsErr = peerGroups(int(fd))
		}
	})
	switch {
	case err != nil:
		return Peer{}, fmt.Errorf("peer credentials: %w", err)
	case credErr != nil:
		return Peer{}, fmt.Errorf("peer credentials: SO_PEERCRED: %w", credErr)
	case groupsErr != nil:
		return Peer{}, fmt.Errorf("peer credentials: SO_PEERGROUPS: %w", groupsErr)
	}
	return p, nil
}

// peerGroups reads SO_PEERGROUPS (Linux 4.13 and later), which x/sys has
// no helper for: the kernel fills a gid_t array and, when it is too short,
// answers ERANGE with the size it needs.
func peerGroups(fd int) ([]uint32, error) {
	n := 32
	for {
		buf := make([]uint32, n)
		size := uint32(4 * n)
		_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_PEERGROUPS,
			uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&size)), 0)
		switch {
		case e == unix.ERANGE && int(size/4) > n:
			n = int(size / 4)
			continue
		case errors.Is(e, unix.ENOPROTOOPT):
			return nil, nil // an old kernel: primary group only
		case e != 0:
			return nil, e
		}
		return buf[:size/4], nil
	}
}
