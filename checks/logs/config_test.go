package logs

import "testing"

// --ignore-peer takes a CIDR or an address; socat's peers are compared
// unmapped, so an IPv4-mapped CIDR means its IPv4 range.
func TestParsePeer(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"127.0.0.1/32", "127.0.0.1/32"},
		{"10.1.2.3/8", "10.0.0.0/8"},
		{"127.0.0.1", "127.0.0.1/32"},
		{"::1", "::1/128"},
		{"::ffff:127.0.0.1", "127.0.0.1/32"},
		{"::ffff:127.0.0.0/104", "127.0.0.0/8"},
		{"fd00::/8", "fd00::/8"},
		{"10.0.0.0/33", ""},
		{"localhost", ""},
		{"", ""},
		{"fe80::1%eth0", ""},
	} {
		p, err := ParsePeer(tt.in)
		got := ""
		if err == nil {
			got = p.String()
		}
		if got != tt.want {
			t.Errorf("%q: %q (%v), want %q", tt.in, got, err, tt.want)
		}
	}
}
