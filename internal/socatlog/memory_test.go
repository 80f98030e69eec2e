package socatlog

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/check-socat/check-socat/internal/loggen"
)

// Memory does not grow with what the log holds: on each adversarial
// shape, the peak of the heap's objects during a scan (sampled) is about
// the same for a small log and a log six times larger, and far below the
// 32 MiB the binary may use; and every count is exact.
func TestMemoryBoundedOnAdversarialLogs(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a few hundred MB")
	}
	dir := t.TempDir()
	// Garbage collected often, the heap's objects are close to what is
	// live: the peak says what is kept, not how the collector was paced
	// on a loaded machine.
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	for _, kind := range loggen.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			grow := func(size int64) int64 {
				path := filepath.Join(dir, string(kind)+".log")
				f, err := os.Create(path)
				if err != nil {
					t.Fatal(err)
				}
				want, err := loggen.Write(f, kind, size)
				f.Close()
				if err != nil {
					t.Fatal(err)
				}
				defer os.Remove(path)
				f, err = os.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				o := &Options{Workers: 4, Show: 5, MaxLine: 64 << 10}
				runtime.GC()
				before := heapObjects()
				peak := make(chan int64)
				stop := make(chan struct{})
				go func() {
					var max int64
					for {
						select {
						case <-stop:
							peak <- max
							return
						case <-time.After(100 * time.Microsecond):
							if h := heapObjects(); h > max {
								max = h
							}
						}
					}
				}()
				var tally Tally
				if kind == loggen.Journal {
					// As check_socat_logs reads journalctl's output: one
					// reader, records up to 1 MiB.
					o.MaxLine = 1 << 20
					tally, _, err = o.ScanReader(context.Background(), f, true, NewTracker(nil, Memory{}))
				} else {
					tally, _, err = o.ScanFile(context.Background(), f, 0, want.Bytes, true, NewTracker(nil, Memory{}))
				}
				close(stop)
				top := max(<-peak, heapObjects())
				if err != nil {
					t.Fatal(err)
				}
				got := fmt.Sprintf("lines=%d exit=%d accepted=%d error=%d", tally.Lines, tally.Count[Exit], tally.Count[Accepted], tally.Count[Error])
				if kind == loggen.Tiny || kind == loggen.Journal {
					// Their lines are all socat's: more to keep per block.
					got += fmt.Sprintf(" socat=%d", tally.Socat)
					want.Errors = want.Lines
				}
				w := fmt.Sprintf("lines=%d exit=%d accepted=%d error=%d", want.Lines, want.Exits, want.Accepted, want.Errors)
				if kind == loggen.Tiny || kind == loggen.Journal {
					w += fmt.Sprintf(" socat=%d", want.Lines)
				}
				if got != w {
					t.Errorf("%d bytes: %s, want %s", size, got, w)
				}
				return top - before
			}
			small := grow(8 << 20)
			large := grow(48 << 20)
			t.Logf("heap peaked %d KiB above its start for 8 MB, %d KiB for 48 MB", small>>10, large>>10)
			// 24 MiB of heap objects (garbage not yet swept included: the
			// journal shape decodes JSON) stays within the binary's 32 MiB.
			if large > 24<<20 || large-small > 4<<20 {
				t.Errorf("heap grew %d KiB for 8 MB, %d KiB for 48 MB: memory grows with the log", small>>10, large>>10)
			}
		})
	}
}

// heapObjects is the memory of the heap's objects, live or not yet swept.
func heapObjects() int64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}
