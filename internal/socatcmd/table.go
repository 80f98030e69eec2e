package socatcmd

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
)

//go:generate go run ./gentable -in testdata/socat-1.7.4.4-hhh.txt -version 1.7.4.4 -out table_gen.go
//go:generate go run ./gentable -in testdata/socat-1.8.0.3-hhh.txt -version 1.8.0.3 -prefix gen18 -out table18_gen.go

// addrDef is one address type as socat lists it.
type addrDef struct {
	name     string   // canonical, upper case: TCP-LISTEN
	params   []string // parameter names in order: host, port
	optional int      // how many trailing parameters may be left out
	groups   string   // socat's option groups for the type
	v18      bool     // added by socat 1.8: not in the generated 1.7.4 table
}

// optDef is one address option as socat lists it.
type optDef struct {
	name, groups, phase, typ string
	v18                      bool // added by socat 1.8 (see addrDef)
}

// Types added by socat 1.8 (xioopen.c addressnames[]), on top of the
// 1.7.4.4 table generated from `socat -hhh`.
var addrTypes18 = []addrDef{
	{name: "ACCEPT-FD", params: []string{"fdnum"}, groups: "FD,SOCKET,LISTEN,CHILD,RANGE,RETRY"},
	{name: "DCCP-CONNECT", params: []string{"host", "port"}, groups: "FD,SOCKET,CHILD,RETRY,IP4,IP6,DCCP"},
	{name: "DCCP-LISTEN", params: []string{"port"}, groups: "FD,SOCKET,LISTEN,CHILD,RETRY,RANGE,IP4,IP6,DCCP"},
	{name: "DCCP4-CONNECT", params: []string{"host", "port"}, groups: "FD,SOCKET,CHILD,RETRY,IP4,DCCP"},
	{name: "DCCP4-LISTEN", params: []string{"port"}, groups: "FD,SOCKET,LISTEN,CHILD,RETRY,RANGE,IP4,DCCP"},
	{name: "DCCP6-CONNECT", params: []string{"host", "port"}, groups: "FD,SOCKET,CHILD,RETRY,IP6,DCCP"},
	{name: "DCCP6-LISTEN", params: []string{"port"}, groups: "FD,SOCKET,LISTEN,CHILD,RETRY,RANGE,IP6,DCCP"},
	{name: "POSIXMQ-BIDIRECTIONAL", params: []string{"mqname"}, groups: "FD,NAMED,POSIXMQ"},
	{name: "POSIXMQ-READ", params: []string{"mqname"}, groups: "FD,NAMED,POSIXMQ"},
	{name: "POSIXMQ-RECEIVE", params: []string{"mqname"}, groups: "FD,NAMED,POSIXMQ,CHILD"},
	{name: "POSIXMQ-SEND", params: []string{"mqname"}, groups: "FD,NAMED,POSIXMQ,CHILD"},
	{name: "READLINE", groups: "FD,READLINE,TERMIOS"},
	{name: "SHELL", params: []string{"shell-command"}, optional: 1, groups: "FD,FIFO,SOCKET,EXEC,FORK,TERMIOS,PTY,PARENT,UNIX"},
	{name: "SOCKETPAIR", groups: "FD,SOCKET"},
	{name: "SOCKS5-CONNECT", params: []string{"socks-server", "socks-port", "host", "port"}, optional: 1, groups: "FD,SOCKET,CHILD,RETRY,IP4,IP6,TCP,SOCKS5"},
	{name: "SOCKS5-LISTEN", params: []string{"socks-server", "socks-port", "host", "port"}, optional: 1, groups: "FD,SOCKET,LISTEN,CHILD,RETRY,IP4,IP6,TCP,SOCKS5"},
	{name: "UDPLITE-CONNECT", params: []string{"host", "port"}, groups: "FD,SOCKET,IP4,IP6,UDP"},
	{name: "UDPLITE-DATAGRAM", params: []string{"host", "port"}, groups: "FD,SOCKET,RANGE,IP4,IP6,UDP"},
	{name: "UDPLITE-LISTEN", params: []string{"port"}, groups: "FD,SOCKET,LISTEN,CHILD,RANGE,IP4,IP6,UDP"},
	{name: "UDPLITE-RECV", params: []string{"port"}, groups: "FD,SOCKET,RANGE,IP4,IP6,UDP"},
	{name: "UDPLITE-RECVFROM", params: []string{"port"}, groups: "FD,SOCKET,CHILD,RANGE,IP4,IP6,UDP"},
	{name: "UDPLITE-SENDTO", params: []string{"host", "port"}, groups: "FD,SOCKET,IP4,IP6,UDP"},
	{name: "UDPLITE4-CONNECT", params: []string{"host", "port"}, groups: "FD,SOCKET,IP4,UDP"},
	{name: "UDPLITE4-DATAGRAM", params: []string{"host", "port"}, groups: "FD,SOCKET,RANGE,IP4,UDP"},
	{name: "UDPLITE4-LISTEN", params: []string{"port"}, groups: "FD,SOCKET,LISTEN,CHILD,RANGE,IP4,UDP"},
	{name: "UDPLITE4-RECV", params: []string{"port"}, groups: "FD,SOCKET,RANGE,IP4,UDP"},
	{name: "UDPLITE4-RECVFROM", params: []string{"port"}, groups: "FD,SOCKET,CHILD,RANGE,IP4,UDP"},
	{name: "UDPLITE4-SENDTO", params: []string{"host", "port"}, groups: "FD,SOCKET,IP4,UDP"},
	{name: "UDPLITE6-CONNECT", params: []string{"host", "port"}, groups: "FD,SOCKET,IP6,UDP"},
	{name: "UDPLITE6-DATAGRAM", params: []string{"host", "port"}, groups: "FD,SOCKET,RANGE,IP6,UDP"},
	{name: "UDPLITE6-LISTEN", params: []string{"port"}, groups: "FD,SOCKET,LISTEN,CHILD,RANGE,IP6,UDP"},
	{name: "UDPLITE6-RECV", params: []string{"port"}, groups: "FD,SOCKET,RANGE,IP6,UDP"},
	{name: "UDPLITE6-RECVFROM", params: []string{"port"}, groups: "FD,SOCKET,CHILD,RANGE,IP6,UDP"},
	{name: "UDPLITE6-SENDTO", params: []string{"host", "port"}, groups: "FD,SOCKET,IP6,UDP"},
}

// Aliases added by socat 1.8.
var addrAliases18 = [][2]string{
	{"ACCEPT", "ACCEPT-FD"}, {"DCCP", "DCCP-CONNECT"}, {"DCCP-L", "DCCP-LISTEN"}, {"DCCP4", "DCCP4-CONNECT"},
	{"DCCP4-L", "DCCP4-LISTEN"}, {"DCCP6", "DCCP6-CONNECT"}, {"DCCP6-L", "DCCP6-LISTEN"},
	{"POSIXMQ", "POSIXMQ-BIDIRECTIONAL"}, {"POSIXMQ-RECV", "POSIXMQ-RECEIVE"},
	{"POSIXMQ-WRITE", "POSIXMQ-SEND"}, {"SOCKS5", "SOCKS5-CONNECT"}, {"SOCKS5-BIND", "SOCKS5-LISTEN"},
	{"UDPLITE", "UDPLITE-CONNECT"}, {"UDPLITE-DGRAM", "UDPLITE-DATAGRAM"}, {"UDPLITE-L", "UDPLITE-LISTEN"},
	{"UDPLITE-SEND", "UDPLITE-SENDTO"}, {"UDPLITE4", "UDPLITE4-CONNECT"},
	{"UDPLITE4-DGRAM", "UDPLITE4-DATAGRAM"}, {"UDPLITE4-L", "UDPLITE4-LISTEN"},
	{"UDPLITE4-SEND", "UDPLITE4-SENDTO"}, {"UDPLITE6", "UDPLITE6-CONNECT"},
	{"UDPLITE6-DGRAM", "UDPLITE6-DATAGRAM"}, {"UDPLITE6-L", "UDPLITE6-LISTEN"},
	{"UDPLITE6-SEND", "UDPLITE6-SENDTO"}, {"OPENSSL-DTLS-CONNECT", "OPENSSL-DTLS-CLIENT"},
	{"OPENSSL-DTLS-LISTEN", "OPENSSL-DTLS-SERVER"},
}

// Options and aliases of socat 1.8 and of builds with features the Debian
// 1.7.4.4 build lacks (openssl-method on older OpenSSL).
var options18 = []optDef{
	{name: "openssl-method", groups: "OPENSSL", phase: "SPECIFIC", typ: "STRING"},
	{name: "netns", groups: "ANY", phase: "INIT", typ: "STRING"},
	{name: "bind-tmpname", groups: "SOCKET", phase: "BIND", typ: "BOOL"},
	{name: "posixmq-flush", groups: "POSIXMQ", phase: "INIT", typ: "BOOL"},
	{name: "posixmq-maxmsg", groups: "POSIXMQ", phase: "INIT", typ: "LONG"},
	{name: "posixmq-msgsize", groups: "POSIXMQ", phase: "INIT", typ: "LONG"},
	{name: "socks5-username", groups: "SOCKS5", phase: "LATE", typ: "STRING"},
	{name: "socks5-password", groups: "SOCKS5", phase: "LATE", typ: "STRING"},
	{name: "retrieve-vlan", groups: "INTERFACE", phase: "LATE", typ: "BOOL"},
	// READLINE's options (xioopts.c); Debian builds socat without readline.
	{name: "history-file", groups: "READLINE", phase: "LATE", typ: "FILENAME"},
	{name: "noecho", groups: "READLINE", phase: "LATE", typ: "STRING"},
	{name: "noprompt", groups: "READLINE", phase: "LATE", typ: "BOOL"},
	{name: "prompt", groups: "READLINE", phase: "LATE", typ: "STRING"},
}

var optAliases18 = [][2]string{
	{"method", "openssl-method"}, {"min-proto-version", "openssl-min-proto-version"},
	{"max-proto-version", "openssl-max-proto-version"}, {"mq-flush", "posixmq-flush"},
	{"history", "history-file"},
}

// tables is the merged lookup: upper-case address names and lower-case
// option names to their canonical entries.
type tables struct {
	types   map[string]*addrDef // canonical and alias names
	options map[string]*optDef
	// types18 and options18 are socat 1.8.0.3's own table alone, to
	// judge the types and options 1.7.4 does not have by 1.8's groups.
	types18   map[string]*addrDef
	options18 map[string]*optDef
}

func buildTables() *tables {
	t := &tables{types: map[string]*addrDef{}, options: map[string]*optDef{},
		types18: map[string]*addrDef{}, options18: map[string]*optDef{}}
	for i := range gen18AddrTypes {
		t.types18[gen18AddrTypes[i].name] = &gen18AddrTypes[i]
	}
	for _, pair := range gen18AddrAliases {
		if d := t.types18[pair[1]]; d != nil {
			t.types18[pair[0]] = d
		}
	}
	for i := range gen18Options {
		t.options18[gen18Options[i].name] = &gen18Options[i]
	}
	for _, pair := range gen18OptAliases {
		if d := t.options18[pair[1]]; d != nil {
			t.options18[pair[0]] = d
		}
	}
	for i := range addrTypes18 {
		addrTypes18[i].v18 = true
	}
	for i := range options18 {
		options18[i].v18 = true
	}
	// socat 1.8.0.3's own table (-hhh) adds what 1.7.4 lacks; its entries
	// are known, not judged for option groups (1.7.4's rules are).
	for i := range gen18AddrTypes {
		gen18AddrTypes[i].v18 = true
	}
	for i := range gen18Options {
		gen18Options[i].v18 = true
	}
	// 1.7.4's names, canonical and alias, and the hand-written 1.8
	// additions first; 1.8.0.3's table only for names still unknown
	// (1.7.4's alias o-creat stays an alias of o-create).
	for _, list := range [][]addrDef{genAddrTypes, addrTypes18} {
		for i := range list {
			if t.types[list[i].name] == nil {
				t.types[list[i].name] = &list[i]
			}
		}
	}
	// The bi-address PIPE takes no name; TUN and SHELL an optional one.
	if p := t.types["PIPE"]; p != nil {
		p.optional = 1
	}
	typeAliases := func(lists ...[][2]string) {
		for _, aliases := range lists {
			for _, pair := range aliases {
				alias, canon := pair[0], pair[1]
				if d := t.types[canon]; d != nil && t.types[alias] == nil {
					t.types[alias] = d
				}
			}
		}
	}
	typeAliases(genAddrAliases, addrAliases18)
	for i := range gen18AddrTypes {
		if t.types[gen18AddrTypes[i].name] == nil {
			t.types[gen18AddrTypes[i].name] = &gen18AddrTypes[i]
		}
	}
	typeAliases(gen18AddrAliases)
	optAliases := func(lists ...[][2]string) {
		for _, aliases := range lists {
			for _, pair := range aliases {
				alias, canon := pair[0], pair[1]
				if d := t.options[canon]; d != nil && t.options[alias] == nil {
					t.options[alias] = d
				}
			}
		}
	}
	for _, list := range [][]optDef{genOptions, options18} {
		for i := range list {
			if t.options[list[i].name] == nil {
				t.options[list[i].name] = &list[i]
			}
		}
	}
	optAliases(genOptAliases, optAliases18)
	for i := range gen18Options {
		if t.options[gen18Options[i].name] == nil {
			t.options[gen18Options[i].name] = &gen18Options[i]
		}
	}
	optAliases(gen18OptAliases)
	return t
}

// lookupTables is built when a command line is first parsed, not at
// every start (a third of a millisecond and 50 page faults that
// `--version`, a logs check or an empty host would pay); read-only
// afterwards. The tables themselves are static data: slices, not maps,
// which Go would build at start.
var lookupTables = sync.OnceValue(buildTables)

// processGroups are the option groups socat accepts on every address
// (its GROUP_ANY: options of the process and of the data transfer, e.g.
// su=, chroot=, crnl), plus the pseudo-group of socat 1.8's additions
// that apply everywhere.
var processGroups = []string{"PROCESS", "APPL", "ANY"}

// applies reports whether an option of these groups is accepted on an
// address of these groups: socat 1.7.4 refuses any other at start
// ("parseopts_table(): option ... not supported with this address type").
func applies(optGroups, addrGroups string) bool {
	for _, g := range strings.Split(optGroups, ",") {
		for _, p := range processGroups {
			if g == p {
				return true
			}
		}
		for _, a := range strings.Split(addrGroups, ",") {
			if g == a {
				return true
			}
		}
	}
	return false
}

// Refusal is an option socat refuses on an address type, and which
// socat says so.
type Refusal struct {
	Option  Option
	Version string // "1.7.4", or "1.8" for a type or option 1.7.4 lacks
}

// Inapplicable lists the known options of s that socat refuses on its
// address type: by 1.7.4's table when both are 1.7.4's (the real socat
// 1.7.4.4 checks it in the tests), else by socat 1.8.0.3's own table
// (-hhh) when it has both; hand-written 1.8 additions are not judged.
func (s *Single) Inapplicable() []Refusal {
	if s.def == nil || s.def.groups == "" {
		return nil
	}
	tb := lookupTables()
	var out []Refusal
	for _, o := range s.Options {
		d := tb.options[o.Canon]
		if !o.Known || d == nil || d.groups == "" {
			continue
		}
		if !s.def.v18 && !d.v18 {
			if !applies(d.groups, s.def.groups) {
				out = append(out, Refusal{o, "1.7.4"})
			}
			continue
		}
		a18, o18 := tb.types18[s.Type], tb.options18[strings.ToLower(o.Name)]
		if o18 == nil {
			o18 = tb.options18[o.Canon]
		}
		if a18 != nil && o18 != nil && a18.groups != "" && o18.groups != "" && !applies(o18.groups, a18.groups) {
			out = append(out, Refusal{o, "1.8"})
		}
	}
	return out
}

// RangeProblem says why socat refuses the range= option of s ("" when it
// takes it): an address without its netmask (range=localhost), which
// socat 1.7.4 reports as "missing netmask delimiter".
func (s *Single) RangeProblem() string {
	o, ok := s.Option("range")
	if !ok || strings.ContainsAny(o.Value, "$%") {
		return ""
	}
	v := strings.TrimSpace(o.Value)
	if strings.Contains(v, "/") || (!strings.HasPrefix(v, "[") && strings.Count(v, ":") == 1) {
		return ""
	}
	return fmt.Sprintf("range=%s of %s has no netmask (give ADDRESS/BITS, e.g. 127.0.0.1/32): socat refuses to start", v, s.Type)
}

// PortProblem says what socat does with a port parameter of s that is
// not a port: a number above 65535 (socat 1.7.4 takes it modulo 65536 and
// binds or connects that port instead) or a name /etc/services does not
// list (socat refuses to start). "" when the ports are fine, or cannot be
// judged (a variable, no /etc/services).
func (s *Single) PortProblem() string {
	if s.def == nil {
		return ""
	}
	proto := "tcp"
	if strings.Contains(s.def.groups, "UDP") {
		proto = "udp"
	}
	vsock := strings.HasPrefix(s.Type, "VSOCK-")
	for i, p := range s.def.params {
		if p != "port" && !strings.HasSuffix(p, "-port") && !(vsock && p == "cid") || i >= len(s.Params) {
			continue
		}
		v := s.Params[i]
		if v == "" || strings.ContainsAny(v, "$%") {
			continue // a shell or systemd variable: its value is not known here
		}
		if vsock {
			// VSOCK has no service names: socat refuses anything but a
			// number ("garbage in cid").
			if _, err := strconv.ParseUint(v, 0, 32); err != nil {
				return fmt.Sprintf("%s %q of %s is not a number: socat refuses to start", p, v, s.Type)
			}
			continue
		}
		if n, err := strconv.Atoi(v); err == nil {
			if n > 65535 {
				return fmt.Sprintf("port %d of %s is above 65535: socat 1.7.4 uses it modulo 65536, port %d", n, s.Type, n%65536)
			}
			continue
		}
		if _, err := os.Stat("/etc/services"); err != nil {
			continue
		}
		if _, err := net.LookupPort(proto, v); err != nil {
			return fmt.Sprintf("port %q of %s is neither a number nor a %s service in /etc/services: socat refuses to start", v, s.Type, proto)
		}
	}
	return ""
}
