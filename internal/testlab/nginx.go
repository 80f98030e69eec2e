package testlab

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// StartNginx runs nginx (Debian's nginx-light) in the foreground, one
// process, as the test's user, with its files in a temporary directory
// and one server block listening on 127.0.0.1 on a free port; server is
// the block's body (ssl_certificate, ssl_verify_client...). It returns the
// process (stopped by PID when the test ends) with its port.
func StartNginx(t testing.TB, server string) *Socat {
	t.Helper()
	return startNginx(t, server, " ssl")
}

// StartNginxHTTP is StartNginx serving plain HTTP.
func StartNginxHTTP(t testing.TB, server string) *Socat {
	t.Helper()
	return startNginx(t, server, "")
}

func startNginx(t testing.TB, server, ssl string) *Socat {
	t.Helper()
	Need(t, "nginx")
	dir := t.TempDir()
	// A port the kernel just gave and took back: nginx cannot report the
	// port of a listen on 0.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	conf := fmt.Sprintf(`daemon off;
master_process off;
pid %[1]s/nginx.pid;
error_log stderr info;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	server {
		listen 127.0.0.1:%[2]d%[4]s;
		location / { return 200 "ok\n"; }
%[3]s
	}
}
`, dir, port, server, ssl)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	s := spawn(t, exec.Command("nginx", "-e", "stderr", "-p", dir, "-c", path), false)
	s.Port = port
	Eventually(t, 10*time.Second, "nginx to listen", func() bool {
		c, err := net.Dial("tcp", s.Addr())
		if err == nil {
			c.Close()
			return true
		}
		if strings.Contains(s.Log(), "[emerg]") {
			t.Fatalf("nginx did not start:\n%s", s.Log())
		}
		return false
	})
	return s
}
