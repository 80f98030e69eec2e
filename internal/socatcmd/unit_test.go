package socatcmd

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSplitExec(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`/usr/bin/socat -d -d TCP-LISTEN:80,fork TCP:localhost:8080`, []string{"/usr/bin/socat", "-d", "-d", "TCP-LISTEN:80,fork", "TCP:localhost:8080"}},
		{`-/usr/bin/socat "SYSTEM:echo a b" -`, []string{"/usr/bin/socat", "SYSTEM:echo a b", "-"}},
		{`@/usr/bin/socat relay 'TCP-L:1' -`, []string{"/usr/bin/socat", "TCP-L:1", "-"}},
		{`+!socat TCP-L:%%i -`, []string{"socat", "TCP-L:%i", "-"}},
		{`socat a\ b "c\"d"`, []string{"socat", "a b", `c"d`}},
	}
	for _, tt := range tests {
		got, err := SplitExec(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SplitExec(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{``, `-`, `socat "open`} {
		if _, err := SplitExec(bad); err == nil {
			t.Errorf("SplitExec(%q) accepted", bad)
		}
	}
}

func TestReadUnitWithSocket(t *testing.T) {
	dir := t.TempDir()
	service := `# a socket-activated relay
[Unit]
Description=relay

[Service]
User=relay
ExecStart=
ExecStart=-/usr/bin/socat -d -d \
    ACCEPT-FD:3,fork \
    TCP:backend.internal:80
`
	socket := "[Socket]\nListenStream=0.0.0.0:8080\nAccept=no\n"
	if err := os.WriteFile(filepath.Join(dir, "relay.service"), []byte(service), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "relay.socket"), []byte(socket), 0o644); err != nil {
		t.Fatal(err)
	}
	u, err := ReadUnit(filepath.Join(dir, "relay.service"))
	if err != nil {
		t.Fatal(err)
	}
	if u.User != "relay" || u.Socket == nil || len(u.Socket.Listen) != 1 || u.Socket.Listen[0].Addr != "0.0.0.0:8080" {
		t.Fatalf("unit = %+v, socket %+v", u, u.Socket)
	}
	c, err := u.SocatCommand()
	if err != nil {
		t.Fatal(err)
	}
	if got := c.String(); got != "-d2 ACCEPT-FD:3,fork TCP-CONNECT:backend.internal:80" {
		t.Errorf("command = %s", got)
	}

	if _, err := ParseUnit("[Service]\nExecStart=/bin/true\n"); err != nil {
		t.Fatal(err)
	}
	u2, _ := ParseUnit("[Service]\nExecStart=/bin/true\n")
	if _, err := u2.SocatCommand(); err == nil || !strings.Contains(err.Error(), "no ExecStart= runs socat") {
		t.Errorf("a unit without socat: %v", err)
	}
	if _, err := ParseUnit("[Unit]\nDescription=x\n"); err == nil {
		t.Error("a unit without ExecStart= accepted")
	}
}

func TestGlobals(t *testing.T) {
	c, err := Parse(strings.Fields("socat -d -dd -d4 -lf /x -lp name -lu -lh -T 2.5 -t0 -b 4096 -6 -U - -"))
	if err != nil {
		t.Fatal(err)
	}
	g := c.Globals
	if g.Debug != 4 || g.LogFile != "/x" || g.ProgName != "name" || !g.Micro || !g.Host || g.Inactivity != 2.5 || !g.HasInactivity ||
		g.CloseTimeout != 0 || g.BufSize != 4096 || g.PreferFamily != 6 || g.Unidir != 2 {
		t.Errorf("globals = %+v", g)
	}
	for _, bad := range []string{"socat -lf", "socat -T x - -", "socat -d9 - -", "socat -dx - -"} {
		if _, err := Parse(strings.Fields(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
