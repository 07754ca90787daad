package netif

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
)

// RouteProtocol is the rtm_protocol of every route Links installs: the mark that tells the
// router's static routes from the others of the namespace (kernel, boot, DHCP, a routing
// daemon's or one added by hand), which are never changed or removed. 84 is assigned neither
// in linux/rtnetlink.h nor in iproute2's rt_protos, and lies outside FRR's 186-196 range;
// `ip route` shows it as "proto 84".
const RouteProtocol netlink.RouteProtocol = 84

// defaultDistance is the administrative distance of a static route without one.
const defaultDistance = 1

// routeKey is the identity of an IPv4 route in the main table: destination and priority.
type routeKey struct {
	dst    netip.Prefix
	metric int
}

// hop is one next hop of a kernel route.
type hop struct {
	link   int        // ifindex
	gw     netip.Addr // invalid for a directly attached route
	onlink bool       // gateway assumed on the link (`ip route P M INTERFACE NEXTHOP`)
}

func compareHops(a, b hop) int {
	if c := cmp.Compare(a.link, b.link); c != 0 {
		return c
	}
	if c := a.gw.Compare(b.gw); c != 0 {
		return c
	}
	switch {
	case a.onlink == b.onlink:
		return 0
	case a.onlink:
		return 1
	}
	return -1
}

// wantedRoutes resolves the static routes of c against the mapped links: a route naming a
// GigabitEthernet interface goes out of its link (to its next hop, taken as on-link, if any);
// a route with only a next hop goes out of the mapped link holding the longest IPv4 prefix
// that contains it. Routes that resolve to no mapped link (Null0, Tunnel, Loopback, a next hop
// on no port's subnet) are left out, as IOS leaves unresolvable static routes out of the
// routing table. Routes with the same prefix and distance form one multipath route (ECMP).
func wantedRoutes(c *runningconfig.Config, links []Link) map[routeKey][]hop {
	byName := make(map[string]Link, len(links))
	for _, k := range links {
		byName[k.IOSName] = k
	}
	want := make(map[routeKey][]hop)
	for _, r := range c.Routes {
		if !r.Prefix.IsValid() || !r.Prefix.Addr().Is4() {
			continue
		}
		var h hop
		switch {
		case r.Interface != "":
			k, ok := byName[r.Interface]
			if !ok {
				continue
			}
			h = hop{link: k.Index}
			if r.NextHop.IsValid() {
				h.gw, h.onlink = r.NextHop, true
			}
		case r.NextHop.Is4():
			idx, ok := connectedLink(links, r.NextHop)
			if !ok {
				continue
			}
			h = hop{link: idx, gw: r.NextHop}
		default:
			continue
		}
		d := r.Distance
		if d == 0 {
			d = defaultDistance
		}
		key := routeKey{dst: r.Prefix.Masked(), metric: d}
		if !slices.Contains(want[key], h) {
			want[key] = append(want[key], h)
		}
	}
	for _, hs := range want {
		slices.SortFunc(hs, compareHops)
	}
	return want
}

// connectedLink returns the index of the link whose IPv4 subnet holds a (longest match); the
// link's own addresses are not next hops.
func connectedLink(links []Link, a netip.Addr) (int, bool) {
	best, bits := 0, -1
	for _, k := range links {
		for _, p := range k.Addrs {
			if p.Addr() == a {
				return 0, false
			}
			if p.Contains(a) && p.Bits() > bits {
				best, bits = k.Index, p.Bits()
			}
		}
	}
	return best, bits >= 0
}

// installedRoutes lists the IPv4 routes of the main table that carry RouteProtocol.
func (l *Links) installedRoutes() (map[routeKey][]hop, map[routeKey]netlink.Route, error) {
	rs, err := l.h.RouteListFiltered(netlink.FAMILY_V4,
		&netlink.Route{Table: unix.RT_TABLE_MAIN, Protocol: RouteProtocol},
		netlink.RT_FILTER_TABLE|netlink.RT_FILTER_PROTOCOL)
	if err != nil {
		return nil, nil, fmt.Errorf("netif: list routes: %w", err)
	}
	have := make(map[routeKey][]hop, len(rs))
	raw := make(map[routeKey]netlink.Route, len(rs))
	for _, r := range rs {
		dst, ok := toPrefix(r.Dst)
		if r.Dst == nil {
			dst, ok = netip.PrefixFrom(netip.IPv4Unspecified(), 0), true
		}
		if !ok {
			continue
		}
		var hs []hop
		if len(r.MultiPath) > 0 {
			for _, nh := range r.MultiPath {
				hs = append(hs, toHop(nh.LinkIndex, nh.Gw, nh.Flags))
			}
		} else {
			hs = append(hs, toHop(r.LinkIndex, r.Gw, r.Flags))
		}
		slices.SortFunc(hs, compareHops)
		key := routeKey{dst: dst, metric: r.Priority}
		have[key], raw[key] = hs, r
	}
	return have, raw, nil
}

func toHop(link int, gw net.IP, flags int) hop {
	h := hop{link: link, onlink: flags&unix.RTNH_F_ONLINK != 0}
	if a, ok := netip.AddrFromSlice(gw.To4()); ok && gw != nil {
		h.gw = a
	}
	return h
}

// kernelRoute builds the main-table route for key and its next hops.
func kernelRoute(key routeKey, hs []hop) *netlink.Route {
	r := &netlink.Route{
		Dst:      &net.IPNet{IP: net.IP(key.dst.Addr().AsSlice()), Mask: net.CIDRMask(key.dst.Bits(), 32)},
		Priority: key.metric,
		Protocol: RouteProtocol,
		Table:    unix.RT_TABLE_MAIN,
		Type:     unix.RTN_UNICAST,
		Family:   netlink.FAMILY_V4,
		Scope:    netlink.SCOPE_LINK, // no gateway: directly attached
	}
	for _, h := range hs {
		if h.gw.IsValid() {
			r.Scope = netlink.SCOPE_UNIVERSE
		}
	}
	if len(hs) == 1 {
		h := hs[0]
		r.LinkIndex = h.link
		if h.gw.IsValid() {
			r.Gw = net.IP(h.gw.AsSlice())
		}
		if h.onlink {
			r.Flags = int(netlink.FLAG_ONLINK)
		}
		return r
	}
	for _, h := range hs {
		nh := &netlink.NexthopInfo{LinkIndex: h.link}
		if h.gw.IsValid() {
			nh.Gw = net.IP(h.gw.AsSlice())
		}
		if h.onlink {
			nh.Flags = int(netlink.FLAG_ONLINK)
		}
		r.MultiPath = append(r.MultiPath, nh)
	}
	return r
}

// unresolved reports the kernel's refusals of a next hop that is not usable now: the link is
// down (ENETDOWN) or the gateway is not reachable through it (ENETUNREACH). IOS keeps such a
// static route in the configuration and out of the routing table, without a message; it is
// installed by the next commit that finds it usable.
func unresolved(err error) bool {
	return errors.Is(err, unix.ENETDOWN) || errors.Is(err, unix.ENETUNREACH)
}

// SyncRoutes makes the namespace's main table hold exactly the static routes of c that
// resolve to a mapped link, as routes marked with RouteProtocol: it adds the missing ones,
// replaces those whose next hops changed and deletes the marked routes c no longer has (or
// that no longer resolve). The administrative distance is the route's priority (metric), so
// a floating static route backs up a lower-distance one as on IOS. Routes without the mark
// are never touched; a marked route cannot take the place of one of them (same destination
// and metric), which is reported. Commit calls it after applying the interfaces; call it
// once at boot to drop the marked routes a previous run left.
func (l *Links) SyncRoutes(c *runningconfig.Config) error {
	links, err := l.List()
	if err != nil {
		return err
	}
	want := wantedRoutes(c, links)
	have, raw, err := l.installedRoutes()
	if err != nil {
		return err
	}
	var errs []error
	for key := range have {
		if _, ok := want[key]; ok {
			continue
		}
		r := raw[key]
		if err := l.h.RouteDel(&r); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("netif: delete route %s metric %d: %w", key.dst, key.metric, err))
		}
	}
	keys := make([]routeKey, 0, len(want))
	for key := range want {
		keys = append(keys, key)
	}
	slices.SortFunc(keys, func(a, b routeKey) int {
		if c := a.dst.Addr().Compare(b.dst.Addr()); c != 0 {
			return c
		}
		if c := cmp.Compare(a.dst.Bits(), b.dst.Bits()); c != 0 {
			return c
		}
		return cmp.Compare(a.metric, b.metric)
	})
	for _, key := range keys {
		hs := want[key]
		cur, ok := have[key]
		if ok && slices.Equal(cur, hs) {
			continue
		}
		r := kernelRoute(key, hs)
		if ok {
			// The route at this destination and metric is ours: replace it in place.
			err = l.h.RouteReplace(r)
		} else {
			// Exclusive add: never overwrite a route this router did not install.
			err = l.h.RouteAdd(r)
		}
		switch {
		case err == nil:
		case unresolved(err):
			if ok { // the old next hops no longer apply either
				old := raw[key]
				if err := l.h.RouteDel(&old); err != nil && !errors.Is(err, unix.ESRCH) {
					errs = append(errs, fmt.Errorf("netif: delete route %s metric %d: %w", key.dst, key.metric, err))
				}
			}
		case errors.Is(err, unix.EEXIST):
			errs = append(errs, fmt.Errorf("%w: %s metric %d", ErrRouteTaken, key.dst, key.metric))
		default:
			errs = append(errs, fmt.Errorf("netif: add route %s metric %d: %w", key.dst, key.metric, err))
		}
	}
	return errors.Join(errs...)
}

// ErrRouteTaken is reported (wrapped) when a static route's destination and metric are held
// by a route this router did not install, which it leaves alone.
var ErrRouteTaken = errors.New("netif: route exists and is not a static route of this router")
