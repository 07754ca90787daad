package ike_test

import (
	"bytes"
	"net"
	"net/netip"
	"testing"

	"github.com/tunnelbox/tunnelbox/ike"
)

// tapRig is a UDP transport on loopback whose ESP handler scribbles over the buffer it is
// given (as a data plane decrypting in place does), and a peer socket.
type tapRig struct {
	u        *ike.UDP
	nattPort uint16
	peer     *net.UDPConn
	esp      chan struct{}
}

func newTapRig(t *testing.T) *tapRig {
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
	r := &tapRig{u: u, peer: listen("127.0.0.9:0"), esp: make(chan struct{}, 64)}
	_, r.nattPort = u.Ports()
	u.Serve(ike.UDPHandlers{
		IKE: func(ike.Packet) {},
		ESP: func(b []byte, _ netip.AddrPort) error {
			clear(b)
			r.esp <- struct{}{}
			return nil
		},
	})
	t.Cleanup(func() { u.Close(); r.peer.Close() })
	return r
}

func (r *tapRig) peerAddr() netip.AddrPort { return r.peer.LocalAddr().(*net.UDPAddr).AddrPort() }

// in sends one ESP datagram from the peer to the transport and waits until it was handled.
func (r *tapRig) in(t *testing.T, b []byte) {
	t.Helper()
	if _, err := r.peer.WriteToUDPAddrPort(b, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), r.nattPort)); err != nil {
		t.Fatal(err)
	}
	wait(t, r.esp, "ESP datagram")
}

func (r *tapRig) out(t *testing.T, b []byte) {
	t.Helper()
	if _, err := r.u.SendESP(b, r.peerAddr()); err != nil {
		t.Fatal(err)
	}
}

// esp is an ESP-looking datagram of n bytes with SPI spi and sequence number seq.
func esp(spi uint32, seq byte, n int) []byte {
	b := make([]byte, n)
	b[0], b[1], b[2], b[3] = byte(spi>>24), byte(spi>>16), byte(spi>>8), byte(spi)
	b[7] = seq
	for i := 8; i < n; i++ {
		b[i] = byte(i)
	}
	return b
}

func TestESPTapRecordsBothDirections(t *testing.T) {
	r := newTapRig(t)
	r.in(t, esp(0x1111, 1, 40)) // before the tap: not recorded
	if got, st := r.u.ESPTap(); got != nil || st.Active {
		t.Fatalf("tap before start: %d datagrams, %+v", len(got), st)
	}
	r.u.StartESPTap(0, 0)
	a, b := esp(0x1111, 2, 40), esp(0x2222, 1, 56)
	r.in(t, a)
	r.out(t, b)
	got, st := r.u.ESPTap()
	if len(got) != 2 || !st.Active || st.Packets != 2 || st.Bytes != 96 || st.Dropped != 0 ||
		st.MaxPackets != ike.DefaultTapPackets || st.MaxBytes != ike.DefaultTapBytes {
		t.Fatalf("tap %d datagrams, status %+v", len(got), st)
	}
	local := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), r.nattPort)
	if g := got[0]; g.Sent || g.Local != local || g.Remote != r.peerAddr() || !bytes.Equal(g.Data, a) {
		t.Errorf("received datagram recorded as %+v, want from %v to %v %x (copied before the handler)", g, r.peerAddr(), local, a)
	}
	if g := got[1]; !g.Sent || g.Local != netip.AddrPortFrom(netip.IPv4Unspecified(), r.nattPort) || g.Remote != r.peerAddr() || !bytes.Equal(g.Data, b) {
		t.Errorf("sent datagram recorded as %+v", g)
	}
	if got[1].Time.Before(got[0].Time) {
		t.Errorf("recorded out of order: %v then %v", got[0].Time, got[1].Time)
	}
	b[9] ^= 0xff // the caller's buffer is not the record
	if again, _ := r.u.ESPTap(); again[1].Data[9] == b[9] {
		t.Errorf("the tap kept the caller's buffer")
	}

	r.u.StopESPTap()
	r.in(t, esp(0x1111, 3, 40))
	if got, st := r.u.ESPTap(); len(got) != 2 || st.Active {
		t.Errorf("after stop: %d datagrams, %+v; want the 2 recorded, inactive", len(got), st)
	}
	r.u.ClearESPTap()
	if got, st := r.u.ESPTap(); got != nil || st != (ike.TapStatus{}) {
		t.Errorf("after clear: %d datagrams, %+v", len(got), st)
	}
}

func TestESPTapBounds(t *testing.T) {
	tests := []struct {
		name          string
		maxPkts       int
		maxBytes      int
		sizes         []int
		wantSeqs      []byte // sequence numbers kept, oldest first
		wantDropped   uint64
		wantHeldBytes int
	}{
		{"packet bound drops the oldest", 3, 1 << 20, []int{40, 40, 40, 40, 40}, []byte{3, 4, 5}, 2, 120},
		{"byte bound drops the oldest", 10, 100, []int{40, 40, 40}, []byte{2, 3}, 1, 80},
		{"byte bound drops several for a big one", 10, 100, []int{30, 30, 30, 90}, []byte{4}, 3, 90},
		{"a datagram larger than the bound is not kept", 10, 100, []int{40, 120, 40}, []byte{1, 3}, 1, 80},
		{"exactly full", 2, 80, []int{40, 40}, []byte{1, 2}, 0, 80},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newTapRig(t)
			r.u.StartESPTap(tc.maxPkts, tc.maxBytes)
			for i, n := range tc.sizes {
				r.in(t, esp(0x3333, byte(i+1), n))
			}
			got, st := r.u.ESPTap()
			var seqs []byte
			for _, g := range got {
				seqs = append(seqs, g.Data[7])
			}
			if !bytes.Equal(seqs, tc.wantSeqs) || st.Dropped != tc.wantDropped || st.Bytes != tc.wantHeldBytes || st.Packets != len(tc.wantSeqs) {
				t.Errorf("kept %v, status %+v; want %v, %d dropped, %d bytes", seqs, st, tc.wantSeqs, tc.wantDropped, tc.wantHeldBytes)
			}
		})
	}
}

// The tap is off by default: the hot path pays one atomic load.
func BenchmarkESPTapOff(b *testing.B) { benchTap(b, false) }

// With the tap on, each datagram is copied under a mutex.
func BenchmarkESPTapOn(b *testing.B) { benchTap(b, true) }

func benchTap(b *testing.B, on bool) {
	listen := func() *net.UDPConn {
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	u, err := ike.NewUDP(listen(), listen())
	if err != nil {
		b.Fatal(err)
	}
	defer u.Close()
	sink := listen()
	defer sink.Close()
	if on {
		u.StartESPTap(64, 0)
	}
	to := sink.LocalAddr().(*net.UDPAddr).AddrPort()
	pkt := esp(0x4444, 1, 1400)
	b.SetBytes(int64(len(pkt)))
	for b.Loop() {
		if _, err := u.SendESP(pkt, to); err != nil {
			b.Fatal(err)
		}
	}
}
