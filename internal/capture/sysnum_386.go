//go:build linux && 386

package capture

// sysSetns is setns(2) on 386 (the syscall package lacks it there).
const sysSetns = 346
