package socatlog

import (
	"bytes"
	"strconv"

	"github.com/check-socat/check-socat/internal/tlswire"
)

// Category is one of the contract's categories.
type Category uint8

// The categories, in the contract's order.
const (
	Fatal Category = iota
	Error
	Warning
	Refused
	TLSFailure
	BackendFailure
	Reset
	Timeout
	Capacity
	WeakTLS
	Accepted
	Exit
	Config
	NumCategories
)

var categoryNames = [NumCategories]string{"fatal", "error", "warning", "refused", "tls_failure", "backend_failure",
	"reset", "timeout", "capacity", "weak_tls", "accepted", "exit", "config"}

// String is the category's name as flags and perfdata spell it.
func (c Category) String() string {
	if c < NumCategories {
		return categoryNames[c]
	}
	return "?"
}

// ParseCategory maps a name to its category.
func ParseCategory(s string) (Category, bool) {
	for i, n := range categoryNames {
		if n == s {
			return Category(i), true
		}
	}
	return 0, false
}

// Categories returns every category name, in order.
func Categories() []string { return categoryNames[:] }

// Set is a set of categories.
type Set uint16

// Has reports whether c is in the set.
func (s Set) Has(c Category) bool { return s&(1<<c) != 0 }

func (s *Set) add(c Category) { *s |= 1 << c }

// Event is what a line means beyond its categories: the facts that need
// the lines around it (which PID is a listener, when it exits).
type Event uint8

// Events.
const (
	EventNone Event = iota
	// EventListening: the PID listens (it is a service, not a child).
	EventListening
	// EventBindFailed: the PID tried to listen and could not: it is a
	// service that fails to start.
	EventBindFailed
	// EventExit: the PID exits by a signal or with a non-zero status.
	EventExit
	// EventForked: the PID forked a child (Class.Child) for a connection.
	EventForked
	// EventEnd: the PID exits normally (status 0).
	EventEnd
)

// Class is the classification of one line.
type Class struct {
	Set   Set
	Event Event
	// Transferred is the byte count of an "I transferred N bytes" line.
	Transferred int64
	// Child is the PID of an EventForked.
	Child int
	// Waited is the child a "waitpid(): child N exited ..." line names:
	// a backend failure when N ran the program behind EXEC or SYSTEM, one
	// failed connection when N was a listener's fork child (socat up to
	// 1.7.3 says this of every failed connection).
	Waited int
}

// Classify puts a parsed line into its categories. Exit is not decided
// here: a line is an exit only if its PID is a listener, which the caller
// knows from the lines before (EventExit).
func Classify(l *Line) Class {
	var c Class
	m := l.Msg
	switch l.Level {
	case 'F':
		c.Set.add(Fatal)
	case 'E':
		c.Set.add(Error)
	case 'W':
		c.Set.add(Warning)
	}
	switch l.Level {
	case 'N':
		switch {
		case bytes.HasPrefix(m, []byte("accepting connection from ")), bytes.HasPrefix(m, []byte("accepting UDP connection from ")):
			c.Set.add(Accepted)
		case bytes.HasPrefix(m, []byte("listening on ")):
			c.Event = EventListening
		case bytes.HasPrefix(m, []byte("SSL connection using ")):
			if weakSuite(m[len("SSL connection using "):]) {
				c.Set.add(WeakTLS)
			}
		case bytes.HasPrefix(m, []byte("inactivity timeout triggered")):
			c.Set.add(Timeout)
		case bytes.HasPrefix(m, []byte("maxchildren are active")):
			c.Set.add(Capacity)
		case bytes.HasPrefix(m, []byte("forked off child process ")):
			if n, err := strconv.Atoi(string(bytes.TrimSpace(m[len("forked off child process "):]))); err == nil {
				c.Event, c.Child = EventForked, n
			}
		case bytes.HasPrefix(m, []byte("exit(")), bytes.HasPrefix(m, []byte("exiting with status ")), bytes.HasPrefix(m, []byte("exiting on signal ")):
			c.Event = EventEnd
			if exitFailed(m) {
				c.Event = EventExit
			}
		}
		return c
	case 'I':
		if bytes.HasPrefix(m, []byte("transferred ")) {
			rest := m[len("transferred "):]
			if sp := bytes.IndexByte(rest, ' '); sp > 0 {
				if n, err := strconv.ParseInt(string(rest[:sp]), 10, 64); err == nil && n > 0 {
					c.Transferred = n
				}
			}
		}
		return c
	case 'D':
		return c
	}

	// W, E and F: what went wrong.
	switch {
	case bytes.HasPrefix(m, []byte("refusing connection from ")):
		c.Set.add(Refused)
	case bytes.HasPrefix(m, []byte("exiting on signal ")), bytes.HasPrefix(m, []byte("exit(")), bytes.HasPrefix(m, []byte("exiting with status ")):
		c.Event = EventEnd
		if exitFailed(m) {
			c.Event = EventExit
		}
	case bytes.HasPrefix(m, []byte("SSL_CTX_")), bytes.HasPrefix(m, []byte("SSL_set_cipher_list")),
		bytes.HasPrefix(m, []byte("parseopts")), bytes.Contains(m, []byte("unknown option")),
		bytes.HasPrefix(m, []byte("unknown device/address")), bytes.Contains(m, []byte("wrong number of parameters")),
		bytes.Contains(m, []byte("option not supported")), bytes.Contains(m, []byte("not applicable")),
		bytes.HasPrefix(m, []byte("exactly 2 addresses required")), bytes.Contains(m, []byte("empty host name")),
		bytes.HasPrefix(m, []byte("openssl-method=")) && bytes.Contains(m, []byte("method unknown")):
		c.Set.add(Config)
	case bytes.HasPrefix(m, []byte("SSL_accept")), bytes.HasPrefix(m, []byte("SSL_connect")):
		c.Set.add(TLSFailure) // a handshake that failed, a reset during it too
	case bytes.Contains(m, []byte("Connection reset by peer")), bytes.Contains(m, []byte("Broken pipe")):
		c.Set.add(Reset) // also under SSL_read()/SSL_write(): the data phase
	case bytes.HasPrefix(m, []byte("SSL_")), bytes.Contains(m, []byte("certificate verify failed")),
		bytes.HasPrefix(m, []byte("certificate ")), bytes.Contains(m, []byte("commonName does not match")),
		bytes.HasPrefix(m, []byte("no peer certificate")):
		c.Set.add(TLSFailure)
	case bytes.HasPrefix(m, []byte("accept: ")) && bytes.Contains(m, []byte("timed out")):
		c.Set.add(Timeout)
	case bytes.HasPrefix(m, []byte("bind(")), bytes.HasPrefix(m, []byte("listen(")),
		len(m) > 0 && m[0] == '"' && bytes.HasSuffix(m, []byte("\" exists")):
		c.Event = EventBindFailed
	case bytes.HasPrefix(m, []byte("connect(")), bytes.HasPrefix(m, []byte("execvp(")),
		bytes.HasPrefix(m, []byte("waitpid(")) && bytes.Contains(m, []byte("child ")) && !bytes.Contains(m, []byte("no child")) &&
			!bytes.Contains(m, []byte("No child")), // ECHILD: two children reaped at once, socat's own race
		bytes.HasPrefix(m, []byte("system(")),
		bytes.HasPrefix(m, []byte("getaddrinfo(")), bytes.Contains(m, []byte("Name or service not known")):
		c.Set.add(BackendFailure)
		if bytes.HasPrefix(m, []byte("waitpid(")) {
			c.Waited = waitedChild(m)
		}
	}
	return c
}

// waitedChild reads N of "waitpid(): child N exited with status S".
func waitedChild(m []byte) int {
	i := bytes.Index(m, []byte("child "))
	if i < 0 {
		return 0
	}
	rest := m[i+len("child "):]
	j := 0
	for j < len(rest) && isDigit(rest[j]) {
		j++
	}
	if j == 0 || j > 10 {
		return 0
	}
	n, _ := strconv.Atoi(string(rest[:j]))
	return n
}

// exitFailed reports whether an exit line is by a signal or a non-zero
// status ("exit(143)", "exiting with status 1", "exiting on signal 15").
func exitFailed(m []byte) bool {
	if bytes.HasPrefix(m, []byte("exiting on signal ")) {
		return true
	}
	var num []byte
	switch {
	case bytes.HasPrefix(m, []byte("exit(")):
		num = m[len("exit("):]
		if i := bytes.IndexByte(num, ')'); i >= 0 {
			num = num[:i]
		}
	case bytes.HasPrefix(m, []byte("exiting with status ")):
		num = m[len("exiting with status "):]
	}
	n, err := strconv.Atoi(string(bytes.TrimSpace(num)))
	return err == nil && n != 0
}

// weakSuite reports whether the suite socat names (an OpenSSL name, or an
// IANA one for TLS 1.3) is NULL, anonymous, EXPORT, RC4, DES or MD5.
func weakSuite(name []byte) bool {
	name = bytes.TrimSpace(name)
	s, ok := tlswire.Suites().ByName(string(name))
	if !ok {
		// Not in the registry: judge by the name's parts, as OpenSSL
		// spells them.
		for _, p := range [][]byte{[]byte("NULL"), []byte("ADH"), []byte("AECDH"), []byte("anon"), []byte("EXP"), []byte("RC4"), []byte("DES"), []byte("MD5")} {
			if bytes.Contains(name, p) {
				return true
			}
		}
		return false
	}
	w := s.Weaknesses()
	return w.Null || w.Anonymous || w.Export || w.RC4 || w.DES || w.TripleDES || w.MD5
}
