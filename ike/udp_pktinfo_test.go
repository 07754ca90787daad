package ike

import (
	"net/netip"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestPktinfoDst: the in-place control message walk finds IP_PKTINFO after other messages and
// refuses truncated or inconsistent buffers instead of reading past them.
func TestPktinfoDst(t *testing.T) {
	pi := unix.PktInfo4(&unix.Inet4Pktinfo{Ifindex: 3, Spec_dst: [4]byte{10, 0, 0, 1}, Addr: [4]byte{192, 0, 2, 7}})
	rights := unix.UnixRights(5) // any other control message: SCM_RIGHTS, one int
	hdr := unix.CmsgLen(0)
	tests := []struct {
		name string
		oob  []byte
		want netip.Addr
	}{
		{"pktinfo alone", pi, netip.MustParseAddr("192.0.2.7")},
		{"after another message", append(append([]byte(nil), rights...), pi...), netip.MustParseAddr("192.0.2.7")},
		{"empty", nil, netip.Addr{}},
		{"header only", pi[:unix.SizeofCmsghdr], netip.Addr{}},
		{"data truncated", pi[:hdr+8], netip.Addr{}},
		{"other message only", rights, netip.Addr{}},
		{"length past the buffer", func() []byte {
			b := append([]byte(nil), pi...)
			(*unix.Cmsghdr)(unsafePointer(b)).Len = uint64(len(b) + 1)
			return b
		}(), netip.Addr{}},
		{"length below the header", func() []byte {
			b := append([]byte(nil), pi...)
			(*unix.Cmsghdr)(unsafePointer(b)).Len = 3
			return b
		}(), netip.Addr{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := pktinfoDst(tc.oob)
			if got != tc.want || ok != tc.want.IsValid() {
				t.Errorf("pktinfoDst = %v, %v; want %v", got, ok, tc.want)
			}
		})
	}
}

func BenchmarkPktinfoDst(b *testing.B) {
	oob := unix.PktInfo4(&unix.Inet4Pktinfo{Addr: [4]byte{192, 0, 2, 7}})
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := pktinfoDst(oob); !ok {
			b.Fatal("no pktinfo")
		}
	}
}

func unsafePointer(b []byte) unsafe.Pointer { return unsafe.Pointer(&b[0]) }
