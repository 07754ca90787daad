package netif

import (
	"errors"
	"net/netip"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/tunnelbox/tunnelbox/lab"
	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
)

// newNetns creates an anonymous network namespace holding a veth pair eth0 <-> eth1 and returns
// a handle on it. The namespace disappears when the handle is closed (t.Cleanup).
func newNetns(t *testing.T) netns.NsHandle {
	t.Helper()
	lab.RequireRoot(t)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	ns, err := netns.New() // also switches this thread into it
	if err != nil {
		lab.Unavailable(t, "cannot create a network namespace: "+err.Error())
	}
	if err := netns.Set(orig); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })

	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "eth0"}, PeerName: "eth1"}
	if err := h.LinkAdd(veth); err != nil {
		lab.Unavailable(t, "cannot create a veth pair: "+err.Error())
	}
	other := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "veth0"}, PeerName: "eth1x"} // not ports: ignored
	if err := h.LinkAdd(other); err != nil {
		t.Fatal(err)
	}
	return ns
}

func TestLinksInNetns(t *testing.T) {
	ns := newNetns(t)
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
	if got := names(m.Running()); !slices.Equal(got, []string{"GigabitEthernet0/0", "GigabitEthernet0/1"}) {
		t.Fatalf("AddPorts gave %v", got)
	}

	// Configure both ports: addresses, secondaries, no shutdown.
	err = m.Apply(func(c *runningconfig.Config) error {
		g0 := c.Interface("GigabitEthernet0/0")
		g0.Address = netip.MustParsePrefix("10.0.0.1/24")
		g0.Shutdown = false
		g1 := c.Interface("GigabitEthernet0/1")
		g1.Address = netip.MustParsePrefix("192.0.2.1/24")
		g1.Secondary = []netip.Prefix{netip.MustParsePrefix("198.51.100.1/25"), netip.MustParsePrefix("192.0.2.200/24")}
		g1.Shutdown = false
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	state := list(t, links)
	want := map[string]Link{
		"GigabitEthernet0/0": {AdminUp: true, Addrs: prefixes("10.0.0.1/24")},
		"GigabitEthernet0/1": {AdminUp: true, Addrs: prefixes("192.0.2.1/24", "192.0.2.200/24", "198.51.100.1/25")},
	}
	check(t, state, want)
	// Within a subnet the IOS primary must be the kernel primary.
	if sec := kernelSecondaries(t, ns, "eth1"); !slices.Equal(sec, prefixes("192.0.2.200/24")) {
		t.Errorf("kernel secondaries on eth1 = %v, want [192.0.2.200/24]", sec)
	}
	// Both ends of the veth are up, so the carrier comes up (the kernel reports it
	// asynchronously: wait for the state, this is not a timing assertion).
	if s := waitFor(t, links, "GigabitEthernet0/1", true); s.Status() != "up" || s.Protocol() != "up" {
		t.Errorf("Gi0/1 status %s/%s, want up/up", s.Status(), s.Protocol())
	}

	// Change the primary, drop a secondary, shut Gi0/0, remove Gi0/0's address.
	err = m.Apply(func(c *runningconfig.Config) error {
		g0 := c.Interface("GigabitEthernet0/0")
		g0.Address = netip.Prefix{}
		g0.Shutdown = true
		g1 := c.Interface("GigabitEthernet0/1")
		g1.Address = netip.MustParsePrefix("192.0.2.2/24")
		g1.Secondary = []netip.Prefix{netip.MustParsePrefix("198.51.100.1/25")}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	state = list(t, links)
	check(t, state, map[string]Link{
		"GigabitEthernet0/0": {AdminUp: false},
		"GigabitEthernet0/1": {AdminUp: true, Addrs: prefixes("192.0.2.2/24", "198.51.100.1/25")},
	})
	if s := state["GigabitEthernet0/0"]; s.Status() != "administratively down" || s.Protocol() != "down" {
		t.Errorf("Gi0/0 status %s/%s", s.Status(), s.Protocol())
	}
	if s := waitFor(t, links, "GigabitEthernet0/1", false); s.Status() != "down" || s.Protocol() != "down" {
		t.Errorf("Gi0/1 status %s/%s with its peer shut down, want down/down", s.Status(), s.Protocol())
	}

	// A port without a Linux link is refused before anything changes.
	before := m.Running()
	err = m.Apply(func(c *runningconfig.Config) error {
		c.EnsureInterface("GigabitEthernet0/5").Shutdown = false
		return nil
	})
	if !errors.Is(err, ErrNoLink) || m.Running() != before {
		t.Fatalf("Apply on a missing link = %v", err)
	}
	// Logical interfaces are not this package's business.
	if err := m.Apply(func(c *runningconfig.Config) error {
		c.EnsureInterface("Loopback0").Address = netip.MustParsePrefix("1.1.1.1/32")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(commitErrs) != 0 {
		t.Fatalf("commit errors: %v", commitErrs)
	}
}

// waitFor polls until the link's operational state is operUp (at most 10 s).
func waitFor(t *testing.T, l *Links, name string, operUp bool) Link {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		k := list(t, l)[name]
		if k.OperUp == operUp || time.Now().After(deadline) {
			return k
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func names(c *runningconfig.Config) []string {
	var out []string
	for _, f := range c.Interfaces {
		out = append(out, f.Name)
	}
	return out
}

func prefixes(s ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range s {
		out = append(out, netip.MustParsePrefix(p))
	}
	return out
}

func list(t *testing.T, l *Links) map[string]Link {
	t.Helper()
	ls, err := l.List()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]Link)
	var order []string
	for _, k := range ls {
		out[k.IOSName] = k
		order = append(order, k.IOSName)
	}
	if !slices.Equal(order, []string{"GigabitEthernet0/0", "GigabitEthernet0/1"}) {
		t.Fatalf("List order %v (lo, veth0, eth1x must be left out)", order)
	}
	return out
}

func check(t *testing.T, got map[string]Link, want map[string]Link) {
	t.Helper()
	for name, w := range want {
		g := got[name]
		if g.AdminUp != w.AdminUp {
			t.Errorf("%s admin up = %v, want %v", name, g.AdminUp, w.AdminUp)
		}
		if !slices.Equal(sorted(g.Addrs), sorted(w.Addrs)) {
			t.Errorf("%s addresses %v, want %v", name, g.Addrs, w.Addrs)
		}
		if l, _ := LinuxName(name); g.LinuxName != l {
			t.Errorf("%s linux name %q", name, g.LinuxName)
		}
	}
}

func sorted(p []netip.Prefix) []netip.Prefix {
	return slices.SortedFunc(slices.Values(p), func(a, b netip.Prefix) int { return a.Addr().Compare(b.Addr()) })
}

// kernelSecondaries lists the addresses the kernel flags IFA_F_SECONDARY on link name.
func kernelSecondaries(t *testing.T, ns netns.NsHandle, name string) []netip.Prefix {
	t.Helper()
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	link, err := h.LinkByName(name)
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := h.AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	var out []netip.Prefix
	for _, a := range addrs {
		if a.Flags&unix.IFA_F_SECONDARY != 0 {
			p, _ := toPrefix(a.IPNet)
			out = append(out, p)
		}
	}
	return out
}
