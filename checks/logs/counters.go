package logs

import "github.com/check-socat/check-socat/internal/socatlog"

// totalLines is the key of all lines read in Counters.Totals.
const totalLines = "lines"

// Counters are a source's cumulative counts since its checkpoint began:
// the OpenMetrics counters, which only grow, across runs, until the
// state is reset (a new or distrusted checkpoint starts them at 0).
type Counters struct {
	Totals map[string]int64 `json:"totals,omitempty"`
}

// add counts a run's tally in and returns the totals. Only the known keys
// are kept, and a value that cannot be a count (a tampered file) starts
// over at 0, so that the map stays small and never goes backwards by more
// than a reset.
func (c *Counters) add(t *socatlog.Tally) map[string]int64 {
	next := make(map[string]int64, socatlog.NumCategories+1)
	keep := func(key string, n int64) {
		old := c.Totals[key]
		if old < 0 {
			old = 0
		}
		next[key] = old + n
	}
	for cat := socatlog.Category(0); cat < socatlog.NumCategories; cat++ {
		keep(cat.String(), t.Count[cat])
	}
	keep(totalLines, t.Lines)
	c.Totals = next
	return next
}
