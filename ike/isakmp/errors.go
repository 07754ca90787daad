package isakmp

import (
	"errors"
	"fmt"
)

// Silent-drop sentinels: the datagram is not an ISAKMP message this package can attribute to a
// peer, so nothing may be sent back (RFC 2408 §5.1 rejects it; strongSwan and IOS drop it and log).
var (
	// ErrTruncated: the datagram is shorter than the 28-octet ISAKMP header, or shorter than the
	// length the header claims.
	ErrTruncated = errors.New("isakmp: datagram shorter than the ISAKMP header or its length field")
	// ErrTrailingData: the datagram is longer than the length the header claims.
	ErrTrailingData = errors.New("isakmp: datagram longer than the ISAKMP header length")
	// ErrTooLarge: the header claims more than MaxMessageLen octets.
	ErrTooLarge = errors.New("isakmp: message length exceeds the maximum")
	// ErrZeroCookie: the initiator cookie is zero, which no initiator ever sends.
	ErrZeroCookie = errors.New("isakmp: zero initiator cookie")
	// ErrNotEncrypted: Message.Decrypted was called on a message without the E flag.
	ErrNotEncrypted = errors.New("isakmp: message is not encrypted")
)

// NotifyError is a decode or validation failure that already knows which Notify message type
// describes it (RFC 2408 §5). Whether to send that notify is the caller's decision: a notify is
// never sent for an unauthenticated message that cannot start an exchange (see the package doc).
type NotifyError struct {
	Type NotifyType // the notify to send, e.g. NotifyPayloadMalformed
	Err  error      // what was wrong, for logs
}

func (e *NotifyError) Error() string {
	if e.Err == nil {
		return "isakmp: " + e.Type.String()
	}
	return "isakmp: " + e.Type.String() + ": " + e.Err.Error()
}

func (e *NotifyError) Unwrap() error { return e.Err }

// notifyf builds a *NotifyError with a formatted reason.
func notifyf(t NotifyType, format string, args ...any) *NotifyError {
	return &NotifyError{Type: t, Err: fmt.Errorf(format, args...)}
}

// NotifyTypeOf returns the notify type carried by err (anywhere in its chain), or false when err
// is a silent-drop error or nil.
func NotifyTypeOf(err error) (NotifyType, bool) {
	var ne *NotifyError
	if errors.As(err, &ne) {
		return ne.Type, true
	}
	return 0, false
}

// within keeps the notify type of err and adds context to its reason.
func within(err error, format string, args ...any) error {
	var ne *NotifyError
	if errors.As(err, &ne) {
		return &NotifyError{Type: ne.Type, Err: fmt.Errorf(format+": %w", append(args, ne.Err)...)}
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

// atPayload adds the payload and its offset to the reason of err.
func atPayload(err error, t PayloadType, off int) error {
	return within(err, "%v payload at offset %d", t, off)
}
