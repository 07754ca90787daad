package userspace

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tunnelbox/tunnelbox/lab"
	"github.com/tunnelbox/tunnelbox/xfrm"
	"github.com/vishvananda/netns"
)

// inNS runs fn on a fresh OS thread moved into the named network namespace. The thread is
// never unlocked, so Go discards it afterwards instead of reusing it in the wrong namespace.
func inNS(t *testing.T, name string, fn func() error) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		h, err := netns.GetFromName(name)
		if err != nil {
			errc <- err
			return
		}
		defer h.Close()
		if err := netns.Set(h); err != nil {
			errc <- err
			return
		}
		errc <- fn()
	}()
	if err := <-errc; err != nil {
		t.Fatalf("in netns %s: %v", name, err)
	}
}

func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// labGateway is one router: a namespace with a userspace backend and its own NAT-T socket.
type labGateway struct {
	ns   string
	b    *Backend
	conn *net.UDPConn
	last struct {
		sync.Mutex
		pkt []byte // the last ESP datagram sent
	}
}

// start creates the backend and the UDP 4500 socket inside g.ns, and the reader that plays
// the IKE engine's part: demultiplex with Classify4500 and hand ESP to the backend.
func (g *labGateway) start(t *testing.T, addr netip.Addr) {
	inNS(t, g.ns, func() error {
		var err error
		g.conn, err = net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(addr, xfrm.NATTPort)))
		if err != nil {
			return err
		}
		g.b, err = New(Config{TUNName: "tbx0", MTU: 1400, Send: func(b []byte, to netip.AddrPort) (int, error) {
			g.last.Lock()
			g.last.pkt = append(g.last.pkt[:0], b...)
			g.last.Unlock()
			return g.conn.WriteToUDPAddrPort(b, to)
		}})
		return err
	})
	t.Cleanup(func() {
		g.conn.Close()
		g.b.Close()
	})
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := g.conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if kind, p := xfrm.Classify4500(buf[:n]); kind == xfrm.UDPESP {
				g.b.HandleESPInUDP(p, from)
			}
		}
	}()
}

// TestLabPingThroughESPInUDP joins two namespaces by a veth pair, runs one backend in each with
// hand-made SAs (aes128-gcm one way, aes256-sha1 the other) and policies, pings between hosts
// behind them, then replays and forges datagrams at the receiving socket.
func TestLabPingThroughESPInUDP(t *testing.T) {
	lab.RequireRoot(t)
	lab.RequireCommands(t, "ip", "ping")
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		lab.Unavailable(t, "needs /dev/net/tun")
	}
	nsA, nsB := fmt.Sprintf("tbxA%d", os.Getpid()), fmt.Sprintf("tbxB%d", os.Getpid())
	ipCmd(t, "netns", "add", nsA)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", nsA).Run() })
	ipCmd(t, "netns", "add", nsB)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", nsB).Run() })
	ipCmd(t, "link", "add", "vA", "netns", nsA, "type", "veth", "peer", "name", "vB", "netns", nsB)
	for _, c := range []struct{ ns, dev, outer, host string }{
		{nsA, "vA", "192.0.2.1/24", "10.1.1.1/32"}, {nsB, "vB", "192.0.2.2/24", "10.2.2.1/32"}} {
		ipCmd(t, "-n", c.ns, "link", "set", "lo", "up")
		ipCmd(t, "-n", c.ns, "addr", "add", c.host, "dev", "lo")
		ipCmd(t, "-n", c.ns, "addr", "add", c.outer, "dev", c.dev)
		ipCmd(t, "-n", c.ns, "link", "set", c.dev, "up")
	}

	a, b := &labGateway{ns: nsA}, &labGateway{ns: nsB}
	a.start(t, gwA)
	b.start(t, gwB)
	aOut, aIn := sa(gwA, gwB, 0x1001, xfrm.DirOut, true), sa(gwB, gwA, 0x2002, xfrm.DirIn, false)
	bOut, bIn := sa(gwB, gwA, 0x2002, xfrm.DirOut, false), sa(gwA, gwB, 0x1001, xfrm.DirIn, true)
	pa, pai := policies(netA, netB, gwA, gwB)
	pb, pbi := policies(netB, netA, gwB, gwA)
	for _, x := range []struct {
		g   *labGateway
		sas []*xfrm.SA
		ps  []*xfrm.Policy
	}{{a, []*xfrm.SA{aOut, aIn}, []*xfrm.Policy{pa, pai}}, {b, []*xfrm.SA{bOut, bIn}, []*xfrm.Policy{pb, pbi}}} {
		for _, s := range x.sas {
			if err := x.g.b.AddSA(s); err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range x.ps {
			if err := x.g.b.AddPolicy(p); err != nil {
				t.Fatal(err)
			}
		}
	}
	if out, err := exec.Command("ip", "-n", nsA, "route", "show", "10.2.2.0/24").CombinedOutput(); err != nil ||
		!strings.Contains(string(out), "dev tbx0") {
		t.Fatalf("route to the protected network: %v %s", err, out)
	}

	out, err := exec.Command("ip", "netns", "exec", nsA, "ping", "-c", "3", "-i", "0.2", "-W", "3",
		"-I", "10.1.1.1", "10.2.2.1").CombinedOutput()
	if err != nil {
		t.Fatalf("ping through the tunnel: %v\n%s", err, out)
	}
	t.Logf("%s", out)

	counts := func(g *labGateway, s *xfrm.SA) xfrm.Counters { return counters(t, g.b, s) }
	if c := counts(a, aOut); c.Encaps < 3 || c.Errors() != 0 {
		t.Errorf("A out %+v", c)
	}
	if c := counts(b, bIn); c.Decaps < 3 || c.Errors() != 0 {
		t.Errorf("B in %+v", c)
	}
	if c := counts(b, bOut); c.Encaps < 3 {
		t.Errorf("B out %+v", c)
	}
	if c := counts(a, aIn); c.Decaps < 3 || c.Errors() != 0 {
		t.Errorf("A in %+v", c)
	}

	// Inject a replay of A's last datagram and a forged one (fresh sequence number, unchanged
	// ICV) at B's socket from another socket in A: both dropped and counted, nothing delivered.
	a.last.Lock()
	replay := bytes.Clone(a.last.pkt)
	a.last.Unlock()
	forged := bytes.Clone(replay)
	binary.BigEndian.PutUint32(forged[4:], 1_000_000)
	before := counts(b, bIn)
	inNS(t, nsA, func() error {
		c, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(gwB, xfrm.NATTPort)))
		if err != nil {
			return err
		}
		defer c.Close()
		for _, p := range [][]byte{replay, forged} {
			if _, err := c.Write(p); err != nil {
				return err
			}
		}
		return nil
	})
	deadline := time.Now().Add(10 * time.Second)
	var after xfrm.Counters
	for {
		after = counts(b, bIn)
		if after.ErrReplay > before.ErrReplay && after.ErrAuth > before.ErrAuth || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if after.ErrReplay != before.ErrReplay+1 || after.ErrAuth != before.ErrAuth+1 ||
		after.Decaps != before.Decaps || after.Packets != before.Packets {
		t.Fatalf("B in before %+v after %+v: want one replay and one auth drop, no delivery", before, after)
	}
}
