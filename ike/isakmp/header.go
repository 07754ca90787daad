package isakmp

import (
	"encoding/binary"
	"fmt"
)

// The ISAKMP header, RFC 2408 §3.1:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!                          Initiator                            !
//	!                            Cookie                             !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!                          Responder                            !
//	!                            Cookie                             !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!  Next Payload ! MjVer ! MnVer ! Exchange Type !     Flags     !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!                          Message ID                           !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!                            Length                             !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
const (
	HeaderLen = 28 // octets in the ISAKMP header

	offICookie     = 0
	offRCookie     = 8
	offNextPayload = 16
	offVersion     = 17
	offExchange    = 18
	offFlags       = 19
	offMessageID   = 20
	offLength      = 24

	// Version is the only version IKEv1 speaks: major 1, minor 0.
	Version = 0x10

	// MaxMessageLen bounds the Length field: an ISAKMP message travels in one UDP datagram.
	MaxMessageLen = 65535
)

// Cookie is an ISAKMP initiator or responder cookie (RFC 2408 §2.5.3).
type Cookie [8]byte

func (c Cookie) String() string { return fmt.Sprintf("%x", c[:]) }

// IsZero reports whether c is all zero (the responder cookie of a first message).
func (c Cookie) IsZero() bool { return c == Cookie{} }

// Header is a view over the first HeaderLen octets of an ISAKMP message.
// Always call IsValid before using the other methods; they do not check bounds.
type Header []byte

// IsValid reports whether h is long enough to hold a header.
func (h Header) IsValid() bool { return len(h) >= HeaderLen }

// ICookie returns the initiator cookie.
func (h Header) ICookie() (c Cookie) { copy(c[:], h[offICookie:]); return c }

// RCookie returns the responder cookie.
func (h Header) RCookie() (c Cookie) { copy(c[:], h[offRCookie:]); return c }

// NextPayload returns the type of the first payload.
func (h Header) NextPayload() PayloadType { return PayloadType(h[offNextPayload]) }

// MajorVersion returns the high nibble of the version octet.
func (h Header) MajorVersion() uint8 { return h[offVersion] >> 4 }

// MinorVersion returns the low nibble of the version octet.
func (h Header) MinorVersion() uint8 { return h[offVersion] & 0x0f }

// Exchange returns the exchange type.
func (h Header) Exchange() ExchangeType { return ExchangeType(h[offExchange]) }

// Flags returns the flags octet.
func (h Header) Flags() Flags { return Flags(h[offFlags]) }

// MessageID returns the message ID (zero in phase 1).
func (h Header) MessageID() uint32 { return binary.BigEndian.Uint32(h[offMessageID:]) }

// Length returns the length of the whole message, header included.
func (h Header) Length() uint32 { return binary.BigEndian.Uint32(h[offLength:]) }

// Fields decodes the header into a HeaderFields.
func (h Header) Fields() HeaderFields {
	return HeaderFields{
		ICookie:     h.ICookie(),
		RCookie:     h.RCookie(),
		NextPayload: h.NextPayload(),
		Version:     h[offVersion],
		Exchange:    h.Exchange(),
		Flags:       h.Flags(),
		MessageID:   h.MessageID(),
		Length:      h.Length(),
	}
}

// HeaderFields holds the decoded header (RFC 2408 §3.1).
type HeaderFields struct {
	ICookie     Cookie
	RCookie     Cookie
	NextPayload PayloadType // set by Message.AppendMarshal from the first payload when there is one
	Version     uint8       // major<<4 | minor; zero means Version when marshalling
	Exchange    ExchangeType
	Flags       Flags
	MessageID   uint32
	Length      uint32 // as received; AppendMarshal writes the real length
}

// AppendMarshal appends the 28-octet header with the Length field as given.
func (f *HeaderFields) AppendMarshal(b []byte) []byte {
	b = append(b, f.ICookie[:]...)
	b = append(b, f.RCookie[:]...)
	v := f.Version
	if v == 0 {
		v = Version
	}
	b = append(b, byte(f.NextPayload), v, byte(f.Exchange), byte(f.Flags))
	b = binary.BigEndian.AppendUint32(b, f.MessageID)
	return binary.BigEndian.AppendUint32(b, f.Length)
}

func (f HeaderFields) String() string {
	return fmt.Sprintf("%v/%v %v flags=%v msgid=%08x len=%d next=%v",
		f.ICookie, f.RCookie, f.Exchange, f.Flags, f.MessageID, f.Length, f.NextPayload)
}

// check validates the header fields in the order of RFC 2408 §5.1 and returns the notify that
// describes the first failure.
func (f *HeaderFields) check() error {
	if f.ICookie.IsZero() {
		return ErrZeroCookie
	}
	if f.Version>>4 != 1 {
		return notifyf(NotifyInvalidMajorVersion, "major version %d", f.Version>>4)
	}
	if f.Version&0x0f != 0 {
		return notifyf(NotifyInvalidMinorVersion, "minor version %d", f.Version&0x0f)
	}
	if !f.Exchange.Valid() {
		return notifyf(NotifyInvalidExchangeType, "exchange type %d", uint8(f.Exchange))
	}
	if f.Flags&^flagsKnown != 0 {
		return notifyf(NotifyInvalidFlags, "flags 0x%02x", uint8(f.Flags))
	}
	return nil
}
