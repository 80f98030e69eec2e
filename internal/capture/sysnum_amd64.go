//go:build linux && amd64

package capture

// sysSetns is setns(2) on amd64 (the syscall package lacks it there).
const sysSetns = 308
