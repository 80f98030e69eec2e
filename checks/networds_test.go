package checks

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
)

// The errors a starved or overloaded TLS audit met (issue 12's soak:
// "dial tcp ... i/o timeout", "connection reset") and their relatives,
// as the Go runtime wraps them.
func TestNetWords(t *testing.T) {
	dial := func(e error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8443}, Err: os.NewSyscallError("connect", e)}
	}
	read := func(e error) error { return &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", e)} }
	for _, tt := range []struct {
		err   error
		stage string
		want  string
	}{
		{&net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded}, "TLS handshake", "at connect: no answer before the deadline"},
		{dial(syscall.ECONNREFUSED), "suite scan", "at connect: connection refused"},
		{read(syscall.ECONNRESET), "TLS handshake", "at TLS handshake: the connection was reset by the peer"},
		{fmt.Errorf("handshake: %w", io.EOF), "TLS handshake", "at TLS handshake: the peer closed the connection"},
		{read(syscall.EPIPE), "TLS handshake", "at TLS handshake: the peer closed the connection"},
		{dial(syscall.EMFILE), "connect", "at connect: out of file descriptors (ulimit -n "},
		{tls.AlertError(40), "TLS handshake", "at TLS handshake: the peer sent the TLS alert handshake failure"},
		{errors.New("something new"), "TLS handshake", "at TLS handshake: something new"},
	} {
		got := NetFailure(tt.stage, tt.err)
		if !strings.HasPrefix(got, tt.want) || strings.Contains(got, "127.0.0.1") || strings.Contains(got, "dial tcp") {
			t.Errorf("NetFailure(%q, %v) = %q, want %q", tt.stage, tt.err, got, tt.want)
		}
	}
}
