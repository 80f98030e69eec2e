// Package networds says network and TLS errors in the checks' words,
// with the stage they happened at. It is apart from package checks so
// that the checks that open no connection (procs, logs) do not link
// crypto/tls and its initialisation.
package networds

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/check-socat/check-socat/checks"
	"github.com/check-socat/check-socat/internal/sanitize"
)

// Words says a network error in the check's words: what happened, not
// Go's "dial tcp 127.0.0.1:8443: i/o timeout" or "read tcp
// 127.0.0.1:4711->127.0.0.1:8443: connection reset by peer", whose
// addresses the output names already and whose wording differs between
// Go versions. An error it does not know keeps its innermost text.
func Words(err error) string {
	var alert tls.AlertError
	var rhe tls.RecordHeaderError
	var dns *net.DNSError
	var op *net.OpError
	switch {
	case err == nil:
		return "no error"
	case checks.OutOfFDs(err):
		return checks.OutOfFDsText(err, "")
	case errors.Is(err, os.ErrDeadlineExceeded), isTimeout(err):
		return "no answer before the deadline"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "the connection was reset by the peer"
	case errors.Is(err, syscall.EPIPE), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the peer closed the connection"
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return "no route to the host"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "no local address to connect from (ports exhausted?)"
	case errors.As(err, &op) && op.Op == "remote error" && op.Err != nil:
		// crypto/tls over TCP: the peer's alert, wrapped as a "remote
		// error" around an unexported alert type.
		return "the peer sent the TLS alert " + sanitize.Text(strings.TrimPrefix(op.Err.Error(), "tls: "), 80)
	case errors.As(err, &alert):
		return "the peer sent the TLS alert " + strings.TrimPrefix(alert.Error(), "tls: ")
	case errors.As(err, &rhe) && strings.Contains(rhe.Msg, "oversized"):
		return "the peer sent an oversized TLS record"
	case errors.As(err, &rhe):
		return "the answer is not a TLS record"
	case errors.As(err, &dns):
		return "the name does not resolve (" + sanitize.Text(dns.Err, 80) + ")"
	}
	if errors.As(err, &op) && op.Err != nil {
		err = op.Err
	}
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "remote error: ")
	return sanitize.Text(msg, 160)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Failure is a network error with the stage it happened at: "at
// connect: connection refused". A dial error is at connect whatever stage
// the caller was in.
func Failure(stage string, err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		stage = "connect"
	}
	return "at " + stage + ": " + Words(err)
}
