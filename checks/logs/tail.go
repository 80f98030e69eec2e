package logs

import (
	"bytes"
	"hash/fnv"
	"io"
	"slices"
)

// lineMark is one of the last lines before a log's remembered position:
// where it starts and ends, and a hash of it. A log truncated to a
// non-zero size and written past the position again is told by them,
// and continued after its last line that is still intact.
type lineMark struct {
	Start int64  `json:"start"`
	End   int64  `json:"end"`
	Hash  uint64 `json:"hash"`
}

const tailLines, tailBytes = 32, 8 << 10

// tailMarks marks the last complete lines before end (at most tailLines,
// within the last tailBytes), oldest first.
func tailMarks(f io.ReaderAt, end int64) []lineMark {
	start := max(0, end-tailBytes)
	buf := make([]byte, end-start)
	if n, err := f.ReadAt(buf, start); err != nil && n != len(buf) {
		return nil
	}
	var marks []lineMark
	for pos := len(buf); pos > 0 && len(marks) < tailLines && buf[pos-1] == '\n'; {
		i := bytes.LastIndexByte(buf[:pos-1], '\n')
		if i < 0 && start > 0 {
			break // the line starts before the window
		}
		marks = append(marks, lineMark{Start: start + int64(i+1), End: start + int64(pos), Hash: lineHash(buf[i+1 : pos])})
		pos = i + 1
	}
	slices.Reverse(marks)
	return marks
}

func lineHash(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

// intactUpTo is the end of the newest marked line the file still holds
// unchanged (0 for none), and whether that is the newest mark: a log
// truncated below its position and written past it again keeps only the
// lines before the cut.
func intactUpTo(f io.ReaderAt, marks []lineMark) (int64, bool) {
	for k := len(marks) - 1; k >= 0; k-- {
		m := marks[k]
		buf := make([]byte, m.End-m.Start)
		if _, err := f.ReadAt(buf, m.Start); err == nil && lineHash(buf) == m.Hash {
			return m.End, k == len(marks)-1
		}
	}
	return 0, false
}

// validTail reports marks as tailMarks makes them: in order, within the
// last tailBytes before offset, at most tailLines.
func validTail(marks []lineMark, offset int64) bool {
	if len(marks) > tailLines {
		return false
	}
	prev := max(0, offset-tailBytes)
	for _, m := range marks {
		if m.Start < prev || m.End <= m.Start || m.End > offset {
			return false
		}
		prev = m.End
	}
	return true
}
