package userspace

import (
	"net/netip"
	"testing"

	"github.com/tunnelbox/tunnelbox/xfrm"
)

func TestParseFlow(t *testing.T) {
	udp := icmpEcho(netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), 0)
	udp[9] = protoUDP
	copy(udp[20:], []byte{0x12, 0x34, 0x00, 0x35})
	frag := icmpEcho(netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), 0)
	frag[6], frag[7] = 0, 10 // offset 80: no ports
	v6 := make([]byte, 48)
	v6[0], v6[5], v6[6] = 0x60, 8, protoUDP
	v6[23], v6[39] = 1, 2
	copy(v6[40:], []byte{0, 53, 0x12, 0x34})
	tests := []struct {
		name string
		p    []byte
		ok   bool
		want xfrm.Flow
	}{
		{"icmp", icmpEcho(netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), 0), true,
			xfrm.Flow{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), Proto: 1, SrcPort: 8}},
		{"udp", udp, true, xfrm.Flow{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"),
			Proto: 17, SrcPort: 0x1234, DstPort: 53}},
		{"fragment", frag, true, xfrm.Flow{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), Proto: 1}},
		{"ipv6 udp", v6, true, xfrm.Flow{Src: netip.MustParseAddr("::1"), Dst: netip.MustParseAddr("::2"),
			Proto: 17, SrcPort: 53, DstPort: 0x1234}},
		{"empty", nil, false, xfrm.Flow{}},
		{"short v4", udp[:19], false, xfrm.Flow{}},
		{"total length past end", udp[:24], false, xfrm.Flow{}},
		{"short v6", v6[:45], false, xfrm.Flow{}},
		{"version 5", []byte{0x50, 0, 0, 0}, false, xfrm.Flow{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseFlow(tt.p)
			if ok != tt.ok || (ok && got != tt.want) {
				t.Fatalf("parseFlow = %v %v, want %v %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestAppendIPv4Checksum(t *testing.T) {
	h := appendIPv4(nil, netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), protoTCP, 100)
	if len(h) != 20 || h[2] != 0 || h[3] != 120 || ipv4Checksum(h) != 0 {
		t.Fatalf("header %x (checksum over it %04x)", h, ipv4Checksum(h))
	}
}

// FuzzParseFlow: any octets; never a panic, and an accepted packet has addresses of its version.
func FuzzParseFlow(f *testing.F) {
	f.Add(icmpEcho(netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), 1))
	f.Add(make([]byte, 48))
	f.Add([]byte{0x60})
	f.Fuzz(func(t *testing.T, p []byte) {
		fl, ok := parseFlow(p)
		if ok && (fl.Src.Is4() != (p[0]>>4 == 4) || fl.Dst.Is4() != fl.Src.Is4()) {
			t.Fatalf("flow %v from version %d", fl, p[0]>>4)
		}
	})
}
