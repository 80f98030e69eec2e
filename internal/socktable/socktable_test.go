package socktable

import (
	"net"
	"os"
	"strings"
	"testing"
)

func TestParseInet(t *testing.T) {
	tcp := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0200A8C0:D431 01 00000000:00000000 00:00000000 00000000  1000        0 12346 1 0000000000000000 20 4 30 10 -1
`
	tcp6 := `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 22222 1 0000000000000000 100 0 0 10 0
`
	tab := Table{}
	if err := parseInet(strings.NewReader(tcp), "tcp", tab); err != nil {
		t.Fatal(err)
	}
	if err := parseInet(strings.NewReader(tcp6), "tcp6", tab); err != nil {
		t.Fatal(err)
	}
	l := tab[12345]
	if l.Local.String() != "127.0.0.1:8080" || !l.Listening() || l.UID != 0 {
		t.Errorf("listener = %+v", l)
	}
	c := tab[12346]
	if c.Remote.String() != "192.168.0.2:54321" || c.State != StateEstablished || c.UID != 1000 || c.Listening() {
		t.Errorf("connection = %+v", c)
	}
	if v6 := tab[22222]; v6.Local.String() != "[::1]:443" || !v6.Listening() {
		t.Errorf("v6 = %+v", v6)
	}
}

// The live tables of this process's namespace hold a listener we open.
func TestReadLive(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	tab, err := Read("/proc/self/net")
	if err != nil {
		t.Fatal(err)
	}
	inodes, nfds, err := Inodes(os.Getpid())
	if err != nil || nfds <= 0 {
		t.Fatalf("Inodes: %v (%d fds)", err, nfds)
	}
	found := false
	for _, ino := range inodes {
		if s, ok := tab[ino]; ok && s.Listening() && int(s.Local.Port()) == port {
			found = true
		}
	}
	if !found {
		t.Errorf("our listener on port %d is not in the table through our fds", port)
	}
}

// sock_diag and /proc/net agree on our own sockets.
func TestNetlinkMatchesProc(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := net.Dial("tcp4", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	u, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	nl, err := ReadNetlink()
	if err != nil {
		t.Fatal(err)
	}
	proc, err := Read("/proc/self/net")
	if err != nil {
		t.Fatal(err)
	}
	inodes, _, err := Inodes(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, ino := range inodes {
		p, ok := proc[ino]
		if !ok || p.Proto == "unix" {
			continue
		}
		n, ok := nl[ino]
		if !ok || n.Local != p.Local || n.Remote != p.Remote || n.State != p.State || n.UID != p.UID || n.Proto != p.Proto {
			t.Errorf("inode %d: netlink %+v, proc %+v", ino, n, p)
		}
		checked++
	}
	if checked < 3 {
		t.Errorf("only %d of our sockets compared", checked)
	}
}
