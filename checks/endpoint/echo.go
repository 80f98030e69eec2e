package endpoint

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"syscall"
	"time"

	"github.com/check-socat/check-socat/checks"
	"github.com/check-socat/check-socat/internal/sanitize"
)

// udpEchoChunk is the datagram size of the UDP echo (small enough for any
// path MTU after socat).
const udpEchoChunk = 1024

// stream is the pseudo-random byte stream of one echo. The sender and the
// checker each run their own copy from the same seed, so memory does not
// grow with --echo-bytes.
func stream(seed [32]byte) *rand.ChaCha8 { return rand.NewChaCha8(seed) }

func newSeed() [32]byte {
	var s [32]byte
	for i := 0; i < len(s); i += 8 {
		v := rand.Uint64()
		for j := 0; j < 8; j++ {
			s[i+j] = byte(v >> (8 * j))
		}
	}
	return s
}

// echo sends EchoBytes pseudo-random bytes and requires the same bytes back
// in order: end-to-end integrity through the relay, and its throughput.
func (pr *prober) echo(ctx context.Context, p *probe) *probe {
	pr.env.SetStage(stageIntegrity)
	p.stage = stageIntegrity
	if pr.cfg.UDP {
		return pr.echoDatagrams(ctx, p)
	}
	total := pr.cfg.EchoBytes
	seed := newSeed()
	start := time.Now()

	writeErr := make(chan error, 1)
	go func() {
		writeErr <- checks.Safely(func() error {
			src := stream(seed)
			buf := make([]byte, pr.chunk)
			for left := total; left > 0; {
				n := int(min(left, int64(pr.chunk)))
				_, _ = src.Read(buf[:n])
				if _, err := p.conn.Write(buf[:n]); err != nil {
					return err
				}
				left -= int64(n)
			}
			return nil
		})
	}()

	want := stream(seed)
	got := make([]byte, pr.chunk)
	exp := make([]byte, pr.chunk)
	var readErr error
	for p.nrecv < total {
		n, err := p.conn.Read(got[:min(int64(len(got)), total-p.nrecv)])
		if n > 0 {
			if !p.gotFirst {
				p.gotFirst, p.firstByte = true, time.Since(start)
			}
			_, _ = want.Read(exp[:n])
			if i := firstDiff(got[:n], exp[:n]); i >= 0 {
				off := p.nrecv + int64(i)
				p.nrecv += int64(n)
				p.echo = time.Since(start)
				_ = p.conn.Close() // stops the writer
				<-writeErr
				return p.fail(outcomeMismatch, stageIntegrity, "the echo differs at byte %d of %d: sent 0x%02x, received 0x%02x", off, total, exp[i], got[i])
			}
			p.nrecv += int64(n)
		}
		if err != nil {
			readErr = err
			break
		}
	}
	p.echo = time.Since(start)
	if readErr != nil {
		_ = p.conn.Close()
		werr := <-writeErr
		if p.nrecv == 0 && (errors.Is(readErr, io.EOF) || errors.Is(readErr, syscall.ECONNRESET) || errors.Is(werr, syscall.EPIPE) || errors.Is(werr, syscall.ECONNRESET)) {
			// Nothing came back and socat ended the connection: its
			// backend is down, said as for a request (issue 17).
			p.closed = true
			return p.fail(outcomeFailed, stageIntegrity, "%s", closedEarly)
		}
		if errors.Is(readErr, io.EOF) {
			return p.fail(outcomeFailed, stageIntegrity, "connection closed by peer after %d of %d bytes echoed", p.nrecv, total)
		}
		var pe *checks.PanicError
		if errors.As(werr, &pe) {
			return p.fail(outcomeFailed, stageIntegrity, "%v", pe)
		}
		r := pr.ioFailure(ctx, p, stageIntegrity, readErr)
		if r.outcome == outcomeTimeout {
			r.reason = "the echo was still incomplete: " + itoa(p.nrecv) + " of " + itoa(total) + " bytes came back"
		}
		return r
	}
	if err := <-writeErr; err != nil {
		return pr.ioFailure(ctx, p, stageIntegrity, err)
	}
	// An echo that adds bytes after ours is broken too: watch for --settle
	// (not counted as response time, as after a bare connect).
	if settle := pr.cfg.Settle; settle > 0 {
		p.total = time.Since(pr.start)
		until := time.Now().Add(settle)
		if d, ok := ctx.Deadline(); ok && d.Before(until) {
			until = d
		}
		_ = p.conn.SetReadDeadline(until)
		if n, _ := p.conn.Read(got); n > 0 {
			return p.fail(outcomeMismatch, stageIntegrity, "the echo returned more than the %d bytes sent: \"%s\"", total, sanitize.Bytes(got[:n], 40))
		}
	}
	return p
}

// echoDatagrams is the UDP echo: one datagram out, the same datagram back,
// in lockstep, so that loss and reordering show as what they are.
func (pr *prober) echoDatagrams(ctx context.Context, p *probe) *probe {
	total := pr.cfg.EchoBytes
	seed := newSeed()
	src := stream(seed)
	out := make([]byte, udpEchoChunk)
	in := make([]byte, 65536)
	start := time.Now()
	for sent := int64(0); sent < total; {
		n := int(min(total-sent, udpEchoChunk))
		_, _ = src.Read(out[:n])
		if _, err := p.conn.Write(out[:n]); err != nil {
			p.echo = time.Since(start)
			return pr.ioFailure(ctx, p, stageIntegrity, err)
		}
		m, err := p.conn.Read(in)
		if err != nil {
			p.echo = time.Since(start)
			r := pr.ioFailure(ctx, p, stageIntegrity, err)
			if r.outcome == outcomeTimeout {
				r.reason = "no echo of the datagram at byte " + itoa(sent) + " of " + itoa(total) + " (lost, or the service does not echo)"
			}
			return r
		}
		if !p.gotFirst {
			p.gotFirst, p.firstByte = true, time.Since(start)
		}
		p.nrecv += int64(m)
		if !bytes.Equal(in[:m], out[:n]) {
			p.echo = time.Since(start)
			if m != n {
				return p.fail(outcomeMismatch, stageIntegrity, "the echo of the datagram at byte %d has %d bytes instead of %d", sent, m, n)
			}
			i := firstDiff(in[:m], out[:n])
			return p.fail(outcomeMismatch, stageIntegrity, "the echo differs at byte %d of %d: sent 0x%02x, received 0x%02x", sent+int64(i), total, out[i], in[i])
		}
		sent += int64(n)
	}
	p.echo = time.Since(start)
	return p
}
