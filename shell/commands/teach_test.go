package commands_test

import (
	"encoding/binary"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tunnelbox/tunnelbox/ike"
	"github.com/tunnelbox/tunnelbox/shell/commands"
)

var (
	teachArrowRE   = regexp.MustCompile(`^  \|(?:-- (\S+) -+>|<-+ (\S+) --)\|`)
	teachFormulaRE = regexp.MustCompile(`^  \|\s+\|\s+(HASH_I|HASH_R|HASH\([123]\)) = prf\(`)
	teachVerdictRE = regexp.MustCompile(`^  \|\s+\|\s+= [0-9A-F]+ \(matches the HASH payload\)$`)
	teachRawHashRE = regexp.MustCompile(`^  \|\s+\|\s+HASH: `)
)

// teachHashes maps each message of a teaching view to the hash formula it shows ("" when it
// shows none); it fails t on a formula whose value differs from the payload and on a HASH
// payload the view could not recompute.
func teachHashes(t *testing.T, view string) (order []string, formula map[string]string) {
	t.Helper()
	formula = map[string]string{}
	lines := strings.Split(view, "\n")
	cur := ""
	for i, l := range lines {
		switch m := teachArrowRE.FindStringSubmatch(l); {
		case m != nil:
			cur = m[1] + m[2]
			order = append(order, cur)
			formula[cur] = ""
		case teachRawHashRE.MatchString(l):
			t.Errorf("%s: HASH payload shown without its formula: %q", cur, l)
		case teachFormulaRE.MatchString(l):
			formula[cur] = teachFormulaRE.FindStringSubmatch(l)[1]
			if i+1 >= len(lines) || !teachVerdictRE.MatchString(lines[i+1]) {
				t.Errorf("%s: %s not confirmed by its payload: %q", cur, formula[cur], lines[min(i+1, len(lines)-1)])
			}
		}
	}
	return order, formula
}

// TestTeachAggressiveHashes: in Aggressive Mode the initiator's HASH_I travels in AM3, which
// carries no identity; the view must still recompute it (over AM1's IDii_b), on both sides,
// as it does HASH_R in AM2 and the Quick Mode hashes.
func TestTeachAggressiveHashes(t *testing.T) {
	g1, g2 := defaultGateways()
	r := newRig(t, g1, g2)
	if err := r.r1.e.Initiate("CMAP", 10, true); err != nil {
		t.Fatal(err)
	}
	r.waitPairs(1, 0)
	r.settle()
	want := map[string]string{"AM1": "", "AM2": "HASH_R", "AM3": "HASH_I", "QM1": "HASH(1)", "QM2": "HASH(2)", "QM3": "HASH(3)"}
	for _, rt := range []*router{r.r1, r.r2} {
		c := newTerm(rt.app, "con 0")
		c.run("show crypto isakmp exchange")
		c.s.Close()
		order, got := teachHashes(t, c.b.String())
		if strings.Join(order, " ") != "AM1 AM2 AM3 QM1 QM2 QM3" {
			t.Errorf("%s ladder %v", rt.name, order)
		}
		for msg, f := range want {
			if got[msg] != f {
				t.Errorf("%s %s: formula %q, want %q\n%s", rt.name, msg, got[msg], f, c.b.String())
			}
		}
	}
}

// pcapRec is one record of a raw-IPv4 pcap as the test reads it back.
type pcapRec struct {
	t        time.Time
	src, dst netip.AddrPort
	payload  []byte
}

// readPcap parses a little-endian, microsecond, LINKTYPE_RAW pcap of IPv4/UDP datagrams,
// checking each IPv4 header checksum and length.
func readPcap(t *testing.T, b []byte) []pcapRec {
	t.Helper()
	if len(b) < 24 || binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 || binary.LittleEndian.Uint32(b[20:]) != 101 {
		t.Fatalf("pcap header % x", b[:min(len(b), 24)])
	}
	var out []pcapRec
	for b = b[24:]; len(b) > 0; {
		if len(b) < 16 {
			t.Fatalf("truncated record header")
		}
		n := int(binary.LittleEndian.Uint32(b[8:]))
		if int(binary.LittleEndian.Uint32(b[12:])) != n || len(b) < 16+n || n < 28 {
			t.Fatalf("record lengths %d/%d of %d bytes", n, binary.LittleEndian.Uint32(b[12:]), len(b)-16)
		}
		ts := time.Unix(int64(binary.LittleEndian.Uint32(b)), int64(binary.LittleEndian.Uint32(b[4:]))*1000)
		p := b[16 : 16+n]
		var sum uint32
		for i := 0; i < 20; i += 2 {
			sum += uint32(binary.BigEndian.Uint16(p[i:]))
		}
		for sum > 0xffff {
			sum = sum&0xffff + sum>>16
		}
		if p[0] != 0x45 || p[9] != 17 || sum != 0xffff || int(binary.BigEndian.Uint16(p[2:])) != n ||
			int(binary.BigEndian.Uint16(p[24:])) != n-20 {
			t.Fatalf("bad IPv4/UDP header % x", p[:28])
		}
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte(p[12:16])), binary.BigEndian.Uint16(p[20:]))
		dst := netip.AddrPortFrom(netip.AddrFrom4([4]byte(p[16:20])), binary.BigEndian.Uint16(p[22:]))
		out = append(out, pcapRec{t: ts, src: src, dst: dst, payload: p[28:]})
		b = b[16+n:]
	}
	return out
}

// TestBuildCaptureMergesESP: ESP datagrams of the tap go into the pcap in time order with the
// ISAKMP messages; a sent datagram (the kernel chose its source) gets the local address of
// the SA its SPI belongs to, else the router's address in the exchange with that peer, else
// it is left out and counted.
func TestBuildCaptureMergesESP(t *testing.T) {
	g1, g2 := defaultGateways()
	r := newRig(t, g1, g2)
	r.upTunnel()
	evs := r.r1.e.History(netip.Addr{})
	children := r.r1.e.Status().IPsec
	if len(children) != 1 {
		t.Fatalf("%d SA pairs", len(children))
	}
	ch := children[0]
	spi := func(s uint32, seq byte) []byte {
		return []byte{byte(s >> 24), byte(s >> 16), byte(s >> 8), byte(s), 0, 0, 0, seq, 0xaa}
	}
	natt := func(a netip.Addr) netip.AddrPort { return netip.AddrPortFrom(a, ike.PortNATT) }
	any4500 := natt(netip.IPv4Unspecified())
	stranger := netip.MustParseAddr("198.51.100.7")
	esp := []ike.TappedESP{
		{Time: showClock.Add(2 * time.Second), Sent: true, Local: any4500, Remote: natt(addrR2), Data: spi(ch.SPIOut, 1)},
		{Time: showClock.Add(3 * time.Second), Local: natt(addrR1), Remote: natt(addrR2), Data: spi(ch.SPIIn, 1)},
		{Time: showClock.Add(4 * time.Second), Sent: true, Local: any4500, Remote: natt(addrR2), Data: spi(0x0badf00d, 2)},
		{Time: showClock.Add(5 * time.Second), Sent: true, Local: any4500, Remote: natt(stranger), Data: spi(0x0badf00d, 3)},
		{Time: showClock.Add(-time.Second), Local: natt(addrR1), Remote: natt(addrR2), Data: spi(0x01020304, 9)},
	}
	cp := commands.BuildCapture(evs, children, esp)
	if cp.Messages != 9 || cp.ESPPackets != 4 || cp.SkippedNoAddr != 1 || cp.ISAKMPSAs != 1 || cp.IPsecSAKeyed != 1 || len(cp.ESPSA) != 2 {
		t.Fatalf("capture %+v", cp)
	}
	recs := readPcap(t, cp.Pcap)
	if len(recs) != 13 {
		t.Fatalf("%d records, want 9 ISAKMP + 4 ESP", len(recs))
	}
	for i := 1; i < len(recs); i++ {
		if recs[i].t.Before(recs[i-1].t) {
			t.Errorf("record %d at %v before record %d at %v", i, recs[i].t, i-1, recs[i-1].t)
		}
	}
	if !cp.FirstExchange.Equal(showClock.Add(-time.Second)) {
		t.Errorf("first datagram at %v, want the early ESP one", cp.FirstExchange)
	}
	// The early ESP datagram first, the ISAKMP exchange, then the four others in order.
	want := []struct {
		src, dst netip.AddrPort
		seq      byte
	}{
		{natt(addrR2), natt(addrR1), 9},
		{natt(addrR1), natt(addrR2), 1}, // sent: source from the SA of SPIOut
		{natt(addrR2), natt(addrR1), 1}, // received
		{natt(addrR1), natt(addrR2), 2}, // sent, unknown SPI: source from the exchange
	}
	got := append(recs[:1:1], recs[10:]...)
	for i, w := range want {
		g := got[i]
		if g.src != w.src || g.dst != w.dst || len(g.payload) != 9 || g.payload[7] != w.seq {
			t.Errorf("ESP record %d: %v > %v % x; want %v > %v seq %d", i, g.src, g.dst, g.payload, w.src, w.dst, w.seq)
		}
	}
	for i, g := range recs[1:10] {
		if len(g.payload) < 28 || (g.src.Port() == ike.PortNATT) != (binary.BigEndian.Uint32(g.payload) == 0) {
			t.Errorf("ISAKMP record %d %v > %v: the non-ESP marker must be there exactly on port 4500", i+1, g.src, g.dst)
		}
	}
}
