// Package checks is the interface between the plugin runtime and the checks:
// what a check is given (Env) and what it returns (Result). Checks never
// print and never exit; the runtime renders the Result.
package checks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/check-socat/check-socat/internal/state"
)

// Env is what the runtime gives a check besides its own configuration.
type Env struct {
	// Verbose is the -v count: 0 summary and findings, 1 more detail per
	// item, 2 configuration and decisions, 3 everything.
	Verbose int
	// Debug receives debug lines at -vvv (stderr); never nil.
	Debug io.Writer
	// Stage records what the check is doing, so that a run stopped by the
	// deadline can say where it was.
	Stage *Stage
	// Stdin is the process's standard input (check_socat_logs reads a log
	// from it with -f -); nil reads nothing.
	Stdin io.Reader
	// TimeoutState is --timeout-state: the state of a run that the
	// deadline cut short.
	TimeoutState state.State
}

// Debugf writes a debug line when -vvv is set.
func (e Env) Debugf(format string, args ...any) {
	if e.Verbose >= 3 && e.Debug != nil {
		fmt.Fprintf(e.Debug, "debug: "+format+"\n", args...)
	}
}

// SetStage records the current stage; safe on a zero Env.
func (e Env) SetStage(name string) {
	if e.Stage != nil {
		e.Stage.Set(name)
	}
}

// Publish records metrics measured so far (Stage.Publish); safe on a zero Env.
func (e Env) Publish(ms ...Metric) { e.Stage.Publish(ms...) }

// Stage is the name of what a check is doing now, and the metrics it has
// measured so far; safe for concurrent use.
type Stage struct {
	v     atomic.Pointer[string]
	mu    sync.Mutex
	ms    map[string]Metric // by name, labels and perfdata label: the latest value wins
	order []string
}

// Publish records metrics measured so far: a run that the deadline or a
// signal ends reports them with its timeout line. A later value of the
// same metric (name, labels, perfdata label) replaces the earlier one.
func (s *Stage) Publish(ms ...Metric) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ms == nil {
		s.ms = map[string]Metric{}
	}
	for _, m := range ms {
		key := fmt.Sprint(m.Name, m.Labels, m.Label)
		if _, ok := s.ms[key]; !ok {
			s.order = append(s.order, key)
		}
		s.ms[key] = m
	}
}

// Published is what Publish recorded, in the order first published.
func (s *Stage) Published() []Metric {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Metric, 0, len(s.order))
	for _, l := range s.order {
		out = append(out, s.ms[l])
	}
	return out
}

// Set records the stage.
func (s *Stage) Set(name string) { s.v.Store(&name) }

// Get returns the last recorded stage, "start" before any.
func (s *Stage) Get() string {
	if p := s.v.Load(); p != nil {
		return *p
	}
	return "start"
}

// ErrStopped is the cause of a run's context when a signal (SIGTERM,
// SIGINT) stopped it: a check keeps no partial state then, so that the
// next run reads again what this one could not report.
var ErrStopped = errors.New("stopped by a signal")

// Stopped reports whether ctx ended because a signal stopped the run.
func Stopped(ctx context.Context) bool { return errors.Is(context.Cause(ctx), ErrStopped) }

// PanicError is a panic recovered by Safely.
type PanicError struct {
	Value any
	Stack []byte
}

func (p *PanicError) Error() string { return fmt.Sprintf("internal error: %v", p.Value) }

// Safely runs fn and turns a panic into a *PanicError. Every goroutine a
// check starts must run through it: a panic in a goroutine cannot be
// recovered anywhere else and would kill the process with exit 2 and a
// stack dump.
func Safely(fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return fn()
}
