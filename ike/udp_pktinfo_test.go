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

// TestGROSize: the UDP_GRO segment size is found beside IP_PKTINFO, and absent or short data
// means no coalescing.
func TestGROSize(t *testing.T) {
	gro := func(size int32, dataLen int) []byte {
		b := make([]byte, unix.CmsgSpace(dataLen))
		h := (*unix.Cmsghdr)(unsafePointer(b))
		h.Level, h.Type = unix.SOL_UDP, unix.UDP_GRO
		h.SetLen(unix.CmsgLen(dataLen))
		if dataLen >= 4 {
			*(*int32)(unsafe.Pointer(&b[unix.CmsgLen(0)])) = size
		}
		return b
	}
	pi := unix.PktInfo4(&unix.Inet4Pktinfo{Addr: [4]byte{192, 0, 2, 7}})
	tests := []struct {
		name string
		oob  []byte
		want int
	}{
		{"alone", gro(1452, 4), 1452},
		{"after pktinfo", append(append([]byte(nil), pi...), gro(1400, 4)...), 1400},
		{"none", pi, 0},
		{"short data", gro(0, 2), 0},
	}
	for _, tc := range tests {
		if got := groSize(tc.oob); got != tc.want {
			t.Errorf("%s: groSize = %d, want %d", tc.name, got, tc.want)
		}
	}
}
