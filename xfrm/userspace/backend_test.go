package userspace

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/tunnelbox/tunnelbox/xfrm"
	"github.com/tunnelbox/tunnelbox/xfrm/esp"
)

// installer is the ike.Installer seam as docs/internal-api.md fixes it (package ike owns it).
type installer interface {
	AddSA(sa *xfrm.SA) error
	DelSA(sa *xfrm.SA) error
	AddPolicy(p *xfrm.Policy) error
	DelPolicy(p *xfrm.Policy) error
	Counters(sa *xfrm.SA) (xfrm.Counters, error)
	Events() <-chan xfrm.Event
	Close() error
}

var _ installer = (*Backend)(nil)

// memDev is an in-memory TUN: the test writes packets "from the kernel" into in and reads the
// packets the backend delivers from out.
type memDev struct {
	in   chan []byte
	out  chan []byte
	done chan struct{}
	once sync.Once
}

func newMemDev() *memDev {
	return &memDev{in: make(chan []byte), out: make(chan []byte, 64), done: make(chan struct{})}
}

func (d *memDev) Read(b []byte) (int, error) {
	select {
	case p := <-d.in:
		return copy(b, p), nil
	case <-d.done:
		return 0, os.ErrClosed
	}
}

func (d *memDev) Write(b []byte) (int, error) {
	select {
	case d.out <- bytes.Clone(b):
		return len(b), nil
	case <-d.done:
		return 0, os.ErrClosed
	}
}

func (d *memDev) Close() error { d.once.Do(func() { close(d.done) }); return nil }

// fakeRoutes records the routes the backend asks for.
type fakeRoutes struct {
	mu  sync.Mutex
	set map[netip.Prefix]bool
}

func (r *fakeRoutes) add(p netip.Prefix) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.set[p] = true
	return nil
}
func (r *fakeRoutes) del(p netip.Prefix) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.set, p)
	return nil
}
func (r *fakeRoutes) close() error { return nil }

var (
	gwA, gwB   = netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	netA, netB = netip.MustParsePrefix("10.1.1.0/24"), netip.MustParsePrefix("10.2.2.0/24")
)

// icmpEcho builds an IPv4 ICMP echo request (checksums are not the backend's business).
func icmpEcho(src, dst netip.Addr, id uint16) []byte {
	p := make([]byte, 28)
	p[0], p[8], p[9] = 0x45, 64, protoICMP
	binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
	s, d := src.As4(), dst.As4()
	copy(p[12:], s[:])
	copy(p[16:], d[:])
	p[20] = 8 // echo request
	binary.BigEndian.PutUint16(p[24:], id)
	return p
}

type side struct {
	b      *Backend
	dev    *memDev
	rt     *fakeRoutes
	addr   netip.Addr
	out    *xfrm.SA // the SA we encrypt with
	in     *xfrm.SA
	now    time.Time
	nowMu  sync.Mutex
	peer   *side
	sentMu sync.Mutex
	sent   [][]byte
}

func (s *side) clock() time.Time {
	s.nowMu.Lock()
	defer s.nowMu.Unlock()
	return s.now
}

func (s *side) advance(d time.Duration) {
	s.nowMu.Lock()
	s.now = s.now.Add(d)
	s.nowMu.Unlock()
}

func sa(src, dst netip.Addr, spi uint32, dir xfrm.Dir, gcm bool) *xfrm.SA {
	x := &xfrm.SA{Src: src, Dst: dst, SPI: spi, Proto: xfrm.ProtoESP, Mode: xfrm.ModeTunnel, Reqid: 1,
		Dir: dir, Encap: &xfrm.Encap{SrcPort: 4500, DstPort: 4500}}
	if gcm {
		x.Enc, x.EncKey, x.Salt = xfrm.EncAESGCM16, bytes.Repeat([]byte{byte(spi)}, 16), []byte{1, 2, 3, 4}
	} else {
		x.Enc, x.EncKey = xfrm.EncAESCBC, bytes.Repeat([]byte{byte(spi)}, 32)
		x.Auth, x.AuthKey = xfrm.AuthHMACSHA1, bytes.Repeat([]byte{byte(spi >> 8)}, 20)
	}
	return x
}

func policies(local, remote netip.Prefix, me, peer netip.Addr) (out, in *xfrm.Policy) {
	out = &xfrm.Policy{Src: local, Dst: remote, Dir: xfrm.DirOut, Action: xfrm.ActionProtect, Priority: 100,
		Tmpl: xfrm.Template{Src: me, Dst: peer, Proto: xfrm.ProtoESP, Mode: xfrm.ModeTunnel, Reqid: 1}}
	in = &xfrm.Policy{Src: remote, Dst: local, Dir: xfrm.DirIn, Action: xfrm.ActionProtect, Priority: 100,
		Tmpl: xfrm.Template{Src: peer, Dst: me, Proto: xfrm.ProtoESP, Mode: xfrm.ModeTunnel, Reqid: 1}}
	return out, in
}

// newPair builds two backends joined by an in-memory "UDP" path (Send on one side calls
// HandleESPInUDP on the other), with policies for netA <-> netB; SAs only when withSAs.
func newPair(t *testing.T, withSAs bool) (a, b *side) {
	t.Helper()
	a = &side{addr: gwA, now: time.Unix(1000, 0)}
	b = &side{addr: gwB, now: time.Unix(1000, 0)}
	a.peer, b.peer = b, a
	for _, s := range []*side{a, b} {
		s := s
		s.dev, s.rt = newMemDev(), &fakeRoutes{set: map[netip.Prefix]bool{}}
		var err error
		s.b, err = newBackend(Config{
			Now: s.clock,
			Send: func(p []byte, to netip.AddrPort) (int, error) {
				s.sentMu.Lock()
				s.sent = append(s.sent, bytes.Clone(p))
				s.sentMu.Unlock()
				if to != netip.AddrPortFrom(s.peer.addr, 4500) {
					t.Errorf("sent to %s", to)
				}
				s.peer.b.HandleESPInUDP(p, netip.AddrPortFrom(s.addr, 4500))
				return len(p), nil
			},
		}, s.dev, s.rt)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.b.Close() })
	}
	a.out, a.in = sa(gwA, gwB, 0x1001, xfrm.DirOut, true), sa(gwB, gwA, 0x2002, xfrm.DirIn, false)
	b.out, b.in = sa(gwB, gwA, 0x2002, xfrm.DirOut, false), sa(gwA, gwB, 0x1001, xfrm.DirIn, true)
	pa, pai := policies(netA, netB, gwA, gwB)
	pb, pbi := policies(netB, netA, gwB, gwA)
	for _, x := range []struct {
		s       *side
		out, in *xfrm.Policy
	}{{a, pa, pai}, {b, pb, pbi}} {
		if err := x.s.b.AddPolicy(x.out); err != nil {
			t.Fatal(err)
		}
		if err := x.s.b.AddPolicy(x.in); err != nil {
			t.Fatal(err)
		}
		if withSAs {
			if err := x.s.b.AddSA(x.s.out); err != nil {
				t.Fatal(err)
			}
			if err := x.s.b.AddSA(x.s.in); err != nil {
				t.Fatal(err)
			}
		}
	}
	return a, b
}

func recv(t *testing.T, d *memDev) []byte {
	t.Helper()
	select {
	case p := <-d.out:
		return p
	case <-time.After(5 * time.Second):
		t.Fatal("no packet delivered")
	}
	return nil
}

func event(t *testing.T, b *Backend) xfrm.Event {
	t.Helper()
	select {
	case ev := <-b.Events():
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
	return xfrm.Event{}
}

func counters(t *testing.T, b *Backend, sa *xfrm.SA) xfrm.Counters {
	t.Helper()
	c, err := b.Counters(sa)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTunnelBothWays(t *testing.T) {
	a, b := newPair(t, true)
	if !a.rt.set[netB] || !b.rt.set[netA] || len(a.rt.set) != 1 {
		t.Fatalf("routes A %v B %v", a.rt.set, b.rt.set)
	}
	for i := range 3 {
		req := icmpEcho(netip.MustParseAddr("10.1.1.10"), netip.MustParseAddr("10.2.2.10"), uint16(i))
		a.dev.in <- req
		if got := recv(t, b.dev); !bytes.Equal(got, req) {
			t.Fatalf("B received %x, want %x", got, req)
		}
		rep := icmpEcho(netip.MustParseAddr("10.2.2.10"), netip.MustParseAddr("10.1.1.10"), uint16(i))
		b.dev.in <- rep
		if got := recv(t, a.dev); !bytes.Equal(got, rep) {
			t.Fatalf("A received %x, want %x", got, rep)
		}
	}
	if c := counters(t, a.b, a.out); c.Encaps != 3 || c.Packets != 3 || c.Bytes != 3*28 {
		t.Errorf("A out %+v", c)
	}
	if c := counters(t, b.b, b.in); c.Decaps != 3 || c.Errors() != 0 {
		t.Errorf("B in %+v", c)
	}
	// Replaying A's first datagram, and a forged one, into B: dropped and counted.
	a.sentMu.Lock()
	first := bytes.Clone(a.sent[0])
	a.sentMu.Unlock()
	if err := b.b.HandleESPInUDP(first, netip.AddrPortFrom(gwA, 4500)); !errors.Is(err, esp.ErrReplay) {
		t.Errorf("replay: %v", err)
	}
	forged := bytes.Clone(first)
	binary.BigEndian.PutUint32(forged[4:], 1000)
	if err := b.b.HandleESPInUDP(forged, netip.AddrPortFrom(gwA, 4500)); err == nil {
		t.Error("forged packet accepted")
	}
	if err := b.b.HandleESPInUDP(first, netip.AddrPortFrom(netip.MustParseAddr("192.0.2.99"), 4500)); !errors.Is(err, ErrPeer) {
		t.Errorf("wrong peer: %v", err)
	}
	if c := counters(t, b.b, b.in); c.ErrReplay != 1 || c.ErrAuth != 1 || c.ErrOther != 1 || c.Decaps != 3 {
		t.Errorf("B in after attacks %+v", c)
	}
	select {
	case p := <-b.dev.out:
		t.Fatalf("attack delivered %x", p)
	default:
	}
}

func TestAcquireRateLimited(t *testing.T) {
	a, _ := newPair(t, false)
	flow := icmpEcho(netip.MustParseAddr("10.1.1.10"), netip.MustParseAddr("10.2.2.10"), 1)
	a.dev.in <- flow
	ev := event(t, a.b)
	if ev.Kind != xfrm.EventAcquire || ev.Policy == nil || ev.Policy.Dst != netB || ev.Policy.Tmpl.Dst != gwB ||
		ev.Flow.Src != netip.MustParseAddr("10.1.1.10") || ev.Flow.Proto != protoICMP || ev.Flow.SrcPort != 8 {
		t.Fatalf("event %+v (policy %+v)", ev, ev.Policy)
	}
	a.dev.in <- flow // within the interval: no event
	a.advance(2 * DefaultAcquireInterval)
	a.dev.in <- flow // after it: one more
	if ev := event(t, a.b); ev.Kind != xfrm.EventAcquire {
		t.Fatalf("event %+v", ev)
	}
	select {
	case ev := <-a.b.Events():
		t.Fatalf("extra event %+v", ev)
	default:
	}
}

func TestPolicyOrderAndInboundCheck(t *testing.T) {
	a, b := newPair(t, true)
	// A higher-priority (lower number) discard for one host wins over the protecting /24.
	if err := a.b.AddPolicy(&xfrm.Policy{Src: netA, Dst: netip.MustParsePrefix("10.2.2.5/32"),
		Dir: xfrm.DirOut, Action: xfrm.ActionDiscard, Priority: 10}); err != nil {
		t.Fatal(err)
	}
	a.dev.in <- icmpEcho(netip.MustParseAddr("10.1.1.10"), netip.MustParseAddr("10.2.2.5"), 1)
	a.dev.in <- icmpEcho(netip.MustParseAddr("10.1.1.10"), netip.MustParseAddr("10.2.2.6"), 2)
	if got := recv(t, b.dev); !bytes.Equal(got[16:20], []byte{10, 2, 2, 6}) {
		t.Fatalf("delivered %x", got)
	}
	// A packet from outside B's inbound selector, through a broader policy on A: B drops it.
	if err := a.b.AddPolicy(&xfrm.Policy{Src: netip.MustParsePrefix("10.9.0.0/16"), Dst: netB,
		Dir: xfrm.DirOut, Action: xfrm.ActionProtect, Priority: 50, Tmpl: xfrm.Template{Src: gwA, Dst: gwB,
			Proto: xfrm.ProtoESP, Mode: xfrm.ModeTunnel, Reqid: 1}}); err != nil {
		t.Fatal(err)
	}
	a.dev.in <- icmpEcho(netip.MustParseAddr("10.9.9.9"), netip.MustParseAddr("10.2.2.6"), 3)
	a.dev.in <- icmpEcho(netip.MustParseAddr("10.1.1.10"), netip.MustParseAddr("10.2.2.7"), 4)
	if got := recv(t, b.dev); !bytes.Equal(got[16:20], []byte{10, 2, 2, 7}) {
		t.Fatalf("delivered %x", got)
	}
	if c := counters(t, b.b, b.in); c.ErrOther != 1 || c.Decaps != 3 {
		t.Fatalf("B in %+v", c)
	}
}

func TestHardExpiryRemovesSA(t *testing.T) {
	a, b := newPair(t, false)
	a.out.Lifetime = xfrm.Lifetime{SoftPackets: 1, HardPackets: 2}
	for _, x := range []struct {
		s  *side
		sa *xfrm.SA
	}{{a, a.out}, {b, b.in}} {
		if err := x.s.b.AddSA(x.sa); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 {
		a.dev.in <- icmpEcho(netip.MustParseAddr("10.1.1.10"), netip.MustParseAddr("10.2.2.10"), uint16(i))
		recv(t, b.dev)
	}
	if ev := event(t, a.b); ev.Kind != xfrm.EventExpireSoft || ev.SA.SPI != 0x1001 || ev.Cause != xfrm.ExpirePackets {
		t.Fatalf("event %+v", ev)
	}
	ev := event(t, a.b)
	if ev.Kind != xfrm.EventExpireHard || ev.SA.SPI != 0x1001 || ev.SA.EncKey != nil {
		t.Fatalf("event %+v", ev)
	}
	if err := a.b.DelSA(a.out); !errors.Is(err, xfrm.ErrNotFound) {
		t.Fatalf("DelSA after hard expiry: %v", err)
	}
	// Traffic now has no SA: an acquire.
	a.dev.in <- icmpEcho(netip.MustParseAddr("10.1.1.10"), netip.MustParseAddr("10.2.2.10"), 9)
	if ev := event(t, a.b); ev.Kind != xfrm.EventAcquire {
		t.Fatalf("event %+v", ev)
	}
}

func TestTimeExpiry(t *testing.T) {
	a, _ := newPair(t, false)
	a.out.Lifetime = xfrm.Lifetime{SoftSeconds: 1, HardSeconds: 2}
	if err := a.b.AddSA(a.out); err != nil {
		t.Fatal(err)
	}
	if ev := event(t, a.b); ev.Kind != xfrm.EventExpireSoft || ev.Cause != xfrm.ExpireTime {
		t.Fatalf("event %+v", ev)
	}
	if ev := event(t, a.b); ev.Kind != xfrm.EventExpireHard || ev.Cause != xfrm.ExpireTime {
		t.Fatalf("event %+v", ev)
	}
}

func TestInstallErrors(t *testing.T) {
	a, _ := newPair(t, true)
	plain := sa(gwA, gwB, 0x3003, xfrm.DirOut, true)
	plain.Encap = nil
	if err := a.b.AddSA(plain); !errors.Is(err, ErrNoEncap) {
		t.Errorf("plain ESP: %v", err)
	}
	if err := a.b.AddSA(a.out); !errors.Is(err, xfrm.ErrExists) {
		t.Errorf("duplicate SA: %v", err)
	}
	bad := sa(gwA, gwB, 0x3003, xfrm.DirOut, true)
	bad.EncKey = bad.EncKey[:3]
	if err := a.b.AddSA(bad); !errors.Is(err, xfrm.ErrInvalidSA) {
		t.Errorf("bad key: %v", err)
	}
	loop, _ := policies(netA, netip.MustParsePrefix("0.0.0.0/0"), gwA, gwB)
	if err := a.b.AddPolicy(loop); !errors.Is(err, ErrRouteLoop) {
		t.Errorf("default route into the tunnel: %v", err)
	}
	out, _ := policies(netA, netB, gwA, gwB)
	if err := a.b.AddPolicy(out); !errors.Is(err, xfrm.ErrExists) {
		t.Errorf("duplicate policy: %v", err)
	}
	if err := a.b.DelPolicy(out); err != nil || len(a.rt.set) != 0 {
		t.Errorf("DelPolicy: %v, routes left %v", err, a.rt.set)
	}
	if err := a.b.DelPolicy(out); !errors.Is(err, xfrm.ErrNotFound) {
		t.Errorf("DelPolicy twice: %v", err)
	}
	if err := a.b.DelSA(a.out); err != nil {
		t.Errorf("DelSA: %v", err)
	}
	if _, err := a.b.Counters(a.out); !errors.Is(err, xfrm.ErrNotFound) {
		t.Errorf("Counters of deleted SA: %v", err)
	}
	if err := a.b.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, ok := <-a.b.Events(); ok {
		t.Error("events channel open after Close")
	}
	if err := a.b.AddSA(a.in); !errors.Is(err, xfrm.ErrClosed) {
		t.Errorf("AddSA after Close: %v", err)
	}
}

func TestTransportModeAndDrops(t *testing.T) {
	a, b := newPair(t, false)
	host := func(x netip.Addr) netip.Prefix { return netip.PrefixFrom(x, 32) }
	mk := func(src, dst netip.Addr, dir xfrm.Dir) *xfrm.SA {
		x := sa(src, dst, 0x5005, dir, false)
		x.Mode, x.Reqid = xfrm.ModeTransport, 2
		return x
	}
	tmpl := func(src, dst netip.Addr) xfrm.Template {
		return xfrm.Template{Src: src, Dst: dst, Proto: xfrm.ProtoESP, Mode: xfrm.ModeTransport, Reqid: 2}
	}
	for _, err := range []error{
		a.b.AddSA(mk(gwA, gwB, xfrm.DirOut)),
		b.b.AddSA(mk(gwA, gwB, xfrm.DirIn)),
		a.b.AddPolicy(&xfrm.Policy{Src: host(gwA), Dst: host(gwB), Proto: protoUDP, Dir: xfrm.DirOut,
			Action: xfrm.ActionProtect, Priority: 5, Tmpl: tmpl(gwA, gwB)}),
		b.b.AddPolicy(&xfrm.Policy{Src: host(gwA), Dst: host(gwB), Proto: protoUDP, Dir: xfrm.DirIn,
			Action: xfrm.ActionProtect, Priority: 5, Tmpl: tmpl(gwA, gwB)}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(a.rt.set) != 1 {
		t.Fatalf("transport policy added a route: %v", a.rt.set)
	}
	udp := icmpEcho(gwA, gwB, 0)
	udp[9] = protoUDP
	copy(udp[20:], []byte{0x01, 0xf4, 0x01, 0xf4, 0, 8, 0, 0})
	a.dev.in <- udp
	got := recv(t, b.dev)
	if len(got) != len(udp) || !bytes.Equal(got[20:], udp[20:]) || got[9] != protoUDP ||
		!bytes.Equal(got[12:20], udp[12:20]) || ipv4Checksum(got[:20]) != 0 {
		t.Fatalf("transport mode delivered %x, sent %x", got, udp)
	}
	frag := bytes.Clone(udp)
	frag[6] = 0x20 // more fragments
	a.dev.in <- frag
	a.dev.in <- []byte{0x45, 0, 0} // not a packet
	if err := b.b.HandleESPInUDP([]byte{0, 0, 0x99, 0x99, 0, 0, 0, 1, 0, 0, 0, 0}, netip.AddrPortFrom(gwA, 4500)); !errors.Is(err, ErrNoSA) {
		t.Fatalf("unknown SPI: %v", err)
	}
	// The fragment and the junk are handled before the next packet is read.
	a.dev.in <- udp
	recv(t, b.dev)
	if c := counters(t, a.b, mk(gwA, gwB, xfrm.DirOut)); c.Encaps != 2 || c.ErrOther != 1 {
		t.Fatalf("A transport SA %+v", c)
	}
	if noSA, noPolicy := b.b.Drops(); noSA != 1 || noPolicy != 0 {
		t.Fatalf("B drops %d %d", noSA, noPolicy)
	}
	if noSA, noPolicy := a.b.Drops(); noSA != 0 || noPolicy != 1 {
		t.Fatalf("A drops %d %d", noSA, noPolicy)
	}
}

func TestInnerIPv6(t *testing.T) {
	a, b := newPair(t, true)
	l6, r6 := netip.MustParsePrefix("2001:db8:1::/64"), netip.MustParsePrefix("2001:db8:2::/64")
	pa, _ := policies(l6, r6, gwA, gwB)
	_, pbi := policies(r6, l6, gwB, gwA)
	if err := a.b.AddPolicy(pa); err != nil {
		t.Fatal(err)
	}
	if err := b.b.AddPolicy(pbi); err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 48)
	p[0], p[5], p[6] = 0x60, 8, protoUDP
	s, d := netip.MustParseAddr("2001:db8:1::10").As16(), netip.MustParseAddr("2001:db8:2::10").As16()
	copy(p[8:], s[:])
	copy(p[24:], d[:])
	a.dev.in <- p
	if got := recv(t, b.dev); !bytes.Equal(got, p) {
		t.Fatalf("delivered %x", got)
	}
	if !a.rt.set[r6] {
		t.Fatalf("no IPv6 route: %v", a.rt.set)
	}
}
