package ike_test

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tunnelbox/tunnelbox/ike"
	"github.com/tunnelbox/tunnelbox/ike/iketest"
	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
	"github.com/tunnelbox/tunnelbox/xfrm"
)

var (
	addrR1 = netip.MustParseAddr("192.0.2.1")
	addrR2 = netip.MustParseAddr("192.0.2.2")
)

// pair is two engines on an in-memory network, R1 initiating towards R2.
type pair struct {
	t        testing.TB
	net      *iketest.Net
	r1, r2   *ike.Engine
	dp1, dp2 *iketest.Dataplane
	ev1, ev2 <-chan ike.Event
	log      *strings.Builder
}

type suite struct {
	name   string
	policy runningconfig.ISAKMPPolicy
	ts     []string
}

var suites = []suite{
	{"aes256-sha256", runningconfig.ISAKMPPolicy{Encryption: runningconfig.EncrAES, KeyBits: 256,
		Hash: runningconfig.HashSHA256, Auth: runningconfig.AuthPreShare, Group: 14}, []string{"esp-aes", "256", "esp-sha256-hmac"}},
	{"3des-sha", runningconfig.ISAKMPPolicy{Encryption: runningconfig.Encr3DES,
		Hash: runningconfig.HashSHA, Auth: runningconfig.AuthPreShare, Group: 2}, []string{"esp-3des", "esp-sha-hmac"}},
	{"aes128-md5", runningconfig.ISAKMPPolicy{Encryption: runningconfig.EncrAES,
		Hash: runningconfig.HashMD5, Auth: runningconfig.AuthPreShare, Group: 5}, []string{"esp-aes", "esp-md5-hmac"}},
}

func gateways(s suite, pfs int) (iketest.Gateway, iketest.Gateway) {
	g1 := iketest.Gateway{Addr: addrR1, Peer: addrR2, Local: []string{"10.1.1.0/24"}, Remote: []string{"10.2.2.0/24"},
		PSK: "cisco123", Policy: s.policy, Transform: s.ts, PFS: pfs}
	g2 := iketest.Gateway{Addr: addrR2, Peer: addrR1, Local: []string{"10.2.2.0/24"}, Remote: []string{"10.1.1.0/24"},
		PSK: "cisco123", Policy: s.policy, Transform: s.ts, PFS: pfs}
	return g1, g2
}

func newPair(t testing.TB, g1, g2 iketest.Gateway, opts ike.Options, seed uint64) *pair {
	t.Helper()
	c1, err := iketest.Config(g1)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := iketest.Config(g2)
	if err != nil {
		t.Fatal(err)
	}
	p := &pair{t: t, net: iketest.NewNet(seed), dp1: iketest.NewDataplane(), dp2: iketest.NewDataplane(), log: &strings.Builder{}}
	o1, o2 := opts, opts
	o1.Transport, o1.Installer = p.net.Transport(addrR1), p.dp1
	o2.Transport, o2.Installer = p.net.Transport(addrR2), p.dp2
	if o1.Retransmit == 0 {
		o1.Retransmit, o2.Retransmit = 100*time.Millisecond, 100*time.Millisecond
	}
	p.r1, p.r2 = ike.New(o1), ike.New(o2)
	p.net.Attach(addrR1, p.r1)
	p.net.Attach(addrR2, p.r2)
	p.r1.Start(c1)
	p.r2.Start(c2)
	var stop1, stop2 func()
	p.ev1, stop1 = p.r1.Subscribe()
	p.ev2, stop2 = p.r2.Subscribe()
	t.Cleanup(func() {
		stop1()
		stop2()
		p.r1.Close()
		p.r2.Close()
	})
	return p
}

// waitFor reads events of both engines until cond holds for one of them; it fails the test
// after a generous hang guard (not a timing assertion: the events arrive in milliseconds).
func (p *pair) waitFor(what string, cond func(ev ike.Event, r1 bool) bool) ike.Event {
	p.t.Helper()
	guard := time.After(60 * time.Second)
	for {
		select {
		case ev := <-p.ev1:
			fmt.Fprintf(p.log, "R1 %v %s %s\n", ev.Kind, ev.Text, ev.Detail)
			if cond(ev, true) {
				return ev
			}
		case ev := <-p.ev2:
			fmt.Fprintf(p.log, "R2 %v %s %s\n", ev.Kind, ev.Text, ev.Detail)
			if cond(ev, false) {
				return ev
			}
		case <-guard:
			p.t.Fatalf("never saw %s; events:\n%s", what, p.log)
		}
	}
}

// drain discards the events both engines have queued so far.
func (p *pair) drain() {
	for {
		select {
		case <-p.ev1:
		case <-p.ev2:
		default:
			return
		}
	}
}

// waitUp waits until both sides have count IPsec SA pairs installed.
func (p *pair) waitUp(count int) {
	p.t.Helper()
	up1, up2 := 0, 0
	p.waitFor("phase 2 up on both sides", func(ev ike.Event, r1 bool) bool {
		if ev.Kind == ike.EvFailure {
			p.t.Fatalf("negotiation failed: %s: %s\n%s", ev.Reason, ev.Detail, p.log)
		}
		if ev.Kind == ike.EvPhase2Up {
			if r1 {
				up1++
			} else {
				up2++
			}
		}
		return up1 >= count && up2 >= count
	})
}

// checkKeys verifies that each outbound SA of one side is the inbound SA of the other, with the
// same keys: proof that both derived the same KEYMAT for each SPI.
func (p *pair) checkKeys() {
	p.t.Helper()
	s1, s2 := p.dp1.Snapshot(), p.dp2.Snapshot()
	if len(s1) == 0 || len(s1) != len(s2) {
		p.t.Fatalf("installed SAs: R1 %d, R2 %d", len(s1), len(s2))
	}
	for _, a := range s1 {
		i := slices.IndexFunc(s2, func(b *xfrm.SA) bool { return b.SPI == a.SPI && b.Dst == a.Dst })
		if i < 0 {
			p.t.Fatalf("R1 SA %v has no counterpart on R2", a.ID())
		}
		b := s2[i]
		if a.Dir == b.Dir {
			p.t.Errorf("SA %v is %v on both sides", a.ID(), a.Dir)
		}
		if !bytes.Equal(a.EncKey, b.EncKey) || !bytes.Equal(a.AuthKey, b.AuthKey) || !bytes.Equal(a.Salt, b.Salt) ||
			a.Enc != b.Enc || a.Auth != b.Auth || a.Mode != b.Mode {
			p.t.Errorf("SA %v differs between the peers:\nR1 %+v\nR2 %+v", a.ID(), a, b)
		}
	}
}

func TestNegotiationMatrix(t *testing.T) {
	for _, aggressive := range []bool{false, true} {
		for _, pfs := range []int{0, 2, 14, 19} {
			for _, s := range suites {
				mode := "main"
				if aggressive {
					mode = "aggressive"
				}
				t.Run(fmt.Sprintf("%s/pfs%d/%s", mode, pfs, s.name), func(t *testing.T) {
					t.Parallel()
					g1, g2 := gateways(s, pfs)
					p := newPair(t, g1, g2, ike.Options{}, 1)
					if err := p.r1.Initiate("CMAP", 10, aggressive); err != nil {
						t.Fatal(err)
					}
					p.waitUp(1)
					p.checkKeys()
					st1, st2 := p.r1.Status(), p.r2.Status()
					if len(st1.ISAKMP) != 1 || st1.ISAKMP[0].State != ike.QMIdle || st2.ISAKMP[0].State != ike.QMIdle {
						t.Fatalf("ISAKMP SAs: %+v / %+v", st1.ISAKMP, st2.ISAKMP)
					}
					if st1.ISAKMP[0].Aggressive != aggressive {
						t.Errorf("aggressive = %v", st1.ISAKMP[0].Aggressive)
					}
					c1, c2 := st1.IPsec[0], st2.IPsec[0]
					if c1.SPIIn != c2.SPIOut || c1.SPIOut != c2.SPIIn || c1.PFSGroup != pfs {
						t.Errorf("SPIs/PFS disagree: R1 in %x out %x pfs %d, R2 in %x out %x", c1.SPIIn, c1.SPIOut, c1.PFSGroup, c2.SPIIn, c2.SPIOut)
					}
					if c1.LocalSel.Prefix.String() != "10.1.1.0/24" || c2.LocalSel.Prefix.String() != "10.2.2.0/24" {
						t.Errorf("selectors: R1 %v R2 %v", c1.LocalSel, c2.LocalSel)
					}
				})
			}
		}
	}
}

// failure runs a negotiation that must fail on the responder with reason, and checks that
// neither side keeps any half state.
func failure(t *testing.T, g1, g2 iketest.Gateway, reason ike.Reason) {
	t.Helper()
	p := newPair(t, g1, g2, ike.Options{Retransmit: 20 * time.Millisecond, MaxRetransmits: 2}, 2)
	if err := p.r1.Initiate("CMAP", 10, false); err != nil {
		t.Fatal(err)
	}
	// The responder fails with reason; the initiator gives up too (refusal or retransmissions
	// exhausted). Then nothing is left half-open on either side.
	var got ike.Event
	initiatorDone := false
	p.waitFor("failure "+reason.String()+" and the initiator giving up", func(ev ike.Event, r1 bool) bool {
		if ev.Kind == ike.EvPhase2Up {
			t.Fatalf("negotiation succeeded\n%s", p.log)
		}
		if ev.Kind == ike.EvFailure && ev.Reason == reason && got.Kind != ike.EvFailure {
			got = ev
		}
		if r1 && ev.Kind == ike.EvFailure {
			initiatorDone = true
		}
		return got.Kind == ike.EvFailure && initiatorDone
	})
	if got.Detail == "" {
		t.Errorf("failure %v without detail", reason)
	}
	t.Logf("reason: %s: %s", got.Reason, got.Detail)
	for _, r := range []*ike.Engine{p.r1, p.r2} {
		st := r.Status()
		for _, sa := range st.ISAKMP {
			if !sa.Established {
				t.Errorf("half-open ISAKMP SA left: %+v", sa)
			}
		}
		if len(st.IPsec) != 0 {
			t.Errorf("IPsec SAs left: %d", len(st.IPsec))
		}
	}
	if n := len(p.dp1.Snapshot()) + len(p.dp2.Snapshot()); n != 0 {
		t.Errorf("%d SAs left in the data planes", n)
	}
}

func TestFailures(t *testing.T) {
	base := suites[0]
	t.Run("wrong-psk", func(t *testing.T) {
		g1, g2 := gateways(base, 14)
		g2.PSK = "other-key"
		failure(t, g1, g2, ike.ReasonAuthFailed)
	})
	t.Run("no-policy", func(t *testing.T) {
		g1, g2 := gateways(base, 14)
		g2.Policy.Hash = runningconfig.HashMD5
		failure(t, g1, g2, ike.ReasonNoPolicy)
	})
	t.Run("no-psk", func(t *testing.T) {
		g1, g2 := gateways(base, 14)
		g2.PSK = ""
		failure(t, g1, g2, ike.ReasonNoPSK)
	})
	t.Run("no-transform", func(t *testing.T) {
		g1, g2 := gateways(base, 14)
		g2.Transform = []string{"esp-3des", "esp-md5-hmac"}
		failure(t, g1, g2, ike.ReasonNoTransform)
	})
	t.Run("pfs-mismatch", func(t *testing.T) {
		g1, g2 := gateways(base, 14)
		g2.PFS = 5
		failure(t, g1, g2, ike.ReasonPFSMismatch)
	})
	t.Run("pfs-missing", func(t *testing.T) {
		g1, g2 := gateways(base, 0)
		g2.PFS = 14
		failure(t, g1, g2, ike.ReasonPFSMismatch)
	})
	t.Run("proxy-mismatch", func(t *testing.T) {
		g1, g2 := gateways(base, 14)
		g2.Local = []string{"10.9.9.0/24"}
		failure(t, g1, g2, ike.ReasonProxyMismatch)
	})
}

// TestHubAndSpoke is the seed's case: the hub's ACL lists both spokes' networks, the spoke
// mirrors only its own line; the common line comes up and the other is refused.
func TestHubAndSpoke(t *testing.T) {
	s := suites[0]
	hub := iketest.Gateway{Addr: addrR1, Peer: addrR2, Local: []string{"10.1.1.0/24", "10.1.1.0/24"},
		Remote: []string{"10.2.2.0/24", "10.3.3.0/24"}, PSK: "cisco123", Policy: s.policy, Transform: s.ts, PFS: 14}
	spoke := iketest.Gateway{Addr: addrR2, Peer: addrR1, Local: []string{"10.2.2.0/24"}, Remote: []string{"10.1.1.0/24"},
		PSK: "cisco123", Policy: s.policy, Transform: s.ts, PFS: 14}
	p := newPair(t, hub, spoke, ike.Options{Retransmit: 50 * time.Millisecond, MaxRetransmits: 2}, 3)
	if err := p.r1.Initiate("CMAP", 10, false); err != nil {
		t.Fatal(err)
	}
	up1, up2, refused := false, false, false
	p.waitFor("one line up and the other refused", func(ev ike.Event, r1 bool) bool {
		if ev.Kind == ike.EvPhase2Up {
			if r1 {
				up1 = true
			} else {
				up2 = true
			}
		}
		if ev.Kind == ike.EvFailure && !r1 && ev.Reason == ike.ReasonProxyMismatch {
			refused = true
		}
		return up1 && up2 && refused
	})
	st := p.r1.Status()
	if len(st.IPsec) != 1 || st.IPsec[0].RemoteSel.Prefix.String() != "10.2.2.0/24" {
		t.Fatalf("hub IPsec SAs: %+v", st.IPsec)
	}
	p.checkKeys()
}

func TestCommitBit(t *testing.T) {
	g1, g2 := gateways(suites[0], 14)
	p := newPair(t, g1, g2, ike.Options{SetCommitBit: true}, 4)
	if err := p.r1.Initiate("CMAP", 10, false); err != nil {
		t.Fatal(err)
	}
	p.waitUp(1)
	p.checkKeys()
}

func TestResponderLifetime(t *testing.T) {
	g1, g2 := gateways(suites[0], 14)
	g1.Lifetime = 3600
	g2.Lifetime = 900
	p := newPair(t, g1, g2, ike.Options{}, 5)
	if err := p.r1.Initiate("CMAP", 10, false); err != nil {
		t.Fatal(err)
	}
	p.waitUp(1)
	for i, r := range []*ike.Engine{p.r1, p.r2} {
		if got := r.Status().IPsec[0].LifeSecs; got != 900 {
			t.Errorf("R%d lifetime = %d, want 900 (RESPONDER-LIFETIME honoured)", i+1, got)
		}
	}
}

// TestRekeyNoGap: with a short lifetime the initiator rekeys three times; each new pair is
// installed before the old one is removed (make-before-break), so an outbound SA exists at every
// moment on both sides. Configured seconds last 25 ms here (Options.Second).
func TestRekeyNoGap(t *testing.T) {
	g1, g2 := gateways(suites[0], 14)
	g1.Lifetime, g2.Lifetime = 120, 120 // the minimum IOS accepts
	// 25 ms per configured second: a 3 s lifetime, the rekey 300 ms before it. Shorter scales
	// leave a loaded machine too little time for Quick Mode (two group-14 exchanges) in the margin.
	p := newPair(t, g1, g2, ike.Options{Second: 25 * time.Millisecond}, 10)
	if err := p.r1.Initiate("CMAP", 10, false); err != nil {
		t.Fatal(err)
	}
	p.waitUp(1)
	rekeys := 0
	p.waitFor("three rekeys", func(ev ike.Event, r1 bool) bool {
		if ev.Kind == ike.EvFailure {
			t.Fatalf("rekey failed: %s %s\n%s", ev.Reason, ev.Detail, p.log)
		}
		if r1 && ev.Kind == ike.EvPhase2Up {
			rekeys++
		}
		return rekeys == 3
	})
	if p.dp1.GapCount() != 0 || p.dp2.GapCount() != 0 {
		t.Fatalf("rekey left moments without an outbound SA: R1 %d, R2 %d", p.dp1.GapCount(), p.dp2.GapCount())
	}
}

func TestDelete(t *testing.T) {
	g1, g2 := gateways(suites[0], 14)
	p := newPair(t, g1, g2, ike.Options{}, 6)
	if err := p.r1.Initiate("CMAP", 10, false); err != nil {
		t.Fatal(err)
	}
	p.waitUp(1)
	if err := p.r1.ClearIPsec(netip.Addr{}, ""); err != nil {
		t.Fatal(err)
	}
	p.waitFor("R2 removes the pair on R1's delete", func(ev ike.Event, r1 bool) bool {
		return !r1 && ev.Kind == ike.EvPhase2Down
	})
	if n := len(p.dp2.Snapshot()); n != 0 {
		t.Fatalf("R2 still has %d SAs", n)
	}
	if err := p.r1.ClearISAKMP(0); err != nil {
		t.Fatal(err)
	}
	p.waitFor("R2 removes the ISAKMP SA", func(ev ike.Event, r1 bool) bool {
		return !r1 && ev.Kind == ike.EvPhase1Down
	})
}

func TestLossAndDuplicates(t *testing.T) {
	for _, tc := range []struct {
		name      string
		loss, dup float64
	}{{"loss30", 0.3, 0}, {"dup30", 0, 0.3}, {"loss30dup20", 0.3, 0.2}} {
		t.Run(tc.name, func(t *testing.T) {
			g1, g2 := gateways(suites[0], 14)
			p := newPair(t, g1, g2, ike.Options{Retransmit: 30 * time.Millisecond, MaxRetransmits: 10}, 7)
			p.net.SetLoss(tc.loss, tc.dup)
			if err := p.r1.Initiate("CMAP", 10, false); err != nil {
				t.Fatal(err)
			}
			p.waitUp(1)
			p.checkKeys()
		})
	}
}

func TestDPDDeclaresDeadPeer(t *testing.T) {
	g1, g2 := gateways(suites[0], 14)
	g1.Keepalive, g2.Keepalive = 10, 10
	p := newPair(t, g1, g2, ike.Options{Second: 10 * time.Millisecond}, 8)
	if err := p.r1.Initiate("CMAP", 10, false); err != nil {
		t.Fatal(err)
	}
	p.waitUp(1)
	// R2 goes silent: nothing reaches it any more.
	p.net.SetFilter(func(from, to netip.AddrPort, msg []byte) ([]byte, bool) { return msg, to.Addr() != addrR2 })
	p.waitFor("R1 declares R2 dead", func(ev ike.Event, r1 bool) bool {
		return r1 && ev.Kind == ike.EvFailure && ev.Reason == ike.ReasonDPDDead
	})
	st := p.r1.Status()
	if len(st.ISAKMP) != 0 || len(st.IPsec) != 0 {
		t.Fatalf("SAs left after DPD: %+v", st)
	}
}

func TestInitialContactAfterRestart(t *testing.T) {
	g1, g2 := gateways(suites[0], 14)
	p := newPair(t, g1, g2, ike.Options{}, 9)
	if err := p.r1.Initiate("CMAP", 10, false); err != nil {
		t.Fatal(err)
	}
	p.waitUp(1)
	// R1 restarts: a new engine with no SAs takes its address and initiates again.
	c1, _ := iketest.Config(g1)
	r1b := ike.New(ike.Options{Transport: p.net.Transport(addrR1), Installer: iketest.NewDataplane(),
		Retransmit: 100 * time.Millisecond})
	p.net.Attach(addrR1, r1b)
	r1b.Start(c1)
	defer r1b.Close()
	if err := r1b.Initiate("CMAP", 10, false); err != nil {
		t.Fatal(err)
	}
	p.waitFor("R2 drops the old SAs on INITIAL-CONTACT", func(ev ike.Event, r1 bool) bool {
		return !r1 && ev.Kind == ike.EvPhase1Down
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := p.r2.Status()
		if len(st.ISAKMP) == 1 && len(st.IPsec) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("R2 after restart: %d ISAKMP, %d IPsec SAs", len(st.ISAKMP), len(st.IPsec))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLostQM3: the responder puts its inbound SA in place when it sends QM2; when QM3 never comes
// it gives up after its retransmissions and takes that SA out again.
func TestLostQM3(t *testing.T) {
	g1, g2 := gateways(suites[0], 14)
	p := newPair(t, g1, g2, ike.Options{Retransmit: 20 * time.Millisecond, MaxRetransmits: 2}, 14)
	p.net.SetFilter(func(from, to netip.AddrPort, msg []byte) ([]byte, bool) {
		qm3 := from.Addr() == addrR1 && len(msg) > 18 && msg[18] == 32 && len(msg) < 120
		return msg, !qm3
	})
	if err := p.r1.Initiate("CMAP", 10, false); err != nil {
		t.Fatal(err)
	}
	p.waitFor("the responder giving up on QM3", func(ev ike.Event, r1 bool) bool {
		return !r1 && ev.Kind == ike.EvFailure && ev.Reason == ike.ReasonTimeout
	})
	if n := len(p.dp2.Snapshot()); n != 0 {
		t.Fatalf("responder kept %d SAs after QM3 was lost", n)
	}
	if st := p.r2.Status(); len(st.IPsec) != 0 {
		t.Fatalf("responder lists %d IPsec SAs", len(st.IPsec))
	}
}

// TestNATKeepalives: behind a NAT (ForceNATT makes each side see one) with `crypto isakmp nat
// keepalive 5`, both sides send keepalives on port 4500 while the ISAKMP SA lives; without the
// command they send none.
func TestNATKeepalives(t *testing.T) {
	for _, natKeep := range []int{5, 0} {
		g1, g2 := gateways(suites[0], 14)
		g1.NATKeep, g2.NATKeep = natKeep, natKeep
		p := newPair(t, g1, g2, ike.Options{ForceNATT: true, Second: 10 * time.Millisecond}, 15)
		if err := p.r1.Initiate("CMAP", 10, false); err != nil {
			t.Fatal(err)
		}
		p.waitUp(1)
		if natKeep == 0 {
			time.Sleep(200 * time.Millisecond) // 4 keepalive intervals, had one been configured
			if n := p.net.Keepalives(addrR1) + p.net.Keepalives(addrR2); n != 0 {
				t.Fatalf("%d NAT keepalives sent without crypto isakmp nat keepalive", n)
			}
			continue
		}
		deadline := time.Now().Add(20 * time.Second)
		for p.net.Keepalives(addrR1) < 3 || p.net.Keepalives(addrR2) < 3 {
			if time.Now().After(deadline) {
				t.Fatalf("keepalives: R1 %d, R2 %d", p.net.Keepalives(addrR1), p.net.Keepalives(addrR2))
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
