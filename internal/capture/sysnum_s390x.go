//go:build linux && s390x

package capture

// sysSetns is setns(2) on s390x (the syscall package lacks it there).
const sysSetns = 339
