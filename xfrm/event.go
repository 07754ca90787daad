package xfrm

import "strconv"

// Counters are the statistics of one SA. An outbound SA counts Encaps, an inbound one Decaps and
// the drop causes; Packets and Bytes count the protected packets processed either way (Bytes
// counts inner payload octets, the quantity the byte lifetime limits).
type Counters struct {
	Packets, Bytes uint64
	Encaps, Decaps uint64
	ErrReplay      uint64 // replayed, too old, or sequence number 0 / counter exhausted
	ErrAuth        uint64 // ICV (or AEAD tag) did not verify
	ErrDecrypt     uint64 // bad padding, pad length or next header after decryption
	ErrOther       uint64 // truncated, malformed, wrong SPI or peer, policy mismatch, expired
}

// Errors returns the sum of all drop causes.
func (c Counters) Errors() uint64 { return c.ErrReplay + c.ErrAuth + c.ErrDecrypt + c.ErrOther }

// EventKind says what a data-plane Event reports.
type EventKind uint8

// Data-plane events.
const (
	EventAcquire    EventKind = iota // outbound traffic matched a protecting policy with no SA
	EventExpireSoft                  // an SA reached a soft limit: rekey it
	EventExpireHard                  // an SA reached a hard limit and was removed
)

func (k EventKind) String() string {
	switch k {
	case EventAcquire:
		return "acquire"
	case EventExpireSoft:
		return "expire-soft"
	case EventExpireHard:
		return "expire-hard"
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// ExpireCause says which limit an expiry reached.
type ExpireCause uint8

// Expiry causes.
const (
	ExpireTime ExpireCause = iota
	ExpireBytes
	ExpirePackets
)

func (c ExpireCause) String() string {
	switch c {
	case ExpireTime:
		return "time"
	case ExpireBytes:
		return "bytes"
	case ExpirePackets:
		return "packets"
	}
	return "ExpireCause(" + strconv.Itoa(int(c)) + ")"
}

// Event is one data-plane notification to the IKE engine.
//
// Acquire: Policy is a copy of the matching policy (the selector IKE proposes as proxy IDs, and
// its Template with Reqid and peer) and Flow is the triggering packet's 5-tuple.
// Expire: SA is the SA's identity with Reqid and Dir (keys omitted), Cause the limit reached.
type Event struct {
	Kind   EventKind
	Policy *Policy
	Flow   Flow
	SA     *SA
	Cause  ExpireCause
}
