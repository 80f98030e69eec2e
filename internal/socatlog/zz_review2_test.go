package socatlog

import (
	"context"
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"
)

func TestReviewHeapWorkers4(t *testing.T) {
	for _, name := range []string{"/tmp/rev/short.log", "/tmp/rev/json.log", "/tmp/rev/arr.log"} {
		for _, peers := range [][]netip.Prefix{nil, {netip.MustParsePrefix("127.0.0.1/32")}} {
			f, err := os.Open(name)
			if err != nil {
				t.Skip(err)
			}
			info, _ := f.Stat()
			o := &Options{Workers: 4, Show: 5}
			runtime.GC()
			before := heapObjects()
			var ms0 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			peak := make(chan int64)
			stop := make(chan struct{})
			go func() {
				var m int64
				for {
					select {
					case <-stop:
						peak <- m
						return
					case <-time.After(100 * time.Microsecond):
						if h := heapObjects(); h > m {
							m = h
						}
					}
				}
			}()
			tally, _, _ := o.ScanFile(context.Background(), f, 0, info.Size(), true, NewTracker(peers, Memory{}))
			close(stop)
			top := <-peak
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			t.Logf("%s peers=%d: lines=%d heap peak +%d KiB, HeapSys %d KiB", name, len(peers), tally.Lines, (top-before)>>10, ms.HeapSys>>10)
			f.Close()
		}
	}
}
