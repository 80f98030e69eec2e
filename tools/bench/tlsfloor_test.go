package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestTLSFloor(t *testing.T) {
	tests := []struct {
		minimum  time.Duration
		cpus     int
		budget   time.Duration
		wall     time.Duration
		needCPUs int
	}{
		{300 * time.Millisecond, 2, 127 * time.Millisecond, 150 * time.Millisecond, 3},
		{300 * time.Millisecond, 4, 150 * time.Millisecond, 75 * time.Millisecond, 2},
		{300 * time.Millisecond, 1, 300 * time.Millisecond, 300 * time.Millisecond, 1},
		{300 * time.Millisecond, 0, 299 * time.Millisecond, 300 * time.Millisecond, 2}, // unknown CPU count counts as one
	}
	for _, tt := range tests {
		f := tlsFloor{minimum: tt.minimum, cpus: tt.cpus}
		if got := f.wall(); got != tt.wall {
			t.Errorf("%+v: wall %v, want %v", tt, got, tt.wall)
		}
		if got := f.cpusFor(tt.budget); got != tt.needCPUs {
			t.Errorf("%+v: cpusFor %v, want %d", tt, got, tt.needCPUs)
		}
	}
	text := tlsFloor{pairs: 104, minimum: 300 * time.Millisecond, cpus: 2}.text("peer", time.Second/2, 0.2)
	for _, want := range []string{"104 accepted pairs", "150.00 ms, 0.30x peer's median", "needs at least 3 CPUs"} {
		if !strings.Contains(text, want) {
			t.Errorf("floor text %q lacks %q", text, want)
		}
	}
}

// socatCPU reads a process's own and reaped children's CPU time; this
// process has used some, and has no children left to wait for.
func TestSocatCPU(t *testing.T) {
	for start := time.Now(); time.Since(start) < 30*time.Millisecond; {
	}
	got, err := socatCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if got < 10*time.Millisecond || got > time.Hour {
		t.Errorf("CPU time %v after spinning 30 ms", got)
	}
	if _, err := socatCPU(-1); err == nil {
		t.Error("no error for a PID that does not exist")
	}
}
