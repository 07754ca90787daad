package commands_test

import (
	"flag"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tunnelbox/tunnelbox/ike"
	"github.com/tunnelbox/tunnelbox/ike/iketest"
	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
	"github.com/tunnelbox/tunnelbox/shell"
	"github.com/tunnelbox/tunnelbox/shell/commands"
	"github.com/tunnelbox/tunnelbox/shell/shelltest"
	"github.com/tunnelbox/tunnelbox/xfrm"
)

// The -update flag rewrites the golden transcripts; it is registered here unless another test
// file of the package already did.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files in testdata/")
	}
}

func goldenUpdate() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

var (
	addrR1 = netip.MustParseAddr("192.0.2.1")
	addrR2 = netip.MustParseAddr("192.0.2.2")
	// showClock is the pinned start of every engine test: log timestamps are reproducible.
	showClock = time.Date(2026, time.November, 27, 17, 25, 1, 123e6, time.UTC)
)

// clock is a settable clock shared by the engines and the shells of a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// seeded is a deterministic random source: with it cookies, SPIs, nonces and MODP keys repeat
// from run to run, so the golden files hold real values and need no normalisation.
type seeded struct{ r *rand.ChaCha8 }

func newSeeded(seed byte) *seeded {
	var s [32]byte
	s[0] = seed
	return &seeded{r: rand.NewChaCha8(s)}
}

func (s *seeded) Read(p []byte) (int, error) { return s.r.Read(p) }

// countingDP is the recording data plane with per-SPI counters a test sets, standing for the
// packets a real data plane would count.
type countingDP struct {
	*iketest.Dataplane
	mu  sync.Mutex
	ctr map[uint32]xfrm.Counters
}

func (d *countingDP) Counters(sa *xfrm.SA) (xfrm.Counters, error) {
	if _, err := d.Dataplane.Counters(sa); err != nil {
		return xfrm.Counters{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ctr[sa.SPI], nil
}

func (d *countingDP) set(spi uint32, c xfrm.Counters) {
	d.mu.Lock()
	d.ctr[spi] = c
	d.mu.Unlock()
}

// router is one side: engine, data plane, configuration and CLI.
type router struct {
	name string
	e    *ike.Engine
	dp   *countingDP
	mgr  *runningconfig.Manager
	app  *shell.App
	ev   <-chan ike.Event
}

// rig is two routers on an in-memory network, R1 initiating.
type rig struct {
	t      *testing.T
	clk    *clock
	r1, r2 *router
	log    strings.Builder
}

func defaultGateways() (iketest.Gateway, iketest.Gateway) {
	pol := runningconfig.ISAKMPPolicy{Encryption: runningconfig.EncrAES, KeyBits: 256, Hash: runningconfig.HashSHA256,
		Auth: runningconfig.AuthPreShare, Group: 14}
	ts := []string{"esp-aes", "esp-sha-hmac"}
	g1 := iketest.Gateway{Addr: addrR1, Peer: addrR2, Local: []string{"10.1.1.0/24"}, Remote: []string{"10.2.2.0/24"},
		PSK: "cisco123", Policy: pol, Transform: ts}
	g2 := iketest.Gateway{Addr: addrR2, Peer: addrR1, Local: []string{"10.2.2.0/24"}, Remote: []string{"10.1.1.0/24"},
		PSK: "cisco123", Policy: pol, Transform: ts}
	return g1, g2
}

func newRouter(t *testing.T, name string, g iketest.Gateway, n *iketest.Net, clk *clock, seed byte) *router {
	t.Helper()
	cfg, err := iketest.Config(g)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Hostname = name
	app := shelltest.NewApp(t, shelltest.Options{Config: cfg, Now: clk.Now, Boot: clk.Now(), Version: "15.6(3)TB1"})
	mgr := app.Config()
	dp := &countingDP{Dataplane: iketest.NewDataplane(), ctr: map[uint32]xfrm.Counters{}}
	e := ike.New(ike.Options{Transport: n.Transport(g.Addr), Installer: dp, Rand: newSeeded(seed), Now: clk.Now,
		Retransmit: time.Hour, HalfOpenTimeout: 2 * time.Hour})
	n.Attach(g.Addr, e)
	e.Start(mgr.Running())
	mgr.Subscribe(e)
	ev, stop := e.Subscribe()
	app.SetEngine(e)
	t.Cleanup(func() {
		stop()
		e.Close()
		mgr.Close()
	})
	return &router{name: name, e: e, dp: dp, mgr: mgr, app: app, ev: ev}
}

func newRig(t *testing.T, g1, g2 iketest.Gateway) *rig {
	clk := &clock{t: showClock}
	n := iketest.NewNet(1)
	return &rig{t: t, clk: clk, r1: newRouter(t, "R1", g1, n, clk, 1), r2: newRouter(t, "R2", g2, n, clk, 2)}
}

// waitFor reads both routers' events until cond holds; the guard only stops a hung test.
func (r *rig) waitFor(what string, cond func(ev ike.Event, onR1 bool) bool) {
	r.t.Helper()
	guard := time.After(30 * time.Second)
	for {
		select {
		case ev := <-r.r1.ev:
			r.log.WriteString("R1 " + ev.Kind.String() + " " + ev.Text + "\n")
			if cond(ev, true) {
				return
			}
		case ev := <-r.r2.ev:
			r.log.WriteString("R2 " + ev.Kind.String() + " " + ev.Text + "\n")
			if cond(ev, false) {
				return
			}
		case <-guard:
			r.t.Fatalf("never saw %s; events:\n%s", what, r.log.String())
		}
	}
}

// waitPairs waits until each router reported n more IPsec SA pairs up and down more pairs
// down, failing on a negotiation failure.
func (r *rig) waitPairs(n, down int) {
	r.t.Helper()
	up1, up2, d1, d2 := 0, 0, 0, 0
	r.waitFor("phase 2 on both routers", func(ev ike.Event, onR1 bool) bool {
		switch ev.Kind {
		case ike.EvFailure:
			r.t.Fatalf("negotiation failed: %v: %s\n%s", ev.Reason, ev.Detail, r.log.String())
		case ike.EvPhase2Up:
			if onR1 {
				up1++
			} else {
				up2++
			}
		case ike.EvPhase2Down:
			if onR1 {
				d1++
			} else {
				d2++
			}
		}
		return up1 >= n && up2 >= n && d1 >= down && d2 >= down
	})
}

// waitFail waits for a failure reported by the router named who ("R1" or "R2").
func (r *rig) waitFail(who string, reason ike.Reason) {
	r.t.Helper()
	r.waitFor(who+" failure "+reason.String(), func(ev ike.Event, onR1 bool) bool {
		return ev.Kind == ike.EvFailure && onR1 == (who == "R1") && ev.Reason == reason
	})
}

// settle makes every engine event emitted so far visible on the CLIs.
func (r *rig) settle() {
	commands.FlushCryptoEvents(r.r1.app)
	commands.FlushCryptoEvents(r.r2.app)
}

// term is a session whose transcript is kept: the prompt, the command, its output and the log
// lines that arrived, as the terminal shows them.
type term struct {
	s *shell.Session
	b strings.Builder
}

func newTerm(app *shell.App, line string) *term {
	return &term{s: app.NewSession(shell.SessionOptions{Line: line, Privilege: 15})}
}

func (t *term) run(cmds ...string) {
	for _, c := range cmds {
		t.b.WriteString(t.s.Prompt() + c + "\n")
		t.b.WriteString(t.s.RunLine(c))
	}
}

// drain appends the log lines that arrived since the last command.
func (t *term) drain() { t.b.WriteString(t.s.RunLine("")) }

// golden compares got with testdata/name (trailing spaces trimmed, the ios-cli.md convention),
// rewriting it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	got = trimLines(got)
	if goldenUpdate() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (run with -update after checking)\n--- got:\n%s", path, got)
	}
}

func trimLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

// showCommands are the operational views every golden transcript holds.
var showCommands = []string{
	"show crypto isakmp sa",
	"show crypto isakmp sa detail",
	"show crypto isakmp peers",
	"show crypto ipsec sa",
	"show crypto ipsec sa detail",
	"show crypto ipsec sa address",
	"show crypto ipsec sa peer 192.0.2.2",
	"show crypto ipsec sa map CMAP",
	"show crypto ipsec sa interface Gi0/0",
	"show crypto session",
	"show crypto session detail",
	"show crypto isakmp exchange",
}

// showAll runs every show command on R1, then the main views on R2.
func (r *rig) showAll() string {
	r.settle()
	t1 := newTerm(r.r1.app, "vty 0")
	defer t1.s.Close()
	t1.run(showCommands...)
	t2 := newTerm(r.r2.app, "vty 0")
	defer t2.s.Close()
	t2.run("show crypto isakmp sa", "show crypto ipsec sa", "show crypto session", "show crypto isakmp exchange")
	return t1.b.String() + "\n" + t2.b.String()
}

// upTunnel brings the tunnel up from R1 and counts some traffic on it.
func (r *rig) upTunnel() {
	if err := r.r1.e.Initiate("CMAP", 10, false); err != nil {
		r.t.Fatal(err)
	}
	r.waitPairs(1, 0)
	r.clk.Advance(10 * time.Second)
	for _, rt := range []*router{r.r1, r.r2} {
		for _, ch := range rt.e.Status().IPsec {
			rt.dp.set(ch.SPIIn, xfrm.Counters{Packets: 4, Bytes: 4 * 100})
			rt.dp.set(ch.SPIOut, xfrm.Counters{Packets: 5, Bytes: 5 * 100})
		}
	}
}

func TestShowCryptoUp(t *testing.T) {
	g1, g2 := defaultGateways()
	r := newRig(t, g1, g2)
	r.upTunnel()
	golden(t, "cryptoops/show-up.txt", r.showAll())
}

func TestShowCryptoRekeyed(t *testing.T) {
	g1, g2 := defaultGateways()
	r := newRig(t, g1, g2)
	r.upTunnel()
	// The data plane reports the soft lifetime of R1's inbound SA: R1 rekeys make-before-break.
	old := r.r1.e.Status().IPsec[0]
	var in *xfrm.SA
	for _, sa := range r.r1.dp.Snapshot() {
		if sa.SPI == old.SPIIn {
			in = sa
		}
	}
	if in == nil {
		t.Fatal("inbound SA not installed")
	}
	r.clk.Advance(3000 * time.Second)
	r.r1.dp.Raise(xfrm.Event{Kind: xfrm.EventExpireSoft, SA: in})
	r.waitPairs(1, 1)
	st := r.r1.e.Status()
	if len(st.IPsec) != 1 || st.IPsec[0].SPIIn == old.SPIIn {
		t.Fatalf("after the rekey R1 has %d pairs; want one new pair", len(st.IPsec))
	}
	golden(t, "cryptoops/show-rekeyed.txt", r.showAll())
}

func TestShowCryptoPhase1Failed(t *testing.T) {
	g1, g2 := defaultGateways()
	g2.Policy.KeyBits = 128 // no common ISAKMP policy
	r := newRig(t, g1, g2)
	if err := r.r1.e.Initiate("CMAP", 10, false); err != nil {
		t.Fatal(err)
	}
	r.waitFail("R2", ike.ReasonNoPolicy)
	golden(t, "cryptoops/show-phase1-failed.txt", r.showAll())
}

func TestShowCryptoQuickModeFailed(t *testing.T) {
	g1, g2 := defaultGateways()
	g2.Transform = []string{"esp-3des", "esp-sha-hmac"}
	r := newRig(t, g1, g2)
	if err := r.r1.e.Initiate("CMAP", 10, false); err != nil {
		t.Fatal(err)
	}
	r.waitFail("R1", ike.ReasonPeerRefused)
	golden(t, "cryptoops/show-qm-failed.txt", r.showAll())
}
