package ikecrypto

import (
	"crypto/ecdh"
	"crypto/rand"
	"fmt"
	"io"
	"math/big"
)

// Group is an IKE Diffie-Hellman group, numbered as the Group Description attribute (class 4)
// of RFC 2409 Appendix A and the IANA "Group Description" registry. The same number is the
// IPsec DOI Group Description (RFC 2407 §4.5) used for PFS in Quick Mode.
type Group uint16

// Groups of the IOS set (`group 1|2|5|14|15|16|19|20|21|24`).
const (
	Group1  Group = 1  // 768-bit MODP, RFC 2409 §6.1
	Group2  Group = 2  // 1024-bit MODP, RFC 2409 §6.2
	Group5  Group = 5  // 1536-bit MODP, RFC 3526 §2
	Group14 Group = 14 // 2048-bit MODP, RFC 3526 §3
	Group15 Group = 15 // 3072-bit MODP, RFC 3526 §4
	Group16 Group = 16 // 4096-bit MODP, RFC 3526 §5
	Group19 Group = 19 // 256-bit random ECP (NIST P-256), RFC 5903 §3.1
	Group20 Group = 20 // 384-bit random ECP (NIST P-384), RFC 5903 §3.2
	Group21 Group = 21 // 521-bit random ECP (NIST P-521), RFC 5903 §3.3
	Group24 Group = 24 // 2048-bit MODP with 256-bit prime order subgroup, RFC 5114 §2.3
)

// Groups lists the supported groups in IANA order.
var Groups = []Group{Group1, Group2, Group5, Group14, Group15, Group16, Group19, Group20, Group21, Group24}

// String returns "group N", the IOS spelling.
func (g Group) String() string { return fmt.Sprintf("group %d", uint16(g)) }

// Valid reports whether g is implemented.
func (g Group) Valid() bool { return g.modp() != nil || g.curve() != nil }

// Bits returns the size of the group's prime (768 ... 4096; 256, 384, 521 for ECP), as IOS
// shows it ("#14 (2048 bit)"), or 0 for an unsupported group.
func (g Group) Bits() int {
	if m := g.modp(); m != nil {
		return m.p.BitLen()
	}
	switch g {
	case Group19:
		return 256
	case Group20:
		return 384
	case Group21:
		return 521
	}
	return 0
}

// IsECP reports whether g is an elliptic curve group.
func (g Group) IsECP() bool { return g.curve() != nil }

// PublicSize returns the length of the KE payload data: the prime's length for MODP groups
// (RFC 2409 §5: left-padded), twice the coordinate length for ECP groups (RFC 5903 §7).
func (g Group) PublicSize() int {
	if m := g.modp(); m != nil {
		return m.size
	}
	if g.curve() != nil {
		return 2 * g.coordSize()
	}
	return 0
}

// SharedSize returns the length of g^xy: the prime's length for MODP, the x coordinate's for ECP.
func (g Group) SharedSize() int {
	if m := g.modp(); m != nil {
		return m.size
	}
	return g.coordSize()
}

func (g Group) coordSize() int {
	switch g {
	case Group19:
		return 32
	case Group20:
		return 48
	case Group21:
		return 66
	}
	return 0
}

func (g Group) curve() ecdh.Curve {
	switch g {
	case Group19:
		return ecdh.P256()
	case Group20:
		return ecdh.P384()
	case Group21:
		return ecdh.P521()
	}
	return nil
}

// PrivateKey is one side's ephemeral Diffie-Hellman key for one exchange.
type PrivateKey struct {
	group Group
	x     *big.Int         // MODP exponent
	ec    *ecdh.PrivateKey // ECP scalar
	pub   []byte           // KE payload data, fixed length
}

// GenerateKey returns a new key of group g. MODP exponents are short (see the package
// documentation) and drawn from r (crypto/rand.Reader when r is nil). ECP scalars are full
// length and, since Go 1.26, crypto/ecdh always draws them from the system's secure source and
// ignores r.
func (g Group) GenerateKey(r io.Reader) (*PrivateKey, error) {
	if r == nil {
		r = rand.Reader
	}
	if m := g.modp(); m != nil {
		x, err := m.randomExponent(r)
		if err != nil {
			return nil, err
		}
		return m.newKey(g, x), nil
	}
	if c := g.curve(); c != nil {
		k, err := c.GenerateKey(r)
		if err != nil {
			return nil, fmt.Errorf("ikecrypto: %v: %w", g, err)
		}
		return ecKey(g, k), nil
	}
	return nil, fmt.Errorf("%w: %d", ErrUnsupportedGroup, uint16(g))
}

// NewPrivateKey builds a key of group g from a known private value: the exponent x (big-endian,
// 2 <= x <= p-2, or 1 <= x < q for group 24) or the ECP scalar (exactly the coordinate length,
// 1 <= d < n). It exists for known-answer tests and for replaying recorded exchanges.
func (g Group) NewPrivateKey(x []byte) (*PrivateKey, error) {
	if m := g.modp(); m != nil {
		e := new(big.Int).SetBytes(x)
		if !m.exponentOK(e) {
			return nil, fmt.Errorf("%w: exponent out of range for %v", ErrInvalidPrivateKey, g)
		}
		return m.newKey(g, e), nil
	}
	if c := g.curve(); c != nil {
		k, err := c.NewPrivateKey(x)
		if err != nil {
			return nil, fmt.Errorf("%w: %v: %v", ErrInvalidPrivateKey, g, err)
		}
		return ecKey(g, k), nil
	}
	return nil, fmt.Errorf("%w: %d", ErrUnsupportedGroup, uint16(g))
}

func ecKey(g Group, k *ecdh.PrivateKey) *PrivateKey {
	// crypto/ecdh encodes NIST public keys as 0x04 | x | y (SEC 1); IKE drops the 0x04 octet.
	return &PrivateKey{group: g, ec: k, pub: k.PublicKey().Bytes()[1:]}
}

// Group returns the key's group.
func (k *PrivateKey) Group() Group { return k.group }

// PublicKey returns the KE payload data: g^x left-padded to the prime's length, or x | y.
func (k *PrivateKey) PublicKey() []byte { return append([]byte(nil), k.pub...) }

// SharedSecret validates the peer's KE payload data and returns g^xy, left-padded to
// Group.SharedSize (for ECP: the x coordinate of the shared point, RFC 5903 §7). A bad peer
// value yields an error wrapping ErrInvalidPublicKey.
func (k *PrivateKey) SharedSecret(peer []byte) ([]byte, error) {
	if m := k.group.modp(); m != nil {
		y, err := m.parsePublic(k.group, peer)
		if err != nil {
			return nil, err
		}
		z := new(big.Int).Exp(y, k.x, m.p)
		// With y validated, z is 1 or p-1 only for a broken exponent; refuse it all the same.
		if z.Cmp(one) <= 0 || z.Cmp(m.pMinus1) >= 0 {
			return nil, fmt.Errorf("%w: %v: degenerate shared secret", ErrInvalidPublicKey, k.group)
		}
		return z.FillBytes(make([]byte, m.size)), nil
	}
	pub, err := parseECPublic(k.group, peer)
	if err != nil {
		return nil, err
	}
	z, err := k.ec.ECDH(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %v: %v", ErrInvalidPublicKey, k.group, err)
	}
	return z, nil
}

// ValidatePublic checks a peer's KE payload data for group g without using a private key: exact
// length, 1 < y < p-1 (y^q = 1 for group 24), or a point on the curve.
func (g Group) ValidatePublic(peer []byte) error {
	if m := g.modp(); m != nil {
		_, err := m.parsePublic(g, peer)
		return err
	}
	if g.curve() != nil {
		_, err := parseECPublic(g, peer)
		return err
	}
	return fmt.Errorf("%w: %d", ErrUnsupportedGroup, uint16(g))
}

func parseECPublic(g Group, peer []byte) (*ecdh.PublicKey, error) {
	if len(peer) != g.PublicSize() {
		return nil, fmt.Errorf("%w: %v: %d octets, want %d", ErrInvalidPublicKey, g, len(peer), g.PublicSize())
	}
	sec1 := make([]byte, 1+len(peer))
	sec1[0] = 4 // uncompressed point
	copy(sec1[1:], peer)
	pub, err := g.curve().NewPublicKey(sec1) // checks that the point is on the curve, not infinity
	if err != nil {
		return nil, fmt.Errorf("%w: %v: %v", ErrInvalidPublicKey, g, err)
	}
	return pub, nil
}
