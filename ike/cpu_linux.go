package ike

import (
	"time"

	"golang.org/x/sys/unix"
)

// LoopCPU returns the CPU time the engine's loop thread has used: all negotiation work (DH,
// hashing, encryption) runs there. Benchmarks divide it by the tunnels set up.
func (e *Engine) LoopCPU() time.Duration {
	var d time.Duration
	e.do(func() {
		var ts unix.Timespec
		if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts) == nil {
			d = time.Duration(ts.Nano())
		}
	})
	return d
}
