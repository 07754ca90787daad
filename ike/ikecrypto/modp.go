package ikecrypto

import (
	"fmt"
	"io"
	"math/big"
	"strings"
	"sync"
)

// modpGroup is a finite-field Diffie-Hellman group.
type modpGroup struct {
	p, pMinus1, g *big.Int
	q             *big.Int // prime subgroup order when it is not (p-1)/2 (group 24), else nil
	size          int      // octets of p
	expBits       int      // private exponent length in bits (short exponents)

	tableOnce sync.Once
	table     [][]*big.Int // table[i][d] = g^(d * 16^i) mod p, built on first use
}

var one = big.NewInt(1)

// Private exponent sizes: 2 × the security strength of the prime, following NIST SP 800-57
// Part 1 Table 2 (1024 → 80, 2048 → 112, 3072 → 128 bits) and OpenSSL's estimate for the sizes
// in between; RFC 3526 §8 gives the same order of magnitude. Group 14 thus uses 224-bit
// exponents, like the OpenSSL inside strongSwan (see the strongSwan vectors), which keeps one
// group-14 modular exponentiation well under a millisecond. Group 1 (768 bits, ~60-bit strength)
// gets the group 2 size because an exponent shorter than 160 bits buys nothing there.
var modpGroups = map[Group]*modpGroup{
	Group1:  newMODP(rfc2409Group1, "2", "", 160),
	Group2:  newMODP(rfc2409Group2, "2", "", 160),
	Group5:  newMODP(rfc3526Group5, "2", "", 192),
	Group14: newMODP(rfc3526Group14, "2", "", 224),
	Group15: newMODP(rfc3526Group15, "2", "", 256),
	Group16: newMODP(rfc3526Group16, "2", "", 304),
	Group24: newMODP(rfc5114Group24P, rfc5114Group24G, rfc5114Group24Q, 256),
}

func (g Group) modp() *modpGroup { return modpGroups[g] }

func hexInt(s string) *big.Int {
	n, ok := new(big.Int).SetString(strings.Join(strings.Fields(s), ""), 16)
	if !ok {
		panic("ikecrypto: bad group constant")
	}
	return n
}

func newMODP(p, g, q string, expBits int) *modpGroup {
	m := &modpGroup{p: hexInt(p), g: hexInt(g), expBits: expBits}
	if q != "" {
		m.q = hexInt(q)
	}
	m.pMinus1 = new(big.Int).Sub(m.p, one)
	m.size = (m.p.BitLen() + 7) / 8
	return m
}

// randomExponent draws a private exponent: expBits random bits with the top bit set (so every
// exponent has the same length), or uniformly in [1, q-1] for a group with a small subgroup.
func (m *modpGroup) randomExponent(r io.Reader) (*big.Int, error) {
	if m.q != nil {
		buf := make([]byte, (m.q.BitLen()+7)/8+8) // 64 extra bits make the mod-q bias negligible
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, fmt.Errorf("ikecrypto: reading random exponent: %w", err)
		}
		x := new(big.Int).SetBytes(buf)
		x.Mod(x, new(big.Int).Sub(m.q, one))
		return x.Add(x, one), nil
	}
	buf := make([]byte, (m.expBits+7)/8)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("ikecrypto: reading random exponent: %w", err)
	}
	if extra := len(buf)*8 - m.expBits; extra > 0 {
		buf[0] &= 0xff >> extra
	}
	buf[0] |= 0x80 >> ((len(buf)*8 - m.expBits) % 8)
	return new(big.Int).SetBytes(buf), nil
}

func (m *modpGroup) exponentOK(x *big.Int) bool {
	if m.q != nil {
		return x.Sign() > 0 && x.Cmp(m.q) < 0
	}
	return x.Cmp(one) > 0 && x.Cmp(m.pMinus1) < 0
}

func (m *modpGroup) newKey(g Group, x *big.Int) *PrivateKey {
	y := m.baseExp(x)
	return &PrivateKey{group: g, x: x, pub: y.FillBytes(make([]byte, m.size))}
}

// Fixed-base exponentiation. Key generation always raises the same generator, so a table of
// g^(d * 256^i) turns g^x into one modular multiplication per 8-bit digit of x: 28 for a
// group-14 exponent instead of the ~280 squarings and multiplications of big.Int.Exp, about 6
// times faster (BenchmarkDH: 4-bit digits took twice as long, and key generation is a fifth of
// a responder's CPU per tunnel). The table costs expBits/8 × 256 values of the prime's size (2
// MB for group 14, 5 MB for group 16) and is built once per group, on first use (tens of
// milliseconds). Like big.Int.Exp it is not constant time; every digit, zero included, costs
// one multiplication.
const fixedBaseBits = 8

func (m *modpGroup) baseExp(x *big.Int) *big.Int {
	if x.BitLen() > m.expBits { // a full-length exponent from NewPrivateKey
		return new(big.Int).Exp(m.g, x, m.p)
	}
	m.tableOnce.Do(m.buildTable)
	z, t := big.NewInt(1), new(big.Int)
	for i, row := range m.table {
		var d uint
		for b := 0; b < fixedBaseBits; b++ {
			d |= x.Bit(i*fixedBaseBits+b) << b
		}
		t.Mul(z, row[d])
		z.Mod(t, m.p)
	}
	return z
}

func (m *modpGroup) buildTable() {
	rows := (m.expBits + fixedBaseBits - 1) / fixedBaseBits
	m.table = make([][]*big.Int, rows)
	base := new(big.Int).Set(m.g)
	step := big.NewInt(1 << fixedBaseBits)
	for i := range m.table {
		row := make([]*big.Int, 1<<fixedBaseBits)
		row[0] = big.NewInt(1)
		for d := 1; d < len(row); d++ {
			row[d] = new(big.Int).Mul(row[d-1], base)
			row[d].Mod(row[d], m.p)
		}
		m.table[i] = row
		base = new(big.Int).Exp(base, step, m.p)
	}
}

// parsePublic checks the peer's g^y: exact length (RFC 2409 §5 requires left padding), then
// 1 < y < p-1 (excludes the trivial subgroup {1, p-1}; for the safe primes of RFC 2409/3526
// every other value has order q or 2q), then y^q = 1 for group 24 (SP 800-56A §5.6.2.3.1,
// RFC 2785: its p-1 has small factors).
func (m *modpGroup) parsePublic(g Group, peer []byte) (*big.Int, error) {
	if len(peer) != m.size {
		return nil, fmt.Errorf("%w: %v: %d octets, want %d", ErrInvalidPublicKey, g, len(peer), m.size)
	}
	y := new(big.Int).SetBytes(peer)
	if y.Cmp(one) <= 0 || y.Cmp(m.pMinus1) >= 0 {
		return nil, fmt.Errorf("%w: %v: value out of range (1, p-1)", ErrInvalidPublicKey, g)
	}
	if m.q != nil && new(big.Int).Exp(y, m.q, m.p).Cmp(one) != 0 {
		return nil, fmt.Errorf("%w: %v: value not in the prime-order subgroup", ErrInvalidPublicKey, g)
	}
	return y, nil
}

// The primes. RFC 2409 §6.1/§6.2 and RFC 3526 define p = 2^n - 2^(n-64) - 1 + 2^64 *
// (floor(2^(n-130) pi) + k), generator 2; the tests check that each p and (p-1)/2 is prime.
const (
	rfc2409Group1 = `
	FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 29024E08 8A67CC74 020BBEA6 3B139B22
	514A0879 8E3404DD EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245 E485B576 625E7EC6
	F44C42E9 A63A3620 FFFFFFFF FFFFFFFF`

	rfc2409Group2 = `
	FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 29024E08 8A67CC74 020BBEA6 3B139B22
	514A0879 8E3404DD EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245 E485B576 625E7EC6
	F44C42E9 A637ED6B 0BFF5CB6 F406B7ED EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE65381
	FFFFFFFF FFFFFFFF`

	rfc3526Group5 = `
	FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 29024E08 8A67CC74 020BBEA6 3B139B22
	514A0879 8E3404DD EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245 E485B576 625E7EC6
	F44C42E9 A637ED6B 0BFF5CB6 F406B7ED EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE45B3D
	C2007CB8 A163BF05 98DA4836 1C55D39A 69163FA8 FD24CF5F 83655D23 DCA3AD96 1C62F356 208552BB
	9ED52907 7096966D 670C354E 4ABC9804 F1746C08 CA237327 FFFFFFFF FFFFFFFF`

	rfc3526Group14 = `
	FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 29024E08 8A67CC74 020BBEA6 3B139B22
	514A0879 8E3404DD EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245 E485B576 625E7EC6
	F44C42E9 A637ED6B 0BFF5CB6 F406B7ED EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE45B3D
	C2007CB8 A163BF05 98DA4836 1C55D39A 69163FA8 FD24CF5F 83655D23 DCA3AD96 1C62F356 208552BB
	9ED52907 7096966D 670C354E 4ABC9804 F1746C08 CA18217C 32905E46 2E36CE3B E39E772C 180E8603
	9B2783A2 EC07A28F B5C55DF0 6F4C52C9 DE2BCBF6 95581718 3995497C EA956AE5 15D22618 98FA0510
	15728E5A 8AACAA68 FFFFFFFF FFFFFFFF`

	rfc3526Group15 = `
	FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 29024E08 8A67CC74 020BBEA6 3B139B22
	514A0879 8E3404DD EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245 E485B576 625E7EC6
	F44C42E9 A637ED6B 0BFF5CB6 F406B7ED EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE45B3D
	C2007CB8 A163BF05 98DA4836 1C55D39A 69163FA8 FD24CF5F 83655D23 DCA3AD96 1C62F356 208552BB
	9ED52907 7096966D 670C354E 4ABC9804 F1746C08 CA18217C 32905E46 2E36CE3B E39E772C 180E8603
	9B2783A2 EC07A28F B5C55DF0 6F4C52C9 DE2BCBF6 95581718 3995497C EA956AE5 15D22618 98FA0510
	15728E5A 8AAAC42D AD33170D 04507A33 A85521AB DF1CBA64 ECFB8504 58DBEF0A 8AEA7157 5D060C7D
	B3970F85 A6E1E4C7 ABF5AE8C DB0933D7 1E8C94E0 4A25619D CEE3D226 1AD2EE6B F12FFA06 D98A0864
	D8760273 3EC86A64 521F2B18 177B200C BBE11757 7A615D6C 770988C0 BAD946E2 08E24FA0 74E5AB31
	43DB5BFC E0FD108E 4B82D120 A93AD2CA FFFFFFFF FFFFFFFF`

	rfc3526Group16 = `
	FFFFFFFF FFFFFFFF C90FDAA2 2168C234 C4C6628B 80DC1CD1 29024E08 8A67CC74 020BBEA6 3B139B22
	514A0879 8E3404DD EF9519B3 CD3A431B 302B0A6D F25F1437 4FE1356D 6D51C245 E485B576 625E7EC6
	F44C42E9 A637ED6B 0BFF5CB6 F406B7ED EE386BFB 5A899FA5 AE9F2411 7C4B1FE6 49286651 ECE45B3D
	C2007CB8 A163BF05 98DA4836 1C55D39A 69163FA8 FD24CF5F 83655D23 DCA3AD96 1C62F356 208552BB
	9ED52907 7096966D 670C354E 4ABC9804 F1746C08 CA18217C 32905E46 2E36CE3B E39E772C 180E8603
	9B2783A2 EC07A28F B5C55DF0 6F4C52C9 DE2BCBF6 95581718 3995497C EA956AE5 15D22618 98FA0510
	15728E5A 8AAAC42D AD33170D 04507A33 A85521AB DF1CBA64 ECFB8504 58DBEF0A 8AEA7157 5D060C7D
	B3970F85 A6E1E4C7 ABF5AE8C DB0933D7 1E8C94E0 4A25619D CEE3D226 1AD2EE6B F12FFA06 D98A0864
	D8760273 3EC86A64 521F2B18 177B200C BBE11757 7A615D6C 770988C0 BAD946E2 08E24FA0 74E5AB31
	43DB5BFC E0FD108E 4B82D120 A9210801 1A723C12 A787E6D7 88719A10 BDBA5B26 99C32718 6AF4E23C
	1A946834 B6150BDA 2583E9CA 2AD44CE8 DBBBC2DB 04DE8EF9 2E8EFC14 1FBECAA6 287C5947 4E6BC05D
	99B2964F A090C3A2 233BA186 515BE7ED 1F612970 CEE2D7AF B81BDD76 2170481C D0069127 D5B05AA9
	93B4EA98 8D8FDDC1 86FFB7DC 90A6C08F 4DF435C9 34063199 FFFFFFFF FFFFFFFF`

	// RFC 5114 §2.3: 2048-bit MODP Group with 256-bit Prime Order Subgroup.
	rfc5114Group24P = `
	87A8E61D B4B6663C FFBBD19C 65195999 8CEEF608 660DD0F2 5D2CEED4 435E3B00 E00DF8F1 D61957D4
	FAF7DF45 61B2AA30 16C3D911 34096FAA 3BF4296D 830E9A7C 209E0C64 97517ABD 5A8A9D30 6BCF67ED
	91F9E672 5B4758C0 22E0B1EF 4275BF7B 6C5BFC11 D45F9088 B941F54E B1E59BB8 BC39A0BF 12307F5C
	4FDB70C5 81B23F76 B63ACAE1 CAA6B790 2D525267 35488A0E F13C6D9A 51BFA4AB 3AD83477 96524D8E
	F6A167B5 A41825D9 67E144E5 14056425 1CCACB83 E6B486F6 B3CA3F79 71506026 C0B857F6 89962856
	DED4010A BD0BE621 C3A3960A 54E710C3 75F26375 D7014103 A4B54330 C198AF12 6116D227 6E11715F
	693877FA D7EF09CA DB094AE9 1E1A1597`
	rfc5114Group24G = `
	3FB32C9B 73134D0B 2E775066 60EDBD48 4CA7B18F 21EF2054 07F4793A 1A0BA125 10DBC150 77BE463F
	FF4FED4A AC0BB555 BE3A6C1B 0C6B47B1 BC3773BF 7E8C6F62 901228F8 C28CBB18 A55AE313 41000A65
	0196F931 C77A57F2 DDF463E5 E9EC144B 777DE62A AAB8A862 8AC376D2 82D6ED38 64E67982 428EBC83
	1D14348F 6F2F9193 B5045AF2 767164E1 DFC967C1 FB3F2E55 A4BD1BFF E83B9C80 D052B985 D182EA0A
	DB2A3B73 13D3FE14 C8484B1E 052588B9 B7D2BBD2 DF016199 ECD06E15 57CD0915 B3353BBB 64E0EC37
	7FD02837 0DF92B52 C7891428 CDC67EB6 184B523D 1DB246C3 2F630784 90F00EF8 D647D148 D4795451
	5E2327CF EF98C582 664B4C0F 6CC41659`
	rfc5114Group24Q = `
	8CF83642 A709A097 B4479976 40129DA2 99B1A47D 1EB3750B A308B0FE 64F5FBD3`
)
