package flagval

import (
	"strings"
	"testing"
)

func TestHost(t *testing.T) {
	tests := []struct {
		host string
		want string // part of the complaint; "" for none
	}{
		{"127.0.0.1", ""},
		{"::1", ""},
		{"fe80::1%eth0", ""},
		{"socat.example", ""},
		{"localhost", ""},
		{"[::1]", "without brackets (-H ::1)"},
		{"[::1]:443", "holds a port: give the address as -H ::1 and the port with -p"},
		{"socat.example:443", "holds a port: give the host as -H socat.example"},
		{"127.0.0.1:443", "give the host as -H 127.0.0.1"},
		{"[nonsense", "is not a host name or address"},
		{"2001:db8::g1", "-H 2001:db8::g1 is not a host name or address"},
		{"fe80::1%", "is not a host name or address"},
		{"host:https", "is not a host name or address"},
	}
	for _, tt := range tests {
		got := Host(tt.host)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("Host(%q) = %q, want %q", tt.host, got, tt.want)
		}
	}
}
