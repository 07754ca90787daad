package esp

import (
	"math/rand/v2"
	"testing"
)

func TestReplayWindowTable(t *testing.T) {
	type step struct {
		seq    uint64
		accept bool
	}
	tests := []struct {
		name  string
		size  int
		steps []step
	}{
		{"zero never valid", 64, []step{{0, false}, {1, true}, {0, false}}},
		{"in order then duplicate", 64, []step{{1, true}, {2, true}, {3, true}, {2, false}, {3, false}}},
		{"reorder inside window", 64, []step{{10, true}, {5, true}, {9, true}, {5, false}, {11, true}}},
		{"edge of window 64", 64, []step{{100, true}, {37, true}, {36, false}, {37, false}}},
		{"jump clears old bits", 64, []step{{1, true}, {2, true}, {1000, true}, {999, true}, {937, true},
			{936, false}, {2, false}}},
		{"jump over whole ring", 64, []step{{5, true}, {5 + 64*64, true}, {5 + 64*64 - 1, true}, {5 + 64*64, false}}},
		{"window 32", 32, []step{{40, true}, {9, true}, {8, false}}},
		{"window 1000", 1000, []step{{2000, true}, {1001, true}, {1000, false}, {1500, true}, {1500, false}}},
		{"32-bit top", 64, []step{{1<<32 - 1, true}, {1<<32 - 64, true}, {1<<32 - 65, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReplayWindow(tt.size)
			for i, s := range tt.steps {
				if got := r.update(s.seq); got != s.accept {
					t.Fatalf("step %d: update(%d) = %v, want %v", i, s.seq, got, s.accept)
				}
			}
		})
	}
}

// TestReplayWindowModel checks the ring against a plain set-based model on random traffic:
// reordering, duplicates and jumps.
func TestReplayWindowModel(t *testing.T) {
	for _, size := range []int{1, 32, 63, 64, 65, 128, 1000, 4096} {
		rng := rand.New(rand.NewPCG(uint64(size), 7))
		r := newReplayWindow(size)
		seen := map[uint64]bool{}
		var top uint64
		next := uint64(1)
		for i := range 20000 {
			var seq uint64
			switch rng.IntN(10) {
			case 0: // a jump ahead
				next += uint64(rng.IntN(3 * size))
				seq = next
			case 1, 2: // a late or duplicate packet
				back := uint64(rng.IntN(2*size + 2))
				if back < next {
					seq = next - back
				}
			default:
				next++
				seq = next
			}
			want := seq != 0 && !seen[seq] && (seq > top || top-seq < uint64(size))
			if got := r.check(seq); got != want {
				t.Fatalf("size %d step %d: check(%d) = %v, want %v (top %d)", size, i, seq, got, want, top)
			}
			if got := r.update(seq); got != want {
				t.Fatalf("size %d step %d: update(%d) = %v, want %v (top %d)", size, i, seq, got, want, top)
			}
			if want {
				seen[seq] = true
				top = max(top, seq)
			}
		}
	}
}
