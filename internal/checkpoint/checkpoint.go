// Package checkpoint keeps what a check remembers of one source between
// runs (how far it read, what it was tracking): one small JSON file per
// source, read and replaced under an exclusive lock, and written atomically (a temporary file renamed over the old one), so that
// concurrent runs serialise and a crash never leaves half a file.
package checkpoint

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
)

// Version of the file format; a file of another version is not trusted.
const Version = 1

// Lock is an exclusive lock on one source's state.
type Lock struct {
	path string // the state file
	lock *os.File
}

// ErrCorrupt is a state file that cannot be trusted: unreadable JSON,
// another version, another source. The caller reports it and starts over.
var ErrCorrupt = errors.New("the state file is corrupt or not ours")

// unsafe is compiled when first used, not at every start.
var unsafe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^A-Za-z0-9._-]+`) })

// Path is the state file of a source key (a log path, "journal:UNIT"...)
// for this user: readable names with a hash, so that two keys never share
// a file.
func Path(dir, key string) string {
	sum := sha256.Sum256([]byte(key))
	base := unsafe().ReplaceAllString(filepath.Base(key), "_")
	if len(base) > 40 {
		base = base[:40]
	}
	return filepath.Join(dir, fmt.Sprintf("%d-%s-%s.json", os.Geteuid(), base, hex.EncodeToString(sum[:6])))
}

// Acquire takes the lock of the state file at path, creating dir when it
// is missing, and waits for another run that holds it until ctx ends.
func Acquire(ctx context.Context, dir, path string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create the state directory: %w", err)
	}
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot open the lock file: %w", err)
	}
	if err := ownedByUs(f); err != nil {
		f.Close()
		return nil, err
	}
	// Free (the usual case): taken at once, whatever the deadline.
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
		return &Lock{path: path, lock: f}, nil
	}
	done := make(chan error, 1)
	go func() { done <- syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }()
	select {
	case err := <-done:
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("cannot lock %s: %w", path, err)
		}
		return &Lock{path: path, lock: f}, nil
	case <-ctx.Done():
		// The flock goroutine holds the fd; the process ends soon.
		return nil, fmt.Errorf("another run holds the lock of %s: %w", path, ctx.Err())
	}
}

func ownedByUs(f *os.File) error {
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if st, ok := info.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%s belongs to uid %d, not to this user: remove it or use another --state-dir", f.Name(), st.Uid)
	}
	return nil
}

// MaxSize bounds a state file that Load reads.
const MaxSize = 1 << 20

// Load reads the state into v. It returns fs.ErrNotExist for a first run
// and ErrCorrupt (wrapped, with the reason) for a file it cannot trust.
func (l *Lock) Load(v any) error {
	f, err := os.OpenFile(l.path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, syscall.ELOOP) {
		return fmt.Errorf("%w: %s is a symbolic link", ErrCorrupt, l.path)
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if err := ownedByUs(f); err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	var env struct {
		Version int             `json:"version"`
		State   json.RawMessage `json:"state"`
	}
	// A state is a few KiB; one that is not cannot be ours to trust, and
	// must not cost the run its memory.
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return err
	}
	if len(data) > MaxSize {
		return fmt.Errorf("%w: larger than %d KiB", ErrCorrupt, MaxSize>>10)
	}
	if err := json.Unmarshal(data, &env); err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if env.Version != Version {
		return fmt.Errorf("%w: format version %d, not %d", ErrCorrupt, env.Version, Version)
	}
	if err := json.Unmarshal(env.State, v); err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return nil
}

// Save replaces the state with v: written to a temporary file in the same
// directory, synced, and renamed over the old one.
func (l *Lock) Save(v any) error {
	data, err := json.Marshal(struct {
		Version int `json:"version"`
		State   any `json:"state"`
	}{Version, v})
	if err != nil {
		return err
	}
	dir := filepath.Dir(l.path)
	tmp, err := os.CreateTemp(dir, filepath.Base(l.path)+".tmp*")
	if err != nil {
		return fmt.Errorf("cannot write the state: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write the state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write the state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("cannot write the state: %w", err)
	}
	if err := os.Rename(tmp.Name(), l.path); err != nil {
		return fmt.Errorf("cannot replace the state: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// Release unlocks.
func (l *Lock) Release() {
	if l != nil && l.lock != nil {
		_ = syscall.Flock(int(l.lock.Fd()), syscall.LOCK_UN)
		l.lock.Close()
	}
}

// Writable checks that dir exists (or can be made) and takes files.
func Writable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".probe*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return pe.Err
		}
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}
