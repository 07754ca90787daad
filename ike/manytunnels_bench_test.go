package ike_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/tunnelbox/tunnelbox/ike"
)

// BenchmarkManyTunnels brings up n Quick Mode SA pairs (one crypto ACL line each, /32 <-> /32,
// under one phase 1) against one responder and reports the responder loop's CPU per pair.
// Per-pair work that grows with the number of pairs already installed (the crypto ACL counter
// view is rebuilt after every install) shows up as a CPU per pair that rises with n.
func BenchmarkManyTunnels(b *testing.B) {
	for _, n := range []int{50, 400} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			g1, g2 := gateways(suites[0], 14)
			g1.Local, g1.Remote, g2.Local, g2.Remote = nil, nil, nil, nil
			for i := range n {
				l, r := fmt.Sprintf("10.1.%d.%d/32", i/250, i%250+1), fmt.Sprintf("10.2.%d.%d/32", i/250, i%250+1)
				g1.Local, g1.Remote = append(g1.Local, l), append(g1.Remote, r)
				g2.Local, g2.Remote = append(g2.Local, r), append(g2.Remote, l)
			}
			var cpu time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				p := newPair(b, g1, g2, ike.Options{}, uint64(30+i))
				p.r2.Status()
				start := p.r2.LoopCPU()
				b.StartTimer()
				if err := p.r1.Initiate("CMAP", 10, false); err != nil {
					b.Fatal(err)
				}
				for up := 0; up < n; {
					select {
					case ev := <-p.ev2:
						if ev.Kind == ike.EvPhase2Up {
							up++
						}
					case ev := <-p.ev1:
						if ev.Kind == ike.EvFailure {
							b.Fatalf("%s: %s", ev.Reason, ev.Detail)
						}
					case <-time.After(60 * time.Second):
						b.Fatalf("%d of %d pairs up", up, n)
					}
				}
				b.StopTimer()
				cpu += p.r2.LoopCPU() - start
				p.r1.Close()
				p.r2.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N*n), "resp-cpu-ms/pair")
		})
	}
}
