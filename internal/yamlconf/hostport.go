package yamlconf

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// CheckHostPort checks that s is "host:port" with a numeric port, e.g.
// "127.0.0.1:8080", "[::1]:8080" or "exchange.example.gov:7700". For a
// listen address (listen true) the host may be empty, meaning every
// interface (":8080"), and port 0 picks a free port; otherwise a host and a
// port from 1 to 65535 are required.
func CheckHostPort(s string, listen bool) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%s is not host:port (e.g. 127.0.0.1:8080, or [::1]:8080 for IPv6)", quote(s))
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || (p == 0 && !listen) {
		return fmt.Errorf("%s: the port should be a number from 1 to 65535", quote(s))
	}
	if host == "" {
		if listen {
			return nil
		}
		return fmt.Errorf("%s: the host is missing (e.g. exchange.example.gov:7700)", quote(s))
	}
	if err := CheckHost(host); err != nil {
		return fmt.Errorf("%s: %w", quote(s), err)
	}
	return nil
}

// CheckHost checks that s is an IP address or a DNS name (letters, digits
// and hyphens in dot-separated labels of at most 63 characters).
func CheckHost(s string) error {
	if net.ParseIP(s) != nil {
		return nil
	}
	bad := fmt.Errorf("%s is neither an IP address nor a DNS name", quote(s))
	if s == "" || len(s) > 253 {
		return bad
	}
	for _, label := range strings.Split(s, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return bad
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return bad
			}
		}
	}
	return nil
}
