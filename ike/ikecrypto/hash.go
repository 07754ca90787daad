package ikecrypto

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
)

// Hash is an IKE hash algorithm, numbered as the Hash Algorithm attribute (class 2) of
// RFC 2409 Appendix A and the IANA "IPSEC Hash Algorithm" registry. The prf of an ISAKMP SA
// without a PRF attribute is HMAC with this hash (RFC 2409 §4), and the IVs use the bare hash.
type Hash uint16

// Hash algorithms of the IOS set (`hash md5|sha|sha256|sha384|sha512`).
const (
	HashMD5    Hash = 1 // MD5 (RFC 1321)
	HashSHA1   Hash = 2 // SHA-1, IOS `sha`
	HashSHA256 Hash = 4 // SHA2-256 (RFC 4868 numbering for IKEv1)
	HashSHA384 Hash = 5 // SHA2-384
	HashSHA512 Hash = 6 // SHA2-512
)

// Hashes lists the supported hash algorithms, weakest first.
var Hashes = []Hash{HashMD5, HashSHA1, HashSHA256, HashSHA384, HashSHA512}

// String returns the IOS keyword of h (`md5`, `sha`, `sha256`, ...).
func (h Hash) String() string {
	switch h {
	case HashMD5:
		return "md5"
	case HashSHA1:
		return "sha"
	case HashSHA256:
		return "sha256"
	case HashSHA384:
		return "sha384"
	case HashSHA512:
		return "sha512"
	}
	return fmt.Sprintf("hash(%d)", uint16(h))
}

// ParseHash maps an IOS keyword (`md5`, `sha`, `sha256`, `sha384`, `sha512`) to its Hash.
func ParseHash(name string) (Hash, error) {
	for _, h := range Hashes {
		if h.String() == name {
			return h, nil
		}
	}
	return 0, fmt.Errorf("%w: %q", ErrUnsupportedHash, name)
}

// Valid reports whether h is implemented.
func (h Hash) Valid() bool { return h.newFunc() != nil }

func (h Hash) newFunc() func() hash.Hash {
	switch h {
	case HashMD5:
		return md5.New
	case HashSHA1:
		return sha1.New
	case HashSHA256:
		return sha256.New
	case HashSHA384:
		return sha512.New384
	case HashSHA512:
		return sha512.New
	}
	return nil
}

// Size returns the digest length in octets (0 for an unsupported hash).
func (h Hash) Size() int {
	switch h {
	case HashMD5:
		return md5.Size
	case HashSHA1:
		return sha1.Size
	case HashSHA256:
		return sha256.Size
	case HashSHA384:
		return sha512.Size384
	case HashSHA512:
		return sha512.Size
	}
	return 0
}

// Sum returns hash(data[0] | data[1] | ...). It panics if h is not Valid: callers validate the
// negotiated algorithm once, when the proposal is accepted.
func (h Hash) Sum(data ...[]byte) []byte {
	d := h.mustNew()()
	for _, b := range data {
		d.Write(b)
	}
	return d.Sum(nil)
}

// PRF returns prf(key, data[0] | data[1] | ...) with prf = HMAC-h (RFC 2104). It panics if h is
// not Valid.
func (h Hash) PRF(key []byte, data ...[]byte) []byte {
	m := hmac.New(h.mustNew(), key)
	for _, b := range data {
		m.Write(b)
	}
	return m.Sum(nil)
}

func (h Hash) mustNew() func() hash.Hash {
	f := h.newFunc()
	if f == nil {
		panic(fmt.Sprintf("ikecrypto: hash %d used without validation", uint16(h)))
	}
	return f
}
