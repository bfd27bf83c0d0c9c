package config

import "github.com/babgate/bab/internal/yamlconf"

// maxSocketPath is the longest path a Unix socket address holds.
const maxSocketPath = 107

// admin converts the admin section onto a, which holds the defaults.
func (c *converter) admin(f *adminV1, a *Admin) {
	if f.Listen != nil {
		a.Listen = c.listen(at("admin", "listen"), *f.Listen)
	}
	if f.Socket != nil {
		switch {
		case *f.Socket == "":
			c.p.Add(at("admin", "socket"), "is empty; remove the line to use the default %s", DefaultAdminSocket)
		case len(c.path(*f.Socket)) > maxSocketPath:
			c.p.Add(at("admin", "socket"), "%s is %d bytes long; a Unix socket's path may have at most %d", c.path(*f.Socket), len(c.path(*f.Socket)), maxSocketPath)
		}
		a.Socket = c.path(*f.Socket)
	}
	if f.SocketGroup != nil {
		if !yamlconf.ValidGroupName(*f.SocketGroup) {
			c.p.Add(at("admin", "socket_group"), "%q is not a group name; remove the line to use the default %s", *f.SocketGroup, DefaultAdminGroup)
		}
		a.SocketGroup = *f.SocketGroup
	}
}
