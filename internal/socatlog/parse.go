// Package socatlog reads socat's log lines in every form they reach a
// file or the journal, and classifies them into the categories an
// operator alerts on. Parsing works on byte slices of a line without
// copying: a log of a gigabyte is read at close to grep's speed.
package socatlog

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
)

// Format says how a line was written.
type Format uint8

// The formats a line is recognised in.
const (
	FormatNone    Format = iota // not socat's
	FormatNative                // socat's own: -lf FILE or stderr
	FormatSyslog                // <PRI>, RFC 3164 or RFC 3339 stamp, PROG[PID]: L message
	FormatJournal               // a journal record (journalctl -o json)
)

// Line is one parsed socat log line. Its byte slices point into the
// input; they are valid until the caller reuses that buffer.
type Line struct {
	Format Format
	// Stamp is the line's own timestamp as written (native or syslog);
	// Time parses it. For a journal record Micros holds the realtime.
	Stamp  []byte
	Micros int64
	Host   []byte
	Prog   []byte
	PID    int
	Level  byte // D I N W E F
	Msg    []byte
	// Cursor is a journal record's __CURSOR.
	Cursor string
	// Text is what to show and match for a line that arrived inside a
	// record of a collector: a journal record's MESSAGE, the line a
	// container runtime wrapped (set even when it is not socat's).
	Text []byte
	// Partial: a container runtime's fragment of a longer line, to be
	// joined with the next one (Text holds it).
	Partial bool
	// Noise: a record that is known not to be socat's and says nothing
	// about the source's format (systemd's own records in a unit's
	// journal): it is not counted as unparsed.
	Noise bool
}

// isLevel reports whether c is one of socat's level letters.
func isLevel(c byte) bool {
	switch c {
	case 'D', 'I', 'N', 'W', 'E', 'F':
		return true
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// Parse recognises one line (without its newline). It returns false for
// a line that is not socat's: a program's output, a blank line, another
// daemon's syslog record.
func Parse(b []byte, l *Line) bool {
	*l = Line{}
	if len(b) > 0 && b[len(b)-1] == '\r' {
		b = b[:len(b)-1]
	}
	if len(b) < 10 {
		return false
	}
	switch {
	case isDigit(b[0]) && b[4] == '/':
		if parseNative(b, l) {
			return true
		}
	case b[0] == '{':
		return parseJSON(b, l)
	case isDigit(b[0]) && b[4] == '-' && isCRI(b):
		return parseCRI(b, l)
	default:
		if parseSyslog(b, l) {
			return true
		}
	}
	*l = Line{}
	return findRecord(b, l)
}

// parseInner reads a line that a collector wrapped (a container
// runtime's record): socat's own line, or one with a prefix of its own.
// outer is the collector's timestamp, the line's time when socat's has
// none.
func parseInner(b []byte, outer []byte, l *Line) bool {
	if len(b) > 0 && b[len(b)-1] == '\r' {
		b = b[:len(b)-1]
	}
	ok := len(b) >= 10 && isDigit(b[0]) && b[4] == '/' && parseNative(b, l)
	if !ok {
		*l = Line{}
		ok = findRecord(b, l)
	}
	if ok && len(l.Stamp) == 0 {
		l.Stamp = outer
	}
	return ok
}

// isNativeStamp reports whether b starts with "YYYY/MM/DD HH:MM:SS".
func isNativeStamp(b []byte) bool {
	if len(b) < 19 {
		return false
	}
	for i, c := range []byte("0000/00/00 00:00:00") {
		if c == '0' {
			if !isDigit(b[i]) {
				return false
			}
		} else if b[i] != c {
			return false
		}
	}
	return true
}

// isProgByte is a byte of a program name as socat writes it ("socat",
// "relay-A", "socat1", "sh").
func isProgByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || c == '-' || c == '_' || c == '.' || c == '@' || c == '+' || c == '/'
}

// findRecord finds a socat record after whatever a collector put before
// it: "svc-1  | " (docker compose), an RFC 3339 stamp (docker logs -t,
// CI), "name.1.id@node | " (docker service logs), the journal's console
// form "[ 4992.318560] sh[31]: ". The record's own shape is what is
// recognised: socat's stamp followed by PROG[PID] and a level. Where the
// stamp is gone ("PROG[PID] L " or "PROG[PID]: L "), the shape alone is
// too common ("worker[3] W ...", "matrix[1] F is singular"): it is taken
// at the start of a line (after blanks, quotes, a markdown "> "), or
// after a prefix when the program's name says socat.
func findRecord(b []byte, l *Line) bool {
	for i := 0; i < len(b); {
		k := bytes.IndexByte(b[i:], '/')
		if k < 0 {
			break
		}
		k += i
		i = k + 1
		p := k - 4
		if p < 0 || (p > 0 && isDigit(b[p-1])) || !isNativeStamp(b[p:]) {
			continue
		}
		// PROG[ follows the stamp (and a host) closely: a line of stamps
		// alone must not cost a search to its end for each.
		if bytes.IndexByte(b[p+19:min(len(b), p+19+maxHead)], '[') < 0 {
			continue
		}
		if parseNative(b[p:], l) {
			return true
		}
		*l = Line{}
	}
	for i := 0; i < len(b); {
		j := bytes.IndexByte(b[i:], '[')
		if j < 0 {
			break
		}
		j += i
		i = j + 1
		start := j
		for start > 0 && isProgByte(b[start-1]) {
			start--
		}
		if start == j {
			continue
		}
		if len(bytes.Trim(b[:start], " \t>`'\"")) > 0 && !saysSocat(b[start:j]) {
			continue
		}
		if progLevel(b[start:], l, false) {
			l.Format = FormatNative
			return true
		}
		*l = Line{}
		if progLevel(b[start:], l, true) && len(l.Msg) > 1 && isLevel(l.Msg[0]) && l.Msg[1] == ' ' {
			l.Format, l.Level, l.Msg = FormatSyslog, l.Msg[0], l.Msg[2:]
			return true
		}
		*l = Line{}
	}
	return false
}

// saysSocat reports whether a program name holds "socat", in any case
// (without allocating: it runs on foreign lines).
func saysSocat(prog []byte) bool {
	for i := 0; i+5 <= len(prog); i++ {
		if bytes.EqualFold(prog[i:i+5], []byte("socat")) {
			return true
		}
	}
	return false
}

// maxHead bounds the "[HOST ]PROG" between socat's stamp and "[PID]".
const maxHead = 320

// isCRI reports whether b is a line of the CRI log format (Kubernetes'
// /var/log/containers/*.log): "TIMESTAMP STREAM P|F LINE".
func isCRI(b []byte) bool {
	sp := bytes.IndexByte(b, ' ')
	if sp < 20 || b[10] != 'T' {
		return false
	}
	rest := b[sp+1:]
	if !bytes.HasPrefix(rest, []byte("stdout ")) && !bytes.HasPrefix(rest, []byte("stderr ")) {
		return false
	}
	rest = rest[7:]
	return len(rest) >= 2 && (rest[0] == 'P' || rest[0] == 'F') && rest[1] == ' '
}

// parseCRI reads a CRI line (isCRI). A P line is a fragment of a line
// longer than the runtime's buffer, joined with the next by the reader.
func parseCRI(b []byte, l *Line) bool {
	sp := bytes.IndexByte(b, ' ')
	rest := b[sp+1+7:]
	stamp, msg := b[:sp], rest[min(2, len(rest)):]
	if rest[0] == 'P' {
		*l = Line{Partial: true, Text: msg, Stamp: stamp}
		return false
	}
	ok := parseInner(msg, stamp, l)
	l.Text = msg
	return ok
}

// parseNative reads "YYYY/MM/DD HH:MM:SS[.uuuuuu] [HOST ]PROG[PID] L msg".
func parseNative(b []byte, l *Line) bool {
	if len(b) < 19+8 || b[7] != '/' || b[10] != ' ' || b[13] != ':' || b[16] != ':' {
		return false
	}
	i := 19
	if b[i] == '.' {
		i++
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i >= len(b) || b[i] != ' ' {
		return false
	}
	stamp := b[:i]
	if !progLevel(b[i+1:], l, false) {
		return false
	}
	l.Format, l.Stamp = FormatNative, stamp
	return true
}

// progLevel reads "[HOST ]PROG[PID] L msg" (native) or, with colon,
// "[HOST ]PROG[PID]: msg" (syslog) into l.
func progLevel(b []byte, l *Line, colon bool) bool {
	open := bytes.IndexByte(b, '[')
	if open < 1 {
		return false
	}
	end := open + 1
	for end < len(b) && isDigit(b[end]) {
		end++
	}
	pidEnd := end
	if end > open+1 && end < len(b) && b[end] == '.' {
		// socat 2.0 writes PROG[PID.TID].
		tid := end + 1
		for end = tid; end < len(b) && isDigit(b[end]); end++ {
		}
		if end == tid {
			return false
		}
	}
	if pidEnd == open+1 || pidEnd-open > 11 || end >= len(b) || b[end] != ']' {
		return false
	}
	pid, err := strconv.Atoi(string(b[open+1 : pidEnd]))
	if err != nil {
		return false
	}
	head := b[:open]
	if sp := bytes.LastIndexByte(head, ' '); sp >= 0 {
		l.Host, l.Prog = head[:sp], head[sp+1:]
	} else {
		l.Prog = head
	}
	if len(l.Prog) == 0 {
		return false
	}
	l.PID = pid
	rest := b[end+1:]
	if colon {
		if len(rest) < 2 || rest[0] != ':' || rest[1] != ' ' {
			return false
		}
		l.Msg = rest[2:]
		return true
	}
	if len(rest) < 3 || rest[0] != ' ' || !isLevel(rest[1]) || rest[2] != ' ' {
		return false
	}
	l.Level, l.Msg = rest[1], rest[3:]
	return true
}

var months = []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// parseSyslog reads a syslog record: an optional <PRI>, an RFC 3164
// ("Nov 26 06:26:52") or RFC 3339 ("2026-11-26T06:26:52.1+00:00") stamp,
// an optional host, "PROG[PID]: " and socat's "L message". The journal's
// text output is the same form; a message that is itself a whole socat
// line (systemd's stderr capture) is read as that line.
func parseSyslog(b []byte, l *Line) bool {
	i := 0
	if b[0] == '<' {
		i = 1
		for i < len(b) && i < 5 && isDigit(b[i]) {
			i++
		}
		if i == 1 || i >= len(b) || b[i] != '>' {
			return false
		}
		i++
		if len(b) > i+1 && b[i] == '1' && b[i+1] == ' ' {
			return parse5424(b[i+2:], l)
		}
	}
	start := i
	switch {
	case len(b) >= i+16 && isMonth(b[i:i+3]) && b[i+3] == ' ' && b[i+6] == ' ' && b[i+9] == ':' && b[i+12] == ':' && b[i+15] == ' ':
		i += 15
	case len(b) >= i+17 && isMonth(b[i:i+3]) && b[i+3] == ' ' && b[i+6] == ' ' && b[i+9] == ':' && b[i+12] == ':' && b[i+15] == '.':
		// journalctl -o short-precise: "Nov 27 13:51:49.728806"
		j := i + 16
		for j < len(b) && isDigit(b[j]) {
			j++
		}
		if j >= len(b) || b[j] != ' ' || j == i+16 {
			return false
		}
		i = j
	case len(b) >= i+20 && isDigit(b[i]) && b[i+4] == '-' && b[i+10] == 'T':
		sp := bytes.IndexByte(b[i:], ' ')
		if sp < 0 {
			return false
		}
		i += sp
	default:
		return false
	}
	stamp := b[start:i]
	var outer Line
	if !progLevel(b[i+1:], &outer, true) {
		return false
	}
	msg := outer.Msg
	// The message is a whole native socat line (journal of a service's
	// stderr): that line is the record, with its own PID and level.
	if len(msg) > 0 && isDigit(msg[0]) && parseNative(msg, l) {
		if l.Host == nil {
			l.Host = outer.Host
		}
		return true
	}
	if len(msg) >= 2 && isLevel(msg[0]) && msg[1] == ' ' {
		*l = outer
		l.Format, l.Stamp, l.Level, l.Msg = FormatSyslog, stamp, msg[0], msg[2:]
		return true
	}
	// A socat line without its stamp, or behind a prefix of its own,
	// inside the record ("host socat[2051]: socat[2051] W ...").
	*l = Line{}
	if findRecord(msg, l) {
		if len(l.Stamp) == 0 {
			l.Stamp = stamp
		}
		if l.Host == nil {
			l.Host = outer.Host
		}
		return true
	}
	return false
}

// parse5424 reads an RFC 5424 record after "<PRI>1 ": TIMESTAMP HOSTNAME
// APP-NAME PROCID MSGID STRUCTURED-DATA MSG ("-" for a field not given).
func parse5424(b []byte, l *Line) bool {
	var f [5][]byte
	rest := b
	for k := range f {
		sp := bytes.IndexByte(rest, ' ')
		if sp <= 0 {
			return false
		}
		f[k], rest = rest[:sp], rest[sp+1:]
	}
	// Structured data: "-", or [elements] that may hold spaces in quotes.
	switch {
	case len(rest) > 1 && rest[0] == '-' && rest[1] == ' ':
		rest = rest[2:]
	case len(rest) > 0 && rest[0] == '[':
		end := -1
		quoted := false
		for j := 0; j < len(rest); j++ {
			switch {
			case rest[j] == '\\' && quoted:
				j++
			case rest[j] == '"':
				quoted = !quoted
			case rest[j] == ']' && !quoted && (j+1 == len(rest) || rest[j+1] == ' '):
				end = j
			}
			if end >= 0 {
				break
			}
		}
		if end < 0 || end+2 > len(rest) {
			return false
		}
		rest = rest[end+2:]
	default:
		return false
	}
	rest = bytes.TrimPrefix(rest, []byte("\xef\xbb\xbf")) // the UTF-8 BOM RFC 5424 allows
	pid, err := strconv.Atoi(string(f[3]))
	if err != nil || len(rest) < 2 || !isLevel(rest[0]) || rest[1] != ' ' {
		return false
	}
	*l = Line{Format: FormatSyslog, PID: pid, Level: rest[0], Msg: rest[2:], Prog: f[2]}
	if string(f[0]) != "-" {
		l.Stamp = f[0]
	}
	if string(f[1]) != "-" {
		l.Host = f[1]
	}
	return true
}

func isMonth(b []byte) bool {
	for _, m := range months {
		if string(b) == m {
			return true
		}
	}
	return false
}

// journalRecord is the part of a `journalctl -o json` record we read.
// MESSAGE is a string, or an array of bytes when it is not UTF-8. Log,
// Stream and Time are Docker's json-file record instead.
type journalRecord struct {
	Message  json.RawMessage `json:"MESSAGE"`
	PID      string          `json:"_PID"`
	Ident    string          `json:"SYSLOG_IDENTIFIER"`
	Host     string          `json:"_HOSTNAME"`
	Realtime string          `json:"__REALTIME_TIMESTAMP"`
	Cursor   string          `json:"__CURSOR"`
	Log      *string         `json:"log"`
	Time     string          `json:"time"`
}

// parseJSON decodes one journal JSON record, or one record of Docker's
// json-file log driver, and parses its message. It returns a journal
// record's cursor even when the message is not socat's.
func parseJSON(b []byte, l *Line) bool {
	var r journalRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return false
	}
	if r.Log != nil && r.Message == nil {
		// Docker: {"log":"LINE\n","stream":"stderr","time":"..."}; a line
		// longer than 16 KiB is split into records without the newline.
		msg := []byte(*r.Log)
		if len(msg) > 0 && msg[len(msg)-1] == '\n' {
			msg = msg[:len(msg)-1]
		} else {
			*l = Line{Partial: true, Text: msg, Stamp: []byte(r.Time)}
			return false
		}
		ok := parseInner(msg, []byte(r.Time), l)
		l.Text = msg
		return ok
	}
	msg := journalMessage(r.Message)
	micros, _ := strconv.ParseInt(r.Realtime, 10, 64)
	cursor := r.Cursor
	if len(msg) > 0 && isDigit(msg[0]) && parseNative(msg, l) {
		l.Format, l.Micros, l.Cursor, l.Text = FormatJournal, micros, cursor, msg
		return true
	}
	*l = Line{Micros: micros, Cursor: cursor, Text: msg}
	if len(msg) >= 2 && isLevel(msg[0]) && msg[1] == ' ' {
		l.Format, l.Level, l.Msg = FormatJournal, msg[0], msg[2:]
		l.Prog, l.Host = []byte(r.Ident), []byte(r.Host)
		l.PID, _ = strconv.Atoi(r.PID)
		return true
	}
	// A socat line without its stamp or behind a prefix (socat started by
	// a script that adds one).
	var in Line
	if findRecord(msg, &in) {
		in.Format, in.Micros, in.Cursor, in.Text = FormatJournal, micros, cursor, msg
		*l = in
		return true
	}
	// systemd's own records about the unit say nothing of its format.
	l.Noise = r.Ident == "systemd" || r.PID == "1"
	return false
}

// JournalCursor returns the cursor and realtime of a journal JSON record,
// whether or not its message is socat's.
func JournalCursor(b []byte) (cursor string, micros int64, ok bool) {
	var r journalRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return "", 0, false
	}
	micros, _ = strconv.ParseInt(r.Realtime, 10, 64)
	return r.Cursor, micros, r.Cursor != ""
}

func journalMessage(raw json.RawMessage) []byte {
	if len(raw) == 0 {
		return nil
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return []byte(s)
		}
		return nil
	}
	var bs []byte
	var ints []int
	if json.Unmarshal(raw, &ints) == nil {
		for _, v := range ints {
			bs = append(bs, byte(v))
		}
	}
	return bs
}

// Time parses the line's own timestamp. Native and RFC 3164 stamps have
// no zone and are read in loc; an RFC 3164 stamp has no year either, and
// takes the year that puts it closest before now (a December line read
// in January is last year's).
func (l *Line) Time(loc *time.Location, now time.Time) (time.Time, bool) {
	if l.Format == FormatJournal && l.Micros > 0 {
		return time.UnixMicro(l.Micros), true
	}
	s := string(l.Stamp)
	if len(s) == 0 {
		return time.Time{}, false
	}
	if isDigit(s[0]) && len(s) >= 19 && s[4] == '/' {
		t, err := time.ParseInLocation("2006/01/02 15:04:05.999999", s, loc)
		return t, err == nil
	}
	if isDigit(s[0]) {
		// RFC 3339, or journalctl -o short-iso's zone without a colon.
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999-0700"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t, true
			}
		}
		return time.Time{}, false
	}
	t, err := time.ParseInLocation("Jan _2 15:04:05.999999", s, loc)
	if err != nil {
		return time.Time{}, false
	}
	t = t.AddDate(now.In(loc).Year(), 0, 0)
	if t.After(now.Add(24 * time.Hour)) {
		t = t.AddDate(-1, 0, 0)
	}
	return t, true
}
