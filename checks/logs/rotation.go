package logs

// What happened to a log file between two runs, decided from facts the
// run gathered (pure functions, table-tested in rotation_test.go); file.go
// does the reading each decision asks for. The nine outcomes:
//
//  1. rotatedWhileEmpty: the log was empty at the last run and a rotated
//     copy appeared since: read the copy, then the log from its start.
//  2. grew: the same file, at least as long, the same beginning, its last
//     counted lines unchanged: go on from the offset.
//  3. rewrittenKept: the same file and size, but the last counted lines
//     changed and some of them stand: count after the last that stands.
//  4. rewrittenLost: the same file and size, none of the last counted lines
//     stand: go on from the offset; what was cut is lost (said).
//  5. copyOfSelf: the content was copied to a new inode (cp and mv,
//     sed -i): go on from the offset.
//  6. rotated: the old content is in a rotated copy: read its rest, then
//     the log from its start.
//  7. truncatedKept: truncated within its first bytes, no copy, but
//     marked lines stand: count after the last that stands.
//  8. truncatedLost: truncated, no copy: read from the start; what was
//     written before the truncation is lost (said, with --rotated).
//  9. replacedLost: another file under the name, no copy of the old one:
//     read from the start; the old one's rest is lost (said).
type outcome int

const (
	rotatedWhileEmpty outcome = iota + 1
	grew
	rewrittenKept
	rewrittenLost
	copyOfSelf
	rotated
	truncatedKept
	truncatedLost
	replacedLost
	// search is not an outcome: the old content must be looked for first
	// (readRotated), then settle decides.
	search
)

// logFacts is what a run knows about the log and its checkpoint.
type logFacts struct {
	emptyBefore  bool  // the checkpoint saw an empty log
	rotatedCopy  bool  // emptyBefore, and a rotated copy new since was read
	sameFile     bool  // the same device and inode
	prefixSame   bool  // the checkpoint's first bytes are still the log's
	size, offset int64 // the log's size now, the checkpoint's offset
	hasTail      bool  // the checkpoint marked its last lines
	tailIntact   bool  // all marked lines stand where they were
	intactAt     int64 // after the last marked line that stands (0: none)
}

// decide is what to do before looking for a rotated copy.
func decide(f logFacts) outcome {
	switch {
	case f.emptyBefore && f.rotatedCopy:
		return rotatedWhileEmpty
	case f.sameFile && f.size >= f.offset && f.prefixSame:
		switch {
		case !f.hasTail || f.tailIntact:
			return grew
		case f.intactAt > 0:
			return rewrittenKept
		}
		return rewrittenLost
	}
	return search
}

// settle is the outcome once the search for the old content ended:
// found names where it was found ("" nowhere), itself that it is the
// log's own path.
func settle(f logFacts, found string, itself bool) outcome {
	switch {
	case itself:
		return copyOfSelf
	case found != "":
		return rotated
	case f.sameFile && f.intactAt > 0:
		return truncatedKept
	case f.sameFile:
		return truncatedLost
	}
	return replacedLost
}
