package isakmp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
)

// Identification payload in the IPsec DOI, RFC 2407 §4.6.2 (RFC 2408 §3.8):
//
//	! Next Payload  !   RESERVED    !         Payload Length        !
//	!   ID Type     !  Protocol ID  !             Port              !
//	~                     Identification Data                       ~
const idFixedLen = 4

// ID is an Identification payload. Phase-1 IDs name the peer (usually ID_IPV4_ADDR with
// protocol 0 and port 0, or 17/500); Quick Mode IDs (IDci/IDcr) are the proxy identities.
type ID struct {
	received
	IDType   IDType
	Protocol uint8  // IP protocol, 0 = any
	Port     uint16 // 0 = any
	Data     []byte // type-specific identification data
}

// Type implements Payload.
func (*ID) Type() PayloadType { return PayloadID }

// AppendMarshal appends the ID body (IDii_b / IDir_b: type, protocol, port and data).
func (id *ID) AppendMarshal(b []byte) []byte {
	b = append(b, byte(id.IDType), id.Protocol)
	b = binary.BigEndian.AppendUint16(b, id.Port)
	return append(b, id.Data...)
}

// idDataLen returns the exact data length an address ID type requires, or 0 for the
// variable-length types.
func idDataLen(t IDType) int {
	switch t {
	case IDIPv4Addr:
		return 4
	case IDIPv4AddrSubnet, IDIPv4AddrRange:
		return 8
	case IDIPv6Addr:
		return 16
	case IDIPv6AddrSubnet, IDIPv6AddrRange:
		return 32
	}
	return 0
}

func (id *ID) decode(body []byte) error {
	if len(body) < idFixedLen {
		return notifyf(NotifyPayloadMalformed, "ID body of %d octets", len(body))
	}
	id.IDType = IDType(body[0])
	id.Protocol = body[1]
	id.Port = binary.BigEndian.Uint16(body[2:])
	id.Data = body[idFixedLen:]
	if id.IDType == 0 || id.IDType > idTypeLastDefined {
		return notifyf(NotifyInvalidIDInformation, "ID type %d", uint8(id.IDType))
	}
	if n := idDataLen(id.IDType); n != 0 && len(id.Data) != n {
		// CVE-2013-6075 and CVE-2023-38711 are length confusions on exactly this field.
		return notifyf(NotifyInvalidIDInformation, "%v with %d octets of data, want %d", id.IDType, len(id.Data), n)
	}
	if len(id.Data) == 0 {
		return notifyf(NotifyInvalidIDInformation, "%v without data", id.IDType)
	}
	return nil
}

// errIDType is returned by the typed accessors when the ID holds another type.
var errIDType = errors.New("isakmp: ID type does not hold an address of that form")

// Addr returns the address of an ID_IPV4_ADDR or ID_IPV6_ADDR.
func (id *ID) Addr() (netip.Addr, error) {
	if (id.IDType != IDIPv4Addr && id.IDType != IDIPv6Addr) || len(id.Data) != idDataLen(id.IDType) {
		return netip.Addr{}, errIDType
	}
	a, _ := netip.AddrFromSlice(id.Data)
	return a, nil
}

// Prefix returns the subnet of an ID_IPV4_ADDR_SUBNET or ID_IPV6_ADDR_SUBNET. A mask that is
// not contiguous, or an address with host bits set, is INVALID-ID-INFORMATION: IOS builds proxy
// identities from ACL lines and only ever sends canonical prefixes.
func (id *ID) Prefix() (netip.Prefix, error) {
	if (id.IDType != IDIPv4AddrSubnet && id.IDType != IDIPv6AddrSubnet) || len(id.Data) != idDataLen(id.IDType) {
		return netip.Prefix{}, errIDType
	}
	n := len(id.Data) / 2
	addr, _ := netip.AddrFromSlice(id.Data[:n])
	bits, ok := maskBits(id.Data[n:])
	if !ok {
		return netip.Prefix{}, notifyf(NotifyInvalidIDInformation, "mask %x is not contiguous", id.Data[n:])
	}
	p := netip.PrefixFrom(addr, bits)
	if p.Masked() != p {
		return netip.Prefix{}, notifyf(NotifyInvalidIDInformation, "address %v has bits outside mask /%d", addr, bits)
	}
	return p, nil
}

// Range returns the bounds of an ID_IPV4_ADDR_RANGE or ID_IPV6_ADDR_RANGE; a range whose start
// is above its end is INVALID-ID-INFORMATION.
func (id *ID) Range() (from, to netip.Addr, err error) {
	if (id.IDType != IDIPv4AddrRange && id.IDType != IDIPv6AddrRange) || len(id.Data) != idDataLen(id.IDType) {
		return from, to, errIDType
	}
	n := len(id.Data) / 2
	from, _ = netip.AddrFromSlice(id.Data[:n])
	to, _ = netip.AddrFromSlice(id.Data[n:])
	if from.Compare(to) > 0 {
		return netip.Addr{}, netip.Addr{}, notifyf(NotifyInvalidIDInformation, "range %v-%v is reversed", from, to)
	}
	return from, to, nil
}

// maskBits returns the prefix length of a contiguous netmask.
func maskBits(m []byte) (int, bool) {
	bits, done := 0, false
	for _, c := range m {
		for i := 7; i >= 0; i-- {
			set := c&(1<<i) != 0
			switch {
			case set && done:
				return 0, false
			case set:
				bits++
			default:
				done = true
			}
		}
	}
	return bits, true
}

// IDAddr returns an ID_IPV4_ADDR (or ID_IPV6_ADDR) payload.
func IDAddr(a netip.Addr, proto uint8, port uint16) *ID {
	t := IDIPv4Addr
	if !a.Is4() {
		t = IDIPv6Addr
	}
	return &ID{IDType: t, Protocol: proto, Port: port, Data: a.AsSlice()}
}

// IDPrefix returns an ID_IPV4_ADDR_SUBNET (or ID_IPV6_ADDR_SUBNET) payload for p, masked.
func IDPrefix(p netip.Prefix, proto uint8, port uint16) *ID {
	p = p.Masked()
	a := p.Addr()
	t := IDIPv4AddrSubnet
	if !a.Is4() {
		t = IDIPv6AddrSubnet
	}
	data := a.AsSlice()
	mask := make([]byte, len(data))
	for i := 0; i < p.Bits(); i++ {
		mask[i/8] |= 0x80 >> (i % 8)
	}
	return &ID{IDType: t, Protocol: proto, Port: port, Data: append(data, mask...)}
}

// IDRange returns an ID_IPV4_ADDR_RANGE (or ID_IPV6_ADDR_RANGE) payload. from and to must be
// of the same family.
func IDRange(from, to netip.Addr, proto uint8, port uint16) *ID {
	t := IDIPv4AddrRange
	if !from.Is4() {
		t = IDIPv6AddrRange
	}
	return &ID{IDType: t, Protocol: proto, Port: port, Data: append(from.AsSlice(), to.AsSlice()...)}
}

// IDName returns an ID_FQDN, ID_USER_FQDN or ID_KEY_ID payload (phase 1: protocol and port 0).
func IDName(t IDType, name string) *ID { return &ID{IDType: t, Data: []byte(name)} }

// String renders the identity the way `show crypto` does: the address, subnet, range or name,
// then protocol and port when set.
func (id *ID) String() string {
	var s string
	switch id.IDType {
	case IDIPv4Addr, IDIPv6Addr:
		if a, err := id.Addr(); err == nil {
			s = a.String()
		}
	case IDIPv4AddrSubnet, IDIPv6AddrSubnet:
		if p, err := id.Prefix(); err == nil {
			s = p.String()
		}
	case IDIPv4AddrRange, IDIPv6AddrRange:
		if f, t, err := id.Range(); err == nil {
			s = f.String() + "-" + t.String()
		}
	case IDFQDN, IDUserFQDN:
		s = strconv.Quote(string(id.Data))
	}
	if s == "" {
		s = fmt.Sprintf("%x", id.Data)
	}
	return fmt.Sprintf("%v %s proto=%d port=%d", id.IDType, s, id.Protocol, id.Port)
}

// NAT Original Address payload, RFC 3947 §5.2 (type 21; the draft encoding is type 131):
//
//	! Next Payload  !   RESERVED    !         Payload Length        !
//	!    ID Type    !   RESERVED    !            RESERVED           !
//	~           IPv4 (4 octets) or IPv6 address (16 octets)         ~
type NATOA struct {
	received
	Draft bool
	Addr  netip.Addr
}

// Type implements Payload: PayloadNATOA, or PayloadNATOADraft for the draft encoding.
func (p *NATOA) Type() PayloadType {
	if p.Draft {
		return PayloadNATOADraft
	}
	return PayloadNATOA
}

// AppendMarshal appends the NAT-OA body.
func (p *NATOA) AppendMarshal(b []byte) []byte {
	t := IDIPv4Addr
	if !p.Addr.Is4() {
		t = IDIPv6Addr
	}
	return append(append(b, byte(t), 0, 0, 0), p.Addr.AsSlice()...)
}

func (p *NATOA) decode(body []byte) error {
	if len(body) < 4 {
		return notifyf(NotifyPayloadMalformed, "NAT-OA body of %d octets", len(body))
	}
	t := IDType(body[0])
	if (t != IDIPv4Addr && t != IDIPv6Addr) || len(body)-4 != idDataLen(t) {
		return notifyf(NotifyPayloadMalformed, "NAT-OA %v with %d octets of address", t, len(body)-4)
	}
	p.Addr, _ = netip.AddrFromSlice(body[4:])
	return nil
}
