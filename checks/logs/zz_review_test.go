package logs

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/check-socat/check-socat/internal/check"
	"github.com/check-socat/check-socat/internal/state"
)

func TestReviewRSS(t *testing.T) {
	path := os.Getenv("REVIEW_LOG")
	if path == "" {
		t.Skip()
	}
	w, _ := strconv.Atoi(os.Getenv("REVIEW_WORKERS"))
	warn, crit := DefaultRanges()
	cfg := Config{Files: []string{path}, NoState: true, FirstRun: "end", Rotated: "PATH.1", Warn: warn, Crit: crit, Show: 5, TimeoutState: state.Unknown, Workers: w}
	r := Run(context.Background(), check.Env{Stage: &check.Stage{}}, cfg, strings.NewReader(""))
	t.Log(r.Summary)
}
