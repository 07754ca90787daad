package ike_test

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"github.com/tunnelbox/tunnelbox/ike"
	"github.com/tunnelbox/tunnelbox/ike/iketest"
	"github.com/tunnelbox/tunnelbox/lab"
)

// udpRig is a UDP transport bound to 0.0.0.0 on two ephemeral ports plus a plain socket that
// plays the peer, all on loopback (every 127/8 address is local, so the tests can check which
// local address a datagram was sent to and from).
type udpRig struct {
	u        *ike.UDP
	ikePort  uint16
	nattPort uint16
	peer     *net.UDPConn
	ike      chan ike.Packet
	esp      chan []byte
}

func newUDPRig(t *testing.T) *udpRig {
	t.Helper()
	listen := func(addr string) *net.UDPConn {
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	u, err := ike.NewUDP(listen("0.0.0.0:0"), listen("0.0.0.0:0"))
	if err != nil {
		t.Fatal(err)
	}
	r := &udpRig{u: u, peer: listen("127.0.0.9:0"), ike: make(chan ike.Packet, 16), esp: make(chan []byte, 16)}
	r.ikePort, r.nattPort = u.Ports()
	u.Serve(ike.UDPHandlers{
		IKE: func(p ike.Packet) { p.Data = bytes.Clone(p.Data); r.ike <- p },
		ESP: func(b []byte, from netip.AddrPort) error {
			if from != r.peerAddr() {
				t.Errorf("ESP from %v, want %v", from, r.peerAddr())
			}
			r.esp <- bytes.Clone(b)
			if b[3] == 0xee {
				return errors.New("refused")
			}
			return nil
		},
	})
	t.Cleanup(func() { u.Close(); r.peer.Close() })
	return r
}

func (r *udpRig) peerAddr() netip.AddrPort {
	return r.peer.LocalAddr().(*net.UDPAddr).AddrPort()
}

func (r *udpRig) sendTo(t *testing.T, to string, port uint16, b []byte) {
	t.Helper()
	if _, err := r.peer.WriteToUDPAddrPort(b, netip.AddrPortFrom(netip.MustParseAddr(to), port)); err != nil {
		t.Fatal(err)
	}
}

// recv reads one datagram at the peer (the deadline only guards against a hang).
func (r *udpRig) recv(t *testing.T) ([]byte, netip.AddrPort) {
	t.Helper()
	r.peer.SetReadDeadline(time.Now().Add(10 * time.Second))
	b := make([]byte, 2048)
	n, from, err := r.peer.ReadFromUDPAddrPort(b)
	if err != nil {
		t.Fatal(err)
	}
	return b[:n], from
}

func wait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s", what)
	}
	var zero T
	return zero
}

var ikeMsg = []byte("\x11\x22\x33\x44\x55\x66\x77\x88\x00\x00\x00\x00\x00\x00\x00\x00\x01\x10\x02\x00\x00\x00\x00\x00\x00\x00\x00\x1c")

func TestUDPReceiveLearnsLocalAddress(t *testing.T) {
	r := newUDPRig(t)
	for _, c := range []struct {
		to   string
		natt bool
		send []byte
		want []byte
	}{
		{"127.0.0.2", false, ikeMsg, ikeMsg},
		{"127.0.0.3", false, ikeMsg[:5], ikeMsg[:5]}, // port 500 hands everything to the engine: it judges
		{"127.0.0.4", true, append([]byte{0, 0, 0, 0}, ikeMsg...), ikeMsg},
		{"127.0.0.5", true, []byte{0, 0, 0, 0, 9, 9, 9, 9}, []byte{9, 9, 9, 9}},
	} {
		port := r.ikePort
		if c.natt {
			port = r.nattPort
		}
		r.sendTo(t, c.to, port, c.send)
		p := wait(t, r.ike, "IKE datagram")
		want := netip.AddrPortFrom(netip.MustParseAddr(c.to), port)
		if p.Local != want || p.Remote != r.peerAddr() || !bytes.Equal(p.Data, c.want) {
			t.Errorf("to %v: got local %v remote %v data %x; want %v %v %x", want, p.Local, p.Remote, p.Data, want, r.peerAddr(), c.want)
		}
	}
	if s := r.u.Stats(); s.IKEIn != 4 || s.UnknownLocalAddrs != 0 {
		t.Errorf("stats %+v, want 4 IKE in, every local address known", s)
	}
}

func TestUDPDemultiplexesPort4500(t *testing.T) {
	r := newUDPRig(t)
	esp := []byte{0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1, 0xaa, 0xbb}
	refused := []byte{0x12, 0x34, 0x56, 0xee, 0, 0, 0, 1}
	r.sendTo(t, "127.0.0.1", r.nattPort, []byte{0xff})          // NAT keepalive
	r.sendTo(t, "127.0.0.1", r.nattPort, []byte{1, 2, 3})       // runt
	r.sendTo(t, "127.0.0.1", r.nattPort, []byte{0, 0, 0, 0, 1}) // marker but too short to be anything
	r.sendTo(t, "127.0.0.1", r.nattPort, esp)
	r.sendTo(t, "127.0.0.1", r.nattPort, refused)
	if got := wait(t, r.esp, "ESP"); !bytes.Equal(got, esp) {
		t.Errorf("ESP handler got %x, want the whole datagram %x", got, esp)
	}
	if got := wait(t, r.esp, "ESP"); !bytes.Equal(got, refused) {
		t.Errorf("ESP handler got %x, want %x", got, refused)
	}
	// One more IKE datagram: once it arrives, everything before it on the socket was handled.
	r.sendTo(t, "127.0.0.1", r.nattPort, append([]byte{0, 0, 0, 0}, ikeMsg...))
	wait(t, r.ike, "IKE datagram")
	select {
	case p := <-r.ike:
		t.Errorf("unexpected IKE datagram %x", p.Data)
	default:
	}
	s := r.u.Stats()
	if s.Keepalives != 1 || s.Invalid != 2 || s.ESPIn != 2 || s.ESPRefused != 1 || s.IKEIn != 1 {
		t.Errorf("stats %+v: want 1 keepalive, 2 invalid, 2 ESP in (1 refused), 1 IKE", s)
	}
}

func TestUDPSendChoosesSocketSourceAndMarker(t *testing.T) {
	r := newUDPRig(t)
	peer := r.peerAddr()
	for _, c := range []struct {
		local netip.AddrPort
		want  []byte
	}{
		{netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), ike.PortIKE), ikeMsg},
		{netip.AddrPortFrom(netip.MustParseAddr("127.0.0.3"), r.ikePort), ikeMsg},
		{netip.AddrPortFrom(netip.MustParseAddr("127.0.0.4"), ike.PortNATT), append([]byte{0, 0, 0, 0}, ikeMsg...)},
		{netip.AddrPortFrom(netip.MustParseAddr("127.0.0.5"), r.nattPort), append([]byte{0, 0, 0, 0}, ikeMsg...)},
	} {
		if err := r.u.Send(c.local, peer, ikeMsg); err != nil {
			t.Fatal(err)
		}
		b, from := r.recv(t)
		port := r.ikePort
		if len(c.want) != len(ikeMsg) {
			port = r.nattPort
		}
		want := netip.AddrPortFrom(c.local.Addr(), port)
		if from != want || !bytes.Equal(b, c.want) {
			t.Errorf("Send from %v: peer got %x from %v, want %x from %v", c.local, b, from, c.want, want)
		}
	}
	esp := []byte{0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 7}
	if n, err := r.u.SendESP(esp, peer); err != nil || n != len(esp) {
		t.Fatalf("SendESP = %d, %v", n, err)
	}
	b, from := r.recv(t)
	if !bytes.Equal(b, esp) || from.Port() != r.nattPort {
		t.Errorf("ESP arrived as %x from %v, want %x from port %d", b, from, esp, r.nattPort)
	}
	if _, err := r.u.SendESP([]byte{0, 0, 0, 0, 0, 0, 0, 1}, peer); err == nil {
		t.Error("SendESP with SPI 0 (a non-ESP marker) accepted")
	}
	if err := r.u.Send(netip.AddrPort{}, netip.MustParseAddrPort("[2001:db8::1]:500"), ikeMsg); !errors.Is(err, ike.ErrUDPAddr) {
		t.Errorf("Send to IPv6 = %v, want ErrUDPAddr", err)
	}
	if s := r.u.Stats(); s.IKEOut != 4 || s.ESPOut != 1 || s.SendErrors != 1 {
		t.Errorf("stats %+v: want 4 IKE out, 1 ESP out, 1 send error", s)
	}
	if err := r.u.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.u.Send(netip.AddrPort{}, peer, ikeMsg); !errors.Is(err, ike.ErrClosed) {
		t.Errorf("Send after Close = %v, want ErrClosed", err)
	}
	if err := r.u.Close(); !errors.Is(err, ike.ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
}

// listenIn runs ike.ListenUDP on a thread that entered ns (sockets stay in the namespace they
// were created in).
func listenIn(t *testing.T, ns *lab.Netns) *ike.UDP {
	t.Helper()
	type res struct {
		u   *ike.UDP
		err error
	}
	ch := make(chan res)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		h, err := netns.GetFromName(ns.Name)
		if err == nil {
			err = netns.Set(h)
			h.Close()
		}
		if err != nil {
			ch <- res{nil, err}
			return
		}
		u, err := ike.ListenUDP(netip.Addr{})
		ch <- res{u, err}
	}()
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { r.u.Close() })
	return r.u
}

// TestUDPEnginesInNetns runs two engines over real UDP 500/4500 sockets in two namespaces
// joined by a veth: Main Mode with ForceNATT floats to 4500, Quick Mode installs UDP-encapsulated
// SAs, and the addresses and ports the engines recorded are the ones on the wire.
func TestUDPEnginesInNetns(t *testing.T) {
	lab.RequireShort(t)
	lab.RequireRoot(t)
	lab.RequireCommands(t, "ip")
	a, b := lab.NewNetns(t, "ikeA"), lab.NewNetns(t, "ikeB")
	if err := lab.Veth(a, "eth0", b, "eth0"); err != nil {
		t.Fatal(err)
	}
	if err := a.AddAddr("eth0", netip.PrefixFrom(addrR1, 24)); err != nil {
		t.Fatal(err)
	}
	if err := b.AddAddr("eth0", netip.PrefixFrom(addrR2, 24)); err != nil {
		t.Fatal(err)
	}
	g1, g2 := gateways(suites[0], 14)
	var evs [2]<-chan ike.Event
	var engines [2]*ike.Engine
	var trs [2]*ike.UDP
	for i, x := range []struct {
		ns *lab.Netns
		g  iketest.Gateway
	}{{a, g1}, {b, g2}} {
		cfg, err := iketest.Config(x.g)
		if err != nil {
			t.Fatal(err)
		}
		u := listenIn(t, x.ns)
		e := ike.New(ike.Options{Transport: u, ForceNATT: true, Retransmit: 500 * time.Millisecond})
		u.Serve(ike.UDPHandlers{IKE: e.Receive})
		e.Start(cfg)
		ch, stop := e.Subscribe()
		t.Cleanup(func() { stop(); e.Close() })
		evs[i], engines[i], trs[i] = ch, e, u
	}
	if err := engines[0].Initiate("CMAP", 0, false); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		guard := time.After(20 * time.Second)
	wait:
		for {
			select {
			case ev := <-evs[i]:
				if ev.Kind == ike.EvFailure {
					t.Fatalf("engine %d: %s: %s", i, ev.Text, ev.Detail)
				}
				if ev.Kind == ike.EvPhase2Up {
					break wait
				}
			case <-guard:
				t.Fatalf("engine %d: no phase 2", i)
			}
		}
	}
	st1, st2 := engines[0].Status(), engines[1].Status()
	if len(st1.IPsec) != 1 || len(st2.IPsec) != 1 {
		t.Fatalf("children: %d and %d, want 1 each", len(st1.IPsec), len(st2.IPsec))
	}
	c1, c2 := st1.IPsec[0], st2.IPsec[0]
	want1 := netip.AddrPortFrom(addrR1, ike.PortNATT)
	want2 := netip.AddrPortFrom(addrR2, ike.PortNATT)
	if c1.Local != want1 || c1.Remote != want2 || c2.Local != want2 || c2.Remote != want1 || !c1.UDPEncap || !c2.UDPEncap {
		t.Errorf("R1 child %v -> %v encap %v, R2 child %v -> %v encap %v; want 4500 both ways, encapsulated",
			c1.Local, c1.Remote, c1.UDPEncap, c2.Local, c2.Remote, c2.UDPEncap)
	}
	if c1.SPIIn != c2.SPIOut || c1.SPIOut != c2.SPIIn {
		t.Errorf("SPIs disagree: R1 in/out %08x/%08x, R2 %08x/%08x", c1.SPIIn, c1.SPIOut, c2.SPIIn, c2.SPIOut)
	}
	if !bytes.Equal(c1.KeysOut.Enc, c2.KeysIn.Enc) || !bytes.Equal(c1.KeysIn.Auth, c2.KeysOut.Auth) {
		t.Error("ESP keys disagree")
	}
	for i, u := range trs {
		if s := u.Stats(); s.IKEIn < 4 || s.IKEOut < 4 || s.UnknownLocalAddrs != 0 || s.SendErrors != 0 {
			t.Errorf("transport %d stats %+v", i, s)
		}
	}
}

// TestUDPSendNATKeepalive: a NAT keepalive is the single octet 0xFF (RFC 3948 §2.3), sent from
// the NAT-T socket with the given source address and no non-ESP marker.
func TestUDPSendNATKeepalive(t *testing.T) {
	r := newUDPRig(t)
	local := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), r.nattPort)
	if err := r.u.SendNATKeepalive(local, r.peerAddr()); err != nil {
		t.Fatal(err)
	}
	b, from := r.recv(t)
	if !bytes.Equal(b, []byte{0xff}) || from != local {
		t.Fatalf("keepalive %x from %v, want ff from %v", b, from, local)
	}
}
