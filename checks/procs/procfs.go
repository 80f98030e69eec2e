package procs

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// What gopsutil did for this check, read directly: its process package
// pulls in gopsutil/cpu, whose package initialisation reads /proc/stat
// twice on every start of the binary (a measurable part of a run that
// never asks for CPU times), and opens the runtime's poller before main,
// where a low open-file limit kills the process with exit 2 before any
// check can say why.

// maxProcFile bounds what is read of a /proc/PID file: an argument or
// environment area is at most a few MiB.
const maxProcFile = 8 << 20

// listPIDs is the processes in /proc, in the kernel's order (ascending).
func listPIDs() ([]int32, error) {
	d, err := os.Open("/proc")
	if err != nil {
		return nil, err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	pids := make([]int32, 0, len(names))
	for _, n := range names {
		if pid, err := strconv.ParseInt(n, 10, 32); err == nil {
			pids = append(pids, int32(pid))
		}
	}
	return pids, nil
}

// readProcFile reads /proc/PID/name, at most maxProcFile bytes.
func readProcFile(pid int, name string) ([]byte, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/%s", pid, name))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxProcFile))
}

// readCmdline is the process's argument vector: the NUL-separated
// /proc/PID/cmdline without its trailing NULs (nil for a kernel thread).
func readCmdline(pid int) ([]string, error) {
	data, err := readProcFile(pid, "cmdline")
	if err != nil || len(data) == 0 {
		return nil, err
	}
	data = bytes.TrimRight(data, "\x00")
	parts := bytes.Split(data, []byte{0})
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = string(p)
	}
	return out, nil
}

// readEnviron is the process's environment, NAME=value each.
func readEnviron(pid int) ([]string, error) {
	data, err := readProcFile(pid, "environ")
	if err != nil {
		return nil, err
	}
	return strings.Split(string(data), "\x00"), nil
}
