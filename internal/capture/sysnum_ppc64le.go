//go:build linux && ppc64le

package capture

// sysSetns is setns(2) on ppc64le (the syscall package lacks it there).
const sysSetns = 350
