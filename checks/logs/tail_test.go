package logs

import (
	"strings"
	"testing"
)

func TestTailMarks(t *testing.T) {
	log := strings.NewReader("one\ntwo\nthree\n")
	marks := tailMarks(log, 14)
	if len(marks) != 3 || marks[0].Start != 0 || marks[2].End != 14 || !validTail(marks, 14) {
		t.Fatalf("marks %+v", marks)
	}
	if upTo, newest := intactUpTo(strings.NewReader("one\ntwo\nthreX\n"), marks); upTo != 8 || newest {
		t.Errorf("the third line changed: intact up to %d, newest %v", upTo, newest)
	}
	if upTo, newest := intactUpTo(log, marks); upTo != 14 || !newest {
		t.Errorf("unchanged: %d, %v", upTo, newest)
	}
	if got := tailMarks(strings.NewReader("no newline"), 10); len(got) != 0 {
		t.Errorf("a position inside a line marked %+v", got)
	}
	for _, bad := range [][]lineMark{
		{{Start: 0, End: 1 << 40, Hash: 1}},      // far past the offset
		{{Start: 5, End: 3}},                     // backwards
		{{Start: 4, End: 8}, {Start: 0, End: 4}}, // out of order
		make([]lineMark, tailLines+1),            // too many
		{{Start: -1 << 40, End: 10}},             // a huge read
	} {
		if validTail(bad, 14) {
			t.Errorf("a tampered tail %+v passed", bad)
		}
	}
}
