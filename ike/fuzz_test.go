package ike_test

import (
	"encoding/binary"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tunnelbox/tunnelbox/ike"
	"github.com/tunnelbox/tunnelbox/ike/iketest"
	"github.com/tunnelbox/tunnelbox/ike/isakmp"
	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite testdata/fuzz/FuzzResponder from the seed table")

// live is a responder that holds an established ISAKMP SA and an IPsec SA pair with R1, plus
// every datagram R1 sent while setting them up (replay seeds).
type live struct {
	r1, r2   *ike.Engine
	icky     [8]byte
	rcky     [8]byte
	captured [][]byte
	sentByR2 int // bytes R2 sent; compared before and after each input
	mu       sync.Mutex
}

var (
	liveOnce sync.Once
	liveSA   *live
	liveErr  error
)

// setupLive builds the responder once per process (fuzz workers each build their own).
func setupLive(tb testing.TB) *live {
	liveOnce.Do(func() {
		l := &live{}
		g1, g2 := gateways(suites[0], 14)
		c1, err := iketest.Config(g1)
		if err != nil {
			liveErr = err
			return
		}
		c2, _ := iketest.Config(g2)
		n := iketest.NewNet(42)
		n.SetFilter(func(from, to netip.AddrPort, msg []byte) ([]byte, bool) {
			l.mu.Lock()
			defer l.mu.Unlock()
			if from.Addr() == addrR1 {
				l.captured = append(l.captured, append([]byte(nil), msg...))
			} else {
				l.sentByR2 += len(msg)
			}
			return msg, true
		})
		l.r1 = ike.New(ike.Options{Transport: n.Transport(addrR1), Installer: iketest.NewDataplane()})
		l.r2 = ike.New(ike.Options{Transport: n.Transport(addrR2), Installer: iketest.NewDataplane()})
		n.Attach(addrR1, l.r1)
		n.Attach(addrR2, l.r2)
		l.r1.Start(c1)
		l.r2.Start(c2)
		ev, stop := l.r2.Subscribe()
		if err := l.r1.Initiate("CMAP", 10, false); err != nil {
			liveErr = err
			return
		}
		for e := range ev {
			if e.Kind == ike.EvPhase2Up {
				break
			}
			if e.Kind == ike.EvFailure {
				liveErr = fmt.Errorf("setup failed: %s", e.Detail)
				return
			}
		}
		stop()
		st := l.r2.Status()
		l.icky, l.rcky = st.ISAKMP[0].ICookie, st.ISAKMP[0].RCookie
		liveSA = l
	})
	if liveErr != nil {
		tb.Fatal(liveErr)
	}
	return liveSA
}

// Input layout: byte 0 holds flags (bit 0: write the live SA's cookies over bytes 0-15 of the
// datagram; bit 1: deliver on port 4500); the rest is the datagram.
const (
	flagSplice = 1 << iota
	flagNATT
)

// feed delivers one fuzz input to the live responder and checks the invariants: no panic (the
// loop survives), the established SAs survive anything that is not authenticated, and before
// authentication no reply is larger than the datagram that caused it.
func (l *live) feed(t *testing.T, in []byte) {
	if len(in) == 0 {
		return
	}
	flags, data := in[0], append([]byte(nil), in[1:]...)
	if flags&flagSplice != 0 && len(data) >= 16 {
		copy(data[0:8], l.icky[:])
		copy(data[8:16], l.rcky[:])
	}
	port := uint16(ike.PortIKE)
	if flags&flagNATT != 0 {
		port = ike.PortNATT
	}
	l.mu.Lock()
	before := l.sentByR2
	l.mu.Unlock()
	err := l.r2.ReceiveWait(ike.Packet{Local: netip.AddrPortFrom(addrR2, port),
		Remote: netip.AddrPortFrom(netip.MustParseAddr("198.51.100.7"), port), Data: data})
	if err != nil {
		t.Fatalf("engine loop gone: %v", err)
	}
	l.mu.Lock()
	sent := l.sentByR2 - before
	l.mu.Unlock()
	if flags&flagSplice == 0 && sent > len(data) {
		t.Fatalf("amplification: %d-octet datagram drew %d octets of reply", len(data), sent)
	}
	st := l.r2.Status()
	up := 0
	for _, sa := range st.ISAKMP {
		if sa.Established {
			up++
		}
	}
	if up != 1 || len(st.IPsec) != 1 {
		t.Fatalf("live SAs disturbed by an unauthenticated datagram: %d ISAKMP up, %d IPsec", up, len(st.IPsec))
	}
}

func FuzzResponder(f *testing.F) {
	l := setupLive(f)
	for _, s := range responderSeeds(l) {
		f.Add(s.data)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		// Half-open SAs from earlier inputs are bounded by the engine; the check is that live
		// state survives, so the cookies of fresh MM1s do not matter.
		l.feed(t, in)
	})
}

type seed struct {
	class string
	data  []byte
}

func hdr(icky, rcky byte, next isakmp.PayloadType, ex isakmp.ExchangeType, flags isakmp.Flags, mid uint32, body []byte, length int) []byte {
	b := make([]byte, 28)
	for i := 0; i < 8; i++ {
		b[i] = icky
		b[8+i] = rcky
	}
	b[16] = byte(next)
	b[17] = 0x10
	b[18] = byte(ex)
	b[19] = byte(flags)
	binary.BigEndian.PutUint32(b[20:], mid)
	b = append(b, body...)
	if length < 0 {
		length = len(b)
	}
	binary.BigEndian.PutUint32(b[24:], uint32(length))
	return b
}

func payload(next isakmp.PayloadType, body []byte) []byte {
	b := []byte{byte(next), 0, 0, 0}
	binary.BigEndian.PutUint16(b[2:], uint16(4+len(body)))
	return append(b, body...)
}

func saBody(props ...[]byte) []byte {
	b := []byte{0, 0, 0, 1, 0, 0, 0, 1}
	for _, p := range props {
		b = append(b, p...)
	}
	return b
}

func transform(num byte, attrs ...uint16) []byte {
	b := []byte{0, 0, 0, 0, num, 1, 0, 0}
	for i := 0; i+1 < len(attrs); i += 2 {
		a := make([]byte, 4)
		binary.BigEndian.PutUint16(a, 0x8000|attrs[i])
		binary.BigEndian.PutUint16(a[2:], attrs[i+1])
		b = append(b, a...)
	}
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	return b
}

func proposal(transforms ...[]byte) []byte {
	b := []byte{0, 0, 0, 0, 1, 1, 0, byte(len(transforms))}
	for _, t := range transforms {
		b = append(b, t...)
	}
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	return b
}

// responderSeeds builds one or more inputs for each hostile-input class of ecosystem.md's
// appendix that reaches the engine, plus the replay of every message of a real exchange.
func responderSeeds(l *live) []seed {
	pskAES := transform(1, 1, 7, 14, 256, 2, 4, 3, 1, 4, 14, 11, 1, 12, 3600)
	rsaOnly := transform(1, 1, 7, 14, 256, 2, 4, 3, 3, 4, 14)
	noKeyLen := transform(1, 1, 7, 2, 4, 3, 1, 4, 14)
	zeroLife := transform(1, 1, 5, 2, 2, 3, 1, 4, 2, 11, 1, 12, 0)
	mm1 := func(t []byte) []byte {
		return hdr(0xa1, 0, isakmp.PayloadSA, isakmp.ExchangeIdentityProt, 0, 0, payload(0, saBody(proposal(t))), -1)
	}
	var s []seed
	add := func(class string, flags byte, data []byte) {
		s = append(s, seed{class, append([]byte{flags}, data...)})
	}
	add("01-truncated-short", 0, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	add("01-truncated-header-longer", 0, hdr(0xa1, 0, 1, 2, 0, 0, nil, 200))
	add("01-truncated-header-shorter", 0, append(hdr(0xa1, 0, 0, 2, 0, 0, nil, 28), 1, 2, 3))
	add("02-chain-len-below-4", 0, hdr(0xa1, 0, isakmp.PayloadSA, 2, 0, 0, []byte{0, 0, 0, 2}, -1))
	add("02-chain-len-beyond", 0, hdr(0xa1, 0, isakmp.PayloadSA, 2, 0, 0, []byte{0, 0, 0x40, 0}, -1))
	add("02-chain-unknown-next", 0, hdr(0xa1, 0, 99, 2, 0, 0, payload(77, []byte{1, 2}), -1))
	add("03-sa-zero-life", 0, mm1(zeroLife))
	add("03-sa-aes-no-keylen", 0, mm1(noKeyLen))
	add("03-sa-bad-proposal-len", 0, hdr(0xa1, 0, 1, 2, 0, 0, payload(0, saBody([]byte{0, 0, 0, 200, 1, 1, 0, 1})), -1))
	add("04-ke-zero-after-mm1", 0, hdr(0xa2, 0, isakmp.PayloadKE, 2, 0, 0, payload(isakmp.PayloadNonce, nil), -1))
	add("05-mm1-without-sa", 0, hdr(0xa3, 0, isakmp.PayloadVendorID, 2, 0, 0, payload(0, []byte(isakmp.VendorIDDPD)), -1))
	add("06-am1-bad-id", 0, hdr(0xa4, 0, isakmp.PayloadSA, isakmp.ExchangeAggressive, 0, 0,
		append(payload(isakmp.PayloadID, saBody(proposal(pskAES))), payload(0, []byte{1, 17, 1, 244, 10})...), -1))
	add("07-zero-icookie", 0, hdr(0, 0, isakmp.PayloadSA, 2, 0, 0, payload(0, saBody(proposal(pskAES))), -1))
	add("07-rcookie-in-mm1", 0, hdr(0xa5, 0x55, isakmp.PayloadSA, 2, 0, 0, payload(0, saBody(proposal(pskAES))), -1))
	add("07-unknown-cookies-qm", 0, hdr(0xa6, 0x66, isakmp.PayloadHash, isakmp.ExchangeQuick, isakmp.FlagEncryption, 7, make([]byte, 32), -1))
	v2 := hdr(0xa7, 0, 33, 34, 0x08, 0, payload(0, make([]byte, 8)), -1)
	v2[17] = 0x20
	add("08-ikev2-header", 0, v2)
	add("08-ikev2-payload-in-v1", 0, hdr(0xa8, 0, 33, 2, 0, 0, payload(0, make([]byte, 8)), -1))
	add("09-encrypted-before-keys", 0, hdr(0xa9, 0, isakmp.PayloadSA, 2, isakmp.FlagEncryption, 0, make([]byte, 32), -1))
	add("09-live-qm-not-block-multiple", flagSplice, hdr(0, 0, isakmp.PayloadHash, isakmp.ExchangeQuick, isakmp.FlagEncryption, 9, make([]byte, 13), -1))
	add("09-live-qm-garbage-hash", flagSplice, hdr(0, 0, isakmp.PayloadHash, isakmp.ExchangeQuick, isakmp.FlagEncryption, 9, make([]byte, 64), -1))
	add("10-info-unknown-cookies", 0, hdr(0xaa, 0xbb, isakmp.PayloadNotify, isakmp.ExchangeInformational, 0, 3, payload(0, make([]byte, 12)), -1))
	add("10-live-info-clear-delete", flagSplice, hdr(0, 0, isakmp.PayloadDelete, isakmp.ExchangeInformational, 0, 5,
		payload(0, append([]byte{0, 0, 0, 1, 3, 4, 0, 1}, 1, 2, 3, 4)), -1))
	add("10-live-info-bad-hash", flagSplice, hdr(0, 0, isakmp.PayloadHash, isakmp.ExchangeInformational, isakmp.FlagEncryption, 11, make([]byte, 48), -1))
	add("11-fragment", 0, hdr(0xab, 0, isakmp.PayloadFragment, 2, 0, 0, payload(0, []byte{0, 1, 1, 0}), -1))
	add("12-live-mm1-replay-on-4500", flagSplice|flagNATT, mm1(pskAES))
	add("13-qm-before-phase1", 0, hdr(0xac, 0xcd, isakmp.PayloadHash, isakmp.ExchangeQuick, isakmp.FlagEncryption, 1, make([]byte, 48), -1))
	add("14-rsa-sig-only", 0, mm1(rsaOnly))
	big := hdr(0xad, 0, isakmp.PayloadVendorID, 2, 0, 0, payload(0, make([]byte, 12000)), -1)
	add("15-oversized", 0, big)
	for i, m := range l.captured {
		add(fmt.Sprintf("12-replay-%02d", i+1), 0, m)
	}
	return s
}

// TestResponderCorpus replays the committed corpus (testdata/fuzz/FuzzResponder is also replayed
// by FuzzResponder itself under go test) and keeps it in step with the seed table: -update-corpus
// rewrites it.
func TestResponderCorpus(t *testing.T) {
	l := setupLive(t)
	dir := filepath.Join("testdata", "fuzz", "FuzzResponder")
	seeds := responderSeeds(l)
	if *updateCorpus {
		os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, s := range seeds {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s.data)
			if err := os.WriteFile(filepath.Join(dir, s.class), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, s := range seeds {
		if len(s.class) > 9 && s.class[:9] == "12-replay" {
			continue // the captured exchange differs on every run (fresh cookies and nonces)
		}
		if _, err := os.Stat(filepath.Join(dir, s.class)); err != nil {
			t.Errorf("corpus file for %s missing (run go test -run TestResponderCorpus -update-corpus)", s.class)
		}
		t.Run(s.class, func(t *testing.T) { l.feed(t, s.data) })
	}
}

// TestHalfOpenLimit: a flood of MM1 from one address is capped per peer, and a real peer from
// another address still gets through.
func TestHalfOpenLimit(t *testing.T) {
	g1, g2 := gateways(suites[0], 14)
	p := newPair(t, g1, g2, ike.Options{HalfOpenPerPeer: 4}, 11)
	// R2 also has a wildcard key, so that the flood's MM1s are answered and stay half-open.
	c2, err := iketest.Config(g2)
	if err != nil {
		t.Fatal(err)
	}
	c2.EnsureCrypto().SetKey(runningconfig.ISAKMPKey{Key: "wild", Addr: netip.IPv4Unspecified(), Mask: netip.IPv4Unspecified()})
	p.r2.SetConfig(c2)
	flood := netip.MustParseAddr("203.0.113.9")
	for i := 0; i < 50; i++ {
		m := hdr(byte(i+1), 0, isakmp.PayloadSA, 2, 0, 0, payload(0, saBody(proposal(transform(1, 1, 7, 14, 256, 2, 4, 3, 1, 4, 14)))), -1)
		m[1] = byte(i >> 8)
		p.r2.ReceiveWait(ike.Packet{Local: netip.AddrPortFrom(addrR2, 500), Remote: netip.AddrPortFrom(flood, 500), Data: m})
	}
	half := 0
	for _, sa := range p.r2.Status().ISAKMP {
		if !sa.Established {
			half++
		}
	}
	if half != 4 {
		t.Fatalf("half-open SAs from the flooding address = %d, want the cap of 4", half)
	}
	p.drain()
	if err := p.r1.Initiate("CMAP", 10, false); err != nil {
		t.Fatal(err)
	}
	p.waitUp(1)
}

// TestHalfOpenEviction: a flood from many addresses fills the global cap; the oldest half-open
// SAs give way, so the real peer still comes up during the flood.
func TestHalfOpenEviction(t *testing.T) {
	g1, g2 := gateways(suites[0], 14)
	p := newPair(t, g1, g2, ike.Options{HalfOpenTotal: 8}, 13)
	c2, err := iketest.Config(g2)
	if err != nil {
		t.Fatal(err)
	}
	c2.EnsureCrypto().SetKey(runningconfig.ISAKMPKey{Key: "wild", Addr: netip.IPv4Unspecified(), Mask: netip.IPv4Unspecified()})
	p.r2.SetConfig(c2)
	flood := func(n int) {
		for i := 0; i < n; i++ {
			m := hdr(byte(i+1), 0, isakmp.PayloadSA, 2, 0, 0, payload(0, saBody(proposal(transform(1, 1, 7, 14, 256, 2, 4, 3, 1, 4, 14)))), -1)
			m[1] = byte(i >> 8)
			src := netip.AddrFrom4([4]byte{203, 0, byte(i >> 8), byte(i)})
			p.r2.ReceiveWait(ike.Packet{Local: netip.AddrPortFrom(addrR2, 500), Remote: netip.AddrPortFrom(src, 500), Data: m})
		}
	}
	flood(100)
	if err := p.r1.Initiate("CMAP", 10, false); err != nil {
		t.Fatal(err)
	}
	flood(3) // fewer than the cap: the real peer's SA is not the oldest by then
	p.waitUp(1)
	half := 0
	for _, sa := range p.r2.Status().ISAKMP {
		if !sa.Established {
			half++
		}
	}
	if half > 8 {
		t.Fatalf("%d half-open SAs, cap 8", half)
	}
}
