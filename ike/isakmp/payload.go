package isakmp

import (
	"encoding/binary"
	"fmt"
)

// Generic payload header, RFC 2408 §3.2. IKEv1 has no critical bit: the octet after Next Payload
// is RESERVED, ignored on receipt and sent as zero.
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	! Next Payload  !   RESERVED    !         Payload Length        !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const genericHeaderLen = 4

// Payload is one payload of an ISAKMP message.
//
// AppendMarshal appends the payload body: everything after the generic payload header, which is
// what RFC 2409 calls <Payload>_b (SAi_b, IDii_b, Ni_b). The generic header belongs to the chain
// and is written by AppendPayloads, which knows the next payload's type.
//
// Raw returns the payload exactly as it was received, generic header included, or nil for a
// payload built locally. Hashes over received payloads (HASH_I, HASH(1)) must use these bytes.
type Payload interface {
	Type() PayloadType
	AppendMarshal(b []byte) []byte
	Raw() []byte
}

// received holds the bytes a payload was decoded from.
type received struct{ raw []byte }

// Raw returns the payload as received (generic header and body), or nil if it was built locally.
func (r received) Raw() []byte { return r.raw }

// Body returns the body of p as received when it was, otherwise as AppendMarshal encodes it.
func Body(p Payload) []byte {
	if r := p.Raw(); r != nil {
		return r[genericHeaderLen:]
	}
	return p.AppendMarshal(nil)
}

// AppendPayloads appends ps as a payload chain: each payload with its generic header, the Next
// Payload of each pointing at the following one (zero after the last), lengths patched.
func AppendPayloads(b []byte, ps []Payload) []byte {
	for i, p := range ps {
		next := PayloadNone
		if i+1 < len(ps) {
			next = ps[i+1].Type()
		}
		start := len(b)
		b = append(b, byte(next), 0, 0, 0)
		b = p.AppendMarshal(b)
		b = patchLen(b, start)
	}
	return b
}

// KE is a Key Exchange payload (RFC 2408 §3.7): the public Diffie-Hellman value, whose length
// the group fixes (checked by the engine, which knows the group).
type KE struct {
	received
	Data []byte
}

// Nonce is a Nonce payload (RFC 2408 §3.13); RFC 2409 §5 bounds it to 8..256 octets.
type Nonce struct {
	received
	Data []byte
}

// Hash is a Hash payload (RFC 2408 §3.11).
type Hash struct {
	received
	Data []byte
}

// Signature is a Signature payload (RFC 2408 §3.12).
type Signature struct {
	received
	Data []byte
}

// VendorID is a Vendor ID payload (RFC 2408 §3.16). See the VendorID* constants.
type VendorID struct {
	received
	Data []byte
}

// NATD is a NAT-Discovery payload (RFC 3947 §3.2): HASH(CKY-I | CKY-R | IP | Port). Draft
// selects the draft-ietf-ipsec-nat-t-ike-02/03 payload type 130 instead of 20.
type NATD struct {
	received
	Draft bool
	Hash  []byte
}

// Certificate is a Certificate payload (RFC 2408 §3.9).
type Certificate struct {
	received
	Encoding uint8 // RFC 2408 §3.9 Certificate Encoding
	Data     []byte
}

// CertRequest is a Certificate Request payload (RFC 2408 §3.10).
type CertRequest struct {
	received
	CertType  uint8
	Authority []byte
}

// Unknown is a payload whose type this package does not decode (reserved, private, GDOI, or an
// IKEv2 type in an IKEv1 message). RFC 2408 §5.1 answers such a payload with INVALID-PAYLOAD-TYPE;
// the parser keeps it, walking past it by its length, and Message.Unknown reports it.
type Unknown struct {
	received
	PayloadType PayloadType
	Data        []byte
}

func (*KE) Type() PayloadType          { return PayloadKE }
func (*Nonce) Type() PayloadType       { return PayloadNonce }
func (*Hash) Type() PayloadType        { return PayloadHash }
func (*Signature) Type() PayloadType   { return PayloadSignature }
func (*VendorID) Type() PayloadType    { return PayloadVendorID }
func (*Certificate) Type() PayloadType { return PayloadCert }
func (*CertRequest) Type() PayloadType { return PayloadCertRequest }
func (u *Unknown) Type() PayloadType   { return u.PayloadType }

// Type implements Payload: PayloadNATD, or PayloadNATDDraft for the draft encoding.
func (n *NATD) Type() PayloadType {
	if n.Draft {
		return PayloadNATDDraft
	}
	return PayloadNATD
}

func (p *KE) AppendMarshal(b []byte) []byte        { return append(b, p.Data...) }
func (p *Nonce) AppendMarshal(b []byte) []byte     { return append(b, p.Data...) }
func (p *Hash) AppendMarshal(b []byte) []byte      { return append(b, p.Data...) }
func (p *Signature) AppendMarshal(b []byte) []byte { return append(b, p.Data...) }
func (p *VendorID) AppendMarshal(b []byte) []byte  { return append(b, p.Data...) }
func (p *NATD) AppendMarshal(b []byte) []byte      { return append(b, p.Hash...) }
func (p *Unknown) AppendMarshal(b []byte) []byte   { return append(b, p.Data...) }
func (p *Certificate) AppendMarshal(b []byte) []byte {
	return append(append(b, p.Encoding), p.Data...)
}
func (p *CertRequest) AppendMarshal(b []byte) []byte {
	return append(append(b, p.CertType), p.Authority...)
}

// Nonce length bounds, RFC 2409 §5.
const (
	MinNonceLen = 8
	MaxNonceLen = 256
)

// Fragment is an IKEv1 fragmentation payload (the Cisco scheme strongSwan and Windows use,
// announced by VendorIDFragmentation). A fragmented message has a header whose Next Payload is
// PayloadFragment and a single Fragment payload; reassembly belongs to the engine.
//
//	! Next Payload  !   RESERVED    !         Payload Length        !
//	!          Fragment ID          !  Fragment #   !     Flags     !
//	~                        Fragment Data                          ~
type Fragment struct {
	received
	ID     uint16
	Number uint8 // 1-based
	Flags  uint8 // FragmentLast on the last fragment
	Data   []byte
}

// FragmentLast marks the last fragment of a message.
const FragmentLast = 0x01

func (*Fragment) Type() PayloadType { return PayloadFragment }

func (p *Fragment) AppendMarshal(b []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, p.ID)
	return append(append(b, p.Number, p.Flags), p.Data...)
}

// ModeCfg is an Attribute payload (draft-ietf-ipsec-isakmp-mode-cfg-05 §3.2) used by XAUTH and
// Mode Config in the Transaction exchange.
//
//	! Next Payload  !   RESERVED    !         Payload Length        !
//	!     Type      !   RESERVED    !           Identifier          !
//	~                           Attributes                          ~
type ModeCfg struct {
	received
	CfgType    uint8 // 1 request, 2 reply, 3 set, 4 ack
	Identifier uint16
	Attributes []Attribute
}

func (*ModeCfg) Type() PayloadType { return PayloadAttribute }

func (p *ModeCfg) AppendMarshal(b []byte) []byte {
	b = append(b, p.CfgType, 0)
	b = binary.BigEndian.AppendUint16(b, p.Identifier)
	return appendAttributes(b, p.Attributes)
}

// decodePayload decodes one payload body of type t. raw is the whole payload (generic header
// and body); the returned payload aliases it.
func decodePayload(t PayloadType, raw []byte) (Payload, error) {
	body := raw[genericHeaderLen:len(raw):len(raw)]
	r := received{raw: raw[:len(raw):len(raw)]}
	switch t {
	case PayloadSA:
		sa := &SA{received: r}
		if err := sa.decode(body); err != nil {
			return nil, err
		}
		return sa, nil
	case PayloadKE:
		if len(body) == 0 {
			return nil, notifyf(NotifyInvalidKeyInformation, "empty KE payload")
		}
		return &KE{received: r, Data: body}, nil
	case PayloadID:
		id := &ID{received: r}
		if err := id.decode(body); err != nil {
			return nil, err
		}
		return id, nil
	case PayloadCert:
		if len(body) < 1 {
			return nil, notifyf(NotifyPayloadMalformed, "empty certificate payload")
		}
		return &Certificate{received: r, Encoding: body[0], Data: body[1:]}, nil
	case PayloadCertRequest:
		if len(body) < 1 {
			return nil, notifyf(NotifyPayloadMalformed, "empty certificate request payload")
		}
		return &CertRequest{received: r, CertType: body[0], Authority: body[1:]}, nil
	case PayloadHash:
		if len(body) == 0 {
			return nil, notifyf(NotifyInvalidHashInformation, "empty HASH payload")
		}
		return &Hash{received: r, Data: body}, nil
	case PayloadSignature:
		if len(body) == 0 {
			return nil, notifyf(NotifyInvalidSignature, "empty SIG payload")
		}
		return &Signature{received: r, Data: body}, nil
	case PayloadNonce:
		if len(body) < MinNonceLen || len(body) > MaxNonceLen {
			return nil, notifyf(NotifyPayloadMalformed, "nonce of %d octets, want %d..%d", len(body), MinNonceLen, MaxNonceLen)
		}
		return &Nonce{received: r, Data: body}, nil
	case PayloadNotify:
		n := &Notify{received: r}
		if err := n.decode(body); err != nil {
			return nil, err
		}
		return n, nil
	case PayloadDelete:
		d := &Delete{received: r}
		if err := d.decode(body); err != nil {
			return nil, err
		}
		return d, nil
	case PayloadVendorID:
		return &VendorID{received: r, Data: body}, nil
	case PayloadAttribute:
		if len(body) < 4 {
			return nil, notifyf(NotifyPayloadMalformed, "attribute payload of %d octets", len(body))
		}
		attrs, err := parseAttributes(body[4:])
		if err != nil {
			return nil, err
		}
		return &ModeCfg{received: r, CfgType: body[0], Identifier: binary.BigEndian.Uint16(body[2:]), Attributes: attrs}, nil
	case PayloadNATD, PayloadNATDDraft:
		if len(body) == 0 {
			return nil, notifyf(NotifyPayloadMalformed, "empty NAT-D payload")
		}
		return &NATD{received: r, Draft: t == PayloadNATDDraft, Hash: body}, nil
	case PayloadNATOA, PayloadNATOADraft:
		oa := &NATOA{received: r, Draft: t == PayloadNATOADraft}
		if err := oa.decode(body); err != nil {
			return nil, err
		}
		return oa, nil
	case PayloadFragment:
		// CVE-2016-1287: a fragment payload shorter than its 8-octet header.
		if len(body) < 4 {
			return nil, notifyf(NotifyPayloadMalformed, "fragment payload of %d octets", len(raw))
		}
		f := &Fragment{received: r, ID: binary.BigEndian.Uint16(body), Number: body[2], Flags: body[3], Data: body[4:]}
		if f.Number == 0 {
			return nil, notifyf(NotifyPayloadMalformed, "fragment number 0")
		}
		return f, nil
	}
	return &Unknown{received: r, PayloadType: t, Data: body}, nil
}

// known reports whether t is a payload type decodePayload understands at the top level of a chain.
func known(t PayloadType) bool {
	switch t {
	case PayloadSA, PayloadKE, PayloadID, PayloadCert, PayloadCertRequest, PayloadHash,
		PayloadSignature, PayloadNonce, PayloadNotify, PayloadDelete, PayloadVendorID,
		PayloadAttribute, PayloadNATD, PayloadNATDDraft, PayloadNATOA, PayloadNATOADraft, PayloadFragment:
		return true
	}
	return false
}

func (p *KE) String() string       { return fmt.Sprintf("KE(%d octets)", len(p.Data)) }
func (p *Nonce) String() string    { return fmt.Sprintf("NONCE(%x)", p.Data) }
func (p *Hash) String() string     { return fmt.Sprintf("HASH(%x)", p.Data) }
func (p *VendorID) String() string { return "VID(" + VendorName(p.Data) + ")" }
func (p *NATD) String() string     { return fmt.Sprintf("%v(%x)", p.Type(), p.Hash) }
func (p *Unknown) String() string  { return fmt.Sprintf("%v(%d octets)", p.PayloadType, len(p.Data)) }
