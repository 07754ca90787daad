package lab

import (
	"fmt"
	"net/netip"
	"testing"
)

// Interface names used by the standard topologies.
const (
	// A gateway's links are named as a Tunnelbox router's ports: ethN is GigabitEthernet0/N.
	OuterDev = "eth0" // a gateway's outer (WAN) interface, GigabitEthernet0/0
	InnerDev = "eth1" // a gateway's inner (LAN) interface, GigabitEthernet0/1
	HostDev  = "eth0" // a protected host's only interface
)

// Site is one gateway with one protected host behind it.
type Site struct {
	Gw, Host *Netns
	Outer    netip.Addr   // the gateway's outer address (on OuterDev)
	Inner    netip.Addr   // the gateway's LAN address (on InnerDev), LAN.Addr()+1
	HostAddr netip.Addr   // the host's address (on HostDev), LAN.Addr()+10
	LAN      netip.Prefix // the protected network
	OuterNet netip.Prefix // the outer segment
}

// FourNode is the standard site-to-site topology:
//
//	hostL 10.1.1.10 -- 10.1.1.1 gwL 192.0.2.1 == 192.0.2.2 gwR 10.2.2.1 -- 10.2.2.10 hostR
type FourNode struct {
	L, R Site
}

// FourNodeOptions parameterises NewFourNode; zero fields take the defaults shown.
type FourNodeOptions struct {
	LeftLAN  netip.Prefix // 10.1.1.0/24
	RightLAN netip.Prefix // 10.2.2.0/24
	OuterNet netip.Prefix // 192.0.2.0/24; gwL takes .1, gwR .2
	// RouteLANs adds plain routes between the gateways (each LAN via the other gateway's outer
	// address), for a cleartext baseline. Off by default: an IPsec peer installs its own.
	RouteLANs bool
}

func (o *FourNodeOptions) withDefaults() FourNodeOptions {
	var r FourNodeOptions
	if o != nil {
		r = *o
	}
	if !r.LeftLAN.IsValid() {
		r.LeftLAN = netip.MustParsePrefix("10.1.1.0/24")
	}
	if !r.RightLAN.IsValid() {
		r.RightLAN = netip.MustParsePrefix("10.2.2.0/24")
	}
	if !r.OuterNet.IsValid() {
		r.OuterNet = netip.MustParsePrefix("192.0.2.0/24")
	}
	return r
}

// NewFourNode builds the four-namespace site-to-site topology (opts may be nil). Gateways
// forward (net.ipv4.ip_forward=1); hosts route only the other LAN via their gateway.
func NewFourNode(t testing.TB, opts *FourNodeOptions) *FourNode {
	t.Helper()
	o := opts.withDefaults()
	f := &FourNode{}
	var err error
	if f.L, err = newSite(t, "L", o.LeftLAN, o.OuterNet, 1); err != nil {
		t.Fatal(err)
	}
	if f.R, err = newSite(t, "R", o.RightLAN, o.OuterNet, 2); err != nil {
		t.Fatal(err)
	}
	if err := linkOuter(f.L, f.R); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.L.Host.AddRoute(f.R.LAN, f.L.Inner))
	must(f.R.Host.AddRoute(f.L.LAN, f.R.Inner))
	if o.RouteLANs {
		must(f.L.Gw.AddRoute(f.R.LAN, f.R.Outer))
		must(f.R.Gw.AddRoute(f.L.LAN, f.L.Outer))
	}
	return f
}

// linkOuter joins two gateways' outer interfaces back to back.
func linkOuter(a, b Site) error {
	if err := Veth(a.Gw, OuterDev, b.Gw, OuterDev); err != nil {
		return err
	}
	if err := a.Gw.AddAddr(OuterDev, netip.PrefixFrom(a.Outer, a.OuterNet.Bits())); err != nil {
		return err
	}
	return b.Gw.AddAddr(OuterDev, netip.PrefixFrom(b.Outer, b.OuterNet.Bits()))
}

// newSite creates gw<suffix> and host<suffix>, the LAN veth between them and their addresses,
// and enables forwarding on the gateway. The outer interface is left to the caller.
func newSite(t testing.TB, suffix string, lan, outer netip.Prefix, outerHost int) (Site, error) {
	s := Site{LAN: lan.Masked(), OuterNet: outer.Masked()}
	var err error
	if s.Inner, err = hostAddr(s.LAN, 1); err != nil {
		return s, err
	}
	if s.HostAddr, err = hostAddr(s.LAN, 10); err != nil {
		return s, err
	}
	if s.Outer, err = hostAddr(s.OuterNet, outerHost); err != nil {
		return s, err
	}
	s.Gw = NewNetns(t, "gw"+suffix)
	s.Host = NewNetns(t, "host"+suffix)
	if err := Veth(s.Gw, InnerDev, s.Host, HostDev); err != nil {
		return s, err
	}
	if err := s.Gw.AddAddr(InnerDev, netip.PrefixFrom(s.Inner, s.LAN.Bits())); err != nil {
		return s, err
	}
	if err := s.Host.AddAddr(HostDev, netip.PrefixFrom(s.HostAddr, s.LAN.Bits())); err != nil {
		return s, err
	}
	return s, s.Gw.Sysctl("net.ipv4.ip_forward", "1")
}

// hostAddr returns the n-th address of an IPv4 prefix, refusing the network and broadcast
// addresses and anything outside it.
func hostAddr(p netip.Prefix, n int) (netip.Addr, error) {
	if !p.Addr().Is4() || p.Bits() > 30 {
		return netip.Addr{}, fmt.Errorf("lab: %s is not an IPv4 prefix with room for hosts", p)
	}
	size := uint32(1) << (32 - p.Bits())
	if n <= 0 || uint32(n) >= size-1 {
		return netip.Addr{}, fmt.Errorf("lab: host %d does not fit in %s", n, p)
	}
	b := p.Masked().Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += uint32(n)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), nil
}

// HubSpoke is a hub site and N spoke sites whose gateways share one switched outer segment
// (bridge br0 in the namespace Switch). Hosts route every other site's LAN via their gateway.
type HubSpoke struct {
	Hub    Site
	Spokes []Site
	Switch *Netns
}

// HubSpokeOptions parameterises NewHubSpoke; zero fields take the defaults shown.
type HubSpokeOptions struct {
	Spokes    int            // number of spokes, 2 (ignored when SpokeLANs is set)
	HubLAN    netip.Prefix   // 10.0.0.0/24
	SpokeLANs []netip.Prefix // spoke k (1-based): 10.k.k.0/24
	OuterNet  netip.Prefix   // 192.0.2.0/24; the hub takes .1, spoke k takes .(1+k)
	// RouteLANs adds plain routes on every gateway to every other LAN via that site's gateway,
	// for a cleartext baseline. Off by default.
	RouteLANs bool
}

// NewHubSpoke builds a hub with spokes (opts may be nil). Namespaces are gwHub/hostHub and
// gwS<k>/hostS<k>; each gateway's OuterDev is plugged into the bridge in Switch.
func NewHubSpoke(t testing.TB, opts *HubSpokeOptions) *HubSpoke {
	t.Helper()
	var o HubSpokeOptions
	if opts != nil {
		o = *opts
	}
	if !o.HubLAN.IsValid() {
		o.HubLAN = netip.MustParsePrefix("10.0.0.0/24")
	}
	if !o.OuterNet.IsValid() {
		o.OuterNet = netip.MustParsePrefix("192.0.2.0/24")
	}
	if o.SpokeLANs == nil {
		if o.Spokes == 0 {
			o.Spokes = 2
		}
		if o.Spokes < 1 || o.Spokes > 200 {
			t.Fatalf("lab: hub-spoke: %d spokes (1..200)", o.Spokes)
		}
		for k := 1; k <= o.Spokes; k++ {
			o.SpokeLANs = append(o.SpokeLANs, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(k), byte(k), 0}), 24))
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	h := &HubSpoke{Switch: NewNetns(t, "switch")}
	if _, err := h.Switch.Run("ip", "link", "add", "br0", "type", "bridge"); err != nil {
		t.Fatal(err)
	}
	must(h.Switch.LinkUp("br0"))
	plug := func(s Site, port string) {
		t.Helper()
		must(Veth(s.Gw, OuterDev, h.Switch, port))
		_, err := h.Switch.Run("ip", "link", "set", port, "master", "br0")
		must(err)
		must(s.Gw.AddAddr(OuterDev, netip.PrefixFrom(s.Outer, s.OuterNet.Bits())))
	}
	var err error
	h.Hub, err = newSite(t, "Hub", o.HubLAN, o.OuterNet, 1)
	must(err)
	plug(h.Hub, "p0")
	for i, lan := range o.SpokeLANs {
		s, err := newSite(t, fmt.Sprintf("S%d", i+1), lan, o.OuterNet, 2+i)
		must(err)
		plug(s, fmt.Sprintf("p%d", i+1))
		h.Spokes = append(h.Spokes, s)
	}
	all := append([]Site{h.Hub}, h.Spokes...)
	for _, a := range all {
		for _, b := range all {
			if a.LAN != b.LAN {
				must(a.Host.AddRoute(b.LAN, a.Inner))
				if o.RouteLANs {
					must(a.Gw.AddRoute(b.LAN, b.Outer))
				}
			}
		}
	}
	return h
}
