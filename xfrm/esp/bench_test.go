package esp

import (
	"testing"

	"github.com/tunnelbox/tunnelbox/xfrm"
)

var benchAlgs = []algCase{
	{"aes128-gcm", xfrm.EncAESGCM16, 16, xfrm.AuthNone},
	{"aes256-sha1", xfrm.EncAESCBC, 32, xfrm.AuthHMACSHA1},
}

const benchPayload = 1400

// BenchmarkSeal measures one outbound 1400-octet packet (tunnel mode) per op.
func BenchmarkSeal(b *testing.B) {
	for _, ac := range benchAlgs {
		b.Run(ac.name, func(b *testing.B) {
			out, _ := pair(b, xfrm.ModeTunnel, ac.enc, ac.keyLen, ac.auth)
			payload := make([]byte, benchPayload)
			buf := make([]byte, 0, benchPayload+MaxOverhead)
			b.SetBytes(benchPayload)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := out.Seal(buf, payload, 4); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOpen measures one inbound 1400-octet packet per op, with the replay window on. It
// replays a ring of distinct sealed packets; each time the ring wraps, the window is reset off
// the clock.
func BenchmarkOpen(b *testing.B) {
	const ring = 1024
	for _, ac := range benchAlgs {
		b.Run(ac.name, func(b *testing.B) {
			out, in := pair(b, xfrm.ModeTunnel, ac.enc, ac.keyLen, ac.auth)
			payload := make([]byte, benchPayload)
			pkts := make([][]byte, ring)
			for i := range pkts {
				var err error
				if pkts[i], err = out.Seal(nil, payload, 4); err != nil {
					b.Fatal(err)
				}
			}
			buf := make([]byte, 0, benchPayload+MaxOverhead)
			b.SetBytes(benchPayload)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if i == ring {
					b.StopTimer()
					clear(in.replay.bits)
					in.replay.top = 0
					i = 0
					b.StartTimer()
				}
				if _, _, err := in.Open(buf, pkts[i]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
