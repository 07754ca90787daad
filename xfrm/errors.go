package xfrm

import "errors"

// ErrInvalidSA is wrapped by SA.Validate for an SA that no data plane can install.
var ErrInvalidSA = errors.New("xfrm: invalid SA")

// ErrInvalidPolicy is wrapped by Policy.Validate for a policy that no data plane can install.
var ErrInvalidPolicy = errors.New("xfrm: invalid policy")

// ErrNotFound is returned (wrapped) by a backend asked to delete, or to count, an SA or policy it
// does not hold. After a hard expiry a backend removes the SA itself (as the kernel does), so a
// later DelSA for it returns ErrNotFound; callers may ignore it with errors.Is.
var ErrNotFound = errors.New("xfrm: no such SA or policy")

// ErrExists is returned (wrapped) by a backend asked to add an SA or policy whose identity
// (SAID, or PolicyID) it already holds.
var ErrExists = errors.New("xfrm: SA or policy exists")

// ErrClosed is returned by a backend after Close.
var ErrClosed = errors.New("xfrm: data plane closed")
