// Package loggen writes adversarial socat logs of any size: the shapes
// that once made check_socat_logs' memory grow with the file. The tests
// measure the heap on them, and `make bench` the peak RSS of the binary.
package loggen

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
)

// Kind is one shape of log.
type Kind string

// The shapes.
const (
	// CrashLoop: systemd restarting a failing socat, each restart a new
	// PID that listens, accepts one connection and exits on SIGTERM.
	CrashLoop Kind = "crash-loop"
	// Children: a fork relay with a new child PID for every connection,
	// a million and more distinct ones.
	Children Kind = "children"
	// Categories: every line a different category, in turn.
	Categories Kind = "categories"
	// LongLines: lines of 64 KiB and just over, between socat's lines.
	LongLines Kind = "long-lines"
	// ReusedPID: one listener PID that starts and exits again and again.
	ReusedPID Kind = "reused-pid"
	// Samples: real relay and dead-backend lines, PIDs recurring.
	Samples Kind = "samples"
	// Tiny: the shortest lines that are socat records (stamp-less), the
	// most records a block of the log can hold.
	Tiny Kind = "tiny"
	// Journal: short journal JSON records, each a socat error.
	Journal Kind = "journal"
)

// Kinds lists every shape.
func Kinds() []Kind {
	return []Kind{CrashLoop, Children, Categories, LongLines, ReusedPID, Samples, Tiny, Journal}
}

// Stats are the true counts of what was written, to check the check by.
type Stats struct {
	Bytes    int64
	Lines    int64
	Exits    int64 // listener exits (service exits)
	Accepted int64
	Errors   int64
}

const stamp = "2026/11/26 06:24:05 "

// Write writes about size bytes of kind to w (whole cycles of the shape,
// at least one).
func Write(w io.Writer, kind Kind, size int64) (Stats, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	g := &gen{w: bw}
	var cycle func(i int64)
	switch kind {
	case CrashLoop:
		cycle = func(i int64) {
			pid := 1000 + i%4000000 // PIDs wrap as the kernel's do
			g.line(pid, 'N', "listening on AF=2 0.0.0.0:8080")
			g.line(pid, 'N', "accepting connection from AF=2 10.1.2.3:"+strconv.FormatInt(1024+i%60000, 10)+" on AF=2 10.0.0.1:8080")
			g.line(pid, 'W', "exiting on signal 15")
			g.s.Exits++
			g.s.Accepted++
		}
	case Children:
		g.line(7, 'N', "listening on AF=2 0.0.0.0:8080")
		cycle = func(i int64) {
			child := 100000 + i // never the same twice
			g.line(7, 'N', "accepting connection from AF=2 10.1.2.3:"+strconv.FormatInt(1024+i%60000, 10)+" on AF=2 10.0.0.1:8080")
			g.line(7, 'N', "forked off child process "+strconv.FormatInt(child, 10))
			g.line(7, 'N', "listening on AF=2 0.0.0.0:8080")
			g.line(child, 'E', "connect(5, AF=2 127.0.0.1:9, 16): Connection refused")
			g.line(child, 'N', "exit(1)")
			g.s.Accepted++
			g.s.Errors++
		}
	case Categories:
		msgs := []struct {
			level byte
			msg   string
		}{
			{'F', "fatal thing %d"},
			{'E', "something %d failed"},
			{'W', "odd thing %d"},
			{'W', "refusing connection from AF=2 10.9.9.%d:1 due to range option"},
			{'E', "SSL_accept(): error:%d:SSL routines::wrong version number"},
			{'E', "connect(5, AF=2 127.0.0.1:%d, 16): Connection refused"},
			{'W', "read(5, 0x1, 8192): Connection reset by peer %d"},
			{'N', "inactivity timeout triggered %d"},
			{'N', "maxchildren are active, waiting %d"},
			{'N', "SSL connection using NULL-SHA %d"},
			{'N', "accepting connection from AF=2 10.0.0.%d:1 on AF=2 0.0.0.0:1"},
			{'E', "parseopts(): unknown option \"x%d\""},
		}
		cycle = func(i int64) {
			m := msgs[i%int64(len(msgs))]
			g.line(1000+i%30000, m.level, fmt.Sprintf(m.msg, i%250))
			if m.level == 'E' {
				g.s.Errors++
			}
			if i%int64(len(msgs)) == 10 {
				g.s.Accepted++
			}
		}
	case LongLines:
		long := make([]byte, 64<<10+2)
		for i := range long {
			long[i] = 'a' + byte(i%26)
		}
		cycle = func(i int64) {
			g.line(7, 'E', "connect(5, AF=2 127.0.0.1:9, 16): Connection refused")
			g.s.Errors++
			n := 64<<10 - 1 + int(i%3) // just under, at and over 64 KiB
			g.raw(long[:n])
		}
	case ReusedPID:
		cycle = func(int64) {
			g.line(4242, 'N', "listening on AF=2 0.0.0.0:8080")
			g.line(4242, 'W', "exiting on signal 15")
			g.line(4242, 'N', "exit(143)")
			g.s.Exits++
		}
	case Samples:
		cycle = func(i int64) {
			relay, child, back := 16654+i%7, 16663+i%500, int64(16650)
			g.line(back, 'N', "listening on AF=2 127.0.0.1:21001")
			g.line(relay, 'N', "listening on AF=2 127.0.0.1:21000")
			g.line(relay, 'N', "accepting connection from AF=2 127.0.0.1:51186 on AF=2 127.0.0.1:21000")
			g.line(relay, 'N', "forked off child process "+strconv.FormatInt(child, 10))
			g.line(relay, 'N', "listening on AF=2 127.0.0.1:21000")
			g.line(child, 'N', "opening connection to AF=2 127.0.0.1:21001")
			g.line(child, 'E', "connect(5, AF=2 127.0.0.1:21011, 16): Connection refused")
			g.line(child, 'N', "exit(1)")
			g.line(relay, 'N', "childdied(): handling signal 17")
			g.line(relay, 'W', "exiting on signal 15")
			g.line(relay, 'N', "exit(143)")
			g.s.Accepted++
			g.s.Errors++
			g.s.Exits++
		}
	case Tiny:
		cycle = func(i int64) {
			g.raw([]byte("s[" + strconv.FormatInt(1+i%9, 10) + "] E xyz"))
			g.s.Errors++
		}
	case Journal:
		cycle = func(i int64) {
			g.raw([]byte(`{"__CURSOR":"c` + strconv.FormatInt(i, 36) + `","_PID":"7","MESSAGE":"E x"}`))
			g.s.Errors++
		}
	default:
		return Stats{}, fmt.Errorf("unknown kind %q", kind)
	}
	for i := int64(0); i == 0 || g.s.Bytes < size; i++ {
		cycle(i)
		if g.err != nil {
			return g.s, g.err
		}
	}
	if err := bw.Flush(); err != nil {
		return g.s, err
	}
	return g.s, g.err
}

type gen struct {
	w   *bufio.Writer
	buf []byte
	s   Stats
	err error
}

func (g *gen) line(pid int64, level byte, msg string) {
	b := append(g.buf[:0], stamp...)
	b = append(b, "socat["...)
	b = strconv.AppendInt(b, pid, 10)
	b = append(b, "] "...)
	b = append(b, level, ' ')
	b = append(b, msg...)
	b = append(b, '\n')
	g.buf = b
	g.raw(b[:len(b)-1])
}

func (g *gen) raw(b []byte) {
	if g.err != nil {
		return
	}
	if _, err := g.w.Write(b); err != nil {
		g.err = err
	}
	if err := g.w.WriteByte('\n'); err != nil {
		g.err = err
	}
	g.s.Bytes += int64(len(b)) + 1
	g.s.Lines++
}
