package adminsock

import (
	"encoding/binary"
	"slices"

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

// grantGroups sets path's ACL to the socket's mode (owner and group read
// and write, others nothing) plus read and write for each of gids.
func grantGroups(path string, gids []uint32) error {
	gids = slices.Clone(gids)
	slices.Sort(gids) // the kernel wants named entries in order
	gids = slices.Compact(gids)
	type entry struct {
		tag, perm uint16
		id        uint32
	}
	entries := []entry{{aclUserObj, aclRW, aclUndefined}, {aclGroupObj, aclRW, aclUndefined}}
	for _, g := range gids {
		entries = append(entries, entry{aclGroup, aclRW, g})
	}
	entries = append(entries, entry{aclMask, aclRW, aclUndefined}, entry{aclOther, 0, aclUndefined})
	b := binary.LittleEndian.AppendUint32(nil, aclVersion)
	for _, e := range entries {
		b = binary.LittleEndian.AppendUint16(b, e.tag)
		b = binary.LittleEndian.AppendUint16(b, e.perm)
		b = binary.LittleEndian.AppendUint32(b, e.id)
	}
	return unix.Setxattr(path, "system.posix_acl_access", b, 0)
}
