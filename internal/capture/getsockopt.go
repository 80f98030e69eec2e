//go:build linux && !386

package capture

import (
	"syscall"
	"unsafe"
)

// getsockoptStruct reads a socket option into a struct.
func getsockoptStruct(fd, level, opt int, p unsafe.Pointer, size uintptr) error {
	n := uint32(size)
	_, _, errno := syscall.Syscall6(syscall.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt),
		uintptr(p), uintptr(unsafe.Pointer(&n)), 0)
	if errno != 0 {
		return errno
	}
	return nil
}
