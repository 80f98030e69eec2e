// Package smallfile reads the small files a check is given (PEM
// certificates and keys, EnvironmentFile=): only regular files, up to a
// limit, without blocking on a FIFO or reading /dev/zero forever.
package smallfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// PEMLimit bounds a PEM file: a full CA bundle is a few hundred KiB.
const PEMLimit = 4 << 20

// Read returns the contents of path, a regular file of at most limit
// bytes. The error says which of those it is not, without the path
// (the caller names the flag and the file), or is the *os.PathError of a
// file that cannot be opened.
func Read(path string, limit int64) ([]byte, error) {
	f, info, err := OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if info.Size() > limit {
		return nil, fmt.Errorf("larger than %d KiB", limit>>10)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit { // it grew while we read
		return nil, fmt.Errorf("larger than %d KiB", limit>>10)
	}
	return data, nil
}

// ErrNotRegular is returned for a path that is not a regular file (a
// FIFO, a device, a directory).
var ErrNotRegular = errors.New("not a regular file")

// OpenRegular opens path for reading if it is a regular file, without
// blocking: opening a FIFO for reading would otherwise wait for a writer
// (O_NONBLOCK has no effect on a regular file). An error from open is the
// *os.PathError; a file of another type is ErrNotRegular.
func OpenRegular(path string) (*os.File, os.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, nil, ErrNotRegular
	}
	return f, info, nil
}
