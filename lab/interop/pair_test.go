package interop

import (
	"bytes"
	"net/netip"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/tunnelbox/tunnelbox/lab"
)

var (
	lanL   = netip.MustParsePrefix("10.1.1.0/24")
	lanR   = netip.MustParsePrefix("10.2.2.0/24")
	outerL = netip.MustParseAddr("192.0.2.1")
	outerR = netip.MustParseAddr("192.0.2.2")
	psk    = "tunnelbox-lab-psk"
)

// fourNode is hostL -- gwL ==eth0== gwR -- hostR with the gateways' eth0 back to back. The
// gateways' links carry no address until their router (or charonAddrs) puts them there.
func fourNode(t *testing.T) (l, r Site) {
	t.Helper()
	l, r = newSite(t, "L", lanL, outerL), newSite(t, "R", lanR, outerR)
	must(t, lab.Veth(l.Gw, "eth0", r.Gw, "eth0"))
	must(t, l.Host.AddRoute(lanR, l.Inner))
	must(t, r.Host.AddRoute(lanL, r.Inner))
	return l, r
}

// siteConfig is a gateway of the four-node topology with one crypto map entry to the other.
func siteConfig(name string, s, peer Site, pfs int) *GatewayConfig {
	return &GatewayConfig{
		Hostname: name, Outer: netip.PrefixFrom(s.Outer, 24), Inner: netip.PrefixFrom(s.Inner, 24),
		PSKs:    map[netip.Addr]string{peer.Outer: psk},
		Entries: []MapEntry{{Seq: 10, Peer: peer.Outer, ACLNum: 101, PFS: pfs, Pairs: [][2]netip.Prefix{{s.LAN, peer.LAN}}}},
	}
}

var (
	encapsRE = regexp.MustCompile(`#pkts encaps: (\d+)`)
	decapsRE = regexp.MustCompile(`#pkts decaps: (\d+)`)
)

// ipsecCounters reads encaps and decaps of the router's (only) IPsec SA pair from `show crypto
// ipsec sa`.
func ipsecCounters(t *testing.T, r *Router) (encaps, decaps int) {
	t.Helper()
	out := r.MustExec(t, "show crypto ipsec sa")
	e, d := encapsRE.FindAllStringSubmatch(out, -1), decapsRE.FindAllStringSubmatch(out, -1)
	if len(e) != 1 || len(d) != 1 {
		t.Fatalf("%s: want one SA pair in show crypto ipsec sa:\n%s", r.Name, out)
	}
	encaps, _ = strconv.Atoi(e[0][1])
	decaps, _ = strconv.Atoi(d[0][1])
	return encaps, decaps
}

// TestTunnelboxPair is Tunnelbox <-> Tunnelbox, both configured only through their consoles:
// a ping from hostL to hostR triggers Main Mode + Quick Mode (PFS 14) and then passes; the
// router's own ping from its LAN interface passes; `show crypto ipsec sa` counts exactly the
// packets of a measured ping run on both sides; both sides derived the same ESP keys per SPI;
// and the outer link carried only ISAKMP and ESP in UDP between the gateways, none of it
// malformed and no cleartext ICMP.
func TestTunnelboxPair(t *testing.T) {
	requireLab(t)
	lab.RequireTshark(t)
	start := time.Now()
	l, r := fourNode(t)
	capL, err := lab.StartCapture(t, l.Gw, "eth0", "", "ip")
	if err != nil {
		t.Fatal(err)
	}
	lab.KeepArtifacts(t, capL.Path)
	gwL, gwR := StartRouter(t, l.Gw, "gwL"), StartRouter(t, r.Gw, "gwR")
	gwL.MustExec(t, siteConfig("gwL", l, r, 14).Lines()...)
	gwR.MustExec(t, siteConfig("gwR", r, l, 14).Lines()...)
	ready := time.Since(start)

	// The first packets start the negotiation (IOS drops them meanwhile); then all pass.
	if n := hostPing(t, l.Host, r.HostAddr, 5); n < 2 {
		t.Fatalf("hostL -> hostR: %d of 5 replies while the tunnel comes up", n)
	}
	up := time.Since(start)
	if n := hostPing(t, l.Host, r.HostAddr, 5); n != 5 {
		t.Errorf("hostL -> hostR through the tunnel: %d of 5 replies", n)
	}
	out := gwL.Exec(t, "ping "+r.HostAddr.String()+" source GigabitEthernet0/1")
	if ok, sent := pingResult(t, out); ok != sent {
		t.Errorf("router ping from its LAN interface:\n%s", out)
	}

	// Counters: a measured run of 10 echoes is 10 packets each way on each side.
	le0, ld0 := ipsecCounters(t, gwL)
	re0, rd0 := ipsecCounters(t, gwR)
	if n := hostPing(t, l.Host, r.HostAddr, 10); n != 10 {
		t.Fatalf("measured run: %d of 10 replies", n)
	}
	le1, ld1 := ipsecCounters(t, gwL)
	re1, rd1 := ipsecCounters(t, gwR)
	if le1-le0 != 10 || ld1-ld0 != 10 || re1-re0 != 10 || rd1-rd0 != 10 {
		t.Errorf("counters after 10 echoes: gwL encaps +%d decaps +%d, gwR encaps +%d decaps +%d; want +10 each",
			le1-le0, ld1-ld0, re1-re0, rd1-rd0)
	}

	// Both sides derived the same keys for each SPI, in opposite directions.
	kl, kr := gwL.Keys(t), gwR.Keys(t)
	if len(kl) != 2 || len(kr) != 2 {
		t.Fatalf("key logs: gwL %d SAs, gwR %d SAs; want 2 each", len(kl), len(kr))
	}
	for spi, a := range kl {
		b, ok := kr[spi]
		if !ok || a.In == b.In || a.Src != b.Src || a.Dst != b.Dst || !bytes.Equal(a.Enc, b.Enc) || !bytes.Equal(a.Auth, b.Auth) ||
			len(a.Enc) != 16 || len(a.Auth) != 20 || a.Transform != "esp-aes,esp-sha-hmac" {
			t.Errorf("SPI %08x: gwL %+v gwR %+v", spi, a, b)
		}
	}

	if err := capL.Stop(); err != nil {
		t.Fatal(err)
	}
	pkts, err := lab.Dissect(capL.Path)
	if err != nil {
		t.Fatal(err)
	}
	checkOuter(t, pkts, outerL, outerR, 20)
	t.Logf("timing: topology+routers+config %v, tunnel up and first ping done at %v, all checks at %v (%d frames)",
		ready.Round(time.Millisecond), up.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), len(pkts))
}

// checkOuter asserts that the outer link carried only IKE (UDP 500, or 4500 with the marker)
// and ESP in UDP 4500 between the two gateways, at least minESP ESP frames, nothing malformed.
func checkOuter(t *testing.T, pkts []lab.Packet, a, b netip.Addr, minESP int) {
	t.Helper()
	esp, ike := 0, 0
	for _, p := range pkts {
		between := (p.Src == a.String() && p.Dst == b.String()) || (p.Src == b.String() && p.Dst == a.String())
		switch {
		case !p.Has("ip"):
			continue // ARP, IPv6 neighbour discovery
		case !between:
			t.Errorf("frame %d %s > %s %v: not between the gateways", p.Number, p.Src, p.Dst, p.Protocols)
		case p.Has("udpencap") && p.Has("esp") && !p.Has("icmp"):
			esp++
		case p.Has("isakmp") && !p.Has("esp"):
			ike++
		default:
			t.Errorf("frame %d %s > %s %v %q: neither ISAKMP nor ESP in UDP", p.Number, p.Src, p.Dst, p.Protocols, p.Info)
		}
		if p.Bad() {
			t.Errorf("frame %d %v %q: malformed=%v expert=%+v", p.Number, p.Protocols, p.Info, p.Malformed, p.Expert)
		}
	}
	if esp < minESP || ike < 3 {
		t.Errorf("outer link: %d ESP-in-UDP frames (want >= %d), %d ISAKMP frames (want >= 3)", esp, minESP, ike)
	}
}
