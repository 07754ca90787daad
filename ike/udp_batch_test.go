package ike_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/tunnelbox/tunnelbox/ike"
)

// espDatagram is a fake ESP packet: SPI 0x1000+i, sequence i, then size-8 octets of i.
func espDatagram(i, size int) []byte {
	b := bytes.Repeat([]byte{byte(i)}, size)
	binary.BigEndian.PutUint32(b, 0x1000+uint32(i))
	binary.BigEndian.PutUint32(b[4:], uint32(i))
	return b
}

// TestUDPSendESPBatch: a batch larger than one sendmmsg leaves in order, each datagram to its
// address from the NAT-T port; an invalid datagram stops the batch at its index with an error
// and the rest can be sent by calling again.
func TestUDPSendESPBatch(t *testing.T) {
	r := newUDPRig(t)
	peer := r.peerAddr()
	const n = ike.SendBatch*2 + 5
	var msgs [][]byte
	var to []netip.AddrPort
	for i := range n {
		msgs = append(msgs, espDatagram(i, 60+i))
		to = append(to, peer)
	}
	sent, err := r.u.SendESPBatch(msgs, to)
	if sent != n || err != nil {
		t.Fatalf("SendESPBatch = %d, %v; want %d, nil", sent, err, n)
	}
	for i := range n {
		got, from := r.recv(t)
		if !bytes.Equal(got, msgs[i]) || from.Port() != r.nattPort {
			t.Fatalf("datagram %d: %x from %s, want %x from port %d", i, got, from, msgs[i], r.nattPort)
		}
	}

	// SPI 0 at index 2, a non-IPv4 address at index 4.
	bad := [][]byte{espDatagram(0, 20), espDatagram(1, 20), make([]byte, 20), espDatagram(3, 20), espDatagram(4, 20), espDatagram(5, 20)}
	to = []netip.AddrPort{peer, peer, peer, peer, netip.MustParseAddrPort("[::1]:4500"), peer}
	sent, err = r.u.SendESPBatch(bad, to)
	if sent != 2 || err == nil {
		t.Fatalf("SendESPBatch with SPI 0 at index 2 = %d, %v; want 2 and an error", sent, err)
	}
	sent, err = r.u.SendESPBatch(bad[3:], to[3:])
	if sent != 1 || !errors.Is(err, ike.ErrUDPAddr) {
		t.Fatalf("SendESPBatch with IPv6 at index 1 = %d, %v; want 1 and ErrUDPAddr", sent, err)
	}
	if sent, err = r.u.SendESPBatch(bad[5:], to[5:]); sent != 1 || err != nil {
		t.Fatalf("SendESPBatch of the last = %d, %v", sent, err)
	}
	for _, i := range []int{0, 1, 3, 5} {
		if got, _ := r.recv(t); !bytes.Equal(got, bad[i]) {
			t.Fatalf("got %x, want datagram %d %x", got, i, bad[i])
		}
	}
	if _, err := r.u.SendESPBatch(bad[:2], to[:1]); err == nil {
		t.Error("SendESPBatch with fewer addresses than datagrams: no error")
	}
	if s := r.u.Stats(); s.ESPOut != n+4 || s.SendErrors != 2 {
		t.Errorf("stats %+v: want %d ESP out, 2 send errors", s, n+4)
	}
}

// TestUDPReceiveBurst: a burst of datagrams queued on port 4500 (read several per system call)
// reaches the handlers complete, in order and with their sender, IKE and ESP interleaved.
func TestUDPReceiveBurst(t *testing.T) {
	r := newUDPRig(t)
	const n = ike.RecvBatch*3 + 7
	var want [][]byte
	for i := range n {
		var b []byte
		if i%10 == 9 {
			b = append([]byte{0, 0, 0, 0}, ikeMsg...)
		} else {
			b = espDatagram(i, 40+i*13)
		}
		want = append(want, b)
	}
	// Send from a second socket too, so that senders differ inside a batch.
	other, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.10:0")))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	for i, b := range want {
		if i%10 == 9 {
			if _, err := other.WriteToUDPAddrPort(b, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), r.nattPort)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		r.sendTo(t, "127.0.0.1", r.nattPort, b)
	}
	for i, b := range want {
		if i%10 == 9 {
			p := wait(t, r.ike, "IKE datagram")
			if !bytes.Equal(p.Data, ikeMsg) || p.Remote != other.LocalAddr().(*net.UDPAddr).AddrPort() ||
				p.Local != netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), r.nattPort) {
				t.Fatalf("IKE datagram %d: %+v", i, p)
			}
			continue
		}
		if got := wait(t, r.esp, "ESP"); !bytes.Equal(got, b) {
			t.Fatalf("ESP datagram %d: got %d octets %x..., want %d octets", i, len(got), got[:8], len(b))
		}
	}
	if s := r.u.Stats(); s.ESPIn != n-n/10 || s.IKEIn != n/10 || s.Invalid != 0 || s.UnknownLocalAddrs != 0 {
		t.Errorf("stats %+v", s)
	}
}

// BenchmarkSendESP compares one sendmsg per datagram with SendESPBatch, per datagram of 1450
// octets (an ESP packet of a full-size TCP segment) over loopback; the receiver does not read,
// so the kernel drops what overflows its buffer.
func BenchmarkSendESP(b *testing.B) {
	listen := func() *net.UDPConn {
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	sink := listen()
	defer sink.Close()
	dst := sink.LocalAddr().(*net.UDPAddr).AddrPort()
	u, err := ike.NewUDP(listen(), listen())
	if err != nil {
		b.Fatal(err)
	}
	defer u.Close()
	msgs := make([][]byte, ike.SendBatch)
	to := make([]netip.AddrPort, ike.SendBatch)
	for i := range msgs {
		msgs[i], to[i] = espDatagram(i, 1450), dst
	}
	b.Run("single", func(b *testing.B) {
		b.SetBytes(1450)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := u.SendESP(msgs[i%len(msgs)], dst); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("batch", func(b *testing.B) {
		// One op is one datagram, sent in calls of up to SendBatch.
		b.SetBytes(1450)
		b.ReportAllocs()
		for n := 0; n < b.N; {
			k := min(len(msgs), b.N-n)
			if _, err := u.SendESPBatch(msgs[:k], to[:k]); err != nil {
				b.Fatal(err)
			}
			n += k
		}
	})
}

// TestUDPSendESPBatchSegments: runs of equal-length datagrams to one peer (sent as UDP GSO
// messages where the kernel can) still arrive as the datagrams given, in order: a shorter
// datagram ends a run, a longer one or another peer starts a new one, and a run stops at the
// size and segment bounds of one message.
func TestUDPSendESPBatchSegments(t *testing.T) {
	r := newUDPRig(t)
	other, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.11:0")))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	peers := []netip.AddrPort{r.peerAddr(), other.LocalAddr().(*net.UDPAddr).AddrPort()}
	// Room for a whole burst: a segment of a GSO message can be charged more than its size.
	for _, c := range []*net.UDPConn{r.peer, other} {
		if err := c.SetReadBuffer(4 << 20); err != nil {
			t.Fatal(err)
		}
	}
	rep := func(n, size int) []int {
		s := make([]int, n)
		for i := range s {
			s[i] = size
		}
		return s
	}
	tests := []struct {
		name  string
		sizes []int
		peer  func(i int) int
	}{
		{"one long run", rep(100, 1400), func(int) int { return 0 }},
		{"many small", rep(150, 100), func(int) int { return 0 }},
		{"short ends a run", []int{1400, 1400, 1000, 1400, 1400, 1400, 9, 9}, func(int) int { return 0 }},
		{"longer starts a run", []int{1000, 1400, 1400, 600, 1400}, func(int) int { return 0 }},
		{"two peers", rep(40, 1200), func(i int) int { return i / 7 % 2 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var msgs [][]byte
			var to []netip.AddrPort
			for i, sz := range tc.sizes {
				msgs = append(msgs, espDatagram(i, sz))
				to = append(to, peers[tc.peer(i)])
			}
			if sent, err := r.u.SendESPBatch(msgs, to); sent != len(msgs) || err != nil {
				t.Fatalf("SendESPBatch = %d, %v", sent, err)
			}
			buf := make([]byte, 65536)
			for pi, c := range []*net.UDPConn{r.peer, other} {
				for i, m := range msgs {
					if tc.peer(i) != pi {
						continue
					}
					c.SetReadDeadline(time.Now().Add(10 * time.Second))
					n, _, err := c.ReadFromUDPAddrPort(buf)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(buf[:n], m) {
						t.Fatalf("peer %d: got %d octets %x..., want datagram %d of %d octets", pi, n, buf[:8], i, len(m))
					}
				}
			}
		})
	}
}

// TestUDPGSOToGRO: a transport's GSO runs reach another transport's reader coalesced (UDP_GRO
// on loopback) and its ESP handler still gets every datagram, whole and in order.
func TestUDPGSOToGRO(t *testing.T) {
	listen := func() *net.UDPConn {
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	tx, err := ike.NewUDP(listen(), listen())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	rx, err := ike.NewUDP(listen(), listen())
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	got := make(chan []byte, 512)
	rx.Serve(ike.UDPHandlers{IKE: func(ike.Packet) {}, ESP: func(b []byte, _ netip.AddrPort) error {
		got <- bytes.Clone(b)
		return nil
	}})
	_, rxPort := rx.Ports()
	dst := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), rxPort)
	var msgs [][]byte
	var to []netip.AddrPort
	for i := range 200 {
		size := 1400
		if i%50 == 49 {
			size = 700 // ends a run
		}
		msgs = append(msgs, espDatagram(i, size))
		to = append(to, dst)
	}
	if sent, err := tx.SendESPBatch(msgs, to); sent != len(msgs) || err != nil {
		t.Fatalf("SendESPBatch = %d, %v", sent, err)
	}
	for i, m := range msgs {
		if b := wait(t, got, "ESP datagram"); !bytes.Equal(b, m) {
			t.Fatalf("datagram %d: got %d octets %x..., want %d octets", i, len(b), b[:8], len(m))
		}
	}
	if s := rx.Stats(); s.ESPIn != uint64(len(msgs)) || s.Coalesced == 0 {
		t.Errorf("receiver stats %+v: want %d ESP in, some of them coalesced", s, len(msgs))
	}
}
