package socatlog

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/netip"
	"regexp"
	"sync"
	"time"
	"unsafe"

	"github.com/check-socat/check-socat/checks"
)

// Options say how lines are counted.
type Options struct {
	// Since, when not zero, counts only lines whose own timestamp is not
	// before it (lines without one are not counted in any category).
	Since time.Time
	Loc   *time.Location
	Now   time.Time
	// Ignore drops a matching line from every count; Critical and
	// Warning count matching lines as the user's own alerts.
	Ignore, Critical, Warning []*regexp.Regexp
	// Show is how many of the last lines of each category are kept.
	Show int
	// MaxLine bounds one line; a longer one is cut: counted, skipped,
	// never held whole.
	MaxLine int
	// Workers is how many goroutines parse one source's lines.
	Workers int
}

// Kept text of a line shown in the output is bounded too.
const keepBytes = 400

// Tally is what a run counted.
type Tally struct {
	Count       [NumCategories]int64
	Lines       int64 // lines read (cut ones included)
	Bytes       int64
	Socat       int64 // lines recognised as socat's
	Unparsed    int64 // lines that are not socat's
	Cut         int64 // lines over MaxLine
	Ignored     int64 // lines matching --ignore-pattern
	Peer        int64 // lines of connections from ignored peers
	Untied      int64 // counted lines that no listener or known child wrote
	Old         int64 // socat lines before --since
	Transferred int64
	PatternCrit int64
	PatternWarn int64
	// Last holds the last Show lines of each category; LastCrit/LastWarn
	// those of the user's patterns.
	Last               [NumCategories]Recent
	LastCrit, LastWarn Recent
	// Cursor and Micros of the last journal record read.
	Cursor string
	Micros int64
}

// Recent keeps the last lines it is given, each cut to keepBytes, in
// buffers it reuses: a log of a million errors allocates nothing per line.
type Recent struct {
	lines [][]byte
	next  int // the oldest, once full
}

// add keeps line, forgetting the oldest beyond n.
func (r *Recent) add(line []byte, n int) {
	if n <= 0 {
		return
	}
	if len(line) > keepBytes {
		line = line[:keepBytes]
	}
	if len(r.lines) < n {
		r.lines = append(r.lines, append(make([]byte, 0, keepBytes), line...))
		return
	}
	r.lines[r.next] = append(r.lines[r.next][:0], line...)
	r.next = (r.next + 1) % len(r.lines)
}

// Lines returns the lines kept, oldest first.
func (r *Recent) Lines() []string {
	out := make([]string, len(r.lines))
	for i := range r.lines {
		out[i] = string(r.lines[(r.next+i)%len(r.lines)])
	}
	return out
}

func (r *Recent) merge(u *Recent, n int) {
	for _, l := range u.Lines() {
		r.add([]byte(l), n)
	}
}

// Merge adds u, which was read after t.
func (t *Tally) Merge(u *Tally, show int) {
	for i := range t.Count {
		t.Count[i] += u.Count[i]
		t.Last[i].merge(&u.Last[i], show)
	}
	t.Lines += u.Lines
	t.Bytes += u.Bytes
	t.Socat += u.Socat
	t.Unparsed += u.Unparsed
	t.Cut += u.Cut
	t.Ignored += u.Ignored
	t.Peer += u.Peer
	t.Untied += u.Untied
	t.Old += u.Old
	t.Transferred += u.Transferred
	t.PatternCrit += u.PatternCrit
	t.PatternWarn += u.PatternWarn
	t.LastCrit.merge(&u.LastCrit, show)
	t.LastWarn.merge(&u.LastWarn, show)
	if u.Cursor != "" {
		t.Cursor, t.Micros = u.Cursor, u.Micros
	}
}

// rec is what one line leaves for the Tracker, which settles in log order
// what depends on the lines before it. Lines that need nothing of it
// leave no rec.
type rec struct {
	xfer   int64
	off, n uint32 // the text to show: in the chunk's buf, or its side
	pid    int32
	child  int32 // of EventForked
	waited int32 // of a waitpid() line
	set    Set
	event  Event
	flags  uint8
}

const (
	recSocat uint8 = 1 << iota
	recInWindow
	recPatCrit
	recPatWarn
	recAccept
	recRefused
	recPeerIgnored
	recSide // the text is in the chunk's side buffer (a collector's record)
)

// pid32 keeps a PID in a rec; a number beyond any PID a system hands out
// stays one that no real PID equals.
func pid32(p int) int32 {
	if p < 0 || p > 1<<31-1 {
		return 1<<31 - 1
	}
	return int32(p)
}

// chunk is a run of complete lines, parsed by a worker and then applied
// in order.
type chunk struct {
	buf   []byte
	lines []byte // buf[:n], complete lines
	last  []byte // an unterminated last line (final read only)
	cut   int64  // lines over MaxLine that ended in this chunk
	part  Tally  // the counts that need no order
	recs  []rec
	side  []byte // texts of recs that are not in buf
	err   error  // a parser's panic
	done  chan struct{}
}

// worker parses lines into part and recs. pending holds a container
// runtime's fragments of a long line until its last one.
type worker struct {
	o       *Options
	peers   []netip.Prefix
	l       Line
	pending []byte
	carry   bool // the only worker: fragments carry over to the next chunk
}

func (w *worker) chunk(c *chunk) {
	c.part = Tally{}
	c.recs = c.recs[:0]
	c.side = c.side[:0]
	c.part.Lines += c.cut
	c.part.Cut += c.cut
	b := c.lines
	for len(b) > 0 {
		nl := bytes.IndexByte(b, '\n')
		w.line(b[:nl], c)
		b = b[nl+1:]
	}
	if c.last != nil {
		w.line(c.last, c)
	}
	if !w.carry {
		// Another worker reads the next chunk: a line split by a
		// container runtime across the two is counted once, from its
		// last fragment.
		w.pending = w.pending[:0]
	}
}

// line reads one line (without its newline).
func (w *worker) line(b []byte, c *chunk) {
	o, t, l := w.o, &c.part, &w.l
	if len(b) > o.MaxLine {
		// Over MaxLine but within a block read: cut, as one longer than
		// the block is.
		t.Lines++
		t.Cut++
		return
	}
	ok := Parse(b, l)
	if l.Partial {
		if len(w.pending)+len(l.Text) <= max(o.MaxLine, 1) {
			w.pending = append(w.pending, l.Text...)
		}
		return // the line is counted with its last fragment
	}
	if len(w.pending) > 0 && l.Text != nil {
		joined := append(append([]byte(nil), w.pending...), l.Text...)
		stamp := l.Stamp
		*l = Line{}
		ok = parseInner(joined, stamp, l)
		l.Text = joined
		w.pending = w.pending[:0]
	}
	t.Lines++
	if l.Cursor != "" {
		t.Cursor, t.Micros = l.Cursor, l.Micros
	}
	// A line a collector wrapped is shown and matched by what it wrapped.
	text := b
	if l.Text != nil {
		text = l.Text
	}
	// --ignore-pattern: the line counts nowhere (not even as unparsed),
	// but a socat line still says who listens, forks and ends.
	dropped := false
	for _, re := range o.Ignore {
		if re.Match(text) {
			t.Ignored++
			dropped = true
			break
		}
	}
	// --since: only lines whose own time is recent count (and match the
	// patterns); the others still say who listens and who exits.
	inWindow := !dropped
	if inWindow && !o.Since.IsZero() {
		ts, tok := l.Time(o.Loc, o.Now)
		inWindow = ok && tok && !ts.Before(o.Since)
	}
	var flags uint8
	if inWindow {
		flags |= recInWindow
		for _, re := range o.Critical {
			if re.Match(text) {
				flags |= recPatCrit
				break
			}
		}
		for _, re := range o.Warning {
			if re.Match(text) {
				flags |= recPatWarn
				break
			}
		}
	}
	if !ok {
		if !dropped && !l.Noise && len(bytes.TrimSpace(text)) > 0 {
			t.Unparsed++
		}
		if flags&(recPatCrit|recPatWarn) != 0 {
			c.add(rec{flags: flags}, text)
		}
		return
	}
	cl := Classify(l)
	if !dropped {
		t.Socat++
	}
	flags |= recSocat
	if !inWindow {
		if !dropped {
			t.Old++
		}
		if cl.Event == EventExit {
			cl.Event = EventEnd // an old or ignored exit ends the listener, uncounted
		}
	}
	if len(w.peers) > 0 {
		if peer, kind := peerOf(l.Msg); kind != 0 {
			flags |= kind
			if ignoredPeer(w.peers, peer) {
				flags |= recPeerIgnored
			}
		}
	} else if cl.Set == 0 && cl.Event == EventNone && cl.Transferred == 0 && cl.Waited == 0 && flags&(recPatCrit|recPatWarn) == 0 {
		return // nothing of it depends on the lines before
	}
	c.add(rec{pid: pid32(l.PID), child: pid32(cl.Child), waited: pid32(cl.Waited), xfer: cl.Transferred,
		set: cl.Set, event: cl.Event, flags: flags}, text)
}

// add keeps r, with text: where it lies in buf, or copied to the side.
func (c *chunk) add(r rec, text []byte) {
	text = text[:min(len(text), keepBytes)]
	if off, ok := within(c.buf, text); ok {
		r.off, r.n = uint32(off), uint32(len(text))
	} else {
		r.flags |= recSide
		r.off, r.n = uint32(len(c.side)), uint32(len(text))
		c.side = append(c.side, text...)
	}
	c.recs = append(c.recs, r)
}

// text is what r shows.
func (c *chunk) text(r *rec) []byte {
	if r.flags&recSide != 0 {
		return c.side[r.off : r.off+r.n]
	}
	return c.buf[r.off : r.off+r.n]
}

// within reports where sub lies inside buf, if it does.
func within(buf, sub []byte) (int, bool) {
	if len(sub) == 0 || len(buf) == 0 {
		return 0, len(sub) == 0
	}
	b0 := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	s0 := uintptr(unsafe.Pointer(unsafe.SliceData(sub)))
	if s0 < b0 || s0+uintptr(len(sub)) > b0+uintptr(len(buf)) {
		return 0, false
	}
	return int(s0 - b0), true
}

// peerOf reads the peer of "accepting connection from AF=2 ADDR:PORT on
// ..." and "refusing connection from AF=2 ADDR:PORT due to ...".
func peerOf(m []byte) (netip.Addr, uint8) {
	var kind uint8
	var rest []byte
	switch {
	case bytes.HasPrefix(m, []byte("accepting connection from ")):
		kind, rest = recAccept, m[len("accepting connection from "):]
	case bytes.HasPrefix(m, []byte("accepting UDP connection from ")):
		kind, rest = recAccept, m[len("accepting UDP connection from "):]
	case bytes.HasPrefix(m, []byte("refusing connection from ")):
		kind, rest = recRefused, m[len("refusing connection from "):]
	default:
		return netip.Addr{}, 0
	}
	// "AF=2 127.0.0.1:51186", "AF=10 [::1]:443" or socat's long IPv6
	// form "[0000:...:0001]:443".
	if sp := bytes.IndexByte(rest, ' '); sp >= 0 && bytes.HasPrefix(rest, []byte("AF=")) {
		rest = rest[sp+1:]
	}
	if sp := bytes.IndexByte(rest, ' '); sp >= 0 {
		rest = rest[:sp]
	}
	var host []byte
	if len(rest) > 0 && rest[0] == '[' {
		end := bytes.IndexByte(rest, ']')
		if end < 0 {
			return netip.Addr{}, kind
		}
		host = rest[1:end]
	} else if colon := bytes.LastIndexByte(rest, ':'); colon > 0 {
		host = rest[:colon]
	} else {
		host = rest
	}
	a, err := netip.ParseAddr(string(host))
	if err != nil {
		return netip.Addr{}, kind
	}
	return a, kind
}

func ignoredPeer(peers []netip.Prefix, a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	a = a.Unmap()
	for _, p := range peers {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// apply adds a parsed chunk to t, in order.
func (c *chunk) apply(t *Tally, tr *Tracker, show int) {
	t.Merge(&c.part, show) // counts only: the recs say the rest
	for i := range c.recs {
		tr.apply(t, &c.recs[i], c.text(&c.recs[i]), show)
	}
}

const bufSize = 256 << 10

// ErrCanceled is returned when the context ends during a scan; what was
// counted up to then is in the tally.
var ErrCanceled = errors.New("the deadline ended the scan")

// ScanReader counts the complete lines of r, applying them to tr in
// order. It returns how many bytes it consumed: up to the end of the
// last complete line, so that a line still being written is read whole
// next time. A line over MaxLine is cut: counted once when its newline
// arrives, never held in memory; until then it is not consumed (the next
// run reads past it again). With final, a last line without newline is
// counted too. Memory is bounded whatever r holds: a few blocks of
// bufSize, and what tr keeps.
func (o *Options) ScanReader(ctx context.Context, r io.Reader, final bool, tr *Tracker) (Tally, int64, error) {
	return o.scan(ctx, r, final, tr, 1)
}

// ScanFile counts the lines of f from start to end as ScanReader does,
// with o.Workers goroutines parsing blocks of lines while one applies
// them in order. It returns the offset after the last consumed byte.
func (o *Options) ScanFile(ctx context.Context, f io.ReaderAt, start, end int64, final bool, tr *Tracker) (Tally, int64, error) {
	workers := max(1, o.Workers)
	if end-start < 8<<20 {
		workers = 1 // not worth a goroutine
	}
	t, used, err := o.scan(ctx, io.NewSectionReader(f, start, end-start), final, tr, workers)
	return t, start + used, err
}

func (o *Options) scan(ctx context.Context, r io.Reader, final bool, tr *Tracker, workers int) (Tally, int64, error) {
	if tr == nil {
		tr = NewTracker(nil, Memory{})
	}
	maxLine := o.MaxLine
	if maxLine <= 0 {
		maxLine = 64 << 10
	}
	oo := *o
	oo.MaxLine = maxLine
	size := max(bufSize, maxLine+1)
	var t Tally

	// Chunks go round: read, parsed by a worker, applied, reused. Their
	// number bounds the memory.
	nchunks := workers + 2 // one being read, one being applied, one per worker
	free := make(chan *chunk, nchunks)
	for range nchunks {
		free <- &chunk{buf: make([]byte, size), done: make(chan struct{}, 1)}
	}
	var process func(c *chunk)
	var finish func()
	var panicErr error
	if workers == 1 {
		w := &worker{o: &oo, peers: tr.ignore, carry: true}
		process = func(c *chunk) {
			w.chunk(c)
			c.apply(&t, tr, o.Show)
			free <- c
		}
		finish = func() {}
	} else {
		work := make(chan *chunk, nchunks)
		order := make(chan *chunk, nchunks)
		var failed error // set by the applier only; read after finish
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w := &worker{o: &oo, peers: tr.ignore}
				for c := range work {
					// A panic is the run's error, not a crash: the block
					// is still handed on, so that nothing waits for it.
					c.err = checks.Safely(func() error { w.chunk(c); return nil })
					c.done <- struct{}{}
				}
			}()
		}
		applied := make(chan struct{})
		go func() {
			defer close(applied)
			for c := range order {
				<-c.done
				if c.err == nil && failed == nil {
					c.err = checks.Safely(func() error { c.apply(&t, tr, o.Show); return nil })
				}
				if c.err != nil && failed == nil {
					failed = c.err
				}
				free <- c
			}
		}()
		process = func(c *chunk) {
			order <- c
			work <- c
		}
		finish = func() {
			close(work)
			close(order)
			<-applied
			wg.Wait()
			if failed != nil && panicErr == nil {
				panicErr = failed
			}
		}
	}

	committed, err := o.produce(ctx, r, final, maxLine, free, process)
	finish()
	tr.Flush(&t)
	t.Bytes = committed
	if panicErr != nil {
		return t, committed, panicErr
	}
	return t, committed, err
}

// produce reads r into chunks of complete lines and hands each to
// process, in order. It returns the offset after the last line handed.
func (o *Options) produce(ctx context.Context, r io.Reader, final bool, maxLine int, free chan *chunk, process func(*chunk)) (int64, error) {
	var base, committed int64 // reader offsets: of c.buf[0], after the last line handed
	var cut int64             // lines cut and not handed yet
	skipping := false         // inside a cut line: drop bytes up to its newline
	c := <-free
	n := 0 // valid bytes in c.buf
	// flush hands the complete lines of c.buf[:n] on (and, withRest, an
	// unterminated last line); the rest starts the next chunk.
	flush := func(withRest bool) {
		end := bytes.LastIndexByte(c.buf[:n], '\n') + 1
		var last []byte
		if withRest && end < n {
			last = c.buf[end:n]
		}
		if end == 0 && last == nil && cut == 0 {
			return
		}
		next := <-free
		rest := 0
		if last == nil {
			rest = copy(next.buf, c.buf[end:n])
		}
		c.lines, c.last, c.cut = c.buf[:end], last, cut
		cut = 0
		if end+len(last) > 0 {
			// (Only a cut line's count otherwise: while skipping one, base
			// is past bytes that are not consumed.)
			base += int64(end + len(last))
			committed = base
		}
		process(c)
		c, n = next, rest
	}
	defer func() { free <- c }()
	for {
		if ctx.Err() != nil {
			// What was read whole counts, and so does a cut line already
			// consumed (while skipping, nothing else is held).
			flush(false)
			return committed, ErrCanceled
		}
		m, err := r.Read(c.buf[n:])
		n += m
		if skipping {
			if nl := bytes.IndexByte(c.buf[:n], '\n'); nl < 0 {
				base += int64(n) // the cut line's bytes go; its start stays committed
				n = 0
			} else {
				skipping = false
				cut++
				n = copy(c.buf, c.buf[nl+1:n])
				base += int64(nl + 1)
				committed = base
			}
		}
		if !skipping {
			if n == len(c.buf) || err != nil {
				flush(err == io.EOF && final)
			}
			if n > maxLine && bytes.IndexByte(c.buf[:n], '\n') < 0 {
				skipping = true
				base += int64(n)
				n = 0
			}
		}
		if err == io.EOF {
			if final && skipping {
				cut++
				committed = base
			}
			flush(false) // a cut line not handed yet
			return committed, nil
		}
		if err != nil {
			return committed, err
		}
	}
}
