package isakmp

import (
	"encoding/binary"
	"fmt"
	"strings"
)

const (
	// MaxPayloads bounds the payloads of one message. A Main Mode message from IOS or strongSwan
	// carries at most about a dozen (SA and Vendor IDs).
	MaxPayloads = 64
	// MaxPadding bounds the octets after the payload chain of a decrypted body: RFC 2409 App. B
	// pads to the block size with a pad-length octet, so at most 255 octets plus that octet.
	MaxPadding = 256
)

// Message is an ISAKMP message (RFC 2408 §3.1).
//
// After Parse, a clear message has its Payloads decoded. An encrypted one (FlagEncryption) has
// only Ciphertext; the engine decrypts it and calls Decrypted to decode the payloads. Payloads
// keep the exact octets they were decoded from (Payload.Raw, ChainFrom), as the hashes of
// RFC 2409 require.
type Message struct {
	Header     HeaderFields
	Payloads   []Payload
	Ciphertext []byte // body of an encrypted message (nil for a clear one)
	Padding    []byte // octets after the chain of a decrypted body (RFC 2409 App. B)

	chain []byte // the payload chain as received (clear body, or plaintext without padding)
	raw   []byte // the whole message as received
}

// Raw returns the message as received, or nil for a message built locally.
func (m *Message) Raw() []byte { return m.raw }

// Parse decodes one ISAKMP message: the UDP payload, without the non-ESP marker of port 4500.
// It copies b, so the result does not alias the caller's receive buffer.
//
// It checks lengths first: a datagram shorter than the header or than its Length field, longer
// than its Length field, or over MaxMessageLen is one of the silent-drop sentinels (ErrTruncated,
// ErrTrailingData, ErrTooLarge), as is a zero initiator cookie (ErrZeroCookie); the Message is
// then nil. Any other failure is a *NotifyError naming the notify that describes it, returned
// with a Message holding the decoded header (and no payloads), so the engine can find the SA it
// concerns. Unknown payload types are not errors: they are kept as *Unknown (see Message.Unknown).
func Parse(b []byte) (*Message, error) {
	if len(b) < HeaderLen {
		return nil, ErrTruncated
	}
	length := Header(b).Length()
	switch {
	case length > MaxMessageLen:
		return nil, ErrTooLarge
	case length < HeaderLen || int(length) > len(b):
		return nil, ErrTruncated
	case int(length) < len(b):
		return nil, ErrTrailingData
	}
	raw := append([]byte(nil), b...)
	m := &Message{Header: Header(raw).Fields(), raw: raw}
	if err := m.Header.check(); err != nil {
		if _, ok := err.(*NotifyError); !ok {
			return nil, err
		}
		return m, err
	}
	body := raw[HeaderLen:]
	if m.Header.Flags.Has(FlagEncryption) {
		if len(body) == 0 {
			return m, notifyf(NotifyPayloadMalformed, "encrypted message without a body")
		}
		m.Ciphertext = body
		return m, nil
	}
	ps, rest, err := ParsePayloads(m.Header.NextPayload, body)
	if err != nil {
		return m, err
	}
	if len(rest) != 0 {
		return m, notifyf(NotifyUnequalPayloadLengths, "payload chain ends %d octets before the message", len(rest))
	}
	m.Payloads, m.chain = ps, body
	return m, nil
}

// Decrypted decodes the plaintext of an encrypted message's body, starting with the payload type
// in the header. Octets after the chain are kept as Padding (at most MaxPadding). plaintext is
// copied. On error the message keeps no payloads.
func (m *Message) Decrypted(plaintext []byte) error {
	if !m.Header.Flags.Has(FlagEncryption) {
		return ErrNotEncrypted
	}
	pt := append([]byte(nil), plaintext...)
	ps, rest, err := ParsePayloads(m.Header.NextPayload, pt)
	if err != nil {
		return err
	}
	if len(rest) > MaxPadding {
		return notifyf(NotifyPayloadMalformed, "%d octets after the payload chain", len(rest))
	}
	m.Payloads, m.Padding, m.chain = ps, rest, pt[:len(pt)-len(rest)]
	return nil
}

// ParsePayloads decodes the payload chain that starts with a payload of type first and returns
// the payloads and the octets after the last one (the padding of a decrypted body, RFC 2409
// App. B). The payloads alias b. Every payload length must be at least the 4-octet generic
// header and lie within b; at most MaxPayloads are accepted.
func ParsePayloads(first PayloadType, b []byte) (ps []Payload, rest []byte, err error) {
	next, off := first, 0
	for next != PayloadNone {
		if len(ps) == MaxPayloads {
			return nil, nil, notifyf(NotifyPayloadMalformed, "more than %d payloads", MaxPayloads)
		}
		if len(b)-off < genericHeaderLen {
			return nil, nil, notifyf(NotifyPayloadMalformed, "%v payload at offset %d truncated: %d octets left", next, off, len(b)-off)
		}
		plen := int(binary.BigEndian.Uint16(b[off+2:]))
		if plen < genericHeaderLen || plen > len(b)-off {
			return nil, nil, notifyf(NotifyPayloadMalformed, "%v payload at offset %d has length %d, %d octets left", next, off, plen, len(b)-off)
		}
		p, err := decodePayload(next, b[off:off+plen])
		if err != nil {
			return nil, nil, atPayload(err, next, off)
		}
		ps = append(ps, p)
		next = PayloadType(b[off])
		off += plen
	}
	return ps, b[off:], nil
}

// AppendMarshal appends the message: the header (Next Payload taken from the first payload when
// there is one, Length patched), then Ciphertext if the E flag is set, otherwise the payload chain.
func (m *Message) AppendMarshal(b []byte) []byte {
	start := len(b)
	h := m.Header
	if len(m.Payloads) > 0 {
		h.NextPayload = m.Payloads[0].Type()
	}
	b = h.AppendMarshal(b)
	if h.Flags.Has(FlagEncryption) {
		b = append(b, m.Ciphertext...)
	} else {
		b = AppendPayloads(b, m.Payloads)
	}
	binary.BigEndian.PutUint32(b[start+offLength:], uint32(len(b)-start))
	return b
}

// ChainFrom returns the payloads from index i to the end with their generic headers: the octets
// HASH(1), HASH(2) and the Informational HASH cover after the HASH payload (RFC 2409 §5.5, §5.7).
// For a received message these are the octets as received; otherwise they are encoded.
func (m *Message) ChainFrom(i int) []byte {
	if i < 0 || i > len(m.Payloads) {
		return nil
	}
	if m.chain == nil {
		return AppendPayloads(nil, m.Payloads[i:])
	}
	off := 0
	for _, p := range m.Payloads[:i] {
		off += len(p.Raw())
	}
	return m.chain[off:]
}

// Unknown returns an INVALID-PAYLOAD-TYPE error naming the first payload whose type this package
// does not decode, or nil. RFC 2408 §5.1 lets the receiver answer with that notify; IKEv1 has
// no critical bit, so whether the exchange can go on is the engine's choice.
func (m *Message) Unknown() *NotifyError {
	for _, p := range m.Payloads {
		if u, ok := p.(*Unknown); ok {
			return notifyf(NotifyInvalidPayloadType, "payload type %v", u.PayloadType)
		}
	}
	return nil
}

// Find returns the first payload of type t, or nil.
func (m *Message) Find(t PayloadType) Payload {
	for _, p := range m.Payloads {
		if p.Type() == t {
			return p
		}
	}
	return nil
}

// Count returns the number of payloads of type t.
func (m *Message) Count(t PayloadType) int {
	n := 0
	for _, p := range m.Payloads {
		if p.Type() == t {
			n++
		}
	}
	return n
}

// String summarises the message for debug logs: header, then the payload types.
func (m *Message) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%v", m.Header)
	if m.Ciphertext != nil && m.Payloads == nil {
		fmt.Fprintf(&sb, " encrypted(%d)", len(m.Ciphertext))
	}
	for _, p := range m.Payloads {
		sb.WriteString(" ")
		sb.WriteString(p.Type().String())
	}
	return sb.String()
}

// NonESPMarkerLen is the length of the non-ESP marker, four zero octets that precede an ISAKMP
// message on UDP port 4500 (RFC 3948 §2.2) and are not part of it.
const NonESPMarkerLen = 4

// StripNonESPMarker returns the ISAKMP message inside a UDP payload received on port 4500, or
// false when the payload is not one: an ESP packet (non-zero SPI) or a NAT-keepalive (a single
// 0xff octet, RFC 3948 §2.3).
func StripNonESPMarker(udp []byte) ([]byte, bool) {
	if len(udp) < NonESPMarkerLen || binary.BigEndian.Uint32(udp) != 0 {
		return nil, false
	}
	return udp[NonESPMarkerLen:], true
}

// AppendNonESPMarker appends the non-ESP marker that precedes an ISAKMP message sent on port 4500.
func AppendNonESPMarker(b []byte) []byte { return append(b, 0, 0, 0, 0) }
