//go:build linux && 386

package capture

import (
	"errors"
	"unsafe"
)

// getsockoptStruct is not available on 386, where getsockopt is a
// socketcall the syscall package does not expose for structs: the
// kernel's drop count is then not read (said as 0).
func getsockoptStruct(fd, level, opt int, p unsafe.Pointer, size uintptr) error {
	return errors.New("getsockopt of a struct is not available on 386")
}
