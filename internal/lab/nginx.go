package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Nginx is a real nginx on loopback in front of an upstream, the way many
// offices put a reverse proxy before their systems: it buffers request
// bodies and answers as it sees fit, not as the lab's sample does.
type Nginx struct {
	URL  string
	proc *Proc
}

// NginxInstalled reports whether nginx can be started here.
func NginxInstalled() bool {
	_, err := exec.LookPath("nginx")
	return err == nil
}

// StartNginx runs nginx in the foreground with its own config, pid file,
// temporary directories and log below dir, proxying every path to
// upstream (http://host:port).
func StartNginx(ctx context.Context, dir, upstream string) (*Nginx, error) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		return nil, errors.New("nginx is not installed (apt-get install nginx-light)")
	}
	port, err := freeTCPPort()
	if err != nil {
		return nil, err
	}
	for _, d := range []string{"body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	conf := filepath.Join(dir, "nginx.conf")
	cfg := fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 512; }
http {
	access_log off;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	client_max_body_size 0;
	server {
		listen 127.0.0.1:%[2]d;
		location / {
			proxy_pass %[3]s;
			proxy_http_version 1.1;
		}
	}
}
`, dir, port, upstream)
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	p, err := startProc("nginx", filepath.Join(dir, "nginx.log"), nil, bin, "-p", dir, "-c", conf, "-e", filepath.Join(dir, "error.log"))
	if err != nil {
		return nil, err
	}
	n := &Nginx{URL: fmt.Sprintf("http://127.0.0.1:%d", port), proc: p}
	err = poll(ctx, 20*time.Second, func() error {
		if p.Exited() {
			b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			return fmt.Errorf("nginx exited: %s%s", tail(p.Log()), b)
		}
		c, err := net.Dial("tcp", n.URL[len("http://"):])
		if err != nil {
			return err
		}
		return c.Close()
	})
	if err != nil {
		_ = p.Stop()
		return nil, err
	}
	return n, nil
}

// Close stops nginx.
func (n *Nginx) Close() error { return n.proc.Stop() }
