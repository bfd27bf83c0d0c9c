package adminsock

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// The POSIX ACL of a file is the extended attribute system.posix_acl_access:
// a little-endian header (version 2) and entries of tag, permissions and
// id, sorted by tag then id. This is the format setfacl writes; the kernel
// checks it at connect(2) like the mode bits.
const (
	aclVersion   = 2
	aclUserObj   = 0x01
	aclGroupObj  = 0x04
	aclGroup     = 0x08
	aclMask      = 0x10
	aclOther     = 0x20
	aclUndefined = 0xffffffff
	aclRW        = 0o6
)

// grantGroup sets path's ACL to the socket's mode (owner and group read and
// write, others nothing) plus read and write for group gid.
func grantGroup(path string, gid uint32) error {
	entries := []struct {
		tag, perm uint16
		id        uint32
	}{
		{aclUserObj, aclRW, aclUndefined},
		{aclGroupObj, aclRW, aclUndefined},
		{aclGroup, aclRW, gid},
		{aclMask, aclRW, aclUndefined},
		{aclOther, 0, aclUndefined},
	}
	b := binary.LittleEndian.AppendUint32(nil, aclVersion)
	for _, e := range entries {
		b = binary.LittleEndian.AppendUint16(b, e.tag)
		b = binary.LittleEndian.AppendUint16(b, e.perm)
		b = binary.LittleEndian.AppendUint32(b, e.id)
	}
	return unix.Setxattr(path, "system.posix_acl_access", b, 0)
}
