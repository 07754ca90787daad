package bench

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tunnelbox/tunnelbox/ike"
	"github.com/tunnelbox/tunnelbox/lab"
	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
	"github.com/tunnelbox/tunnelbox/shell/shelltest"
)

func TestEngineInitiatorAddr(t *testing.T) {
	for _, tc := range []struct {
		i    int
		want string
	}{{1, "198.18.0.2"}, {249, "198.18.0.250"}, {250, "198.18.1.1"}, {500, "198.18.2.1"}} {
		if got := EngineInitiatorAddr(tc.i).String(); got != tc.want {
			t.Errorf("EngineInitiatorAddr(%d) = %s, want %s", tc.i, got, tc.want)
		}
	}
	seen := map[netip.Addr]bool{}
	for i := 1; i < maxRateConns; i++ {
		a := EngineInitiatorAddr(i)
		if seen[a] || !EngineInitiatorNet.Contains(a) {
			t.Fatalf("EngineInitiatorAddr(%d) = %v repeats or lies outside %v", i, a, EngineInitiatorNet)
		}
		seen[a] = true
	}
}

func TestEngineConfig(t *testing.T) {
	c, err := EngineConfig(1, RateResponderAddr)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "engine-1.txt.golden", runningconfig.Render(c))
	ents := c.ActiveMapEntries()
	if len(ents) != 1 || ents[0].LocalAddr != EngineInitiatorAddr(1) || len(ents[0].Peers) != 1 ||
		ents[0].Peers[0] != RateResponderAddr || ents[0].Entry.PFSGroup != 14 {
		t.Fatalf("active entries %+v", ents)
	}
	if k, ok := c.PreSharedKey(RateResponderAddr); !ok || k != RatePSK {
		t.Errorf("key for the responder = %q, %v", k, ok)
	}
	for _, bad := range []int{0, -1, maxRateConns} {
		if _, err := EngineConfig(bad, RateResponderAddr); err == nil || !strings.HasPrefix(err.Error(), "bench: ") {
			t.Errorf("EngineConfig(%d) = %v, want a bench: error", bad, err)
		}
	}
}

// replay runs console configuration lines through the real CLI as a startup-config (as boot
// does: a sub-mode's lines indented, its `exit` left out) and returns the running
// configuration they build.
func replay(t *testing.T, lines []string) *runningconfig.Config {
	t.Helper()
	app := shelltest.NewApp(t, shelltest.Options{})
	mgr := app.Config()
	var text strings.Builder
	sub := false
	for _, l := range lines {
		switch {
		case l == "exit":
			sub = false
		case sub:
			text.WriteString(" " + l + "\n")
		default:
			text.WriteString(l + "\n")
			sub = strings.HasPrefix(l, "interface ") || strings.HasPrefix(l, "crypto isakmp policy ") ||
				strings.HasPrefix(l, "crypto ipsec transform-set ") || strings.HasPrefix(l, "crypto map ")
		}
	}
	if errs := app.Replay(text.String()); len(errs) > 0 {
		for _, e := range errs {
			t.Errorf("replay: %v", e)
		}
		t.FailNow()
	}
	return mgr.Running()
}

func TestRateTunnelboxEnginesConf(t *testing.T) {
	lines := RateTunnelboxEnginesConf(2)
	golden(t, "rate-tunnelbox-engines.txt.golden", strings.Join(lines, "\n")+"\n")
	c := replay(t, RateTunnelboxEnginesConf(300))
	ents := c.ActiveMapEntries()
	if len(ents) != 300 {
		t.Fatalf("%d active crypto map entries, want 300", len(ents))
	}
	for i, e := range ents {
		if len(e.Peers) != 1 || e.Peers[0] != EngineInitiatorAddr(i+1) || e.Entry.Seq != i+1 {
			t.Fatalf("entry %d: seq %d peers %v", i, e.Entry.Seq, e.Peers)
		}
	}
	for _, peer := range []netip.Addr{EngineInitiatorAddr(1), EngineInitiatorAddr(300), RateInitiatorAddr} {
		if k, ok := c.PreSharedKey(peer); !ok || k != RatePSK {
			t.Errorf("wildcard key for %v = %q, %v", peer, k, ok)
		}
	}
}

func TestServeLoadGenBadOptions(t *testing.T) {
	for _, opts := range []string{"", "{", `{"n":0,"responder":"192.0.2.2"}`, `{"n":3,"responder":"2001:db8::1"}`,
		fmt.Sprintf(`{"n":%d,"responder":"192.0.2.2"}`, maxRateConns)} {
		var out strings.Builder
		err := ServeLoadGen(opts, strings.NewReader("go\n"), &out)
		if err == nil || !strings.HasPrefix(err.Error(), "bench: ") {
			t.Errorf("ServeLoadGen(%q) = %v, want a bench: error", opts, err)
		}
		if strings.Contains(out.String(), "ready") {
			t.Errorf("ServeLoadGen(%q) said ready: %q", opts, out.String())
		}
	}
}

// inNetns runs f on a thread inside ns: sockets it opens stay in ns. If the thread cannot
// return to its namespace it is left locked, so the runtime discards it.
func inNetns(ns *lab.Netns, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer orig.Close()
		target, err := os.Open("/var/run/netns/" + ns.Name)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("setns %s: %w", ns.Name, err)
			return
		}
		ferr := f()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- errors.Join(ferr, fmt.Errorf("setns back: %w", err)) // thread stays locked
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// TestLoadGenProcess runs the load generator as the benchmark does (this binary re-executed in
// a namespace, over its stdin/stdout protocol) against a Tunnelbox engine configured by
// RateTunnelboxEnginesConf through the CLI, on the namespace's loopback: every tunnel must come
// up on both sides.
func TestLoadGenProcess(t *testing.T) {
	lab.RequireRoot(t)
	lab.RequireShort(t)
	lab.RequireCommands(t, "ip")
	const n = 4
	ns := lab.NewNetns(t, "loadgen")
	if err := ns.AddAddr("lo", netip.PrefixFrom(RateResponderAddr, 32)); err != nil {
		t.Fatal(err)
	}
	if err := addLoopbackAddrs(ns, n, EngineInitiatorAddr); err != nil {
		t.Fatal(err)
	}
	var u *ike.UDP
	if err := inNetns(ns, func() (err error) { u, err = ike.ListenUDP(RateResponderAddr); return err }); err != nil {
		t.Fatal(err)
	}
	resp := ike.New(ike.Options{Transport: u})
	resp.Start(replay(t, RateTunnelboxEnginesConf(n)))
	u.Serve(ike.UDPHandlers{IKE: resp.Receive})
	t.Cleanup(func() { resp.Close(); u.Close() })

	p, err := StartLoadGen(t, ns, "", LoadGenOptions{N: n, Responder: RateResponderAddr, Timeout: 60 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Go(); err != nil {
		t.Fatal(err)
	}
	res, err := p.Result(90 * time.Second)
	if err != nil {
		t.Fatalf("%v (result %+v)", err, res)
	}
	if res.Established != n || res.Confirmed != n || res.Failures != 0 || res.Elapsed <= 0 {
		t.Errorf("result %+v, want %d tunnels up, confirmed, no failures", res, n)
	}
	st := resp.Status()
	peers := map[netip.Addr]bool{}
	for _, c := range st.IPsec {
		peers[c.Peer] = true
	}
	for i := 1; i <= n; i++ {
		if !peers[EngineInitiatorAddr(i)] {
			t.Errorf("responder has no IPsec SA pair with %v (pairs: %d)", EngineInitiatorAddr(i), len(st.IPsec))
		}
	}
	if err := p.Stop(); err != nil {
		t.Error(err)
	}
}
