package flagval

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Host says what is wrong with a -H value, or "" when it is a name or
// an address a dialer takes: a bracketed IPv6 address (as in a URL) or a
// host with a port would otherwise end as "does not resolve".
func Host(h string) string {
	if strings.HasPrefix(h, "[") {
		inner := strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
		if _, err := netip.ParseAddr(inner); err == nil && strings.HasSuffix(h, "]") {
			return fmt.Sprintf("-H %s: give the IPv6 address without brackets (-H %s)", h, inner)
		}
		if i := strings.LastIndex(h, "]:"); i > 0 {
			return fmt.Sprintf("-H %s holds a port: give the address as -H %s and the port with -p", h, h[1:i])
		}
		return fmt.Sprintf("-H %s is not a host name or address", h)
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return ""
	}
	if host, port, ok := strings.Cut(h, ":"); ok {
		if _, err := strconv.ParseUint(port, 10, 16); err == nil && host != "" {
			return fmt.Sprintf("-H %s holds a port: give the host as -H %s and the port with -p", h, host)
		}
		return fmt.Sprintf("-H %s is not a host name or address", h)
	}
	return ""
}
