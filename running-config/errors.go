package runningconfig

import (
	"errors"
	"fmt"
	"net/netip"
)

// Sentinel errors. Each is wrapped with context ("running-config: hostname "x": ...") where it is
// returned, so callers test them with errors.Is. The shell alone turns them into IOS "% ..." text.
var (
	// ErrInvalidHostname is returned by Validate for a hostname that is empty, longer than 63
	// characters, does not start with a letter, or holds other than letters, digits and hyphens.
	ErrInvalidHostname = errors.New("running-config: invalid hostname")

	// ErrInvalidValue is returned by Validate for a field outside its IOS range (privilege
	// level, exec-timeout, description length, route distance ...).
	ErrInvalidValue = errors.New("running-config: value out of range")

	// ErrDuplicate is returned by Validate when two entries share a key that must be unique
	// (username, interface name, static route).
	ErrDuplicate = errors.New("running-config: duplicate entry")

	// ErrUnsorted is returned by Validate when interfaces, routes or lines are not kept in
	// IOS order; edits should use the helper methods that keep the order.
	ErrUnsorted = errors.New("running-config: entries out of order")

	// ErrBadSecret is returned for a hashed secret that is not well-formed for its type.
	ErrBadSecret = errors.New("running-config: malformed secret")

	// ErrUnsupportedSecretType is returned for an encryption type IOS does not accept there.
	ErrUnsupportedSecretType = errors.New("running-config: unsupported encryption type")

	// ErrBadType7 is returned when a type 7 password string cannot be decoded.
	ErrBadType7 = errors.New("running-config: invalid type 7 password")

	// ErrEditPanicked is returned by Manager.Apply when the edit function panicked; the running
	// configuration is unchanged.
	ErrEditPanicked = errors.New("running-config: edit panicked")

	// ErrClosed is returned by Manager.Apply after Close.
	ErrClosed = errors.New("running-config: manager closed")

	// ErrStoreInUse is returned by OpenStore when another process holds the store's lock.
	ErrStoreInUse = errors.New("running-config: store is in use by another process")

	// ErrStoreCorrupt is returned by OpenStore and the Store methods when the file is not a
	// bbolt database, fails its consistency check, or lacks the expected buckets. The file is
	// never overwritten.
	ErrStoreCorrupt = errors.New("running-config: store is corrupt")

	// ErrStoreVersion is returned by OpenStore for a store written by a newer format version.
	ErrStoreVersion = errors.New("running-config: store format version not supported")
)

// OverlapError reports an interface address whose subnet overlaps one already configured on
// another interface. IOS prints it as "% 10.0.0.0 overlaps with GigabitEthernet0/0".
type OverlapError struct {
	Prefix    netip.Prefix // the offending subnet, masked (10.0.0.0/24)
	Interface string       // the interface that already holds an overlapping subnet
}

func (e *OverlapError) Error() string {
	return fmt.Sprintf("running-config: %s overlaps with %s", e.Prefix.Masked().Addr(), e.Interface)
}

// StorePathError carries the file name for store errors. Err is one of ErrStoreInUse,
// ErrStoreCorrupt, ErrStoreVersion (or nil for a plain I/O failure); Cause is the underlying
// error from bbolt or the OS. errors.Is works on both.
type StorePathError struct {
	Path  string
	Err   error
	Cause error
}

func (e *StorePathError) Error() string {
	switch {
	case errors.Is(e.Err, ErrStoreInUse):
		return fmt.Sprintf("running-config: store %s is in use by another process", e.Path)
	case errors.Is(e.Err, ErrStoreCorrupt):
		return fmt.Sprintf("running-config: store %s is corrupt or not a tunnelbox store (%v); it was left untouched", e.Path, e.Cause)
	case errors.Is(e.Err, ErrStoreVersion):
		return fmt.Sprintf("running-config: store %s: %v", e.Path, e.Cause)
	default:
		return fmt.Sprintf("running-config: store %s: %v", e.Path, e.Cause)
	}
}

// Unwrap gives both the sentinel and the cause to errors.Is / errors.As.
func (e *StorePathError) Unwrap() []error {
	var out []error
	if e.Err != nil {
		out = append(out, e.Err)
	}
	if e.Cause != nil {
		out = append(out, e.Cause)
	}
	return out
}
