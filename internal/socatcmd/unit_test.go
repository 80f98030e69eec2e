package socatcmd

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
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
		// systemd's escapes: \s a space, \xNN, \NNN octal, \uXXXX.
		{`socat TCP-L:1 EXEC:/bin/bash\s-i`, []string{"socat", "TCP-L:1", "EXEC:/bin/bash -i"}},
		{`socat "OPEN:/nonexist\sdir/x\x41\101\u00e9" -`, []string{"socat", "OPEN:/nonexist dir/xAAé", "-"}},
		{`socat \9 \xZZ`, []string{"socat", "9", "xZZ"}},
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

func TestUnitEnvironmentAndDirectories(t *testing.T) {
	dir := t.TempDir()
	envFile := filepath.Join(dir, "relay.env")
	if err := os.WriteFile(envFile, []byte("# comment\nBACKEND=\"unix-connect:/var/run/docker.sock\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	unit := "[Service]\nEnvironment=\"LISTEN=TCP-LISTEN:2375,fork\" OPTS=\"-d -d\"\nEnvironmentFile=-" + envFile +
		"\nEnvironmentFile=-/nonexistent/env\nWorkingDirectory=/srv/relay\nExecStart=/usr/bin/socat $OPTS ${LISTEN},max-children=3 $BACKEND $NOPE\n"
	u, err := ParseUnit(unit)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/usr/bin/socat", "-d", "-d", "TCP-LISTEN:2375,fork,max-children=3", "unix-connect:/var/run/docker.sock", "$NOPE"}
	if !reflect.DeepEqual(u.ExecStart[0], want) {
		t.Errorf("ExecStart = %q, want %q", u.ExecStart[0], want)
	}
	if u.WorkingDirectory != "/srv/relay" || !reflect.DeepEqual(u.Unknown, []string{"NOPE"}) {
		t.Errorf("unit = %+v", u)
	}
}

func TestProgramBase(t *testing.T) {
	tests := []struct{ command, want string }{
		{"/bin/bash -i", "bash"},
		{"env -i PATH=/bin python3 -c 'print(1)'", "python3"},
		{"sudo -u bob /bin/bash", "bash"},
		{"script -qc /bin/bash /dev/null", "bash"},
		{"su -c 'perl -e 1' bob", "perl"},
		{"exec 2>&1 3</etc/hosts; bash -i", "bash"},
		{"tee /tmp/log | sh", "sh"},
		{"date", "date"},
		{"ip netns exec blue /bin/bash", "bash"},
		{"ip netns exec blue report", "report"},
		{"timeout 10 date +%s", "date"},
		{"env date +%s", "date"},
		{"/usr/local/bin/report --json 2>/dev/null", "report"},
		{"nice -n 5 ionice -c3 /usr/bin/gzip -c", "gzip"},
		{"'unterminated", "'unterminated"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := ProgramBase(tt.command); got != tt.want {
			t.Errorf("ProgramBase(%q) = %q, want %q", tt.command, got, tt.want)
		}
	}
}

// An EnvironmentFile= that is a device, not a file, is not read (it
// would never end).
func TestEnvironmentFileDevice(t *testing.T) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := ParseUnit("[Service]\nEnvironmentFile=/dev/zero\nExecStart=/usr/bin/socat - -\n"); err != nil {
			t.Error(err)
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("EnvironmentFile=/dev/zero held the parse")
	}
}

// ExecStart=+ and ExecStart=! run as root whatever User= says; !! keeps
// User= on kernels with ambient capabilities.
func TestPrivilegedPrefixes(t *testing.T) {
	for prefix, want := range map[string]bool{"": false, "-": false, "+": true, "!": true, "!!": false, "-+": true, "@!": true} {
		path := filepath.Join(t.TempDir(), "p.service")
		unit := "[Service]\nUser=nobody\nExecStart=" + prefix + "/usr/bin/socat -d -d TCP-LISTEN:1,bind=127.0.0.1 /dev/null\n"
		if prefix == "@!" {
			unit = "[Service]\nUser=nobody\nExecStart=@!/usr/bin/socat socat -d -d TCP-LISTEN:1,bind=127.0.0.1 /dev/null\n"
		}
		if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
			t.Fatal(err)
		}
		u, err := ReadUnit(path)
		if err != nil {
			t.Fatal(err)
		}
		cmds, err := u.SocatCommands()
		if err != nil || len(cmds) != 1 || cmds[0].Privileged != want {
			t.Errorf("ExecStart=%s: %+v, %v; want privileged %v", prefix, cmds, err, want)
		}
	}
}

// A container of another image that installs and runs socat, and
// --entrypoint socat, are unwrapped; an image that runs no socat is not
// socat.
func TestContainerCommands(t *testing.T) {
	for line, want := range map[string]string{
		`docker run -d -p 8080:8080 alpine:3.19 sh -c "apk add --no-cache socat && socat TCP-LISTEN:8080,fork TCP:db:5432"`: "TCP-LISTEN:8080,fork TCP:db:5432",
		`podman run --rm --entrypoint socat busybox -d -d TCP-LISTEN:80 TCP:x:80`:                                           "-d -d TCP-LISTEN:80 TCP:x:80",
		`docker run --entrypoint=/bin/sh debian -c "exec socat - TCP:x:1"`:                                                  "- TCP:x:1",
		`docker run -d alpine/socat TCP-LISTEN:1 TCP:x:1`:                                                                   "TCP-LISTEN:1 TCP:x:1",
		`kubectl run relay --image=alpine/socat:1.7.4 --restart=Never -- -d -d TCP-LISTEN:80,fork TCP:db:80`:                "-d -d TCP-LISTEN:80,fork TCP:db:80",
		`kubectl run x --image=alpine --command -- sh -c "socat - TCP:db:1"`:                                                "- TCP:db:1",
		`su pwn2 -c "socat -T10 TCP-LISTEN:4444,fork EXEC:/bin/cat"`:                                                        "-T10 TCP-LISTEN:4444,fork EXEC:/bin/cat",
		`tmux new-session -d -s relay "socat TCP-LISTEN:1,fork TCP:x:1 >/tmp/log"`:                                          "TCP-LISTEN:1,fork TCP:x:1",
		`tmux new -d -s relay socat TCP-LISTEN:2,fork TCP:x:2`:                                                              "TCP-LISTEN:2,fork TCP:x:2",
		`x=$(printf "%s\"" a); socat TCP-LISTEN:23,fork EXEC:/bin/sh`:                                                       "TCP-LISTEN:23,fork EXEC:/bin/sh",
		`x=$(echo \( ); socat TCP-LISTEN:24,fork EXEC:/bin/sh`:                                                              "TCP-LISTEN:24,fork EXEC:/bin/sh",
		`screen -dmS relay socat TCP-LISTEN:1,fork TCP:x:1`:                                                                 "TCP-LISTEN:1,fork TCP:x:1",
		`docker exec -d -it box bash -c "/usr/bin/socat TCP-LISTEN:1,fork EXEC:/app/x"`:                                     "TCP-LISTEN:1,fork EXEC:/app/x",
		`unshare --setuid 0 -n socat TCP-LISTEN:3,fork EXEC:cat`:                                                            "TCP-LISTEN:3,fork EXEC:cat",
		`unshare -r -n socat TCP-LISTEN:1,fork EXEC:cat`:                                                                    "TCP-LISTEN:1,fork EXEC:cat",
		`sh -c "socat TCP-LISTEN:1,fork TCP:$(minikube ip):5000"`:                                                           "TCP-LISTEN:1,fork TCP:$(minikube ip):5000",
	} {
		cmds, err := SplitShell(line)
		if err != nil {
			t.Fatal(err)
		}
		argv, err := FindSocat(cmds)
		if err != nil || strings.Join(argv[1:], " ") != want {
			t.Errorf("%s: %q %v, want socat %s", line, argv, err, want)
		}
	}
	// Launchers without their arguments are no socat, and no panic.
	for _, argv := range [][]string{{"su"}, {"sudo", "su"}, {"runuser"}, {"su", "-c"}, {"tmux", "new"}, {"kubectl", "run"}} {
		if _, err := FindSocat([][]string{argv}); err == nil {
			t.Errorf("%q is socat", argv)
		}
		_ = ProgramBase(strings.Join(argv, " "))
	}
	if _, err := FindSocat([][]string{{"docker", "run", "-d", "nginx"}}); err == nil {
		t.Errorf("docker run nginx is socat")
	}
}
