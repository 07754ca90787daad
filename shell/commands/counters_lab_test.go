package commands_test

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"github.com/tunnelbox/tunnelbox/ike"
	"github.com/tunnelbox/tunnelbox/ike/iketest"
	"github.com/tunnelbox/tunnelbox/lab"
	"github.com/tunnelbox/tunnelbox/shell"
	"github.com/tunnelbox/tunnelbox/shell/commands"
	"github.com/tunnelbox/tunnelbox/shell/shelltest"
	"github.com/tunnelbox/tunnelbox/xfrm"
	"github.com/tunnelbox/tunnelbox/xfrm/userspace"
)

// inNetns runs fn on a fresh OS thread moved into ns; the thread is never unlocked, so Go
// discards it afterwards instead of reusing it in the wrong namespace.
func inNetns(t *testing.T, ns *lab.Netns, fn func() error) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		h, err := netns.GetFromName(ns.Name)
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
		t.Fatalf("in %s: %v", ns, err)
	}
}

// waitUntil polls cond; the guard only stops a hung test (no timing assertion).
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	guard := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(guard) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestCryptoACLMatchCountersLab sends real packets through the userspace data plane and reads
// the counts where IOS shows them. R1 runs the userspace backend in a network namespace of its
// own (a TUN device and the route of the protected network) and negotiates with R2 over the
// in-memory network; R1's ESP leaves through a Send that counts datagrams. One packet to the
// remote network hits ACL 101 line 10 with no SA (dropped, it starts the negotiation), five
// more after the SAs are in are protected: `show access-lists` shows exactly 6 matches on line
// 10 and none on line 20, and `show crypto ipsec sa detail` 5 encaps, 1 "no sa (send)" and,
// after R2 sends a datagram with an unknown SPI, 1 "invalid sa (rcv)".
func TestCryptoACLMatchCountersLab(t *testing.T) {
	lab.RequireRoot(t)
	lab.RequireCommands(t, "ip")
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		lab.Unavailable(t, "needs /dev/net/tun")
	}
	ns := lab.NewNetns(t, "aclctr")
	ns.MustRun(t, "ip", "addr", "add", "10.1.1.1/32", "dev", "lo")

	g1, g2 := defaultGateways()
	g1.Local, g1.Remote = []string{"10.1.1.0/24", "10.1.1.0/24"}, []string{"10.2.2.0/24", "10.3.3.0/24"}
	n := iketest.NewNet(3)

	var esp atomic.Uint64 // ESP datagrams R1's data plane sent to R2
	var dp *userspace.Backend
	inNetns(t, ns, func() error {
		var err error
		dp, err = userspace.New(userspace.Config{TUNName: "tbx0", Send: func(b []byte, to netip.AddrPort) (int, error) {
			if to.Addr() != addrR2 || to.Port() != xfrm.NATTPort {
				return 0, fmt.Errorf("ESP to %v", to)
			}
			esp.Add(1)
			return len(b), nil
		}})
		return err
	})
	t.Cleanup(func() { dp.Close() })

	cfg1, err := iketest.Config(g1)
	if err != nil {
		t.Fatal(err)
	}
	cfg1.Hostname = "R1"
	app := shelltest.NewApp(t, shelltest.Options{Config: cfg1})
	mgr := app.Config()
	e1 := ike.New(ike.Options{Transport: n.Transport(addrR1), Installer: dp, ForceNATT: true})
	cfg2, err := iketest.Config(g2)
	if err != nil {
		t.Fatal(err)
	}
	e2 := ike.New(ike.Options{Transport: n.Transport(addrR2), Installer: iketest.NewDataplane()})
	n.Attach(addrR1, e1)
	n.Attach(addrR2, e2)
	e1.Start(mgr.Running())
	e2.Start(cfg2)
	mgr.Subscribe(e1)
	app.SetEngine(e1)
	commands.SetACLCounter(app, e1)
	t.Cleanup(func() {
		commands.SetACLCounter(app, nil)
		e1.Close()
		e2.Close()
		mgr.Close()
	})
	e1.Status() // the trap policies are in: the route to 10.2.2.0/24 points at the TUN

	var conn *net.UDPConn
	inNetns(t, ns, func() error {
		var err error
		conn, err = net.DialUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("10.1.1.1:0")),
			net.UDPAddrFromAddrPort(netip.MustParseAddrPort("10.2.2.5:9")))
		return err
	})
	defer conn.Close()
	send := func(k int) {
		t.Helper()
		for range k {
			if _, err := conn.Write([]byte("tunnelbox acl counter")); err != nil {
				t.Fatal(err)
			}
		}
	}
	show := func(cmd string) string {
		s := app.NewSession(shell.SessionOptions{Line: "vty 0", Privilege: 15})
		defer s.Close()
		return s.RunLine(cmd)
	}

	// The first packet finds no SA: dropped, counted, and it negotiates the pair.
	send(1)
	waitUntil(t, "the SA pair", func() bool { return len(e1.Status().IPsec) == 1 })
	waitUntil(t, "the first match", func() bool { return e1.ACLMatches("101", 10) >= 1 })
	send(5)
	waitUntil(t, "five ESP datagrams", func() bool { return esp.Load() >= 5 })

	acl := show("show access-lists")
	want := "Extended IP access list 101\n" +
		"    10 permit ip 10.1.1.0 0.0.0.255 10.2.2.0 0.0.0.255 (6 matches)\n" +
		"    20 permit ip 10.1.1.0 0.0.0.255 10.3.3.0 0.0.0.255\n"
	if acl != want {
		t.Errorf("show access-lists:\n%s\nwant:\n%s", acl, want)
	}
	if got := show("show ip access-lists 101"); got != want {
		t.Errorf("show ip access-lists 101:\n%s", got)
	}
	if esp.Load() != 5 {
		t.Errorf("%d ESP datagrams sent, want 5", esp.Load())
	}

	// R2 sends a datagram with an SPI R1 does not have.
	if err := dp.HandleESPInUDP([]byte{0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 1, 1, 2, 3, 4}, netip.AddrPortFrom(addrR2, xfrm.NATTPort)); err == nil {
		t.Fatal("unknown SPI accepted")
	}
	detail := show("show crypto ipsec sa detail")
	blocks := strings.Split(detail, "protected vrf:")
	if len(blocks) != 3 {
		t.Fatalf("want two flow blocks:\n%s", detail)
	}
	for i, w := range []struct{ encaps, noSA, invalid int }{{5, 1, 1}, {0, 0, 1}} {
		b := blocks[i+1]
		for _, re := range []string{
			fmt.Sprintf(`#pkts encaps: %d,`, w.encaps),
			fmt.Sprintf(`#pkts no sa \(send\) %d, #pkts invalid sa \(rcv\) %d\n`, w.noSA, w.invalid),
		} {
			if !regexp.MustCompile(re).MatchString(b) {
				t.Errorf("block %d lacks %q:\n%s", i+1, re, b)
			}
		}
	}
	// The plain view keeps the SAs' own errors only.
	if plain := show("show crypto ipsec sa"); !strings.Contains(plain, "#send errors 0, #recv errors 0\n") {
		t.Errorf("show crypto ipsec sa:\n%s", plain)
	}
}
