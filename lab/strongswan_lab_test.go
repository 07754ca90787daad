package lab

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// tunnelCase is one strongSwan <-> strongSwan scenario over the four-node topology.
type tunnelCase struct {
	name       string
	aggressive bool
	pfs        string // "" for none
	ikeDH      string // expected dh-group of the IKE SA
	childDH    string // expected dh-group of the CHILD SA ("" without PFS)
}

var tunnelCases = []tunnelCase{
	// The reference interop case: IKEv1 Main Mode aes256-sha256-modp2048, ESP aes256-sha1, PFS 14.
	{name: "MainModePFS14", pfs: "modp2048", ikeDH: "MODP_2048", childDH: "MODP_2048"},
	{name: "AggressiveNoPFS", aggressive: true, ikeDH: "MODP_2048"},
}

// TestStrongSwanTunnel proves the harness end to end: two charons (one per gateway namespace)
// bring up an IKEv1 tunnel, hostL pings hostR through it (kernel-libipsec, ESP in UDP 4500),
// both sides' SA lists and key logs agree, and tshark finds ISAKMP and ESP-in-UDP on the outer
// link with no malformed packets, also when decrypting with the logged keys.
func TestStrongSwanTunnel(t *testing.T) {
	RequireShort(t)
	RequireStrongSwan(t)
	RequireTshark(t)
	RequireCommands(t, "ping")
	for _, tc := range tunnelCases {
		t.Run(tc.name, func(t *testing.T) { runTunnel(t, tc) })
	}
}

func runTunnel(t *testing.T, tc tunnelCase) {
	start := time.Now()
	f := NewFourNode(t, nil)
	capL, err := StartCapture(t, f.L.Gw, OuterDev, "", "udp")
	if err != nil {
		t.Fatal(err)
	}
	settings := &CharonSettings{KeyLog: true, AggressivePSK: tc.aggressive, RetransmitTimeout: time.Second}
	left, err := StartCharon(t, f.L.Gw, settings)
	if err != nil {
		t.Fatal(err)
	}
	right, err := StartCharon(t, f.R.Gw, settings)
	if err != nil {
		t.Fatal(err)
	}
	KeepArtifacts(t, capL.Path, left.LogPath(), right.LogPath())
	base := PeerConfig{
		Aggressive:     tc.aggressive,
		PSK:            "tunnelbox-lab-psk",
		IKEProposal:    "aes256-sha256-modp2048",
		ESPProposal:    "aes256-sha1",
		PFSGroup:       tc.pfs,
		IKEReauthTime:  4 * time.Hour,
		ChildRekeyTime: 50 * time.Minute,
		ChildLifeTime:  time.Hour,
	}
	lc, rc := base, base
	lc.LocalAddr, lc.RemoteAddr = f.L.Outer, f.R.Outer
	lc.LocalTS, lc.RemoteTS = []netip.Prefix{f.L.LAN}, []netip.Prefix{f.R.LAN}
	rc.LocalAddr, rc.RemoteAddr = f.R.Outer, f.L.Outer
	rc.LocalTS, rc.RemoteTS = []netip.Prefix{f.R.LAN}, []netip.Prefix{f.L.LAN}
	if err := left.Load(&lc); err != nil {
		t.Fatal(err)
	}
	if err := right.Load(&rc); err != nil {
		t.Fatal(err)
	}
	ready := time.Since(start)
	if err := left.Initiate("net", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := right.WaitInstalled("net", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	up := time.Since(start)

	// Traffic through the tunnel.
	if out, err := f.L.Host.Run("ping", "-c", "3", "-i", "0.2", "-W", "2", f.R.HostAddr.String()); err != nil {
		t.Fatalf("ping through the tunnel: %v\n%s", err, out)
	}

	// Both sides list one IKE SA with one CHILD SA, and agree.
	ls, err := left.ListSAs()
	if err != nil {
		t.Fatal(err)
	}
	rs, err := right.ListSAs()
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 1 || len(rs) != 1 || len(ls[0].Children) != 1 || len(rs[0].Children) != 1 {
		t.Fatalf("want one IKE SA with one child on each side, got\nleft  %+v\nright %+v", ls, rs)
	}
	l, r := ls[0], rs[0]
	lch, rch := l.Child("net"), r.Child("net")
	if lch == nil || rch == nil {
		t.Fatalf("child net missing: %+v %+v", l.Children, r.Children)
	}
	for _, sa := range []IKESA{l, r} {
		if sa.State != "ESTABLISHED" || sa.Version != 1 || sa.EncrAlg != "AES_CBC" || sa.EncrKeySize != 256 ||
			sa.IntegAlg != "HMAC_SHA2_256_128" || sa.PRFAlg != "PRF_HMAC_SHA2_256" || sa.DHGroup != tc.ikeDH {
			t.Errorf("IKE SA %+v: want ESTABLISHED IKEv1 AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/%s", sa, tc.ikeDH)
		}
		if sa.LocalPort != 4500 || sa.RemotePort != 4500 {
			t.Errorf("IKE SA on ports %d/%d, want 4500 (kernel-libipsec fakes NAT)", sa.LocalPort, sa.RemotePort)
		}
		ch := sa.Children[0]
		if ch.State != "INSTALLED" || ch.Mode != "TUNNEL" || ch.Protocol != "ESP" || !ch.Encap ||
			ch.EncrAlg != "AES_CBC" || ch.EncrKeySize != 256 || ch.IntegAlg != "HMAC_SHA1_96" || ch.DHGroup != tc.childDH {
			t.Errorf("CHILD SA %+v: want INSTALLED TUNNEL ESP-in-UDP AES_CBC-256/HMAC_SHA1_96/%q", ch, tc.childDH)
		}
		if ch.LifeIn <= 0 || ch.LifeIn > time.Hour || ch.RekeyIn <= 0 || ch.RekeyIn > 50*time.Minute {
			t.Errorf("CHILD SA lifetimes rekey in %v, expire in %v; want within the configured 50m/1h", ch.RekeyIn, ch.LifeIn)
		}
	}
	if !l.Initiator || r.Initiator {
		t.Errorf("initiator flags left=%v right=%v, want true/false", l.Initiator, r.Initiator)
	}
	if l.InitiatorSPI != r.InitiatorSPI || l.ResponderSPI != r.ResponderSPI || l.InitiatorSPI == 0 || l.ResponderSPI == 0 {
		t.Errorf("ISAKMP cookies disagree: left %016x/%016x right %016x/%016x", l.InitiatorSPI, l.ResponderSPI, r.InitiatorSPI, r.ResponderSPI)
	}
	if lch.SPIIn != rch.SPIOut || lch.SPIOut != rch.SPIIn || lch.SPIIn == 0 || lch.SPIOut == 0 {
		t.Errorf("ESP SPIs disagree: left in %08x out %08x, right in %08x out %08x", lch.SPIIn, lch.SPIOut, rch.SPIIn, rch.SPIOut)
	}
	if lch.PacketsOut < 3 || rch.PacketsIn < 3 || rch.PacketsOut < 3 || lch.PacketsIn < 3 {
		t.Errorf("ESP packet counters left out/in %d/%d right in/out %d/%d, want >= 3 each",
			lch.PacketsOut, lch.PacketsIn, rch.PacketsIn, rch.PacketsOut)
	}

	// The key logs parse and both peers derived the same keys.
	lk, err := left.KeyLog()
	if err != nil {
		t.Fatal(err)
	}
	rk, err := right.KeyLog()
	if err != nil {
		t.Fatal(err)
	}
	li, ri := lk.IKEByID(l.UniqueID), rk.IKEByID(r.UniqueID)
	if li == nil || ri == nil {
		t.Fatalf("phase-1 keys missing: left %+v right %+v", lk.IKE, rk.IKE)
	}
	for _, k := range []struct {
		name string
		a, b []byte
		n    int
	}{
		{"g^xy", li.DH, ri.DH, 256},
		{"SKEYID", li.SKEYID, ri.SKEYID, 32},
		{"SKEYID_d", li.SKEYIDd, ri.SKEYIDd, 32},
		{"SKEYID_a", li.SKEYIDa, ri.SKEYIDa, 32},
		{"SKEYID_e", li.SKEYIDe, ri.SKEYIDe, 32},
		{"Ka", li.EncKey, ri.EncKey, 32},
	} {
		if len(k.a) != k.n || !bytes.Equal(k.a, k.b) {
			t.Errorf("%s: left %x right %x, want equal, %d bytes", k.name, k.a, k.b, k.n)
		}
	}
	if li.Conn != "lab" || ri.Conn != "lab" {
		t.Errorf("key log connection names %q/%q, want lab", li.Conn, ri.Conn)
	}
	for _, spi := range []uint32{lch.SPIIn, lch.SPIOut} {
		a, b := lk.ESP(spi), rk.ESP(spi)
		if a == nil || b == nil {
			t.Errorf("SPI %08x: keys missing (left %v right %v)", spi, a != nil, b != nil)
			continue
		}
		if len(a.Enc) != 32 || len(a.Integ) != 20 || !bytes.Equal(a.Enc, b.Enc) || !bytes.Equal(a.Integ, b.Integ) {
			t.Errorf("SPI %08x: left enc %x integ %x, right enc %x integ %x", spi, a.Enc, a.Integ, b.Enc, b.Integ)
		}
		if a.Inbound == b.Inbound || a.Src != b.Src || a.Dst != b.Dst {
			t.Errorf("SPI %08x: directions left %+v right %+v", spi, a, b)
		}
	}
	if got := lk.ESP(lch.SPIOut); got != nil && (got.Src != f.L.Outer || got.Dst != f.R.Outer) {
		t.Errorf("left outbound SA %s -> %s, want %s -> %s", got.Src, got.Dst, f.L.Outer, f.R.Outer)
	}
	if c := lk.Children; len(c) != 1 || (tc.pfs == "") != (c[0].PFS == nil) {
		t.Errorf("quick mode PFS secret present=%v, want %v", len(c) == 1 && c[0].PFS != nil, tc.pfs != "")
	}

	// Tear down from the left; the right follows on the delete notification.
	if err := left.Terminate("lab"); err != nil {
		t.Fatal(err)
	}
	if err := waitFor(10*time.Second, nil, func() bool { s, err := right.ListSAs(); return err == nil && len(s) == 0 }); err != nil {
		t.Errorf("right still has SAs after the left terminated: %v", err)
	}
	wantPhase1 := 4 // MM1-MM4 before the move to 4500
	if tc.aggressive {
		wantPhase1 = 2 // AM1, AM2; AM3 goes to 4500
	}
	// At least phase 1 on 500, three QM messages and one delete on 4500, six ESP frames.
	if err := capL.WaitPackets(wantPhase1+4+6, 10*time.Second); err != nil {
		t.Errorf("capture: %v", err)
	}
	if err := capL.Stop(); err != nil {
		t.Fatal(err)
	}
	torn := time.Since(start)

	// The outer link carried ISAKMP (500, then 4500) and ESP in UDP, nothing malformed.
	pkts, err := Dissect(capL.Path)
	if err != nil {
		t.Fatal(err)
	}
	count := func(pkts []Packet, pred func(*Packet) bool) int {
		n := 0
		for i := range pkts {
			if pred(&pkts[i]) {
				n++
			}
		}
		return n
	}
	isakmp500 := count(pkts, func(p *Packet) bool { return p.Has("isakmp") && !p.Has("udpencap") })
	isakmp4500 := count(pkts, func(p *Packet) bool { return p.Has("udpencap") && p.Has("isakmp") })
	espUDP := count(pkts, func(p *Packet) bool { return p.Has("udpencap") && p.Has("esp") })
	if isakmp500 < wantPhase1 || isakmp4500 < 3 || espUDP < 6 {
		t.Errorf("capture: %d ISAKMP on 500 (want >= %d), %d on 4500 (want >= 3), %d ESP-in-UDP (want >= 6)",
			isakmp500, wantPhase1, isakmp4500, espUDP)
	}
	for _, p := range pkts {
		if p.Bad() {
			t.Errorf("frame %d %v %q: malformed=%v expert=%+v", p.Number, p.Protocols, p.Info, p.Malformed, p.Expert)
		}
	}

	// With the logged keys tshark decrypts the pings inside ESP and the ICVs check out. (Decrypted
	// ISAKMP is only logged: tshark chains phase-2 IVs per message and garbles a retransmission,
	// which strongSwan sends when the responder handles QM1 before AM3 has been processed.)
	dargs, err := DecryptArgs(&l, lk)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := Dissect(capL.Path, dargs...)
	if err != nil {
		t.Fatal(err)
	}
	icmp := count(dec, func(p *Packet) bool { return p.Has("esp") && p.Has("icmp") })
	if icmp < 6 {
		t.Errorf("decrypted capture: %d ESP frames with ICMP inside, want >= 6", icmp)
	}
	for _, p := range dec {
		if p.Bad() && !p.Has("esp") {
			t.Logf("decrypted ISAKMP frame %d %q: malformed=%v expert=%+v", p.Number, p.Info, p.Malformed, p.Expert)
		} else if p.Bad() {
			t.Errorf("decrypted frame %d %v %q: malformed=%v expert=%+v", p.Number, p.Protocols, p.Info, p.Malformed, p.Expert)
		}
	}
	t.Logf("timing: topology+charons+config %v, tunnel up (both sides) at %v, pinged+checked+torn down at %v, tshark done at %v (%d frames)",
		ready.Round(time.Millisecond), up.Round(time.Millisecond), torn.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), len(pkts))
	if t.Failed() {
		for _, p := range dec {
			t.Logf("  %d %s > %s %s %q", p.Number, p.Src, p.Dst, strings.Join(p.Protocols, ":"), p.Info)
		}
	}
}

// TestSwanctlConfLoads loads every golden swanctl.conf into a real charon: the renderer's output
// must be accepted by swanctl's own parser, not just look right.
func TestSwanctlConfLoads(t *testing.T) {
	RequireShort(t)
	RequireStrongSwan(t)
	ns := NewNetns(t, "conf")
	c, err := StartCharon(t, ns, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ file, loaded, secret string }{
		{"swanctl-main-pfs.golden", "successfully loaded 1 connections, 0 unloaded", "loaded ike secret 'ike-lab'"},
		{"swanctl-aggressive.golden", "successfully loaded 1 connections, 0 unloaded", "loaded ike secret 'ike-lab'"},
		{"swanctl-hub.golden", "successfully loaded 2 connections, 1 unloaded", "loaded ike secret 'ike-spoke2'"},
	} {
		name := tc.file
		out, err := c.Swanctl("--load-all", "--noprompt", "--file", "testdata/"+name)
		if err != nil || !strings.Contains(out, tc.loaded) || !strings.Contains(out, tc.secret) {
			t.Errorf("%s: %v\n%s", name, err, out)
		}
	}
	out, err := c.Swanctl("--list-conns")
	if err != nil || !strings.Contains(out, "spoke1: IKEv1") || !strings.Contains(out, "spoke2: IKEv1") {
		t.Errorf("list-conns after loading: %v\n%s", err, out)
	}
}

// TestStrongSwanHubSpoke runs one charon on the hub with a connection per spoke and one on each
// spoke; both spokes initiate and reach the hub's host through their own tunnel.
func TestStrongSwanHubSpoke(t *testing.T) {
	RequireShort(t)
	RequireStrongSwan(t)
	RequireCommands(t, "ping")
	h := NewHubSpoke(t, nil)
	settings := &CharonSettings{RetransmitTimeout: time.Second}
	hub, err := StartCharon(t, h.Hub.Gw, settings)
	if err != nil {
		t.Fatal(err)
	}
	var hubConns []*PeerConfig
	spokes := make([]*Charon, len(h.Spokes))
	for i, s := range h.Spokes {
		if spokes[i], err = StartCharon(t, s.Gw, settings); err != nil {
			t.Fatal(err)
		}
		psk := "spoke-psk-" + s.Gw.Role // a different key per spoke
		hubConns = append(hubConns, &PeerConfig{Conn: "spoke" + s.Gw.Role[len("gwS"):], PSK: psk, PFSGroup: "modp2048",
			LocalAddr: h.Hub.Outer, RemoteAddr: s.Outer, LocalTS: []netip.Prefix{h.Hub.LAN}, RemoteTS: []netip.Prefix{s.LAN}})
		err := spokes[i].Load(&PeerConfig{Conn: "hub", PSK: psk, PFSGroup: "modp2048",
			LocalAddr: s.Outer, RemoteAddr: h.Hub.Outer, LocalTS: []netip.Prefix{s.LAN}, RemoteTS: []netip.Prefix{h.Hub.LAN}})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := hub.Load(hubConns...); err != nil {
		t.Fatal(err)
	}
	for i, s := range h.Spokes {
		if err := spokes[i].Initiate("net", 0); err != nil {
			t.Fatalf("%s: %v", s.Gw.Role, err)
		}
	}
	sas := waitHubSAs(t, hub, len(h.Spokes))
	for i, s := range h.Spokes {
		if out, err := s.Host.Run("ping", "-c", "2", "-i", "0.2", "-W", "2", h.Hub.HostAddr.String()); err != nil {
			t.Errorf("%s host -> hub host: %v\n%s", s.Gw.Role, err, out)
		}
		ss, err := spokes[i].ListSAs()
		if err != nil || len(ss) != 1 || len(ss[0].Children) != 1 {
			t.Fatalf("%s SAs: %+v %v", s.Gw.Role, ss, err)
		}
		peer := sas[s.Outer]
		if peer == nil || peer.Children[0].SPIIn != ss[0].Children[0].SPIOut || peer.Children[0].SPIOut != ss[0].Children[0].SPIIn {
			t.Errorf("%s: hub SA %+v does not mirror spoke SA %+v", s.Gw.Role, peer, ss[0])
		}
	}
	// Spoke to spoke is not covered by any tunnel: it must not pass.
	if _, err := h.Spokes[0].Host.Run("ping", "-c", "1", "-W", "1", h.Spokes[1].HostAddr.String()); err == nil {
		t.Error("spoke 1 reached spoke 2 without a tunnel between them")
	}
}

// waitHubSAs waits until the hub lists n IKE SAs with an installed child and returns them by
// remote address.
func waitHubSAs(t *testing.T, hub *Charon, n int) map[netip.Addr]*IKESA {
	t.Helper()
	byPeer := map[netip.Addr]*IKESA{}
	err := waitFor(10*time.Second, hub.Proc, func() bool {
		sas, err := hub.ListSAs()
		if err != nil {
			return false
		}
		clear(byPeer)
		for i := range sas {
			if ch := sas[i].Child("net"); ch != nil && ch.State == "INSTALLED" {
				byPeer[sas[i].RemoteHost] = &sas[i]
			}
		}
		return len(byPeer) == n
	})
	if err != nil {
		t.Fatalf("hub: %d of %d tunnels installed: %v", len(byPeer), n, err)
	}
	return byPeer
}

// TestCaptureFlagsMalformed shows that Dissect's malformed marks can fire: an ISAKMP header
// sent to UDP 500 that announces 255 bytes but carries only itself is reported as malformed.
func TestCaptureFlagsMalformed(t *testing.T) {
	RequireShort(t)
	RequireRoot(t)
	RequireTshark(t)
	RequireCommands(t, "ip", "bash")
	a, b := NewNetns(t, "capA"), NewNetns(t, "capB")
	if err := Veth(a, "v0", b, "v0"); err != nil {
		t.Fatal(err)
	}
	if err := a.AddAddr("v0", netip.MustParsePrefix("192.0.2.1/24")); err != nil {
		t.Fatal(err)
	}
	if err := b.AddAddr("v0", netip.MustParsePrefix("192.0.2.2/24")); err != nil {
		t.Fatal(err)
	}
	capA, err := StartCapture(t, a, "v0", "", "udp")
	if err != nil {
		t.Fatal(err)
	}
	// Cookies, next payload SA, version 1.0, Main Mode, no flags, message ID 0, length 255.
	a.MustRun(t, "bash", "-c",
		`printf '\x01\x02\x03\x04\x05\x06\x07\x08\0\0\0\0\0\0\0\0\x01\x10\x02\0\0\0\0\0\0\0\0\xff' >/dev/udp/192.0.2.2/500`)
	if err := capA.WaitPackets(1, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := capA.Stop(); err != nil {
		t.Fatal(err)
	}
	if n := capA.Packets(); n != 1 {
		t.Errorf("dumpcap reports %d packets, want 1", n)
	}
	pkts, err := Dissect(capA.Path)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range pkts {
		if p.Has("isakmp") && p.Bad() {
			found = true
		}
	}
	if !found {
		t.Fatalf("no malformed ISAKMP frame among %+v", pkts)
	}
}
