//go:build linux && loong64

package capture

// sysSetns is setns(2) on loong64 (the syscall package lacks it there).
const sysSetns = 268
