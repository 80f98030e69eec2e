package checks

import (
	"errors"
	"fmt"
	"syscall"
)

// OutOfFDs reports whether err is the process (EMFILE) or the system
// (ENFILE) running out of file descriptors.
func OutOfFDs(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}

// FDLimit is the soft limit on open files, or -1 when it cannot be read.
func FDLimit() int64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return -1
	}
	return int64(rl.Cur)
}

// OutOfFDsText is what a check says when it (err EMFILE, or nil) or the
// whole system (err ENFILE) ran out of file descriptors: the limit, where,
// and what to do.
func OutOfFDsText(err error, what string) string {
	if errors.Is(err, syscall.ENFILE) {
		return fmt.Sprintf("the system is out of file descriptors%s: its table (sysctl fs.file-max) is full; find the process that holds them", what)
	}
	return fmt.Sprintf("out of file descriptors (ulimit -n %d)%s: raise the open file limit of the user or service that runs the check", FDLimit(), what)
}
