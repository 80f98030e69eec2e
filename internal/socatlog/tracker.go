package socatlog

import "net/netip"

// Bounds of what a Tracker keeps, whatever the log holds: crash loops,
// a million children, a PID reused a million times.
const (
	// maxListeners bounds the listeners followed at once; the oldest is
	// forgotten first (one that died without a word).
	maxListeners = 4096
	// recentChildren bounds the children remembered: a child's bind, its
	// lines and its parent's waitpid() come soon after its fork.
	recentChildren = 4096
	// maxPending bounds the listeners between the accept of an ignored
	// peer and the fork of its child.
	maxPending = 1024
	// maxHeld bounds the records held back for a PID not known yet
	// (holdBack): each keeps a copy of its line, cut to keepBytes as
	// every line shown is.
	maxHeld = 32
	// Remembered between runs: the most recent of each.
	memoryListeners = 1024
	memoryChildren  = 1024
)

// Tracker follows socat's processes from line to line, across regions
// and runs: which PIDs are listeners (a service whose exit counts), which
// are a connection's fork children, and which connections come from
// peers the user ignores. It is applied to the lines in order, and what
// it keeps is bounded.
type Tracker struct {
	ignore    []netip.Prefix
	listeners listenerSet
	children  childRing
	// pending: listeners with a connection accepted and not yet handed
	// to a child; true when its peer is ignored.
	pending map[int]bool
	// held: records of PIDs not known yet, in log order (holdBack).
	held []heldRec
}

// heldRec is a record held back, with a copy of its line.
type heldRec struct {
	r    rec
	text []byte
	show int
}

// NewTracker starts from what an earlier run remembered; ignore are the
// peers whose connections count nowhere (--ignore-peer).
func NewTracker(ignore []netip.Prefix, m Memory) *Tracker {
	tr := &Tracker{ignore: ignore, pending: map[int]bool{}}
	tr.listeners.init()
	tr.children.init()
	for i, p := range m.Listeners {
		if i < maxListeners && p > 0 {
			tr.listeners.add(p)
		}
	}
	for i, c := range m.Children {
		if i < recentChildren && c.PID > 0 {
			tr.children.add(c.PID, childInfo{conn: c.Flags&markConn != 0, ignored: c.Flags&markIgnored != 0, ended: c.Flags&markEnded != 0})
		}
	}
	for i, p := range m.Ignoring {
		if i < maxPending && p > 0 {
			tr.pending[p] = true
		}
	}
	return tr
}

// Memory is what a Tracker hands to the next run, bounded.
type Memory struct {
	Listeners []int       `json:"listeners,omitempty"`
	Children  []ChildMark `json:"children,omitempty"`
	Ignoring  []int       `json:"ignoring,omitempty"`
}

// ChildMark is a remembered fork child.
type ChildMark struct {
	PID   int   `json:"pid"`
	Flags uint8 `json:"f,omitempty"`
}

const (
	markConn uint8 = 1 << iota
	markIgnored
	markEnded
)

// Memory returns the most recent listeners and children, oldest first.
func (tr *Tracker) Memory() Memory {
	m := Memory{Listeners: tr.listeners.list(memoryListeners)}
	for _, pid := range tr.children.list(memoryChildren) {
		c := tr.children.m[pid]
		var f uint8
		if c.conn {
			f |= markConn
		}
		if c.ignored {
			f |= markIgnored
		}
		if c.ended {
			f |= markEnded
		}
		m.Children = append(m.Children, ChildMark{PID: pid, Flags: f})
	}
	for p := range tr.pending {
		if tr.pending[p] {
			m.Ignoring = append(m.Ignoring, p)
		}
	}
	return m
}

// apply counts one record into t, in log order. It settles what needs
// the lines before it: whether a PID is a listener (its exit counts), a
// connection's child (its bind is no service, its parent's waitpid() no
// backend failure), or serves an ignored peer (nothing of it counts).
func (tr *Tracker) apply(t *Tally, r *rec, text []byte, show int) {
	if !tr.holdBack(r) {
		tr.settleAll(t, r, text, show)
		return
	}
	if len(tr.held) == maxHeld {
		h := tr.held[0]
		tr.held = tr.held[1:]
		tr.settleAll(t, &h.r, h.text, h.show)
	}
	tr.held = append(tr.held, heldRec{r: *r, text: append([]byte(nil), text[:min(len(text), keepBytes)]...), show: show})
}

// holdBack reports whether a record waits for the line that says whose
// it is. A fork child runs as soon as fork() returns, and may log (its
// SSL_accept() failure) before its parent logs "forked off child process
// N": in log order the child's line comes first, from a PID nobody
// knows, and with --ignore-peer it would count as another peer's. Such
// a line is held until the fork line of its PID arrives (then it is the
// child's), until maxHeld lines are held (the oldest goes on as it is),
// or until the scan ends (Flush). Lines of a PID with lines held wait
// too, so that a PID's lines keep their order; so do the fork lines of
// an unknown PID (an EXEC child forking its program before its own
// fork line) unless it is a listener with a connection in hand. Only
// with --ignore-peer: without it, whose a line is changes nothing.
// Settled later, a line's example may show after newer ones of other
// PIDs; the counts are those of log order with the fork line first.
func (tr *Tracker) holdBack(r *rec) bool {
	if len(tr.ignore) == 0 || r.flags&recSocat == 0 {
		return false
	}
	pid := int(r.pid)
	for i := range tr.held {
		if int(tr.held[i].r.pid) == pid {
			return true
		}
	}
	switch r.event {
	case EventListening, EventBindFailed:
		return false // a listener's own lines: they make PIDs known
	}
	if _, inHand := tr.pending[pid]; inHand || r.flags&(recAccept|recRefused) != 0 || tr.listeners.has(pid) {
		return false
	}
	c, known := tr.children.m[pid]
	return !known || c.ended // an ended child's PID may be a new child's
}

// release settles the held lines of pid, in order.
func (tr *Tracker) release(t *Tally, pid int) {
	kept := tr.held[:0]
	var mine []heldRec
	for _, h := range tr.held {
		if int(h.r.pid) == pid {
			mine = append(mine, h)
		} else {
			kept = append(kept, h)
		}
	}
	tr.held = kept
	for i := range mine {
		tr.settleAll(t, &mine[i].r, mine[i].text, mine[i].show)
	}
}

// Flush settles the lines still held, in order: the end of what is read
// now.
func (tr *Tracker) Flush(t *Tally) {
	for len(tr.held) > 0 {
		h := tr.held[0]
		tr.held = tr.held[1:]
		tr.settleAll(t, &h.r, h.text, h.show)
	}
	tr.held = nil
}

// settleAll settles a record, and after a fork line the lines its child
// logged before it.
func (tr *Tracker) settleAll(t *Tally, r *rec, text []byte, show int) {
	tr.settle(t, r, text, show)
	if r.event == EventForked && len(tr.held) > 0 {
		tr.release(t, int(r.child))
	}
}

// settle counts one record into t with what is known now.
func (tr *Tracker) settle(t *Tally, r *rec, text []byte, show int) {
	if r.flags&recSocat == 0 {
		// Not socat's: only the user's patterns matched it.
		tr.countPatterns(t, r, text, show)
		return
	}
	pid, child, waited := int(r.pid), int(r.child), int(r.waited)
	ignored, tied := false, true
	if len(tr.ignore) > 0 {
		if c, ok := tr.children.m[pid]; ok && !c.ended {
			ignored = c.ignored
		} else {
			ignored = tr.pending[pid]
			tied = ignored || tr.listeners.has(pid)
		}
	}
	set := r.set
	switch {
	case r.flags&recAccept != 0 && len(tr.ignore) > 0:
		// A new connection: the listener's lines up to its fork, and
		// the child's, are this peer's.
		ignored = r.flags&recPeerIgnored != 0
		if len(tr.pending) >= maxPending {
			clear(tr.pending)
		}
		tr.pending[pid] = ignored
	case r.flags&recRefused != 0 && len(tr.ignore) > 0:
		ignored = r.flags&recPeerIgnored != 0
	}
	if waited > 0 {
		if c, ok := tr.children.m[waited]; ok {
			if c.conn {
				set &^= 1 << BackendFailure // one failed connection, not the backend
			}
			ignored = ignored || c.ignored
		}
	}

	exit := false
	switch r.event {
	case EventForked:
		// A listener that died without a word and whose PID came round
		// again as a child is gone.
		tr.listeners.remove(child)
		if c, ok := tr.children.m[child]; ok && !c.ended {
			break // socat logs the fork of an EXEC child twice
		}
		tr.children.add(child, childInfo{conn: tr.listeners.has(pid), ignored: ignored})
		if p, ok := tr.children.m[pid]; ok && p.conn {
			p.prog = child // the program a connection's child runs
			tr.children.m[pid] = p
		}
		// The connection is the child's now: what the listener logs next
		// (max-children, other children's ends) is its own.
		delete(tr.pending, pid)
	case EventListening, EventBindFailed:
		if c, ok := tr.children.m[pid]; ok {
			if !c.ended && c.conn {
				break // a connection's child binding its other address
			}
			// An ended child's PID, or that of a program a child ran (it
			// execs: socat's lines under its PID are a new process's).
			tr.children.forget(pid)
			ignored = false
		}
		tr.listeners.add(pid)
		delete(tr.pending, pid)
		ignored = false // the listener's next accept
	case EventEnd, EventExit:
		if c, ok := tr.children.m[pid]; ok && !c.ended && !tr.listeners.has(pid) {
			c.ended = true
			tr.children.m[pid] = c
			// Its program ended before it (socat waits for it).
			if p, ok := tr.children.m[c.prog]; c.prog != 0 && ok && !p.conn {
				p.ended = true
				tr.children.m[c.prog] = p
			}
			break
		}
		if tr.listeners.has(pid) {
			exit = r.event == EventExit
			tr.listeners.remove(pid)
			delete(tr.pending, pid)
		}
	}

	if r.flags&recInWindow == 0 {
		return // older than --since: it said who listens, it counts nowhere
	}
	if ignored && !exit {
		// (A service's own exit is never a peer's: a listener without
		// fork that ends after an ignored connection is down.)
		t.Peer++
		return
	}
	if exit {
		t.Count[Exit]++
		t.Last[Exit].add(text, show)
	}
	if set != 0 {
		for cat := Category(0); cat < NumCategories; cat++ {
			if set.Has(cat) {
				t.Count[cat]++
				t.Last[cat].add(text, show)
			}
		}
	}
	t.Transferred += r.xfer
	tr.countPatterns(t, r, text, show)
	if !tied && set != 0 {
		t.Untied++ // counted, but neither a listener's nor a known child's
	}
}

func (tr *Tracker) countPatterns(t *Tally, r *rec, text []byte, show int) {
	if r.flags&recPatCrit != 0 {
		t.PatternCrit++
		t.LastCrit.add(text, show)
	}
	if r.flags&recPatWarn != 0 {
		t.PatternWarn++
		t.LastWarn.add(text, show)
	}
}

// listenerSet is the listeners in the order they were first seen, at
// most maxListeners: the oldest goes first. Its arrays are allocated
// once.
type listenerSet struct {
	seq   uint64
	m     map[int]uint64
	order []listenerAt // additions, oldest first from head; stale entries are skipped
	head  int
}

type listenerAt struct {
	pid int
	seq uint64
}

func (s *listenerSet) init() {
	s.m = map[int]uint64{}
	s.order = make([]listenerAt, 0, 2*maxListeners)
}

func (s *listenerSet) has(pid int) bool { _, ok := s.m[pid]; return ok }

func (s *listenerSet) live(e listenerAt) bool { return s.m[e.pid] == e.seq }

// add marks pid as a listener; one already known keeps its place (a fork
// listener logs "listening on" after every connection).
func (s *listenerSet) add(pid int) {
	if s.has(pid) {
		return
	}
	if len(s.order) == cap(s.order) {
		// Keep the live entries only, at the start of the same array.
		n := 0
		for _, e := range s.order[s.head:] {
			if s.live(e) {
				s.order[n] = e
				n++
			}
		}
		s.order, s.head = s.order[:n], 0
	}
	s.seq++
	s.m[pid] = s.seq
	s.order = append(s.order, listenerAt{pid, s.seq})
	for len(s.m) > maxListeners {
		old := s.order[s.head]
		s.head++
		if s.live(old) {
			delete(s.m, old.pid)
		}
	}
}

func (s *listenerSet) remove(pid int) { delete(s.m, pid) }

// list returns at most n listeners, the most recent, oldest first.
func (s *listenerSet) list(n int) []int {
	var out []int
	for _, e := range s.order[s.head:] {
		if s.live(e) {
			out = append(out, e.pid)
		}
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out
}

// childInfo is what is known of a fork child.
type childInfo struct {
	seq     uint64
	conn    bool // forked by a listener: it serves one connection
	ignored bool // its connection is from an ignored peer
	ended   bool // it logged its exit (its PID may serve another process)
	prog    int  // of a connection's child: the program it forked (EXEC, SYSTEM)
}

// childRing is the most recent recentChildren children.
type childRing struct {
	seq  uint64
	m    map[int]childInfo
	ring []int
	at   int
}

func (r *childRing) init() {
	r.m = map[int]childInfo{}
	r.ring = make([]int, 0, recentChildren)
}

func (r *childRing) add(pid int, c childInfo) {
	r.seq++
	c.seq = r.seq
	if len(r.ring) < recentChildren {
		r.ring = append(r.ring, pid)
	} else {
		old := r.ring[r.at]
		if oc, ok := r.m[old]; ok && oc.seq == r.seq-uint64(recentChildren) {
			delete(r.m, old)
		}
		r.ring[r.at] = pid
		r.at = (r.at + 1) % recentChildren
	}
	r.m[pid] = c
}

func (r *childRing) forget(pid int) { delete(r.m, pid) }

// list returns at most n children, the most recent, oldest first.
func (r *childRing) list(n int) []int {
	var out []int
	for i := range r.ring {
		pid := r.ring[(r.at+i)%len(r.ring)]
		if c, ok := r.m[pid]; ok && r.slotSeq(i) == c.seq {
			out = append(out, pid)
		}
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out
}

// slotSeq is the sequence number of the child added at ring position i
// (counted from the oldest).
func (r *childRing) slotSeq(i int) uint64 {
	return r.seq - uint64(len(r.ring)) + uint64(i) + 1
}
