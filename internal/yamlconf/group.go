package yamlconf

import "regexp"

// groupName is, give or take, what groupadd accepts: the configs refuse
// only what cannot name a Unix group (spaces, colons, slashes, a leading
// digit or hyphen).
var groupName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]{0,31}$`)

// ValidGroupName reports whether s can name a Unix group.
func ValidGroupName(s string) bool { return groupName.MatchString(s) }
