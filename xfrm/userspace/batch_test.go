package userspace

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"testing"

	"github.com/tunnelbox/tunnelbox/xfrm"
)

// batchDev is an in-memory TUN that hands the backend whole batches: every slice sent on in is
// one wakeup's worth of packets.
type batchDev struct {
	*memDev
	batches chan [][]byte
}

func (d *batchDev) ReadBatch(bufs [][]byte, sizes []int) (int, error) {
	select {
	case ps := <-d.batches:
		n := 0
		for ; n < len(ps) && n < len(bufs); n++ {
			sizes[n] = copy(bufs[n], ps[n])
		}
		return n, nil
	case <-d.done:
		return 0, os.ErrClosed
	}
}

// batchCall is one Config.SendBatch call as the sender saw it.
type batchCall struct {
	pkts [][]byte
	to   []netip.AddrPort
}

// newBatchSender builds backend A over a batchDev whose SendBatch records its calls and answers
// with fail(callIndex, datagrams) -> (sent, err), and a plain backend B for A's peer.
func newBatchSender(t testing.TB, fail func(call int, n int) (int, error)) (a, b *Backend, dev *batchDev, bdev *memDev, calls func() []batchCall) {
	t.Helper()
	var mu sync.Mutex
	var rec []batchCall
	dev = &batchDev{memDev: newMemDev(), batches: make(chan [][]byte)}
	var err error
	a, err = newBackend(Config{
		Send: func([]byte, netip.AddrPort) (int, error) {
			t.Error("Send used although SendBatch is set")
			return 0, nil
		},
		SendBatch: func(ps [][]byte, to []netip.AddrPort) (int, error) {
			mu.Lock()
			defer mu.Unlock()
			c := batchCall{to: append([]netip.AddrPort(nil), to[:len(ps)]...)}
			for _, p := range ps {
				c.pkts = append(c.pkts, bytes.Clone(p))
			}
			rec = append(rec, c)
			return fail(len(rec)-1, len(ps))
		},
	}, dev, nil)
	if err != nil {
		t.Fatal(err)
	}
	bdev = newMemDev()
	b, err = newBackend(Config{Send: func(p []byte, _ netip.AddrPort) (int, error) { return len(p), nil }}, bdev, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	pa, pai := policies(netA, netB, gwA, gwB)
	pb, pbi := policies(netB, netA, gwB, gwA)
	for _, x := range []struct {
		b       *Backend
		p       []*xfrm.Policy
		out, in *xfrm.SA
	}{
		{a, []*xfrm.Policy{pa, pai}, sa(gwA, gwB, 0x1001, xfrm.DirOut, false), sa(gwB, gwA, 0x2002, xfrm.DirIn, false)},
		{b, []*xfrm.Policy{pb, pbi}, sa(gwB, gwA, 0x2002, xfrm.DirOut, false), sa(gwA, gwB, 0x1001, xfrm.DirIn, false)},
	} {
		for _, p := range x.p {
			if err := x.b.AddPolicy(p); err != nil {
				t.Fatal(err)
			}
		}
		for _, s := range []*xfrm.SA{x.out, x.in} {
			if err := x.b.AddSA(s); err != nil {
				t.Fatal(err)
			}
		}
	}
	return a, b, dev, bdev, func() []batchCall {
		mu.Lock()
		defer mu.Unlock()
		return append([]batchCall(nil), rec...)
	}
}

// TestOutboundBatch: the packets of one TUN wakeup leave in one SendBatch call, in order, to the
// peer, and decrypt there; a datagram the sender refuses is counted on its SA and the rest of
// the batch is sent in a later call; a sender that makes no progress cannot stall the reader.
func TestOutboundBatch(t *testing.T) {
	errRefused := errors.New("refused")
	tests := []struct {
		name      string
		fail      func(call, n int) (int, error)
		wantCalls []int // datagrams per call
		delivered []int // indexes (among the protected packets) that reach B
	}{
		{"all sent", func(_, n int) (int, error) { return n, nil }, []int{4}, []int{0, 1, 2, 3}},
		{"second refused", func(call, n int) (int, error) {
			if call == 0 {
				return 1, errRefused
			}
			return n, nil
		}, []int{4, 2}, []int{0, 2, 3}},
		{"no progress", func(call, n int) (int, error) {
			if call == 1 {
				return 0, nil
			}
			return 2, nil
		}, []int{4, 2, 1}, []int{0, 1, 3}},
	}
	outSA := sa(gwA, gwB, 0x1001, xfrm.DirOut, false)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b, dev, bdev, calls := newBatchSender(t, tc.fail)
			var want [][]byte
			for i := range 4 {
				want = append(want, icmpEcho(netip.MustParseAddr("10.1.1.10"), netip.MustParseAddr("10.2.2.10"), uint16(i)))
			}
			// Four protected packets around one that is not IP (dropped, not sent).
			dev.batches <- [][]byte{want[0], want[1], {0x00, 0x01}, want[2], want[3]}
			// An empty second wakeup: once it is read, the first batch was handled.
			dev.batches <- [][]byte{}
			got := calls()
			var sizes []int
			for _, c := range got {
				sizes = append(sizes, len(c.pkts))
				for _, to := range c.to {
					if to != netip.AddrPortFrom(gwB, 4500) {
						t.Errorf("sent to %s", to)
					}
				}
			}
			if !equalInts(sizes, tc.wantCalls) {
				t.Fatalf("SendBatch calls of %v datagrams, want %v", sizes, tc.wantCalls)
			}
			// Hand B every datagram the sender reported as sent.
			sent := 0
			for ci, c := range got {
				n, _ := tc.fail(ci, len(c.pkts))
				n = min(n, len(c.pkts))
				for _, p := range c.pkts[:n] {
					if err := b.HandleESPInUDP(p, netip.AddrPortFrom(gwA, 4500)); err != nil {
						t.Fatal(err)
					}
					sent++
				}
			}
			if sent != len(tc.delivered) {
				t.Fatalf("%d datagrams sent, want %d", sent, len(tc.delivered))
			}
			for _, i := range tc.delivered {
				if p := recv(t, bdev); !bytes.Equal(p, want[i]) {
					t.Fatalf("B received %x, want packet %d %x", p, i, want[i])
				}
			}
			c := counters(t, a, outSA)
			if c.Encaps != 4 || c.ErrOther != uint64(4-len(tc.delivered)) {
				t.Errorf("A's SA counters %+v: want 4 encaps, %d other errors", c, 4-len(tc.delivered))
			}
			if _, noPolicy := a.Drops(); noPolicy != 1 {
				t.Errorf("%d packets without a policy, want the 1 that is not IP", noPolicy)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// BenchmarkOutbound measures the outbound path per 1400-octet TCP packet (policy lookup, SA
// choice, esp.Seal with AES-256-CBC + HMAC-SHA1, hand-off to a SendBatch that discards), one
// packet per wakeup against a full TUNBatch.
func BenchmarkOutbound(b *testing.B) {
	for _, n := range []int{1, TUNBatch} {
		b.Run(fmt.Sprintf("batch%d", n), func(b *testing.B) {
			a, _, _, _, _ := newBatchSender(b, nil)
			// Discard instead of recording (no batch reaches the reader, which is idle).
			a.cfg.SendBatch = func(ps [][]byte, _ []netip.AddrPort) (int, error) { return len(ps), nil }
			pkt := make([]byte, 1400)
			pkt[0], pkt[8], pkt[9] = 0x45, 64, protoTCP
			binary.BigEndian.PutUint16(pkt[2:], uint16(len(pkt)))
			copy(pkt[12:], []byte{10, 1, 1, 10, 10, 2, 2, 10})
			pkts := make([][]byte, n)
			for i := range pkts {
				pkts[i] = pkt
			}
			tx := newTxBatch(TUNBatch)
			b.SetBytes(int64(len(pkt)))
			b.ReportAllocs()
			for i := 0; i < b.N; i += n {
				a.outboundBatch(pkts, tx)
			}
		})
	}
}
