package smallfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.pem")
	if err := os.WriteFile(small, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.pem")
	if err := os.WriteFile(big, make([]byte, 2048), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path, want string // want: the contents, or part of the error
		ok         bool
	}{
		{small, "hello", true},
		{big, "larger than 1 KiB", false},
		{"/dev/zero", "not a regular file", false},
		{fifo, "not a regular file", false},
		{dir, "not a regular file", false},
	}
	for _, tt := range tests {
		start := time.Now()
		data, err := Read(tt.path, 1024)
		if took := time.Since(start); took > time.Second {
			t.Errorf("%s: took %v", tt.path, took)
		}
		switch {
		case tt.ok && (err != nil || string(data) != tt.want):
			t.Errorf("%s: %q, %v", tt.path, data, err)
		case !tt.ok && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: error %v, want %q", tt.path, err, tt.want)
		}
	}
	if _, err := Read(filepath.Join(dir, "missing"), 1024); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
}
