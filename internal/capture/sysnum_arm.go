//go:build linux && arm

package capture

// sysSetns is setns(2) on arm (the syscall package lacks it there).
const sysSetns = 375
