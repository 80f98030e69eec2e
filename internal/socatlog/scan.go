package socatlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
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
	// logs it after every connection), and live children (announced by
	// "forked off child process", gone at their exit).
	listening, children map[int]bool
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

// Resolve applies the PID events in order to the listeners known before
// (and updates them): an exit counts only for a listener, once.
func (t *Tally) Resolve(listeners map[int]bool, show int) {
	for _, e := range t.Events {
		switch e.Event {
		case EventListening, EventBindFailed:
			listeners[e.PID] = true
		case EventEnd:
			delete(listeners, e.PID)
		case EventExit:
			if listeners[e.PID] {
				t.Count[Exit]++
				line := e.Line
				if line == "" {
					line = fmt.Sprintf("(the exit of listener PID %d)", e.PID)
				}
				t.Last[Exit] = keep(t.Last[Exit], []byte(line), show)
				delete(listeners, e.PID)
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
	if !ok {
		if len(bytes.TrimSpace(text)) > 0 {
			t.Unparsed++
		}
		return
	}
	if !o.Since.IsZero() {
		if ts, ok := l.Time(o.Loc, o.Now); !ok || ts.Before(o.Since) {
			t.Old++
			return
		}
	}
	c := Classify(l)
	if c.Set != 0 {
		for cat := Category(0); cat < NumCategories; cat++ {
			if c.Set.Has(cat) {
				t.Count[cat]++
				t.Last[cat] = keep(t.Last[cat], text, o.Show)
			}
		}
	}
	t.Transferred += c.Transferred
	if c.Event != EventNone {
		o.event(t, c, l.PID, text)
	}
}

// event keeps what the listener/exit bookkeeping needs, and no more: a
// repeated "listening on" of a known listener, a child's fork and its
// end are settled here; only a listener's first sighting and the exits
// that may be a listener's are kept, in order.
func (o *Options) event(t *Tally, c Class, pid int, text []byte) {
	if t.listening == nil {
		t.listening, t.children = map[int]bool{}, map[int]bool{}
	}
	switch c.Event {
	case EventForked:
		t.children[c.Child] = true
	case EventListening, EventBindFailed:
		if !t.listening[pid] {
			t.listening[pid] = true
			t.Events = append(t.Events, PIDEvent{Event: EventListening, PID: pid})
		}
	case EventEnd:
		delete(t.children, pid)
		if t.listening[pid] {
			// A listener ending normally is no longer one.
			delete(t.listening, pid)
			t.Events = append(t.Events, PIDEvent{Event: EventEnd, PID: pid})
		}
	case EventExit:
		if t.children[pid] {
			delete(t.children, pid) // a connection's child: not a service
			return
		}
		delete(t.listening, pid)
		e := PIDEvent{Event: EventExit, PID: pid}
		if len(t.Events) < maxExitText || o.Known[pid] {
			e.Line = string(text[:min(len(text), keepBytes)])
		}
		t.Events = append(t.Events, e)
	}
}

// maxExitText bounds how many exit lines one reader keeps the text of:
// beyond it only the PID is kept (a log of many failing socat clients).
const maxExitText = 4096

const bufSize = 1 << 20

// ErrCanceled is returned when the context ends during a scan; what was
// counted up to then is in the tally.
var ErrCanceled = errors.New("the deadline ended the scan")

// ScanReader counts the complete lines of r. It returns how many bytes
// it consumed: up to the end of the last complete line, so that a line
// still being written is read whole next time; a cut line is consumed.
// At EOF a last line without newline is left unless final is true.
func (o *Options) ScanReader(ctx context.Context, r io.Reader, final bool) (Tally, int64, error) {
	var t Tally
	var l Line
	maxLine := o.MaxLine
	if maxLine <= 0 {
		maxLine = 64 << 10
	}
	buf := make([]byte, max(bufSize, maxLine+1))
	var consumed int64
	n := 0            // valid bytes in buf
	skipping := false // inside a cut line: drop bytes up to the newline
	for {
		if ctx.Err() != nil {
			t.Bytes = consumed
			return t, consumed, ErrCanceled
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
			} else {
				o.line(buf[start:start+nl], &t, &l)
			}
			start += nl + 1
		}
		consumed += int64(start)
		rest := n - start
		if rest > maxLine || (skipping && rest > 0) {
			// Too long: count it once, drop what is here, and skip up
			// to its newline.
			if !skipping {
				t.Lines++
				t.Cut++
				skipping = true
			}
			consumed += int64(rest)
			rest = 0
			start = n
		}
		copy(buf, buf[start:n])
		n = rest
		if err == io.EOF {
			if n > 0 && final {
				o.line(buf[:n], &t, &l)
				consumed += int64(n)
			}
			t.Bytes = consumed
			return t, consumed, nil
		}
		if err != nil {
			t.Bytes = consumed
			return t, consumed, err
		}
	}
}

// ScanFile counts the lines of f from start to end with o.Workers
// readers in parallel, each on a region that begins after a newline. It
// returns the merged tally (events in file order) and the offset after
// the last consumed byte.
// With final, a last line without newline is counted too.
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
	parts := make([]Tally, len(bounds)-1)
	used := make([]int64, len(parts))
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := i == len(parts)-1
			parts[i], used[i], errs[i] = o.ScanReader(ctx, io.NewSectionReader(f, bounds[i], bounds[i+1]-bounds[i]), !last || final)
		}()
	}
	wg.Wait()
	var t Tally
	off := start
	for i := range parts {
		t.Merge(&parts[i], o.Show)
		if errs[i] != nil {
			return t, bounds[i] + used[i], errs[i]
		}
		off = bounds[i] + used[i]
	}
	return t, off, nil
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
