package logs

import "testing"

// The nine things a log can have done between two runs, each from the
// facts that tell it, and its neighbours that must not be taken for it.
func TestRotationDecision(t *testing.T) {
	same := logFacts{sameFile: true, prefixSame: true, size: 200, offset: 100, hasTail: true, tailIntact: true}
	with := func(f logFacts, edit func(*logFacts)) logFacts { edit(&f); return f }
	tests := []struct {
		name        string
		facts       logFacts
		found       string
		itself      bool
		want        outcome
		wantSettled outcome // when want is search
	}{
		{"rotated while empty: a new copy was read", logFacts{emptyBefore: true, rotatedCopy: true, sameFile: true, prefixSame: true}, "", false, rotatedWhileEmpty, 0},
		{"empty before, no new copy: an empty log grows", logFacts{emptyBefore: true, sameFile: true, prefixSame: true, size: 50}, "", false, grew, 0},
		{"grew", same, "", false, grew, 0},
		{"unchanged (same size)", with(same, func(f *logFacts) { f.size = 100 }), "", false, grew, 0},
		{"grew, no marks (an old checkpoint)", with(same, func(f *logFacts) { f.hasTail, f.tailIntact = false, false }), "", false, grew, 0},
		{"rewritten, some marks stand", with(same, func(f *logFacts) { f.tailIntact, f.intactAt = false, 60 }), "", false, rewrittenKept, 0},
		{"rewritten, no mark stands", with(same, func(f *logFacts) { f.tailIntact = false }), "", false, rewrittenLost, 0},
		{"copied to a new inode (sed -i)", with(same, func(f *logFacts) { f.sameFile = false }), "/var/log/x.log", true, search, copyOfSelf},
		{"rotated by rename", with(same, func(f *logFacts) { f.sameFile, f.prefixSame, f.size = false, false, 10 }), "/var/log/x.log.1", false, search, rotated},
		{"copytruncate: the copy holds the rest", with(same, func(f *logFacts) { f.size = 10 }), "/var/log/x.log.1", false, search, rotated},
		{"truncated within its first bytes, marks stand", with(same, func(f *logFacts) { f.prefixSame, f.intactAt = false, 40 }), "", false, search, truncatedKept},
		{"truncated below the offset, no copy", with(same, func(f *logFacts) { f.size = 10 }), "", false, search, truncatedLost},
		{"replaced, no copy", with(same, func(f *logFacts) { f.sameFile, f.prefixSame = false, false }), "", false, search, replacedLost},
		{"replaced by a shorter file with the same beginning, no copy", with(same, func(f *logFacts) { f.sameFile, f.size = false, 50 }), "", false, search, replacedLost},
	}
	seen := map[outcome]bool{}
	for _, tt := range tests {
		got := decide(tt.facts)
		if got != tt.want {
			t.Errorf("%s: decide = %d, want %d", tt.name, got, tt.want)
			continue
		}
		if got == search {
			got = settle(tt.facts, tt.found, tt.itself)
			if got != tt.wantSettled {
				t.Errorf("%s: settle = %d, want %d", tt.name, got, tt.wantSettled)
			}
		}
		seen[got] = true
	}
	for o := rotatedWhileEmpty; o < search; o++ {
		if !seen[o] {
			t.Errorf("outcome %d has no case", o)
		}
	}
}
