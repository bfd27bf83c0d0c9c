package config

import "github.com/babgate/bab/internal/yamlconf"

// maxSocketPath is the longest path a Unix socket address holds.
const maxSocketPath = 107

// admin converts the admin section onto a, which holds the defaults.
func (c *converter) admin(f *adminV1, a *Admin) {
	if f.Listen != nil {
		a.Listen = c.listen(at("admin", "listen"), *f.Listen)
	}
	c.socket("admin", f.Socket, f.SocketGroup, &a.Socket, &a.SocketGroup, DefaultAdminSocket, DefaultAdminGroup)
}

// console converts the console section onto k, which holds the defaults.
func (c *converter) console(f *consoleV1, k *Console) {
	c.socket("console", f.Socket, f.SocketGroup, &k.Socket, &k.SocketGroup, DefaultConsoleSocket, DefaultConsoleGroup)
	if f.Listen != nil && *f.Listen != "" {
		k.Listen = c.listen(at("console", "listen"), *f.Listen)
	}
	if f.Names != nil {
		for i, n := range *f.Names {
			if n == "" {
				c.p.Add(at("console", "names", i), "is empty; give a name or address of this server")
			}
		}
		k.Names = *f.Names
	}
}

// socket converts a section's socket path and group: one place for the
// control and console sockets.
func (c *converter) socket(section string, path, group *string, outPath, outGroup *string, defPath, defGroup string) {
	if path != nil {
		switch {
		case *path == "":
			c.p.Add(at(section, "socket"), "is empty; remove the line to use the default %s", defPath)
		case len(c.path(*path)) > maxSocketPath:
			c.p.Add(at(section, "socket"), "%s is %d bytes long; a Unix socket's path may have at most %d", c.path(*path), len(c.path(*path)), maxSocketPath)
		}
		*outPath = c.path(*path)
	}
	if group != nil {
		if !yamlconf.ValidGroupName(*group) {
			c.p.Add(at(section, "socket_group"), "%q is not a group name; remove the line to use the default %s", *group, defGroup)
		}
		*outGroup = *group
	}
}
