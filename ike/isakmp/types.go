package isakmp

import "strconv"

// name renders v from a name table, or "<kind>(<n>)" for values the table does not know.
func name[T ~uint8 | ~uint16 | ~uint32](names map[T]string, kind string, v T) string {
	if s, ok := names[v]; ok {
		return s
	}
	return kind + "(" + strconv.FormatUint(uint64(v), 10) + ")"
}

// ExchangeType is the Exchange Type field of the ISAKMP header (RFC 2408 §3.1, values from
// RFC 2408 §3.1 table and RFC 2409 §5.5 for Quick Mode and New Group Mode).
type ExchangeType uint8

// Exchange types IKEv1 knows. Values 7-31 are reserved by ISAKMP, 34-239 are DOI specific
// (IKEv2 uses 34-37, which are invalid here) and 240-255 are private.
const (
	ExchangeNone          ExchangeType = 0
	ExchangeBase          ExchangeType = 1
	ExchangeIdentityProt  ExchangeType = 2 // Main Mode
	ExchangeAuthOnly      ExchangeType = 3
	ExchangeAggressive    ExchangeType = 4
	ExchangeInformational ExchangeType = 5
	ExchangeTransaction   ExchangeType = 6  // draft-ietf-ipsec-isakmp-mode-cfg-05 §3.1 (XAUTH, Mode Config)
	ExchangeQuick         ExchangeType = 32 // RFC 2409 §5.5
	ExchangeNewGroup      ExchangeType = 33 // RFC 2409 §5.6
)

var exchangeNames = map[ExchangeType]string{
	ExchangeNone:          "NONE",
	ExchangeBase:          "BASE",
	ExchangeIdentityProt:  "ID_PROT",
	ExchangeAuthOnly:      "AUTH_ONLY",
	ExchangeAggressive:    "AGGRESSIVE",
	ExchangeInformational: "INFORMATIONAL",
	ExchangeTransaction:   "TRANSACTION",
	ExchangeQuick:         "QUICK_MODE",
	ExchangeNewGroup:      "NEW_GROUP_MODE",
}

func (e ExchangeType) String() string { return name(exchangeNames, "EXCHANGE", e) }

// Valid reports whether e is an exchange type an IKEv1 message may carry. ExchangeNone,
// the reserved ranges and the IKEv2 exchange types are not.
func (e ExchangeType) Valid() bool { return e != ExchangeNone && exchangeNames[e] != "" }

// Flags is the Flags field of the ISAKMP header (RFC 2408 §3.1).
type Flags uint8

// Header flags. All other bits must be zero.
const (
	FlagEncryption     Flags = 0x01 // E: the payloads after the header are encrypted
	FlagCommit         Flags = 0x02 // C: key exchange synchronisation (RFC 2408 §3.1, RFC 2409 §5.5)
	FlagAuthentication Flags = 0x04 // A: authenticated but not encrypted (Informational)
	flagsKnown               = FlagEncryption | FlagCommit | FlagAuthentication
)

// Has reports whether every bit of g is set in f.
func (f Flags) Has(g Flags) bool { return f&g == g }

func (f Flags) String() string {
	s := ""
	for _, b := range []struct {
		f Flags
		n string
	}{{FlagEncryption, "E"}, {FlagCommit, "C"}, {FlagAuthentication, "A"}} {
		if f&b.f != 0 {
			if s != "" {
				s += "|"
			}
			s += b.n
		}
	}
	if rest := f &^ flagsKnown; rest != 0 {
		if s != "" {
			s += "|"
		}
		s += "0x" + strconv.FormatUint(uint64(rest), 16)
	}
	if s == "" {
		return "none"
	}
	return s
}

// PayloadType is a Next Payload value (RFC 2408 §3.1, RFC 3947 §3.2/§5.2, draft-ietf-ipsec-nat-t-ike-02
// §3.2/§5.2, RFC 6407 for the GDOI types that IKEv1 does not use).
type PayloadType uint8

// Payload types.
const (
	PayloadNone          PayloadType = 0
	PayloadSA            PayloadType = 1
	PayloadProposal      PayloadType = 2 // only inside SA
	PayloadTransform     PayloadType = 3 // only inside a Proposal
	PayloadKE            PayloadType = 4
	PayloadID            PayloadType = 5
	PayloadCert          PayloadType = 6
	PayloadCertRequest   PayloadType = 7
	PayloadHash          PayloadType = 8
	PayloadSignature     PayloadType = 9
	PayloadNonce         PayloadType = 10
	PayloadNotify        PayloadType = 11
	PayloadDelete        PayloadType = 12
	PayloadVendorID      PayloadType = 13
	PayloadAttribute     PayloadType = 14 // draft-ietf-ipsec-isakmp-mode-cfg (XAUTH, Mode Config)
	PayloadSAK           PayloadType = 15 // RFC 6407 (GDOI), not used by IKEv1
	PayloadSAT           PayloadType = 16 // RFC 6407
	PayloadKD            PayloadType = 17 // RFC 6407
	PayloadSEQ           PayloadType = 18 // RFC 6407
	PayloadPOP           PayloadType = 19 // RFC 6407
	PayloadNATD          PayloadType = 20 // RFC 3947
	PayloadNATOA         PayloadType = 21 // RFC 3947
	PayloadNATDDraft     PayloadType = 130
	PayloadNATOADraft    PayloadType = 131
	PayloadFragment      PayloadType = 132 // Cisco/strongSwan IKEv1 fragmentation
	payloadIKEv2First    PayloadType = 33  // IKEv2 payload types 33..54 (RFC 7296 §3.2)
	payloadIKEv2Last     PayloadType = 54
	payloadPrivateFirst  PayloadType = 128
	payloadReservedFirst PayloadType = 22
)

var payloadNames = map[PayloadType]string{
	PayloadNone:        "NONE",
	PayloadSA:          "SA",
	PayloadProposal:    "PROPOSAL",
	PayloadTransform:   "TRANSFORM",
	PayloadKE:          "KE",
	PayloadID:          "ID",
	PayloadCert:        "CERT",
	PayloadCertRequest: "CERT_REQUEST",
	PayloadHash:        "HASH",
	PayloadSignature:   "SIG",
	PayloadNonce:       "NONCE",
	PayloadNotify:      "NOTIFY",
	PayloadDelete:      "DELETE",
	PayloadVendorID:    "VID",
	PayloadAttribute:   "ATTR",
	PayloadSAK:         "SAK",
	PayloadSAT:         "SAT",
	PayloadKD:          "KD",
	PayloadSEQ:         "SEQ",
	PayloadPOP:         "POP",
	PayloadNATD:        "NAT-D",
	PayloadNATOA:       "NAT-OA",
	PayloadNATDDraft:   "NAT-D(draft)",
	PayloadNATOADraft:  "NAT-OA(draft)",
	PayloadFragment:    "FRAGMENT",
}

func (p PayloadType) String() string {
	if p >= payloadIKEv2First && p <= payloadIKEv2Last {
		return "IKEv2(" + strconv.Itoa(int(p)) + ")"
	}
	return name(payloadNames, "PAYLOAD", p)
}

// DOI is a Domain of Interpretation (RFC 2408 §3.4). Only the IPsec DOI is supported.
type DOI uint32

// DOIIPsec is the IPsec DOI (RFC 2407 §4.2). DOIISAKMP (0) is only valid in Notify and
// Delete payloads of phase 1 (RFC 2408 §3.14).
const (
	DOIISAKMP DOI = 0
	DOIIPsec  DOI = 1
)

func (d DOI) String() string {
	return name(map[DOI]string{DOIISAKMP: "ISAKMP", DOIIPsec: "IPSEC"}, "DOI", d)
}

// Situation is the IPsec DOI situation bitmap (RFC 2407 §4.2). Only identity-only is supported:
// the secrecy and integrity situations append labelled-domain fields this package does not decode.
type Situation uint32

// Situation bits.
const (
	SituationIdentityOnly Situation = 0x01
	SituationSecrecy      Situation = 0x02
	SituationIntegrity    Situation = 0x04
)

func (s Situation) String() string {
	if s == SituationIdentityOnly {
		return "SIT_IDENTITY_ONLY"
	}
	return "SITUATION(0x" + strconv.FormatUint(uint64(s), 16) + ")"
}

// ProtocolID is the Protocol-ID of a Proposal, Notify or Delete payload (RFC 2407 §4.4.1).
type ProtocolID uint8

// Protocol identifiers.
const (
	ProtocolNone   ProtocolID = 0 // Notify payloads about the whole message
	ProtocolISAKMP ProtocolID = 1
	ProtocolAH     ProtocolID = 2
	ProtocolESP    ProtocolID = 3
	ProtocolIPComp ProtocolID = 4
)

var protocolNames = map[ProtocolID]string{
	ProtocolNone: "NONE", ProtocolISAKMP: "PROTO_ISAKMP", ProtocolAH: "PROTO_IPSEC_AH",
	ProtocolESP: "PROTO_IPSEC_ESP", ProtocolIPComp: "PROTO_IPCOMP",
}

func (p ProtocolID) String() string { return name(protocolNames, "PROTO", p) }

// spiSizeOK reports whether n is a valid SPI length for protocol p in a Proposal or Delete
// payload (RFC 2408 §2.4, RFC 2407 §4.4.1): ISAKMP uses the 16-octet cookie pair (a phase-1
// proposal may omit it, RFC 2409 §5), AH and ESP 4 octets, IPComp a 2-octet CPI that may be sent
// as 4 octets.
func spiSizeOK(p ProtocolID, n int, proposal bool) bool {
	switch p {
	case ProtocolISAKMP:
		return n == 16 || (proposal && n == 0)
	case ProtocolAH, ProtocolESP:
		return n == 4
	case ProtocolIPComp:
		return n == 2 || n == 4
	}
	return false
}

// NotifyType is a Notify Message Type (RFC 2408 §3.14.1, RFC 2407 §4.6.3, RFC 3706 §5).
// 1-16383 are errors, 16384 and above are status messages.
type NotifyType uint16

// Notify message types.
const (
	NotifyInvalidPayloadType      NotifyType = 1
	NotifyDOINotSupported         NotifyType = 2
	NotifySituationNotSupported   NotifyType = 3
	NotifyInvalidCookie           NotifyType = 4
	NotifyInvalidMajorVersion     NotifyType = 5
	NotifyInvalidMinorVersion     NotifyType = 6
	NotifyInvalidExchangeType     NotifyType = 7
	NotifyInvalidFlags            NotifyType = 8
	NotifyInvalidMessageID        NotifyType = 9
	NotifyInvalidProtocolID       NotifyType = 10
	NotifyInvalidSPI              NotifyType = 11
	NotifyInvalidTransformID      NotifyType = 12
	NotifyAttributesNotSupported  NotifyType = 13
	NotifyNoProposalChosen        NotifyType = 14
	NotifyBadProposalSyntax       NotifyType = 15
	NotifyPayloadMalformed        NotifyType = 16
	NotifyInvalidKeyInformation   NotifyType = 17
	NotifyInvalidIDInformation    NotifyType = 18
	NotifyInvalidCertEncoding     NotifyType = 19
	NotifyInvalidCertificate      NotifyType = 20
	NotifyCertTypeUnsupported     NotifyType = 21
	NotifyInvalidCertAuthority    NotifyType = 22
	NotifyInvalidHashInformation  NotifyType = 23
	NotifyAuthenticationFailed    NotifyType = 24
	NotifyInvalidSignature        NotifyType = 25
	NotifyAddressNotification     NotifyType = 26
	NotifyNotifySALifetime        NotifyType = 27
	NotifyCertificateUnavailable  NotifyType = 28
	NotifyUnsupportedExchangeType NotifyType = 29
	NotifyUnequalPayloadLengths   NotifyType = 30
	NotifyConnected               NotifyType = 16384 // RFC 2408 §3.14.1 (commit bit)
	NotifyResponderLifetime       NotifyType = 24576 // RFC 2407 §4.6.3.1
	NotifyReplayStatus            NotifyType = 24577 // RFC 2407 §4.6.3.2
	NotifyInitialContact          NotifyType = 24578 // RFC 2407 §4.6.3.3
	NotifyRUThere                 NotifyType = 36136 // RFC 3706 §5
	NotifyRUThereAck              NotifyType = 36137 // RFC 3706 §5
)

var notifyNames = map[NotifyType]string{
	NotifyInvalidPayloadType:      "INVALID-PAYLOAD-TYPE",
	NotifyDOINotSupported:         "DOI-NOT-SUPPORTED",
	NotifySituationNotSupported:   "SITUATION-NOT-SUPPORTED",
	NotifyInvalidCookie:           "INVALID-COOKIE",
	NotifyInvalidMajorVersion:     "INVALID-MAJOR-VERSION",
	NotifyInvalidMinorVersion:     "INVALID-MINOR-VERSION",
	NotifyInvalidExchangeType:     "INVALID-EXCHANGE-TYPE",
	NotifyInvalidFlags:            "INVALID-FLAGS",
	NotifyInvalidMessageID:        "INVALID-MESSAGE-ID",
	NotifyInvalidProtocolID:       "INVALID-PROTOCOL-ID",
	NotifyInvalidSPI:              "INVALID-SPI",
	NotifyInvalidTransformID:      "INVALID-TRANSFORM-ID",
	NotifyAttributesNotSupported:  "ATTRIBUTES-NOT-SUPPORTED",
	NotifyNoProposalChosen:        "NO-PROPOSAL-CHOSEN",
	NotifyBadProposalSyntax:       "BAD-PROPOSAL-SYNTAX",
	NotifyPayloadMalformed:        "PAYLOAD-MALFORMED",
	NotifyInvalidKeyInformation:   "INVALID-KEY-INFORMATION",
	NotifyInvalidIDInformation:    "INVALID-ID-INFORMATION",
	NotifyInvalidCertEncoding:     "INVALID-CERT-ENCODING",
	NotifyInvalidCertificate:      "INVALID-CERTIFICATE",
	NotifyCertTypeUnsupported:     "CERT-TYPE-UNSUPPORTED",
	NotifyInvalidCertAuthority:    "INVALID-CERT-AUTHORITY",
	NotifyInvalidHashInformation:  "INVALID-HASH-INFORMATION",
	NotifyAuthenticationFailed:    "AUTHENTICATION-FAILED",
	NotifyInvalidSignature:        "INVALID-SIGNATURE",
	NotifyAddressNotification:     "ADDRESS-NOTIFICATION",
	NotifyNotifySALifetime:        "NOTIFY-SA-LIFETIME",
	NotifyCertificateUnavailable:  "CERTIFICATE-UNAVAILABLE",
	NotifyUnsupportedExchangeType: "UNSUPPORTED-EXCHANGE-TYPE",
	NotifyUnequalPayloadLengths:   "UNEQUAL-PAYLOAD-LENGTHS",
	NotifyConnected:               "CONNECTED",
	NotifyResponderLifetime:       "RESPONDER-LIFETIME",
	NotifyReplayStatus:            "REPLAY-STATUS",
	NotifyInitialContact:          "INITIAL-CONTACT",
	NotifyRUThere:                 "R-U-THERE",
	NotifyRUThereAck:              "R-U-THERE-ACK",
}

func (n NotifyType) String() string { return name(notifyNames, "NOTIFY", n) }

// IsError reports whether n is an error type (1-16383) rather than a status type.
func (n NotifyType) IsError() bool { return n > 0 && n < 16384 }

// IDType is the Identification Type of an ID payload (RFC 2407 §4.6.2.1).
type IDType uint8

// Identification types.
const (
	IDIPv4Addr        IDType = 1
	IDFQDN            IDType = 2
	IDUserFQDN        IDType = 3
	IDIPv4AddrSubnet  IDType = 4
	IDIPv6Addr        IDType = 5
	IDIPv6AddrSubnet  IDType = 6
	IDIPv4AddrRange   IDType = 7
	IDIPv6AddrRange   IDType = 8
	IDDERASN1DN       IDType = 9
	IDDERASN1GN       IDType = 10
	IDKeyID           IDType = 11
	idTypeLastDefined        = IDKeyID
)

var idTypeNames = map[IDType]string{
	IDIPv4Addr: "ID_IPV4_ADDR", IDFQDN: "ID_FQDN", IDUserFQDN: "ID_USER_FQDN",
	IDIPv4AddrSubnet: "ID_IPV4_ADDR_SUBNET", IDIPv6Addr: "ID_IPV6_ADDR",
	IDIPv6AddrSubnet: "ID_IPV6_ADDR_SUBNET", IDIPv4AddrRange: "ID_IPV4_ADDR_RANGE",
	IDIPv6AddrRange: "ID_IPV6_ADDR_RANGE", IDDERASN1DN: "ID_DER_ASN1_DN",
	IDDERASN1GN: "ID_DER_ASN1_GN", IDKeyID: "ID_KEY_ID",
}

func (t IDType) String() string { return name(idTypeNames, "ID", t) }
