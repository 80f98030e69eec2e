package checkpoint

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

type counter struct{ N int }

// Concurrent read-modify-write cycles under the lock lose no update.
func TestLockSerialises(t *testing.T) {
	dir := t.TempDir()
	path := Path(dir, "/var/log/socat.log")
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := Acquire(context.Background(), dir, path)
			if err != nil {
				t.Error(err)
				return
			}
			defer l.Release()
			var c counter
			if err := l.Load(&c); err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.Error(err)
			}
			c.N++
			if err := l.Save(c); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	l, _ := Acquire(context.Background(), dir, path)
	defer l.Release()
	var c counter
	if err := l.Load(&c); err != nil || c.N != 20 {
		t.Errorf("counter %d, %v", c.N, err)
	}
}

func TestWaitEndsAtTheDeadline(t *testing.T) {
	dir := t.TempDir()
	path := Path(dir, "k")
	held, err := Acquire(context.Background(), dir, path)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := Acquire(ctx, dir, path); err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a held lock: %v", err)
	}
}

func TestUntrusted(t *testing.T) {
	dir := t.TempDir()
	path := Path(dir, "k")
	l, err := Acquire(context.Background(), dir, path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	var c counter
	if err := l.Load(&c); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("first run: %v", err)
	}
	for name, content := range map[string]string{
		"garbage":       "not json at all",
		"truncated":     `{"version":1,"state":{"N":`,
		"other version": `{"version":99,"state":{"N":1}}`,
		"wrong shape":   `{"version":1,"state":{"N":"many"}}`,
	} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := l.Load(&c); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v", name, err)
		}
	}
	os.Remove(path)
	if err := os.Symlink("/etc/passwd", path); err != nil {
		t.Fatal(err)
	}
	if err := l.Load(&c); !errors.Is(err, ErrCorrupt) {
		t.Errorf("a symlink: %v", err)
	}
	// Save replaces the link itself, not its target.
	if err := l.Save(counter{N: 1}); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Lstat(path); err != nil || info.Mode()&fs.ModeSymlink != 0 {
		t.Errorf("after Save: %v %v", info.Mode(), err)
	}
	if os.Geteuid() == 0 {
		if err := os.Chown(path, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		if err := l.Load(&c); !errors.Is(err, ErrCorrupt) {
			t.Errorf("another user's file: %v", err)
		}
	}
}

func TestPathsDiffer(t *testing.T) {
	a, b := Path("/d", "/var/log/a/socat.log"), Path("/d", "/var/log/b/socat.log")
	if a == b || filepath.Dir(a) != "/d" {
		t.Errorf("%s %s", a, b)
	}
}

type fuzzState struct {
	Key    string `json:"key"`
	Offset int64  `json:"offset"`
	FP     string `json:"fp"`
	List   []int  `json:"listeners"`
}

// Any bytes in a state file: loaded or reported as corrupt, never a panic.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{`{"version":1,"state":{"key":"/x","offset":5}}`, `{"version":1,"state":null}`, `{"version":2}`, `[]`, `{"version":1,"state":{"listeners":[1,2,"x"]}}`, "\x00\xff", ""} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	path := Path(dir, "fuzz")
	lock, err := Acquire(context.Background(), dir, path)
	if err != nil {
		f.Fatal(err)
	}
	defer lock.Release()
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		var st fuzzState
		if err := lock.Load(&st); err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%q: %v is neither loaded nor corrupt", data, err)
		}
	})
}
