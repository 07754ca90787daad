package ike_test

import (
	"net/netip"
	"testing"

	"github.com/tunnelbox/tunnelbox/ike"
	"github.com/tunnelbox/tunnelbox/ike/iketest"
	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
	"github.com/tunnelbox/tunnelbox/xfrm"
)

// outPolicies returns the outbound policies a data plane holds, by destination prefix.
func outPolicies(ps []xfrm.Policy) map[string]xfrm.Policy {
	m := map[string]xfrm.Policy{}
	for _, p := range ps {
		if p.Dir == xfrm.DirOut {
			m[p.Dst.String()] = p
		}
	}
	return m
}

// TestTrafficTriggersNegotiation checks the trap policies: the engine installs an outbound
// policy per crypto ACL permit line before any SA exists, an Acquire for a packet on that line
// negotiates the pair, the pair's SAs carry the trap's reqid (so the same policy protects the
// traffic), a line removed from the configuration loses its trap, and Close leaves nothing
// installed.
func TestTrafficTriggersNegotiation(t *testing.T) {
	g1, g2 := gateways(suites[0], 14)
	g1.Local, g1.Remote = []string{"10.1.1.0/24", "10.1.1.0/24"}, []string{"10.2.2.0/24", "10.3.3.0/24"}
	p := newPair(t, g1, g2, ike.Options{}, 11)
	p.r1.Status() // a round trip through the loop: Start's trap sync has run
	traps := outPolicies(p.dp1.PolicySnapshot())
	if len(traps) != 2 {
		t.Fatalf("R1 trap policies %+v, want one per ACL line", traps)
	}
	trap := traps["10.2.2.0/24"]
	if trap.Action != xfrm.ActionProtect || trap.Tmpl.Dst != addrR2 || trap.Tmpl.Src != addrR1 ||
		trap.Tmpl.Reqid == 0 || trap.Src.String() != "10.1.1.0/24" || trap.Tmpl.Mode != xfrm.ModeTunnel {
		t.Errorf("trap %v tmpl %+v", &trap, trap.Tmpl)
	}
	if other := traps["10.3.3.0/24"]; other.Tmpl.Reqid == trap.Tmpl.Reqid || other.Priority <= trap.Priority {
		t.Errorf("second line's trap %v: want its own reqid and a later priority than %v", &other, &trap)
	}

	// A packet from 10.1.1.5 to 10.2.2.7 reaches the data plane with no SA.
	p.dp1.Raise(xfrm.Event{Kind: xfrm.EventAcquire, Policy: &trap, Flow: xfrm.Flow{
		Src: netip.MustParseAddr("10.1.1.5"), Dst: netip.MustParseAddr("10.2.2.7"), Proto: 1, SrcPort: 8}})
	p.waitUp(1)
	st := p.r1.Status()
	if len(st.IPsec) != 1 {
		t.Fatalf("R1 pairs: %+v", st.IPsec)
	}
	if c := st.IPsec[0]; c.Reqid != trap.Tmpl.Reqid || c.RemoteSel.Prefix.String() != "10.2.2.0/24" {
		t.Errorf("pair reqid %d selectors %v/%v, want the trap's reqid %d on its line", c.Reqid, c.LocalSel, c.RemoteSel, trap.Tmpl.Reqid)
	}
	sas := 0
	for _, sa := range p.dp1.Snapshot() {
		if sa.Reqid != trap.Tmpl.Reqid {
			t.Errorf("SA %v reqid %d, want %d", sa.ID(), sa.Reqid, trap.Tmpl.Reqid)
		}
		sas++
	}
	if sas != 2 {
		t.Errorf("%d SAs installed, want 2", sas)
	}
	if got := outPolicies(p.dp1.PolicySnapshot())["10.2.2.0/24"]; got != trap {
		t.Errorf("outbound policy after negotiation %v, want the trap unchanged %v", &got, &trap)
	}

	// The responder traps its mirrored line too, with the reqid its pair uses.
	st2 := p.r2.Status()
	rtrap := outPolicies(p.dp2.PolicySnapshot())["10.1.1.0/24"]
	if len(st2.IPsec) != 1 || st2.IPsec[0].Reqid != rtrap.Tmpl.Reqid || rtrap.Tmpl.Dst != addrR1 {
		t.Errorf("R2 pair %+v, trap %v", st2.IPsec, &rtrap)
	}

	// Drop the second ACL line: its trap goes, the first line's (in use) stays.
	g1.Local, g1.Remote = g1.Local[:1], g1.Remote[:1]
	c1 := mustConfig(t, g1)
	p.r1.SetConfig(c1)
	p.r1.Status()
	after := outPolicies(p.dp1.PolicySnapshot())
	if _, ok := after["10.3.3.0/24"]; ok || after["10.2.2.0/24"] != trap {
		t.Errorf("after removing the line: %+v", after)
	}

	p.r1.Close()
	if ps, sas := p.dp1.PolicySnapshot(), p.dp1.Snapshot(); len(ps) != 0 || len(sas) != 0 {
		t.Errorf("after Close: %d policies, %d SAs left in the data plane", len(ps), len(sas))
	}
}

func mustConfig(t *testing.T, g iketest.Gateway) *runningconfig.Config {
	t.Helper()
	c, err := iketest.Config(g)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
