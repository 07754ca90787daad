package esp

// replayWindow is the anti-replay sliding window of RFC 6479: a ring of 64-bit blocks, so that
// advancing the window clears whole blocks instead of shifting a bitmap. With n blocks (a power
// of two) the window of size W <= (n-1)*64 always fits beside the block being filled.
// Not safe for concurrent use: the State's lock guards it.
type replayWindow struct {
	size uint64   // W, in packets
	top  uint64   // highest sequence number accepted so far (0: none yet)
	mask uint64   // len(bits) - 1
	bits []uint64 // ring of blocks; bit (seq & 63) of block (seq >> 6) & mask
}

func newReplayWindow(size int) *replayWindow {
	n := 1
	for n < (size+63)/64+1 {
		n <<= 1
	}
	return &replayWindow{size: uint64(size), mask: uint64(n - 1), bits: make([]uint64, n)}
}

// check reports whether seq may be new (RFC 4303 §3.4.3 pre-check; no state change).
func (r *replayWindow) check(seq uint64) bool {
	switch {
	case seq == 0:
		return false // never sent: the first packet of an SA is number 1
	case seq > r.top:
		return true
	case r.top-seq >= r.size:
		return false // left of the window
	}
	return r.bits[(seq>>6)&r.mask]&(1<<(seq&63)) == 0
}

// update marks seq as received after the packet proved authentic, advancing the window when seq
// is the new highest. It returns false (and changes nothing) for a replay.
func (r *replayWindow) update(seq uint64) bool {
	if !r.check(seq) {
		return false
	}
	if seq > r.top {
		cur, next := r.top>>6, seq>>6
		diff := next - cur
		if diff > r.mask+1 {
			diff = r.mask + 1
		}
		for i := uint64(1); i <= diff; i++ {
			r.bits[(cur+i)&r.mask] = 0
		}
		r.top = seq
	}
	r.bits[(seq>>6)&r.mask] |= 1 << (seq & 63)
	return true
}
