package userspace

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/tunnelbox/tunnelbox/xfrm"
)

// policyCounters reads the counters of p or fails t.
func policyCounters(t *testing.T, b *Backend, p *xfrm.Policy) (matched, noSA uint64) {
	t.Helper()
	m, n, err := b.PolicyCounters(p)
	if err != nil {
		t.Fatal(err)
	}
	return m, n
}

// TestPolicyCounters counts TUN packets on the first matching outbound policy: packets before
// the SAs exist are matches and no-SA drops (each would raise an Acquire), packets after are
// matches only; packets of other flows and inbound policies count nothing on it.
func TestPolicyCounters(t *testing.T) {
	a, b := newPair(t, false)
	pa, pai := policies(netA, netB, gwA, gwB)
	// A sync packet that matches no policy: once the backend reads it, the packets before it
	// have been handled (one reader goroutine).
	sync := func() { a.dev.in <- icmpEcho(netip.MustParseAddr("10.9.9.9"), netip.MustParseAddr("10.8.8.8"), 0) }

	for i := range 3 {
		a.dev.in <- icmpEcho(netip.MustParseAddr("10.1.1.5"), netip.MustParseAddr("10.2.2.5"), uint16(i))
	}
	a.dev.in <- icmpEcho(netip.MustParseAddr("10.1.1.5"), netip.MustParseAddr("10.3.3.5"), 9) // no policy
	sync()
	if m, n := policyCounters(t, a.b, pa); m != 3 || n != 3 {
		t.Fatalf("before the SAs: matched %d no SA %d, want 3 and 3", m, n)
	}

	for _, x := range []struct {
		s  *side
		sa *xfrm.SA
	}{{a, a.out}, {a, a.in}, {b, b.out}, {b, b.in}} {
		if err := x.s.b.AddSA(x.sa); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 {
		a.dev.in <- icmpEcho(netip.MustParseAddr("10.1.1.5"), netip.MustParseAddr("10.2.2.5"), uint16(10+i))
		recv(t, b.dev)
	}
	sync()
	if m, n := policyCounters(t, a.b, pa); m != 5 || n != 3 {
		t.Fatalf("after the SAs: matched %d no SA %d, want 5 and 3", m, n)
	}
	if m, n := policyCounters(t, a.b, pai); m != 0 || n != 0 {
		t.Fatalf("inbound policy counted %d/%d", m, n)
	}
	pb, _ := policies(netB, netA, gwB, gwA)
	if m, n := policyCounters(t, b.b, pb); m != 0 || n != 0 {
		t.Fatalf("B's outbound policy counted %d/%d without traffic", m, n)
	}
	if _, _, err := a.b.PolicyCounters(pb); !errors.Is(err, xfrm.ErrNotFound) {
		t.Fatalf("counters of a policy A does not have: %v", err)
	}
	// Removing and adding the policy again starts it from zero.
	if err := a.b.DelPolicy(pa); err != nil {
		t.Fatal(err)
	}
	if err := a.b.AddPolicy(pa); err != nil {
		t.Fatal(err)
	}
	if m, n := policyCounters(t, a.b, pa); m != 0 || n != 0 {
		t.Fatalf("re-added policy starts at %d/%d", m, n)
	}
}

// TestInvalidSPI counts unknown SPIs per sender for the peers of installed SAs and policies;
// other senders and runts count only in Drops.
func TestInvalidSPI(t *testing.T) {
	_, b := newPair(t, false)
	stranger := netip.MustParseAddr("203.0.113.9")
	bogus := []byte{0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 1, 0, 0, 0, 0}
	for _, x := range []struct {
		from netip.Addr
		pkt  []byte
	}{
		{gwA, bogus}, {gwA, bogus}, {stranger, bogus},
		{netip.AddrFrom16(gwA.As16()), bogus}, // the v4-mapped form of the peer is the peer
		{gwA, bogus[:3]},                      // too short for an SPI
	} {
		if err := b.b.HandleESPInUDP(x.pkt, netip.AddrPortFrom(x.from, 4500)); err == nil {
			t.Fatalf("datagram from %s accepted", x.from)
		}
	}
	if n := b.b.InvalidSPI(gwA); n != 3 {
		t.Errorf("InvalidSPI(peer) = %d, want 3", n)
	}
	if n := b.b.InvalidSPI(stranger); n != 0 {
		t.Errorf("InvalidSPI(stranger) = %d, want 0 (not a peer)", n)
	}
	if noSA, _ := b.b.Drops(); noSA != 5 {
		t.Errorf("Drops noSA = %d, want 5", noSA)
	}
}
