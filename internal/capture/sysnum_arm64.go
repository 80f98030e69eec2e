//go:build linux && arm64

package capture

// sysSetns is setns(2) on arm64 (the syscall package lacks it there).
const sysSetns = 268
