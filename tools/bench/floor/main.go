// Command floor is the least a Go check can do, built by make bench as the
// floor of the start-up and connect rows: what the Go runtime and
// crypto/tls cost on this machine before any of check_socat's code.
//
//	floor version          print a line (crypto/tls linked, as in the
//	                       endpoint and TLS binaries)
//	floor tcp HOST PORT    connect, print the time, exit
//	floor tls HOST PORT    TLS handshake (no verification), print the
//	                       certificate's expiry, exit
//
// tcp and tls catch SIGTERM as every check_socat binary must, which costs
// the Go runtime two threads. It is not a product: no flags, no checks.
package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] == "version" {
		fmt.Println("floor (go)")
		os.Exit(3)
	}
	if len(os.Args) != 4 {
		fmt.Println("UNKNOWN: usage: floor version | tcp HOST PORT | tls HOST PORT")
		os.Exit(3)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sigs
		fmt.Println("UNKNOWN: stopped")
		os.Exit(3)
	}()
	start := time.Now()
	addr := net.JoinHostPort(os.Args[2], os.Args[3])
	d := net.Dialer{Timeout: 10 * time.Second, KeepAlive: -1}
	switch os.Args[1] {
	case "tcp":
		c, err := d.Dial("tcp", addr)
		if err != nil {
			fmt.Printf("CRITICAL: %v\n", err)
			os.Exit(2)
		}
		c.Close()
		fmt.Printf("OK: connected in %.6f s | time=%.6fs\n", time.Since(start).Seconds(), time.Since(start).Seconds())
	case "tls":
		c, err := tls.DialWithDialer(&d, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			fmt.Printf("CRITICAL: %v\n", err)
			os.Exit(2)
		}
		left := time.Until(c.ConnectionState().PeerCertificates[0].NotAfter).Hours() / 24
		c.Close()
		fmt.Printf("OK: certificate expires in %.0f days | time=%.6fs\n", left, time.Since(start).Seconds())
	default:
		fmt.Println("UNKNOWN: usage: floor version | tcp HOST PORT | tls HOST PORT")
		os.Exit(3)
	}
}
