//go:build linux && riscv64

package capture

// sysSetns is setns(2) on riscv64 (the syscall package lacks it there).
const sysSetns = 268
