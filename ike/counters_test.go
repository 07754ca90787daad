package ike_test

import (
	"net/netip"
	"testing"

	"github.com/tunnelbox/tunnelbox/ike"
	"github.com/tunnelbox/tunnelbox/xfrm"
)

func outPolicy(src, dst string) *xfrm.Policy {
	return &xfrm.Policy{Src: netip.MustParsePrefix(src), Dst: netip.MustParsePrefix(dst), Dir: xfrm.DirOut}
}

func flowKey(src, dst string) ike.FlowKey {
	return ike.FlowKey{Local: ike.Selector{Prefix: netip.MustParsePrefix(src)}, Remote: ike.Selector{Prefix: netip.MustParsePrefix(dst)}}
}

// TestACLMatchCounters follows the data plane's per-policy counts through the engine's mapping
// to crypto ACL lines: a trap's counts belong to its line and stay there when a pair that
// shares the policy comes and goes; a responder's narrower pair has a policy of its own whose
// counts go to the covering line and are kept when the pair is cleared; a line that moves to
// another sequence number keeps its policy's counts, and a line that goes loses them.
func TestACLMatchCounters(t *testing.T) {
	g1, g2 := gateways(suites[0], 0)
	g1.Local, g1.Remote = []string{"10.1.1.0/24", "10.1.1.0/24"}, []string{"10.2.2.0/24", "10.3.3.0/24"}
	// R2's only line is narrower than R1's first: when R2 initiates, R1 answers with a pair of
	// its own identities (10.1.1.0/25 <-> 10.2.2.5/32) under line 10.
	g2.Local, g2.Remote = []string{"10.2.2.5/32"}, []string{"10.1.1.0/25"}
	p := newPair(t, g1, g2, ike.Options{}, 21)
	r1, dp := p.r1, p.dp1
	r1.Status() // Start's trap sync has run
	want := func(when string, seq10, seq20 uint64) {
		t.Helper()
		if got := r1.ACLMatches("101", 10); got != seq10 {
			t.Errorf("%s: 101 line 10 has %d matches, want %d", when, got, seq10)
		}
		if got := r1.ACLMatches("101", 20); got != seq20 {
			t.Errorf("%s: 101 line 20 has %d matches, want %d", when, got, seq20)
		}
	}
	hit := func(p *xfrm.Policy, m, n uint64) {
		t.Helper()
		if err := dp.Hit(p, m, n); err != nil {
			t.Fatal(err)
		}
	}
	trap10, trap20 := outPolicy("10.1.1.0/24", "10.2.2.0/24"), outPolicy("10.1.1.0/24", "10.3.3.0/24")
	want("no traffic", 0, 0)
	hit(trap10, 4, 1)
	hit(trap20, 2, 2)
	want("traps hit", 4, 2)
	if got := r1.ACLMatches("101", 30); got != 0 {
		t.Errorf("a line that does not exist has %d matches", got)
	}
	if got := r1.ACLMatches("102", 10); got != 0 {
		t.Errorf("another list has %d matches", got)
	}
	if st := r1.Status(); st.Flows[flowKey("10.1.1.0/24", "10.2.2.0/24")] != (ike.FlowStats{Matches: 4, NoSA: 1}) {
		t.Errorf("Status flows %+v", st.Flows)
	}

	// R2 initiates with its narrower identities; R1's pair gets its own outbound policy.
	if err := p.r2.Initiate("CMAP", 10, false); err != nil {
		t.Fatal(err)
	}
	p.waitUp(1)
	narrow := outPolicy("10.1.1.0/25", "10.2.2.5/32")
	hit(narrow, 3, 0)
	hit(trap10, 1, 0)
	want("narrow pair up", 8, 2)
	dp.InvalidFrom(addrR2, 7)
	st := r1.Status()
	if got := st.Flows[flowKey("10.1.1.0/25", "10.2.2.5/32")]; got != (ike.FlowStats{Matches: 3}) {
		t.Errorf("narrow flow %+v", got)
	}
	if st.InvalidSPI[addrR2] != 7 {
		t.Errorf("InvalidSPI %v, want 7 from %v", st.InvalidSPI, addrR2)
	}

	// Clearing the pair deletes its policy: the counts stay with line 10 and the flow.
	if err := r1.ClearIPsec(netip.Addr{}, ""); err != nil {
		t.Fatal(err)
	}
	if st := r1.Status(); len(st.IPsec) != 0 || st.Flows[flowKey("10.1.1.0/25", "10.2.2.5/32")] != (ike.FlowStats{Matches: 3}) {
		t.Fatalf("after clear: pairs %d, narrow flow %+v", len(st.IPsec), st.Flows)
	}
	if _, _, err := dp.PolicyCounters(narrow); err == nil {
		t.Fatal("the cleared pair's policy is still installed")
	}
	want("pair cleared", 8, 2)

	// Line 10 goes; line 20 (10.3.3.0/24) becomes line 10 and keeps its trap and its counts.
	g1.Local, g1.Remote = g1.Local[1:], g1.Remote[1:]
	r1.SetConfig(mustConfig(t, g1))
	r1.Status() // a round trip: the configuration has been applied
	want("first line removed", 2, 0)
	if st := r1.Status(); len(st.Flows) != 1 || st.Flows[flowKey("10.1.1.0/24", "10.3.3.0/24")] != (ike.FlowStats{Matches: 2, NoSA: 2}) {
		t.Errorf("flows after the line went: %+v", st.Flows)
	}
}
