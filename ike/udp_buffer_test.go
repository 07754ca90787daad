package ike_test

import (
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tunnelbox/tunnelbox/ike"
)

// NewUDP enlarges both sockets' receive buffers, so that a burst of Main Mode requests from
// hundreds of peers, or of ESP on port 4500, is queued rather than dropped. Linux reports
// twice the size asked for (the doubling covers its bookkeeping). Without CAP_NET_ADMIN the
// request is capped at net.core.rmem_max.
func TestUDPReceiveBuffers(t *testing.T) {
	want := ike.RecvBuffer
	if os.Geteuid() != 0 {
		b, err := os.ReadFile("/proc/sys/net/core/rmem_max")
		if err != nil {
			t.Skipf("cannot read rmem_max: %v", err)
		}
		max, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		want = min(want, max)
	}
	var conns []*net.UDPConn
	for range 2 {
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	before := rcvbuf(t, conns[0])
	u, err := ike.NewUDP(conns[0], conns[1])
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	for i, c := range conns {
		got := rcvbuf(t, c)
		if got < 2*want || (want > before/2 && got <= before) {
			t.Errorf("socket %d: SO_RCVBUF %d after NewUDP (was %d), want at least %d", i, got, before, 2*want)
		}
	}
}

func rcvbuf(t *testing.T, c *net.UDPConn) int {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var serr error
	if err := rc.Control(func(fd uintptr) { n, serr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF) }); err != nil {
		t.Fatal(err)
	}
	if serr != nil {
		t.Fatal(serr)
	}
	return n
}
