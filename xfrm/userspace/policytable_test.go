package userspace

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/tunnelbox/tunnelbox/xfrm"
)

// tunnelPolicies returns the outbound and inbound policy of the i-th /32 tunnel (0 <= i < 65536)
// of a hub with many peers' proxies behind one peer gateway, as the setup-rate lab benchmark
// installs them.
func tunnelPolicies(i int, prio uint32) (out, in *xfrm.Policy) {
	l := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 2, byte(i >> 8), byte(i)}), 32)
	r := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 32)
	out, in = policies(l, r, gwB, gwA)
	out.Priority, in.Priority = prio, prio
	out.Tmpl.Reqid, in.Tmpl.Reqid = uint32(i+1), uint32(i+1)
	return out, in
}

func newTableBackend(t testing.TB) (*Backend, *fakeRoutes) {
	rt := &fakeRoutes{set: map[netip.Prefix]bool{}}
	b, err := newBackend(Config{Send: func(b []byte, _ netip.AddrPort) (int, error) { return len(b), nil }}, newMemDev(), rt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, rt
}

// checkTable verifies the backend's two policy tables agree: the slice is in (Priority,
// insertion) order and the identity index holds exactly its entries.
func checkTable(t *testing.T, b *Backend) {
	t.Helper()
	b.mu.RLock()
	defer b.mu.RUnlock()
	if !slices.IsSortedFunc(b.policies, policyOrder) {
		t.Fatal("policies out of (Priority, insertion) order")
	}
	if len(b.byID) != len(b.policies) {
		t.Fatalf("index holds %d policies, table %d", len(b.byID), len(b.policies))
	}
	for _, x := range b.policies {
		if b.byID[x.p.ID()] != x {
			t.Fatalf("index does not map %s to its entry", &x.p)
		}
	}
}

// Many tunnels installed and removed in any order: duplicates are refused, removed policies
// are gone and can come back, routes follow the outbound policies, and the first matching
// outbound policy is still chosen by Priority, then installation order.
func TestPolicyTableManyTunnels(t *testing.T) {
	b, rt := newTableBackend(t)
	const n = 600
	for i := range n {
		out, in := tunnelPolicies(i, uint32(100+i%3)) // three priorities, interleaved
		for _, p := range []*xfrm.Policy{out, in} {
			if err := b.AddPolicy(p); err != nil {
				t.Fatalf("AddPolicy %d: %v", i, err)
			}
		}
	}
	checkTable(t, b)
	out0, _ := tunnelPolicies(0, 100)
	if err := b.AddPolicy(out0); !errors.Is(err, xfrm.ErrExists) {
		t.Fatalf("duplicate AddPolicy: %v, want ErrExists", err)
	}
	for i := 0; i < n; i += 2 {
		out, in := tunnelPolicies(i, 0) // the priority is not part of the identity
		for _, p := range []*xfrm.Policy{out, in} {
			if err := b.DelPolicy(p); err != nil {
				t.Fatalf("DelPolicy %d: %v", i, err)
			}
		}
	}
	checkTable(t, b)
	if len(rt.set) != n/2 {
		t.Errorf("%d routes for %d remaining outbound policies", len(rt.set), n/2)
	}
	for i := range n {
		out, _ := tunnelPolicies(i, 0)
		_, _, err := b.PolicyCounters(out)
		if gone := i%2 == 0; gone != errors.Is(err, xfrm.ErrNotFound) {
			t.Fatalf("tunnel %d (removed %v): PolicyCounters error %v", i, gone, err)
		}
		if i%2 == 0 {
			if err := b.DelPolicy(out); !errors.Is(err, xfrm.ErrNotFound) {
				t.Fatalf("second DelPolicy %d: %v, want ErrNotFound", i, err)
			}
		}
	}
	// Same selector again with a better priority than an overlapping catch-all: it must win.
	catchAll := &xfrm.Policy{Src: netip.MustParsePrefix("10.2.0.0/16"), Dst: netip.MustParsePrefix("10.1.0.0/16"),
		Dir: xfrm.DirOut, Action: xfrm.ActionDiscard, Priority: 50}
	if err := b.AddPolicy(catchAll); err != nil {
		t.Fatal(err)
	}
	back, _ := tunnelPolicies(4, 10)
	if err := b.AddPolicy(back); err != nil {
		t.Fatalf("re-adding a removed policy: %v", err)
	}
	checkTable(t, b)
	b.mu.RLock()
	first := b.policies[0]
	b.mu.RUnlock()
	if first.p.ID() != back.ID() {
		t.Errorf("first policy is %s, want the priority-10 one", &first.p)
	}
	f := xfrm.Flow{Src: netip.AddrFrom4([4]byte{10, 2, 0, 4}), Dst: netip.AddrFrom4([4]byte{10, 1, 0, 4})}
	if !first.p.Matches(f) {
		t.Errorf("the priority-10 policy does not match %v", f)
	}
}

// BenchmarkPolicyInstall installs and removes the two policies of each of n tunnels, as a hub
// does when n peers come up and go down.
func BenchmarkPolicyInstall(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			be, _ := newTableBackend(b)
			pols := make([]*xfrm.Policy, 0, 2*n)
			for i := range n {
				out, in := tunnelPolicies(i, 100)
				pols = append(pols, out, in)
			}
			b.ReportAllocs()
			for b.Loop() {
				for _, p := range pols {
					if err := be.AddPolicy(p); err != nil {
						b.Fatal(err)
					}
				}
				for _, p := range pols {
					if err := be.DelPolicy(p); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/tunnel")
		})
	}
}
