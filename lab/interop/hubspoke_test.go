package interop

import (
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tunnelbox/tunnelbox/lab"
)

// TestHubAndSpoke is the seed's hub-and-spoke case with three Tunnelbox routers on one switched
// outer segment. The hub's entry for spoke 1 uses one ACL that lists both spokes' networks;
// spoke 1 mirrors only its own line. Entry 10 (spoke 2) comes first, so traffic to spoke 2's
// network goes to spoke 2 (IOS uses the first entry whose ACL matches). The hub reaches both
// spokes' networks, spoke-to-hub traffic works, and when the hub negotiates entry 20 in full,
// spoke 1 refuses the unmatched line (proxy identities not supported) while every tunnel keeps
// working.
func TestHubAndSpoke(t *testing.T) {
	requireLab(t)
	start := time.Now()
	h := lab.NewHubSpoke(t, nil)
	hub, s1, s2 := h.Hub, h.Spokes[0], h.Spokes[1]
	cfg := func(name string, s lab.Site, entries []MapEntry, peers ...lab.Site) *GatewayConfig {
		g := &GatewayConfig{Hostname: name, Outer: netip.PrefixFrom(s.Outer, 24), Inner: netip.PrefixFrom(s.Inner, s.LAN.Bits()),
			PSKs: map[netip.Addr]string{}, Entries: entries}
		for _, p := range peers {
			g.PSKs[p.Outer] = psk
		}
		return g
	}
	hubCfg := cfg("hub", hub, []MapEntry{
		{Seq: 10, Peer: s2.Outer, ACLNum: 102, PFS: 14, Pairs: [][2]netip.Prefix{{hub.LAN, s2.LAN}}},
		{Seq: 20, Peer: s1.Outer, ACLNum: 101, PFS: 14, Pairs: [][2]netip.Prefix{{hub.LAN, s1.LAN}, {hub.LAN, s2.LAN}}},
	}, s1, s2)
	spoke := func(name string, s lab.Site) *GatewayConfig {
		return cfg(name, s, []MapEntry{{Seq: 10, Peer: hub.Outer, ACLNum: 101, PFS: 14, Pairs: [][2]netip.Prefix{{s.LAN, hub.LAN}}}}, hub)
	}
	rh, r1, r2 := StartRouter(t, hub.Gw, "hub"), StartRouter(t, s1.Gw, "spoke1"), StartRouter(t, s2.Gw, "spoke2")
	rh.MustExec(t, hubCfg.Lines()...)
	r1.MustExec(t, spoke("spoke1", s1).Lines()...)
	r2.MustExec(t, spoke("spoke2", s2).Lines()...)
	r1.MustExec(t, "debug crypto ipsec")

	// Hub to both spokes (traffic triggers each tunnel), then spoke 1 to the hub.
	for _, s := range []lab.Site{s1, s2} {
		hostPing(t, hub.Host, s.HostAddr, 3)
		if n := hostPing(t, hub.Host, s.HostAddr, 5); n != 5 {
			t.Errorf("hub LAN -> %s: %d of 5 replies", s.LAN, n)
		}
	}
	if n := hostPing(t, s1.Host, hub.HostAddr, 5); n != 5 {
		t.Errorf("spoke 1 LAN -> hub LAN: %d of 5 replies", n)
	}
	up := time.Since(start)

	// Negotiate entry 20 in full: its second line (hub <-> spoke 2's LAN) has no mirror on spoke 1.
	rh.MustExec(t, "crypto map CMAP 20 initiate")
	deadline := time.Now().Add(15 * time.Second)
	// (A console on a pipe shows queued debug lines when its next input line is read: poke it.)
	for r1.Exec(t); !strings.Contains(r1.Output(), "proxy identities not supported"); r1.Exec(t) {
		if time.Now().After(deadline) {
			t.Fatal("spoke 1 never refused the unmatched proxy identities")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The rest is unharmed: both tunnels still carry traffic, and the hub holds exactly one SA
	// pair per spoke (the refused line installed nothing).
	for _, s := range []lab.Site{s1, s2} {
		if n := hostPing(t, hub.Host, s.HostAddr, 3); n != 3 {
			t.Errorf("after the refusal, hub LAN -> %s: %d of 3 replies", s.LAN, n)
		}
	}
	show := rh.MustExec(t, "show crypto ipsec sa")
	// `show crypto ipsec sa` lists every ACL line of the map; lines without SAs have SPI 0.
	got := map[string]int{}
	for _, blk := range strings.Split(show, "current_peer ")[1:] {
		if m := regexp.MustCompile(`(?s)^(\S+) port.*?current outbound spi: (0x[0-9A-F]+)`).FindStringSubmatch(blk); m != nil && m[2] != "0x0" {
			got[m[1]]++
		}
	}
	if len(got) != 2 || got[s1.Outer.String()] != 1 || got[s2.Outer.String()] != 1 {
		t.Errorf("hub SA pairs by peer %v, want one with each spoke:\n%s", got, show)
	}
	t.Logf("timing: tunnels up and pinged at %v, refusal checked at %v", up.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}
