package isakmp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
)

// Data attributes, RFC 2408 §3.3:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!A!       Attribute Type        !    AF=0  Attribute Length     !
//	!F!                             !    AF=1  Attribute Value      !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	.                   AF=0  Attribute Value                       .
//	.                   AF=1  Not Transmitted                       .
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	attrHeaderLen = 4
	attrFormatTV  = 0x8000 // AF bit: basic (type/value) form

	// MaxAttributes bounds the attributes of one transform or attribute payload. IKEv1 transforms
	// carry about eight; the bound keeps a hostile message from costing more than its size.
	MaxAttributes = 64
)

// AttributeType is an attribute type without the AF bit. Its meaning depends on where the
// attribute sits: phase-1 transforms use the IKE class values of RFC 2409 Appendix A
// (IKEAttr*), phase-2 transforms the IPsec DOI values of RFC 2407 §4.5 (IPsecAttr*).
type AttributeType uint16

func (t AttributeType) String() string { return "ATTR(" + strconv.Itoa(int(t)) + ")" }

// Phase-1 (IKE) attribute classes, RFC 2409 Appendix A. B = basic, V = variable.
const (
	IKEAttrEncryption     AttributeType = 1  // B
	IKEAttrHash           AttributeType = 2  // B
	IKEAttrAuthMethod     AttributeType = 3  // B
	IKEAttrGroupDesc      AttributeType = 4  // B
	IKEAttrGroupType      AttributeType = 5  // B
	IKEAttrGroupPrime     AttributeType = 6  // V
	IKEAttrGroupGenOne    AttributeType = 7  // V
	IKEAttrGroupGenTwo    AttributeType = 8  // V
	IKEAttrGroupCurveA    AttributeType = 9  // V
	IKEAttrGroupCurveB    AttributeType = 10 // V
	IKEAttrLifeType       AttributeType = 11 // B
	IKEAttrLifeDuration   AttributeType = 12 // V
	IKEAttrPRF            AttributeType = 13 // B
	IKEAttrKeyLength      AttributeType = 14 // B
	IKEAttrFieldSize      AttributeType = 15 // B
	IKEAttrGroupOrder     AttributeType = 16 // V
	ikeAttrLast                         = IKEAttrGroupOrder
	ikeAttrBasicClassMask               = 1<<IKEAttrEncryption | 1<<IKEAttrHash | 1<<IKEAttrAuthMethod |
		1<<IKEAttrGroupDesc | 1<<IKEAttrGroupType | 1<<IKEAttrLifeType | 1<<IKEAttrPRF |
		1<<IKEAttrKeyLength | 1<<IKEAttrFieldSize
)

var ikeAttrNames = map[AttributeType]string{
	IKEAttrEncryption: "Encryption Algorithm", IKEAttrHash: "Hash Algorithm",
	IKEAttrAuthMethod: "Authentication Method", IKEAttrGroupDesc: "Group Description",
	IKEAttrGroupType: "Group Type", IKEAttrGroupPrime: "Group Prime/Irreducible Polynomial",
	IKEAttrGroupGenOne: "Group Generator One", IKEAttrGroupGenTwo: "Group Generator Two",
	IKEAttrGroupCurveA: "Group Curve A", IKEAttrGroupCurveB: "Group Curve B",
	IKEAttrLifeType: "Life Type", IKEAttrLifeDuration: "Life Duration", IKEAttrPRF: "PRF",
	IKEAttrKeyLength: "Key Length", IKEAttrFieldSize: "Field Size", IKEAttrGroupOrder: "Group Order",
}

// Phase-2 (IPsec DOI) attribute types, RFC 2407 §4.5, RFC 3168 §9.2 (ECN), RFC 4304 (ESN).
// All are basic except the life duration and the compression private algorithm.
const (
	IPsecAttrLifeType        AttributeType = 1 // B
	IPsecAttrLifeDuration    AttributeType = 2 // V
	IPsecAttrGroupDesc       AttributeType = 3 // B
	IPsecAttrEncapsulation   AttributeType = 4 // B
	IPsecAttrAuthAlgorithm   AttributeType = 5 // B
	IPsecAttrKeyLength       AttributeType = 6 // B
	IPsecAttrKeyRounds       AttributeType = 7 // B
	IPsecAttrCompressDict    AttributeType = 8 // B
	IPsecAttrCompressPrivAlg AttributeType = 9 // V
	IPsecAttrECNTunnel       AttributeType = 10
	IPsecAttrESN             AttributeType = 11
	ipsecAttrLast                          = IPsecAttrESN
	ipsecAttrBasicClassMask                = 1<<IPsecAttrLifeType | 1<<IPsecAttrGroupDesc |
		1<<IPsecAttrEncapsulation | 1<<IPsecAttrAuthAlgorithm | 1<<IPsecAttrKeyLength |
		1<<IPsecAttrKeyRounds | 1<<IPsecAttrCompressDict | 1<<IPsecAttrECNTunnel | 1<<IPsecAttrESN
)

var ipsecAttrNames = map[AttributeType]string{
	IPsecAttrLifeType: "SA Life Type", IPsecAttrLifeDuration: "SA Life Duration",
	IPsecAttrGroupDesc: "Group Description", IPsecAttrEncapsulation: "Encapsulation Mode",
	IPsecAttrAuthAlgorithm: "Authentication Algorithm", IPsecAttrKeyLength: "Key Length",
	IPsecAttrKeyRounds: "Key Rounds", IPsecAttrCompressDict: "Compress Dictionary Size",
	IPsecAttrCompressPrivAlg: "Compress Private Algorithm", IPsecAttrECNTunnel: "ECN Tunnel",
	IPsecAttrESN: "Extended Sequence Number",
}

// AttributeName names attribute type t as it appears in a transform of protocol p.
func AttributeName(p ProtocolID, t AttributeType) string {
	names := ipsecAttrNames
	if p == ProtocolISAKMP {
		names = ikeAttrNames
	}
	return name(names, "ATTR", t)
}

// basicOnly reports whether t must be sent in basic (TV) form in a transform of protocol p.
func basicOnly(p ProtocolID, t AttributeType) bool {
	if p == ProtocolISAKMP {
		return t <= ikeAttrLast && ikeAttrBasicClassMask&(1<<t) != 0
	}
	return t <= ipsecAttrLast && ipsecAttrBasicClassMask&(1<<t) != 0
}

// Attribute is one data attribute (RFC 2408 §3.3). A basic attribute (AF=1) carries a 16-bit
// Value; a variable one (AF=0) carries Data, whose length the encoding states.
type Attribute struct {
	Type  AttributeType
	Basic bool   // TV form
	Value uint16 // the value of a basic attribute
	Data  []byte // the value of a variable attribute
}

// BasicAttr returns a basic (TV) attribute.
func BasicAttr(t AttributeType, v uint16) Attribute { return Attribute{Type: t, Basic: true, Value: v} }

// VarAttr returns a variable (TLV) attribute.
func VarAttr(t AttributeType, data []byte) Attribute { return Attribute{Type: t, Data: data} }

// UintAttr encodes v the way peers expect for a variable-class integer such as a life duration:
// basic when it fits in 16 bits, otherwise variable with 4 octets (8 beyond 32 bits).
func UintAttr(t AttributeType, v uint64) Attribute {
	switch {
	case v <= 0xffff:
		return BasicAttr(t, uint16(v))
	case v <= 0xffffffff:
		return VarAttr(t, binary.BigEndian.AppendUint32(nil, uint32(v)))
	default:
		return VarAttr(t, binary.BigEndian.AppendUint64(nil, v))
	}
}

var errAttrOverflow = errors.New("attribute value does not fit in 64 bits")

// Uint returns the attribute as an unsigned integer: the value of a basic attribute, or the
// big-endian Data of a variable one (any length, as long as the value fits in 64 bits).
func (a Attribute) Uint() (uint64, error) {
	if a.Basic {
		return uint64(a.Value), nil
	}
	if len(a.Data) == 0 {
		return 0, errors.New("empty variable attribute")
	}
	d := a.Data
	for len(d) > 8 && d[0] == 0 {
		d = d[1:]
	}
	if len(d) > 8 {
		return 0, errAttrOverflow
	}
	var v uint64
	for _, c := range d {
		v = v<<8 | uint64(c)
	}
	return v, nil
}

// Len returns the encoded length of the attribute.
func (a Attribute) Len() int {
	if a.Basic {
		return attrHeaderLen
	}
	return attrHeaderLen + len(a.Data)
}

// AppendMarshal appends the encoded attribute. A variable attribute longer than 65535 octets
// cannot be encoded; AppendMarshal panics on it, as it is a programming error.
func (a Attribute) AppendMarshal(b []byte) []byte {
	t := uint16(a.Type) &^ attrFormatTV
	if a.Basic {
		b = binary.BigEndian.AppendUint16(b, t|attrFormatTV)
		return binary.BigEndian.AppendUint16(b, a.Value)
	}
	if len(a.Data) > 0xffff {
		panic("isakmp: variable attribute longer than 65535 octets")
	}
	b = binary.BigEndian.AppendUint16(b, t)
	b = binary.BigEndian.AppendUint16(b, uint16(len(a.Data)))
	return append(b, a.Data...)
}

func (a Attribute) String() string {
	if a.Basic {
		return fmt.Sprintf("%d=%d", a.Type, a.Value)
	}
	return fmt.Sprintf("%d=0x%x", a.Type, a.Data)
}

// parseAttributes decodes a sequence of attributes filling b exactly.
func parseAttributes(b []byte) ([]Attribute, error) {
	attrs := make([]Attribute, 0, min(len(b)/attrHeaderLen, MaxAttributes))
	for len(b) > 0 {
		if len(attrs) == MaxAttributes {
			return nil, notifyf(NotifyPayloadMalformed, "more than %d attributes", MaxAttributes)
		}
		if len(b) < attrHeaderLen {
			return nil, notifyf(NotifyPayloadMalformed, "attribute truncated: %d octets left", len(b))
		}
		t := binary.BigEndian.Uint16(b)
		v := binary.BigEndian.Uint16(b[2:])
		if t&attrFormatTV != 0 {
			attrs = append(attrs, Attribute{Type: AttributeType(t &^ attrFormatTV), Basic: true, Value: v})
			b = b[attrHeaderLen:]
			continue
		}
		end := attrHeaderLen + int(v)
		if end > len(b) {
			return nil, notifyf(NotifyPayloadMalformed, "attribute %d length %d exceeds the %d octets left", t, v, len(b)-attrHeaderLen)
		}
		attrs = append(attrs, Attribute{Type: AttributeType(t), Data: b[attrHeaderLen:end:end]})
		b = b[end:]
	}
	return attrs, nil
}

// appendAttributes appends attrs in order.
func appendAttributes(b []byte, attrs []Attribute) []byte {
	for _, a := range attrs {
		b = a.AppendMarshal(b)
	}
	return b
}

// checkAttributeForms rejects basic-class attributes sent in variable form (RFC 2409 Appendix A,
// RFC 2407 §4.5): such confusion is how a parser reads a length as a value.
func checkAttributeForms(p ProtocolID, attrs []Attribute) error {
	for _, a := range attrs {
		if !a.Basic && basicOnly(p, a.Type) {
			return notifyf(NotifyAttributesNotSupported, "%s (%d) must be a basic attribute",
				AttributeName(p, a.Type), a.Type)
		}
	}
	return nil
}
