package userspace

import (
	"encoding/binary"
	"net/netip"

	"github.com/tunnelbox/tunnelbox/xfrm"
)

// IP header facts (RFC 791 §3.1, RFC 8200 §3).
const (
	ipv4MinHeader = 20
	ipv6Header    = 40
	protoICMP     = 1
	protoTCP      = 6
	protoUDP      = 17
	protoICMPv6   = 58
)

// parseFlow extracts the 5-tuple of an IPv4 or IPv6 packet, checking lengths before any field.
// Ports are read only from the first fragment; IPv6 extension headers are not walked (the next
// header is taken as the protocol).
func parseFlow(p []byte) (xfrm.Flow, bool) {
	var f xfrm.Flow
	if len(p) < 1 {
		return f, false
	}
	var l4 []byte
	switch p[0] >> 4 {
	case 4:
		if len(p) < ipv4MinHeader {
			return f, false
		}
		ihl := int(p[0]&0x0f) * 4
		total := int(binary.BigEndian.Uint16(p[2:]))
		if ihl < ipv4MinHeader || total < ihl || total > len(p) {
			return f, false
		}
		f.Src = netip.AddrFrom4([4]byte(p[12:16]))
		f.Dst = netip.AddrFrom4([4]byte(p[16:20]))
		f.Proto = p[9]
		if binary.BigEndian.Uint16(p[6:])&0x1fff == 0 { // fragment offset 0
			l4 = p[ihl:total]
		}
	case 6:
		if len(p) < ipv6Header || ipv6Header+int(binary.BigEndian.Uint16(p[4:])) > len(p) {
			return f, false
		}
		f.Src = netip.AddrFrom16([16]byte(p[8:24]))
		f.Dst = netip.AddrFrom16([16]byte(p[24:40]))
		f.Proto = p[6]
		l4 = p[ipv6Header : ipv6Header+int(binary.BigEndian.Uint16(p[4:]))]
	default:
		return f, false
	}
	switch f.Proto {
	case protoTCP, protoUDP:
		if len(l4) >= 4 {
			f.SrcPort, f.DstPort = binary.BigEndian.Uint16(l4), binary.BigEndian.Uint16(l4[2:])
		}
	case protoICMP, protoICMPv6:
		if len(l4) >= 2 {
			f.SrcPort, f.DstPort = uint16(l4[0]), uint16(l4[1]) // type, code (kernel convention)
		}
	}
	return f, true
}

// ipv4Checksum is the RFC 791 header checksum of h.
func ipv4Checksum(h []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(h); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// appendIPv4 appends an IPv4 header (no options, TTL 64, DF clear) for a transport-mode payload
// of n octets, rebuilt on decapsulation from the SA's endpoints.
func appendIPv4(b []byte, src, dst netip.Addr, proto uint8, n int) []byte {
	start := len(b)
	b = append(b, 0x45, 0, 0, 0, 0, 0, 0, 0, 64, proto, 0, 0)
	binary.BigEndian.PutUint16(b[start+2:], uint16(ipv4MinHeader+n))
	s4, d4 := src.As4(), dst.As4()
	b = append(b, s4[:]...)
	b = append(b, d4[:]...)
	binary.BigEndian.PutUint16(b[start+10:], ipv4Checksum(b[start:start+ipv4MinHeader]))
	return b
}
