package socatlog

import (
	"bytes"
	"context"
	"errors"
	"io"
	"regexp"
	"sort"
	"sync"
	"time"
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
	// Workers is how many goroutines read one file's new region.
	Workers int
	// Known are the listening PIDs known before the scan (read only).
	Known map[int]bool
}

// Kept text of a line shown in the output is bounded too.
const keepBytes = 400

// PIDEvent is an event that needs the order of lines: listeners and
// their exits.
type PIDEvent struct {
	Event Event
	PID   int
	Line  string // for an exit: the line, to show
}

// Tally is what a run counted.
type Tally struct {
	Count       [NumCategories]int64
	Lines       int64 // lines read (cut ones included)
	Bytes       int64
	Unparsed    int64 // lines that are not socat's
	Cut         int64 // lines over MaxLine
	Ignored     int64
	Old         int64 // socat lines before --since
	Transferred int64
	PatternCrit int64
	PatternWarn int64
	// Last holds the last Show lines of each category, oldest first;
	// LastCrit/LastWarn those of the user's patterns.
	Last               [NumCategories][]string
	LastCrit, LastWarn []string
	Events             []PIDEvent
	// Cursor and Micros of the last journal record read.
	Cursor string
	Micros int64

	// What one reader knows of the PIDs in its own region, so that the
	// events it keeps stay few: listeners it saw listen (a forking one
	// logs it after every connection), and the most recent children (a
	// child that binds or listens on its other address, or fails to, is
	// no service): a bounded ring, as an EXEC relay's children never log
	// their end.
	listening map[int]bool
	recent    map[int]int // PID -> how many times in the ring
	ring      []int
	ringAt    int
}

func keep(list []string, line []byte, n int) []string {
	if n <= 0 {
		return list
	}
	if len(line) > keepBytes {
		line = line[:keepBytes]
	}
	if len(list) == n {
		copy(list, list[1:])
		list = list[:n-1]
	}
	return append(list, string(line))
}

// Merge adds u, which was read after t.
func (t *Tally) Merge(u *Tally, show int) {
	for i := range t.Count {
		t.Count[i] += u.Count[i]
		for _, l := range u.Last[i] {
			t.Last[i] = keep(t.Last[i], []byte(l), show)
		}
	}
	t.Lines += u.Lines
	t.Bytes += u.Bytes
	t.Unparsed += u.Unparsed
	t.Cut += u.Cut
	t.Ignored += u.Ignored
	t.Old += u.Old
	t.Transferred += u.Transferred
	t.PatternCrit += u.PatternCrit
	t.PatternWarn += u.PatternWarn
	for _, l := range u.LastCrit {
		t.LastCrit = keep(t.LastCrit, []byte(l), show)
	}
	for _, l := range u.LastWarn {
		t.LastWarn = keep(t.LastWarn, []byte(l), show)
	}
	t.Events = append(t.Events, u.Events...)
	if u.Cursor != "" {
		t.Cursor, t.Micros = u.Cursor, u.Micros
	}
}

// Listeners are the PIDs known to listen, oldest first, so that the
// most recent survive when the list is bounded.
type Listeners struct {
	seq uint64
	m   map[int]uint64
}

// NewListeners starts from a remembered list, oldest first.
func NewListeners(pids []int) *Listeners {
	l := &Listeners{m: map[int]uint64{}}
	for _, p := range pids {
		l.Add(p)
	}
	return l
}

// Add marks pid as a listener, as the most recent.
func (l *Listeners) Add(pid int) { l.seq++; l.m[pid] = l.seq }

// Has reports whether pid listens.
func (l *Listeners) Has(pid int) bool { _, ok := l.m[pid]; return ok }

// Remove forgets pid.
func (l *Listeners) Remove(pid int) { delete(l.m, pid) }

// Set is a snapshot for Options.Known.
func (l *Listeners) Set() map[int]bool {
	out := make(map[int]bool, len(l.m))
	for p := range l.m {
		out[p] = true
	}
	return out
}

// List returns at most n PIDs, the most recent, oldest first.
func (l *Listeners) List(n int) []int {
	out := make([]int, 0, len(l.m))
	for p := range l.m {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return l.m[out[i]] < l.m[out[j]] })
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out
}

// Resolve applies the PID events in order to the listeners known before
// (and updates them): an exit counts only for a listener, once.
func (t *Tally) Resolve(listeners *Listeners, show int) {
	for _, e := range t.Events {
		switch e.Event {
		case EventListening, EventBindFailed:
			listeners.Add(e.PID)
		case EventEnd:
			listeners.Remove(e.PID)
		case EventExit:
			if listeners.Has(e.PID) {
				t.Count[Exit]++
				t.Last[Exit] = keep(t.Last[Exit], []byte(e.Line), show)
				listeners.Remove(e.PID)
			}
		}
	}
	t.Events = nil
}

// line counts one line (without its newline).
func (o *Options) line(b []byte, t *Tally, l *Line) {
	t.Lines++
	ok := Parse(b, l)
	if l.Cursor != "" {
		t.Cursor, t.Micros = l.Cursor, l.Micros
	}
	// A journal record is shown and matched by its message.
	text := b
	if l.Text != nil {
		text = l.Text
	}
	for _, re := range o.Ignore {
		if re.Match(text) {
			t.Ignored++
			return
		}
	}
	// --since: only lines whose own time is recent count (and match the
	// patterns); the others still say who listens and who exits.
	inWindow := true
	if !o.Since.IsZero() {
		ts, tok := l.Time(o.Loc, o.Now)
		inWindow = ok && tok && !ts.Before(o.Since)
	}
	if inWindow {
		for _, re := range o.Critical {
			if re.Match(text) {
				t.PatternCrit++
				t.LastCrit = keep(t.LastCrit, text, o.Show)
				break
			}
		}
		for _, re := range o.Warning {
			if re.Match(text) {
				t.PatternWarn++
				t.LastWarn = keep(t.LastWarn, text, o.Show)
				break
			}
		}
	}
	if !ok {
		if len(bytes.TrimSpace(text)) > 0 {
			t.Unparsed++
		}
		return
	}
	c := Classify(l)
	if c.Event != EventNone {
		if !inWindow && c.Event == EventExit {
			c.Event = EventEnd // an old exit ends the listener, uncounted
		}
		o.event(t, c, l.PID, text)
	}
	if !inWindow {
		t.Old++
		return
	}
	if c.Set != 0 {
		for cat := Category(0); cat < NumCategories; cat++ {
			if c.Set.Has(cat) {
				t.Count[cat]++
				t.Last[cat] = keep(t.Last[cat], text, o.Show)
			}
		}
	}
	t.Transferred += c.Transferred
}

// event keeps what the listener/exit bookkeeping needs, and no more: a
// repeated "listening on" of a known listener, a child's fork and end, and
// the exit of a PID that is not known to listen are settled here; only a
// listener's first sighting, its end, and the exits of PIDs that listen
// (known before this reader's region, or seen in it) are kept, in order.
// A fork whose child has the PID of a listener (one that died without a
// word, and whose PID came round again) ends that listener. The events
// stay as few as the listeners, and nothing is kept per connection,
// whatever the log holds.
func (o *Options) event(t *Tally, c Class, pid int, text []byte) {
	if t.listening == nil {
		t.listening, t.recent, t.ring = map[int]bool{}, map[int]int{}, make([]int, 0, recentChildren)
	}
	switch c.Event {
	case EventForked:
		if t.listening[c.Child] || o.Known[c.Child] {
			delete(t.listening, c.Child)
			t.Events = append(t.Events, PIDEvent{Event: EventEnd, PID: c.Child})
		}
		if len(t.ring) < recentChildren {
			t.ring = append(t.ring, c.Child)
		} else {
			old := t.ring[t.ringAt]
			if t.recent[old] > 1 {
				t.recent[old]--
			} else {
				delete(t.recent, old) // or gone already: it ended
			}
			t.ring[t.ringAt] = c.Child
			t.ringAt = (t.ringAt + 1) % recentChildren
		}
		t.recent[c.Child]++
	case EventListening, EventBindFailed:
		if t.recent[pid] > 0 {
			return // a connection's child binding its other address
		}
		if !t.listening[pid] {
			t.listening[pid] = true
			t.Events = append(t.Events, PIDEvent{Event: EventListening, PID: pid})
		}
	case EventEnd:
		if t.recent[pid] > 0 && !t.listening[pid] {
			delete(t.recent, pid) // the child ended: its PID may serve a listener next
			return
		}
		if t.listening[pid] || o.Known[pid] {
			delete(t.listening, pid)
			t.Events = append(t.Events, PIDEvent{Event: EventEnd, PID: pid})
		}
	case EventExit:
		if t.recent[pid] > 0 && !t.listening[pid] {
			delete(t.recent, pid) // a connection's child, gone
			return
		}
		if !t.listening[pid] && !o.Known[pid] {
			return // not a listener: a client, or a child forked elsewhere
		}
		delete(t.listening, pid)
		t.Events = append(t.Events, PIDEvent{Event: EventExit, PID: pid, Line: string(text[:min(len(text), keepBytes)])})
	}
}

const bufSize = 1 << 20

// recentChildren bounds the children a reader remembers: a child's bind
// comes right after its fork.
const recentChildren = 4096

// ErrCanceled is returned when the context ends during a scan; what was
// counted up to then is in the tally.
var ErrCanceled = errors.New("the deadline ended the scan")

// ScanReader counts the complete lines of r. It returns how many bytes
// it consumed: up to the end of the last complete line, so that a line
// still being written is read whole next time. A line over MaxLine is cut:
// counted once when its newline arrives, never held in memory; until then
// it is not consumed (the next run reads past it again). With final, a
// last line without newline is counted too.
func (o *Options) ScanReader(ctx context.Context, r io.Reader, final bool) (Tally, int64, error) {
	var t Tally
	var l Line
	maxLine := o.MaxLine
	if maxLine <= 0 {
		maxLine = 64 << 10
	}
	buf := make([]byte, max(bufSize, maxLine+1))
	var base, committed int64 // reader offsets: of buf[0], after the last line handled
	n := 0                    // valid bytes in buf
	skipping := false         // inside a cut line: drop bytes up to its newline
	for {
		if ctx.Err() != nil {
			t.Bytes = committed
			return t, committed, ErrCanceled
		}
		m, err := r.Read(buf[n:])
		n += m
		start := 0
		for {
			nl := bytes.IndexByte(buf[start:n], '\n')
			if nl < 0 {
				break
			}
			if skipping {
				skipping = false
				t.Lines++
				t.Cut++
			} else {
				o.line(buf[start:start+nl], &t, &l)
			}
			start += nl + 1
			committed = base + int64(start)
		}
		if !skipping && n-start > maxLine {
			skipping = true
		}
		if skipping {
			base += int64(n) // the cut line's bytes go; its start stays committed
			n = 0
		} else {
			copy(buf, buf[start:n])
			base += int64(start)
			n -= start
		}
		if err == io.EOF {
			if final {
				switch {
				case skipping:
					t.Lines++
					t.Cut++
					committed = base
				case n > 0:
					o.line(buf[:n], &t, &l)
					committed = base + int64(n)
				}
			}
			t.Bytes = committed
			return t, committed, nil
		}
		if err != nil {
			t.Bytes = committed
			return t, committed, err
		}
	}
}

// ScanFile counts the lines of f from start to end with o.Workers
// readers in parallel, each on a region that begins after a newline. It
// returns the merged tally (events in file order) and the offset after
// the last consumed byte. With final, a last line without newline is
// counted too.
//
// A reader must know which PIDs listen before its region starts, or it
// cannot tell a listener's exit from a client's: a quick pass over the
// earlier regions finds their "listening on" lines first (a memory
// search, far cheaper than parsing every line).
func (o *Options) ScanFile(ctx context.Context, f io.ReaderAt, start, end int64, final bool) (Tally, int64, error) {
	workers := max(1, o.Workers)
	if end-start < 8<<20 {
		workers = 1 // not worth a goroutine
	}
	bounds := []int64{start}
	for i := 1; i < workers; i++ {
		b, err := nextLine(f, start+(end-start)*int64(i)/int64(workers), end)
		if err != nil {
			return Tally{}, start, err
		}
		if b > bounds[len(bounds)-1] && b < end {
			bounds = append(bounds, b)
		}
	}
	bounds = append(bounds, end)
	parts := len(bounds) - 1

	// Listeners per region but the last, found in parallel.
	found := make([]map[int]bool, parts)
	var wg sync.WaitGroup
	for i := 0; i < parts-1; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			found[i] = listenersIn(io.NewSectionReader(f, bounds[i], bounds[i+1]-bounds[i]))
		}()
	}
	wg.Wait()
	opts := make([]Options, parts)
	known := map[int]bool{}
	for p := range o.Known {
		known[p] = true
	}
	for i := range opts {
		opts[i] = *o
		opts[i].Known = known
		if i < parts-1 && len(found[i]) > 0 {
			next := make(map[int]bool, len(known)+len(found[i]))
			for p := range known {
				next[p] = true
			}
			for p := range found[i] {
				next[p] = true
			}
			known = next
		}
	}

	tallies := make([]Tally, parts)
	used := make([]int64, parts)
	errs := make([]error, parts)
	for i := range tallies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := i == parts-1
			tallies[i], used[i], errs[i] = opts[i].ScanReader(ctx, io.NewSectionReader(f, bounds[i], bounds[i+1]-bounds[i]), !last || final)
		}()
	}
	wg.Wait()
	var t Tally
	off := start
	for i := range tallies {
		t.Merge(&tallies[i], o.Show)
		off = bounds[i] + used[i]
		if errs[i] != nil {
			return t, off, errs[i]
		}
	}
	return t, off, nil
}

// listenersIn returns the PIDs that log "listening on" (or fail to bind)
// in r. It searches for the words, and parses only the lines that hold
// them.
func listenersIn(r io.Reader) map[int]bool {
	found := map[int]bool{}
	buf := make([]byte, bufSize)
	n := 0
	var l Line
	markers := [][]byte{[]byte("listening on "), []byte("bind("), []byte("\" exists")}
	for {
		m, err := r.Read(buf[n:])
		n += m
		end := bytes.LastIndexByte(buf[:n], '\n') + 1
		for _, mk := range markers {
			for pos := 0; pos < end; {
				i := bytes.Index(buf[pos:end], mk)
				if i < 0 {
					break
				}
				at := pos + i
				ls := bytes.LastIndexByte(buf[:at], '\n') + 1
				le := at + bytes.IndexByte(buf[at:end], '\n')
				if Parse(buf[ls:le], &l) {
					if c := Classify(&l); c.Event == EventListening || c.Event == EventBindFailed {
						found[l.PID] = true
					}
				}
				pos = le + 1
			}
		}
		switch {
		case end > 0:
			n = copy(buf, buf[end:n])
		case n == len(buf):
			n = 0 // a line longer than the buffer: not a listening line
		}
		if err != nil {
			return found
		}
	}
}

// nextLine returns the offset just after the first newline at or after
// off (or end).
func nextLine(f io.ReaderAt, off, end int64) (int64, error) {
	buf := make([]byte, 64<<10)
	for off < end {
		n, err := f.ReadAt(buf[:min(int64(len(buf)), end-off)], off)
		if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
			return off + int64(i) + 1, nil
		}
		off += int64(n)
		if err != nil && err != io.EOF {
			return off, err
		}
		if n == 0 {
			break
		}
	}
	return end, nil
}
