package netif

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
)

// kernelRoutes renders the IPv4 main-table routes of ns that the kernel did not create itself
// (connected subnets are left out), in the spirit of `ip route`, sorted.
func kernelRoutes(t *testing.T, ns netns.NsHandle) []string {
	t.Helper()
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	rs, err := h.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	if err != nil {
		t.Fatal(err)
	}
	name := func(idx int) string {
		l, err := h.LinkByIndex(idx)
		if err != nil {
			return fmt.Sprint(idx)
		}
		return l.Attrs().Name
	}
	hop := func(link int, gw []byte, flags int) string {
		s := ""
		if len(gw) > 0 {
			a, _ := netip.AddrFromSlice(gw)
			s = "via " + a.Unmap().String() + " "
		}
		s += "dev " + name(link)
		if flags&unix.RTNH_F_ONLINK != 0 {
			s += " onlink"
		}
		return s
	}
	var out []string
	for _, r := range rs {
		if r.Protocol == unix.RTPROT_KERNEL {
			continue
		}
		dst := "default"
		if r.Dst != nil && r.Dst.String() != "0.0.0.0/0" {
			dst = r.Dst.String()
		}
		s := fmt.Sprintf("%s proto %d metric %d", dst, r.Protocol, r.Priority)
		if r.Scope == netlink.SCOPE_LINK {
			s += " scope link"
		}
		if len(r.MultiPath) == 0 {
			s += " " + hop(r.LinkIndex, r.Gw, r.Flags)
		}
		var nhs []string
		for _, nh := range r.MultiPath {
			nhs = append(nhs, "nexthop "+hop(nh.LinkIndex, nh.Gw, nh.Flags))
		}
		slices.Sort(nhs)
		for _, nh := range nhs {
			s += " " + nh
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

func route(t *testing.T, s string) runningconfig.Route {
	t.Helper()
	// "PREFIX [INTERFACE] [NEXTHOP] [DISTANCE]"
	f := strings.Fields(s)
	r := runningconfig.Route{Prefix: netip.MustParsePrefix(f[0])}
	for _, w := range f[1:] {
		if a, err := netip.ParseAddr(w); err == nil {
			r.NextHop = a
		} else if n, err := fmt.Sscanf(w, "%d", &r.Distance); err == nil && n == 1 {
		} else {
			r.Interface = w
		}
	}
	return r
}

// TestRoutesInNetns programs static routes into a namespace with two ports (eth0 10.0.0.1/24,
// eth1 192.0.2.1/24) and the unmapped veth0 holding two routes added by hand, step by step.
func TestRoutesInNetns(t *testing.T) {
	ns := newNetns(t)
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	dummy, err := h.LinkByName("veth0") // not a port
	if err != nil {
		t.Fatal(err)
	}
	if err := h.LinkSetUp(dummy); err != nil {
		t.Fatal(err)
	}
	for _, dst := range []struct {
		p      string
		metric int
	}{{"172.16.0.0/16", 0}, {"10.99.0.0/16", 5}} {
		p := netip.MustParsePrefix(dst.p)
		r := &netlink.Route{LinkIndex: dummy.Attrs().Index, Dst: toAddr(p).IPNet, Priority: dst.metric,
			Scope: netlink.SCOPE_LINK, Protocol: unix.RTPROT_BOOT}
		if err := h.RouteAdd(r); err != nil {
			t.Fatal(err)
		}
	}
	hand := []string{
		"10.99.0.0/16 proto 3 metric 5 scope link dev veth0",
		"172.16.0.0/16 proto 3 metric 0 scope link dev veth0",
	}

	links, err := OpenAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer links.Close()
	var commitErrs []error
	links.OnError = func(err error) { commitErrs = append(commitErrs, err) }
	m := runningconfig.NewManager(nil)
	defer m.Close()
	m.Subscribe(links)
	if err := m.Apply(links.AddPorts); err != nil {
		t.Fatal(err)
	}
	ports := func(g0, g1 string, shut1 bool) func(c *runningconfig.Config) {
		return func(c *runningconfig.Config) {
			c.Interface("GigabitEthernet0/0").Address = netip.MustParsePrefix(g0)
			c.Interface("GigabitEthernet0/0").Shutdown = false
			c.Interface("GigabitEthernet0/1").Address = netip.MustParsePrefix(g1)
			c.Interface("GigabitEthernet0/1").Shutdown = shut1
		}
	}
	add := func(rs ...string) func(c *runningconfig.Config) {
		return func(c *runningconfig.Config) {
			for _, r := range rs {
				c.AddRoute(route(t, r))
			}
		}
	}
	del := func(rs ...string) func(c *runningconfig.Config) {
		return func(c *runningconfig.Config) {
			for _, r := range rs {
				if !c.DeleteRoute(route(t, r)) {
					t.Fatalf("no route %s", r)
				}
			}
		}
	}
	steps := []struct {
		name    string
		edit    func(c *runningconfig.Config)
		want    []string // besides the hand-added routes
		wantErr error    // reported through OnError
	}{
		{name: "ports", edit: ports("10.0.0.1/24", "192.0.2.1/24", false)},
		{
			name: "next hop on eth0",
			edit: add("10.9.0.0/16 10.0.0.2"),
			want: []string{"10.9.0.0/16 proto 84 metric 1 via 10.0.0.2 dev eth0"},
		},
		{
			name: "floating static on eth1",
			edit: add("10.9.0.0/16 192.0.2.7 250"),
			want: []string{
				"10.9.0.0/16 proto 84 metric 1 via 10.0.0.2 dev eth0",
				"10.9.0.0/16 proto 84 metric 250 via 192.0.2.7 dev eth1",
			},
		},
		{
			name: "equal distance is ECMP",
			edit: add("10.9.0.0/16 192.0.2.8"),
			want: []string{
				"10.9.0.0/16 proto 84 metric 1 nexthop via 10.0.0.2 dev eth0 nexthop via 192.0.2.8 dev eth1",
				"10.9.0.0/16 proto 84 metric 250 via 192.0.2.7 dev eth1",
			},
		},
		{
			name: "interface forms; unresolvable routes stay out",
			edit: add("0.0.0.0/0 GigabitEthernet0/1 198.51.100.1", "203.0.113.0/24 GigabitEthernet0/0",
				"198.18.0.0/15 8.8.8.8", "198.18.0.0/15 Null0", "198.18.0.0/15 Tunnel0", "198.18.0.0/15 192.0.2.1",
				"198.18.0.0/15 GigabitEthernet0/7"),
			want: []string{
				"10.9.0.0/16 proto 84 metric 1 nexthop via 10.0.0.2 dev eth0 nexthop via 192.0.2.8 dev eth1",
				"10.9.0.0/16 proto 84 metric 250 via 192.0.2.7 dev eth1",
				"203.0.113.0/24 proto 84 metric 1 scope link dev eth0",
				"default proto 84 metric 1 via 198.51.100.1 dev eth1 onlink",
			},
		},
		{
			name: "delete and change distance",
			edit: func(c *runningconfig.Config) {
				del("10.9.0.0/16 192.0.2.8")(c)
				add("203.0.113.0/24 GigabitEthernet0/0 20")(c)
			},
			want: []string{
				"10.9.0.0/16 proto 84 metric 1 via 10.0.0.2 dev eth0",
				"10.9.0.0/16 proto 84 metric 250 via 192.0.2.7 dev eth1",
				"203.0.113.0/24 proto 84 metric 20 scope link dev eth0",
				"default proto 84 metric 1 via 198.51.100.1 dev eth1 onlink",
			},
		},
		{
			name: "shutdown takes the routes out of the port",
			edit: ports("10.0.0.1/24", "192.0.2.1/24", true),
			want: []string{
				"10.9.0.0/16 proto 84 metric 1 via 10.0.0.2 dev eth0",
				"203.0.113.0/24 proto 84 metric 20 scope link dev eth0",
			},
		},
		{
			name: "no shutdown puts them back; new subnets move or drop next hops",
			edit: ports("10.1.0.1/24", "10.0.0.100/24", false),
			want: []string{
				"10.9.0.0/16 proto 84 metric 1 via 10.0.0.2 dev eth1",
				"203.0.113.0/24 proto 84 metric 20 scope link dev eth0",
				"default proto 84 metric 1 via 198.51.100.1 dev eth1 onlink",
			},
		},
		{
			name: "a route held by someone else is reported, not replaced",
			edit: add("10.99.0.0/16 GigabitEthernet0/0 5"),
			want: []string{
				"10.9.0.0/16 proto 84 metric 1 via 10.0.0.2 dev eth1",
				"203.0.113.0/24 proto 84 metric 20 scope link dev eth0",
				"default proto 84 metric 1 via 198.51.100.1 dev eth1 onlink",
			},
			wantErr: ErrRouteTaken,
		},
	}
	for _, st := range steps {
		commitErrs = nil
		if err := m.Apply(func(c *runningconfig.Config) error { st.edit(c); return nil }); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		want := slices.Sorted(slices.Values(append(slices.Clone(hand), st.want...)))
		if got := kernelRoutes(t, ns); !slices.Equal(got, want) {
			t.Errorf("%s: routes\n%s\nwant\n%s", st.name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		switch {
		case st.wantErr == nil && len(commitErrs) > 0:
			t.Errorf("%s: commit errors %v", st.name, commitErrs)
		case st.wantErr != nil && (len(commitErrs) != 1 || !errors.Is(commitErrs[0], st.wantErr)):
			t.Errorf("%s: commit errors %v, want %v", st.name, commitErrs, st.wantErr)
		}
	}

	// A new run starts without static routes: it removes what the previous one left, and only that.
	fresh, err := OpenAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if err := fresh.SyncRoutes(runningconfig.Default()); err != nil {
		t.Fatal(err)
	}
	if got := kernelRoutes(t, ns); !slices.Equal(got, hand) {
		t.Errorf("after a sync without routes:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(hand, "\n"))
	}
}
