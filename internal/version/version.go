// Package version holds the build's version and commit, set by the
// Makefile through -ldflags "-X".
package version

import (
	"fmt"
	"runtime"
)

// Set at build time; the defaults describe a plain "go build".
var (
	Version = "dev"
	Commit  = "unknown"
)

// String is the -V/--version line: "<binary> <version> (<commit>, <go version>)".
func String(binary string) string {
	return fmt.Sprintf("%s %s (%s, %s)", binary, Version, Commit, runtime.Version())
}
