package kernel

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/tunnelbox/tunnelbox/xfrm"
)

// ErrNoESP is matched (errors.Is) by the error of a state add that the kernel refused because
// it has no ESP support (esp4/esp6 not built or not loaded).
var ErrNoESP = errors.New("kernel: kernel has no ESP support")

// ErrNoAlgorithm is matched by the error of a state add whose algorithm the kernel does not
// know (crypto module missing).
var ErrNoAlgorithm = errors.New("kernel: algorithm not available in the kernel")

// ErrBadMessage is returned when a netlink message from the kernel is too short or malformed.
var ErrBadMessage = errors.New("kernel: malformed netlink message")

// Error is one refusal by the kernel.
type Error struct {
	Op    string        // "add SA", "delete SA", "add policy", "delete policy", "get SA", ...
	What  string        // the SA or policy concerned
	Errno syscall.Errno // the netlink error
	Msg   string        // the kernel's extended ack message, "" when it sent none
}

func (e *Error) Error() string {
	detail := e.Msg
	if detail == "" {
		detail = e.Errno.Error()
	}
	switch {
	case e.Op == "add SA" && e.Errno == syscall.EPROTONOSUPPORT:
		detail = "kernel has no ESP support (" + detail + ")"
	case e.Op == "add SA" && e.Errno == syscall.ENOSYS:
		detail = "algorithm not available in the kernel (" + detail + ")"
	}
	return fmt.Sprintf("kernel: %s %s: %s", e.Op, e.What, detail)
}

// Unwrap lets errors.Is match the errno and the package's and xfrm's sentinel errors.
func (e *Error) Unwrap() []error {
	errs := []error{e.Errno}
	switch e.Errno {
	case syscall.EEXIST:
		errs = append(errs, xfrm.ErrExists)
	case syscall.ENOENT, syscall.ESRCH:
		errs = append(errs, xfrm.ErrNotFound)
	case syscall.EPROTONOSUPPORT:
		if e.Op == "add SA" {
			errs = append(errs, ErrNoESP)
		}
	case syscall.ENOSYS:
		if e.Op == "add SA" {
			errs = append(errs, ErrNoAlgorithm)
		}
	}
	return errs
}

// kernelError turns a netlink library error into an *Error (non-errno errors are wrapped).
func kernelError(op, what string, err error) error {
	if err == nil {
		return nil
	}
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return fmt.Errorf("kernel: %s %s: %w", op, what, err)
	}
	msg := ""
	// The nl package annotates an errno with the extended ack as "<errno>: <message>".
	if s, p := err.Error(), errno.Error()+": "; len(s) > len(p) && s[:len(p)] == p {
		msg = s[len(p):]
	}
	return &Error{Op: op, What: what, Errno: errno, Msg: msg}
}
