package isakmp

import "encoding/binary"

// Security Association payload, RFC 2408 §3.4 with the IPsec DOI situation of RFC 2407 §4.6.1:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	! Next Payload  !   RESERVED    !         Payload Length        !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!              Domain of Interpretation  (DOI)                  !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!                           Situation                           !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                  Proposal payloads (RFC 2408 §3.5)            ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Proposal payload, RFC 2408 §3.5:
//
//	! Next Payload  !   RESERVED    !         Payload Length        !
//	!  Proposal #   !  Protocol-Id  !    SPI Size   !# of Transforms!
//	~                        SPI (variable)                         ~
//	~                   Transform payloads                          ~
//
// Transform payload, RFC 2408 §3.6:
//
//	! Next Payload  !   RESERVED    !         Payload Length        !
//	!  Transform #  !  Transform-Id !           RESERVED2           !
//	~                        SA Attributes                          ~
const (
	saFixedLen        = 8 // DOI + situation
	proposalFixedLen  = 8 // generic header + number, protocol, SPI size, count
	transformFixedLen = 8 // generic header + number, id, reserved2

	// MaxProposals bounds the proposals of one SA payload. IOS offers at most six transform sets
	// per crypto map entry; the proposal number is one octet anyway.
	MaxProposals = 64
	// MaxTransforms bounds the transforms of one proposal (the count field is one octet;
	// strongSwan's IKEv1 default proposal expands to well over a hundred transforms).
	MaxTransforms = 255
)

// SA is a Security Association payload (RFC 2408 §3.4) in the IPsec DOI, situation identity-only.
type SA struct {
	received
	DOI       DOI
	Situation Situation
	Proposals []*Proposal
}

// Proposal is a Proposal payload (RFC 2408 §3.5). Consecutive proposals with the same Number form
// one logical AND-ed proposal (e.g. AH and ESP together); distinct numbers are alternatives.
type Proposal struct {
	Number     uint8
	Protocol   ProtocolID
	SPI        []byte // sender's inbound SPI; empty in phase 1
	Transforms []*Transform
}

// Transform is a Transform payload (RFC 2408 §3.6). ID is a KEY_IKE, ESP, AH or IPComp transform
// identifier depending on the proposal's protocol (RFC 2407 §4.4).
type Transform struct {
	Number     uint8
	ID         TransformID
	Attributes []Attribute
}

// Type implements Payload.
func (*SA) Type() PayloadType { return PayloadSA }

// AppendMarshal appends the SA body (what RFC 2409 calls SAi_b): DOI, situation and proposals,
// each with its length patched.
func (sa *SA) AppendMarshal(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(sa.DOI))
	b = binary.BigEndian.AppendUint32(b, uint32(sa.Situation))
	for i, p := range sa.Proposals {
		next := PayloadProposal
		if i == len(sa.Proposals)-1 {
			next = PayloadNone
		}
		b = p.appendMarshal(b, next)
	}
	return b
}

func (p *Proposal) appendMarshal(b []byte, next PayloadType) []byte {
	start := len(b)
	b = append(b, byte(next), 0, 0, 0, p.Number, byte(p.Protocol), byte(len(p.SPI)), byte(len(p.Transforms)))
	b = append(b, p.SPI...)
	for i, t := range p.Transforms {
		tn := PayloadTransform
		if i == len(p.Transforms)-1 {
			tn = PayloadNone
		}
		b = t.appendMarshal(b, tn)
	}
	return patchLen(b, start)
}

func (t *Transform) appendMarshal(b []byte, next PayloadType) []byte {
	start := len(b)
	b = append(b, byte(next), 0, 0, 0, t.Number, byte(t.ID), 0, 0)
	b = appendAttributes(b, t.Attributes)
	return patchLen(b, start)
}

// patchLen writes len(b)-start into the 16-bit length at b[start+2:], as every generic header has.
func patchLen(b []byte, start int) []byte {
	n := len(b) - start
	if n > 0xffff {
		panic("isakmp: payload longer than 65535 octets")
	}
	binary.BigEndian.PutUint16(b[start+2:], uint16(n))
	return b
}

func (sa *SA) decode(body []byte) error {
	if len(body) < saFixedLen {
		return notifyf(NotifyPayloadMalformed, "SA body of %d octets", len(body))
	}
	sa.DOI = DOI(binary.BigEndian.Uint32(body))
	sa.Situation = Situation(binary.BigEndian.Uint32(body[4:]))
	if sa.DOI != DOIIPsec {
		return notifyf(NotifyDOINotSupported, "DOI %d", uint32(sa.DOI))
	}
	if sa.Situation != SituationIdentityOnly {
		return notifyf(NotifySituationNotSupported, "situation 0x%x", uint32(sa.Situation))
	}
	b := body[saFixedLen:]
	if len(b) == 0 {
		return notifyf(NotifyBadProposalSyntax, "SA without proposals")
	}
	next := PayloadProposal
	off := saFixedLen
	for next != PayloadNone {
		if next != PayloadProposal {
			return notifyf(NotifyBadProposalSyntax, "next payload %v inside SA at offset %d", next, off)
		}
		if len(sa.Proposals) == MaxProposals {
			return notifyf(NotifyBadProposalSyntax, "more than %d proposals", MaxProposals)
		}
		if len(b) < proposalFixedLen {
			return notifyf(NotifyUnequalPayloadLengths, "proposal at offset %d truncated: %d octets left", off, len(b))
		}
		plen := int(binary.BigEndian.Uint16(b[2:]))
		if plen < proposalFixedLen || plen > len(b) {
			return notifyf(NotifyUnequalPayloadLengths, "proposal at offset %d has length %d, %d octets left", off, plen, len(b))
		}
		p, err := decodeProposal(b[:plen])
		if err != nil {
			return within(err, "proposal at offset %d", off)
		}
		if n := len(sa.Proposals); n > 0 && p.Number < sa.Proposals[n-1].Number {
			// RFC 2408 §3.5: proposal numbers increase monotonically.
			return notifyf(NotifyBadProposalSyntax, "proposal #%d follows proposal #%d", p.Number, sa.Proposals[n-1].Number)
		}
		sa.Proposals = append(sa.Proposals, p)
		next = PayloadType(b[0])
		b = b[plen:]
		off += plen
	}
	if len(b) != 0 {
		return notifyf(NotifyUnequalPayloadLengths, "%d octets after the last proposal", len(b))
	}
	return nil
}

func decodeProposal(b []byte) (*Proposal, error) {
	p := &Proposal{Number: b[4], Protocol: ProtocolID(b[5])}
	spiSize, count := int(b[6]), int(b[7])
	switch p.Protocol {
	case ProtocolISAKMP, ProtocolAH, ProtocolESP, ProtocolIPComp:
	default:
		return nil, notifyf(NotifyInvalidProtocolID, "protocol %d", uint8(p.Protocol))
	}
	if !spiSizeOK(p.Protocol, spiSize, true) {
		return nil, notifyf(NotifyInvalidSPI, "SPI size %d for %v", spiSize, p.Protocol)
	}
	if count == 0 {
		return nil, notifyf(NotifyBadProposalSyntax, "proposal without transforms")
	}
	if proposalFixedLen+spiSize > len(b) {
		return nil, notifyf(NotifyUnequalPayloadLengths, "SPI of %d octets exceeds the proposal", spiSize)
	}
	end := proposalFixedLen + spiSize
	p.SPI = b[proposalFixedLen:end:end]
	b = b[end:]
	p.Transforms = make([]*Transform, 0, min(count, len(b)/transformFixedLen))
	next := PayloadTransform
	for next != PayloadNone {
		if next != PayloadTransform {
			return nil, notifyf(NotifyBadProposalSyntax, "next payload %v inside proposal", next)
		}
		if len(p.Transforms) == count {
			return nil, notifyf(NotifyBadProposalSyntax, "more transforms than the %d announced", count)
		}
		if len(b) < transformFixedLen {
			return nil, notifyf(NotifyUnequalPayloadLengths, "transform truncated: %d octets left", len(b))
		}
		tlen := int(binary.BigEndian.Uint16(b[2:]))
		if tlen < transformFixedLen || tlen > len(b) {
			return nil, notifyf(NotifyUnequalPayloadLengths, "transform length %d, %d octets left", tlen, len(b))
		}
		attrs, err := parseAttributes(b[transformFixedLen:tlen])
		if err != nil {
			return nil, within(err, "transform #%d", b[4])
		}
		if err := checkAttributeForms(p.Protocol, attrs); err != nil {
			return nil, err
		}
		p.Transforms = append(p.Transforms, &Transform{Number: b[4], ID: TransformID(b[5]), Attributes: attrs})
		next = PayloadType(b[0])
		b = b[tlen:]
	}
	if len(p.Transforms) != count {
		return nil, notifyf(NotifyBadProposalSyntax, "%d transforms announced, %d present", count, len(p.Transforms))
	}
	if len(b) != 0 {
		return nil, notifyf(NotifyUnequalPayloadLengths, "%d octets after the last transform", len(b))
	}
	return p, nil
}

// Attr returns the first attribute of type t and whether there is one.
func (t *Transform) Attr(typ AttributeType) (Attribute, bool) {
	for _, a := range t.Attributes {
		if a.Type == typ {
			return a, true
		}
	}
	return Attribute{}, false
}
