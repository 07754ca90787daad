package isakmp

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// Dump renders m as an indented, human-readable tree: the header, then each payload with its
// fields, proposals, transforms and attributes named (RFC names). It is meant for debug output
// (`debug crypto isakmp` packet dumps) and for golden tests; long values are shown in full.
func (m *Message) Dump() string {
	var sb strings.Builder
	h := m.Header
	fmt.Fprintf(&sb, "ISAKMP %v/%v %v flags=%v msgid=%08x len=%d\n", h.ICookie, h.RCookie, h.Exchange, h.Flags, h.MessageID, h.Length)
	if m.Payloads == nil && m.Ciphertext != nil {
		fmt.Fprintf(&sb, "  encrypted, first payload %v, %d octets\n", h.NextPayload, len(m.Ciphertext))
		return sb.String()
	}
	for _, p := range m.Payloads {
		dumpPayload(&sb, p)
	}
	if len(m.Padding) > 0 {
		fmt.Fprintf(&sb, "  padding %d octets\n", len(m.Padding))
	}
	return sb.String()
}

func dumpPayload(sb *strings.Builder, p Payload) {
	switch p := p.(type) {
	case *SA:
		fmt.Fprintf(sb, "  SA doi=%v situation=%v\n", p.DOI, p.Situation)
		for _, pr := range p.Proposals {
			fmt.Fprintf(sb, "    proposal #%d %v spi=%x transforms=%d\n", pr.Number, pr.Protocol, pr.SPI, len(pr.Transforms))
			for _, t := range pr.Transforms {
				fmt.Fprintf(sb, "      transform #%d %s\n", t.Number, TransformName(pr.Protocol, t.ID))
				for _, a := range t.Attributes {
					fmt.Fprintf(sb, "        %s = %s\n", AttributeName(pr.Protocol, a.Type), attrValue(pr.Protocol, a))
				}
			}
		}
	case *ID:
		fmt.Fprintf(sb, "  ID %v\n", p)
	case *Notify:
		fmt.Fprintf(sb, "  NOTIFY %v doi=%v %v spi=%x data=%x\n", p.NotifyType, p.DOI, p.Protocol, p.SPI, p.Data)
	case *Delete:
		fmt.Fprintf(sb, "  DELETE doi=%v %v", p.DOI, p.Protocol)
		for _, s := range p.SPIs {
			fmt.Fprintf(sb, " %x", s)
		}
		sb.WriteString("\n")
	case *VendorID:
		fmt.Fprintf(sb, "  VID %s (%x)\n", VendorName(p.Data), p.Data)
	case *NATOA:
		fmt.Fprintf(sb, "  %v %v\n", p.Type(), p.Addr)
	case *Fragment:
		fmt.Fprintf(sb, "  FRAGMENT id=%d #%d flags=%d %d octets\n", p.ID, p.Number, p.Flags, len(p.Data))
	case *ModeCfg:
		fmt.Fprintf(sb, "  ATTR type=%d id=%d\n", p.CfgType, p.Identifier)
		for _, a := range p.Attributes {
			fmt.Fprintf(sb, "    %v\n", a)
		}
	case *Certificate:
		fmt.Fprintf(sb, "  CERT encoding=%d %d octets\n", p.Encoding, len(p.Data))
	case *CertRequest:
		fmt.Fprintf(sb, "  CERT_REQUEST type=%d authority=%x\n", p.CertType, p.Authority)
	default:
		fmt.Fprintf(sb, "  %v %d octets %s\n", p.Type(), len(Body(p)), hex.EncodeToString(Body(p)))
	}
}

// attrValue names the value of a transform attribute in protocol p.
func attrValue(p ProtocolID, a Attribute) string {
	if !a.Basic {
		if v, err := a.Uint(); err == nil && (a.Type == IKEAttrLifeDuration && p == ProtocolISAKMP ||
			a.Type == IPsecAttrLifeDuration && p != ProtocolISAKMP) {
			return fmt.Sprintf("%d (%d-octet TLV)", v, len(a.Data))
		}
		return "0x" + hex.EncodeToString(a.Data)
	}
	v := a.Value
	var s fmt.Stringer
	if p == ProtocolISAKMP {
		switch a.Type {
		case IKEAttrEncryption:
			s = EncryptionAlgorithm(v)
		case IKEAttrHash:
			s = HashAlgorithm(v)
		case IKEAttrAuthMethod:
			s = AuthMethod(v)
		case IKEAttrGroupDesc:
			s = Group(v)
		case IKEAttrLifeType:
			s = LifeType(v)
		}
	} else {
		switch a.Type {
		case IPsecAttrLifeType:
			s = LifeType(v)
		case IPsecAttrGroupDesc:
			s = Group(v)
		case IPsecAttrEncapsulation:
			s = EncapsulationMode(v)
		case IPsecAttrAuthAlgorithm:
			s = AuthAlgorithm(v)
		}
	}
	if s == nil {
		return fmt.Sprintf("%d", v)
	}
	return fmt.Sprintf("%v (%d)", s, v)
}
