package esp

import "errors"

// Drop causes returned by Open and Seal. Each is counted in the State's xfrm.Counters under the
// cause named in its comment.
var (
	// ErrMalformed: the packet is truncated, too short for the algorithm, not block-aligned, or
	// carries another SPI (ErrOther).
	ErrMalformed = errors.New("esp: malformed packet")
	// ErrReplay: sequence number 0, already seen, or left of the window (ErrReplay).
	ErrReplay = errors.New("esp: replayed packet")
	// ErrAuth: the ICV or the AEAD tag does not verify (ErrAuth).
	ErrAuth = errors.New("esp: integrity check failed")
	// ErrPadding: after decryption the pad length, padding bytes or next header are wrong
	// (ErrDecrypt).
	ErrPadding = errors.New("esp: bad padding or next header")
	// ErrDummy: an authentic dummy packet (next header 59, RFC 4303 §2.6) to be dropped
	// silently; it is counted as a decapsulation, not as an error.
	ErrDummy = errors.New("esp: dummy packet")
	// ErrExpired: the SA reached a hard lifetime limit (ErrOther).
	ErrExpired = errors.New("esp: SA expired")
	// ErrSeqOverflow: the 32-bit outbound sequence number is exhausted and the SA must be
	// replaced (RFC 4303 §3.3.3) (ErrReplay, like the kernel's XfrmOutStateSeqError).
	ErrSeqOverflow = errors.New("esp: sequence number exhausted")
	// ErrTooLong: the payload does not fit the maximum packet size (ErrOther).
	ErrTooLong = errors.New("esp: payload too long")
)
