package ikecrypto

import (
	"bytes"
	"errors"
	"math/big"
	"testing"
	"testing/iotest"
)

// RFC 5903 §8: both public keys from the private scalars, and girx from both sides.
func TestRFC5903(t *testing.T) {
	secs := readSections(t, "rfc5903.txt")
	for _, g := range []Group{Group19, Group20, Group21} {
		t.Run(g.String(), func(t *testing.T) {
			v := secs[big.NewInt(int64(g)).String()]
			if v == nil {
				t.Fatal("section missing")
			}
			ki, err := g.NewPrivateKey(unhex(t, v["i"]))
			if err != nil {
				t.Fatal(err)
			}
			kr, err := g.NewPrivateKey(unhex(t, v["r"]))
			if err != nil {
				t.Fatal(err)
			}
			gi := append(unhex(t, v["gix"]), unhex(t, v["giy"])...)
			gr := append(unhex(t, v["grx"]), unhex(t, v["gry"])...)
			if !bytes.Equal(ki.PublicKey(), gi) || !bytes.Equal(kr.PublicKey(), gr) {
				t.Fatalf("public keys\n got %x / %x\nwant %x / %x", ki.PublicKey(), kr.PublicKey(), gi, gr)
			}
			if len(gi) != g.PublicSize() {
				t.Errorf("PublicSize %d, KE data %d", g.PublicSize(), len(gi))
			}
			want := unhex(t, v["girx"])
			for _, c := range []struct {
				k    *PrivateKey
				peer []byte
			}{{ki, gr}, {kr, gi}} {
				z, err := c.k.SharedSecret(c.peer)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(z, want) || len(z) != g.SharedSize() {
					t.Errorf("shared %x, want %x", z, want)
				}
			}
		})
	}
}

// RFC 5114 Appendix A.3 (group 24).
func TestRFC5114Group24(t *testing.T) {
	v := readSections(t, "rfc5114-group24.txt")[""]
	a, err := Group24.NewPrivateKey(unhex(t, v["xA"]))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Group24.NewPrivateKey(unhex(t, v["xB"]))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.PublicKey(), unhex(t, v["yA"])) || !bytes.Equal(b.PublicKey(), unhex(t, v["yB"])) {
		t.Fatal("public values differ from RFC 5114 A.3")
	}
	want := unhex(t, v["Z"])
	za, errA := a.SharedSecret(b.PublicKey())
	zb, errB := b.SharedSecret(a.PublicKey())
	if errA != nil || errB != nil || !bytes.Equal(za, want) || !bytes.Equal(zb, want) {
		t.Errorf("Z = %x / %x (%v, %v), want %x", za, zb, errA, errB, want)
	}
}

// The MODP constants: p and (p-1)/2 prime for the safe-prime groups; p, q prime, q | p-1 and
// g of order q for group 24; bit sizes as named.
func TestMODPConstants(t *testing.T) {
	bits := map[Group]int{Group1: 768, Group2: 1024, Group5: 1536, Group14: 2048, Group15: 3072, Group16: 4096, Group24: 2048}
	for g, n := range bits {
		m := g.modp()
		if m.p.BitLen() != n || g.Bits() != n || g.PublicSize() != n/8 {
			t.Errorf("%v: %d bits, want %d", g, m.p.BitLen(), n)
		}
		if !m.p.ProbablyPrime(1) {
			t.Errorf("%v: p not prime", g)
		}
		if m.q == nil {
			q := new(big.Int).Rsh(m.p, 1)
			if !q.ProbablyPrime(1) || m.g.Int64() != 2 {
				t.Errorf("%v: not a safe prime with generator 2", g)
			}
			continue
		}
		r := new(big.Int)
		if !m.q.ProbablyPrime(1) || m.q.BitLen() != 256 || r.Mod(m.pMinus1, m.q).Sign() != 0 {
			t.Errorf("%v: q is not a 256-bit prime dividing p-1", g)
		}
		if r.Exp(m.g, m.q, m.p).Cmp(one) != 0 || m.g.Cmp(one) == 0 {
			t.Errorf("%v: g does not have order q", g)
		}
	}
}

// Every group: two random keys agree, values have the fixed lengths, exponents are short.
func TestGroupsAgree(t *testing.T) {
	for _, g := range Groups {
		t.Run(g.String(), func(t *testing.T) {
			a, err := g.GenerateKey(nil)
			if err != nil {
				t.Fatal(err)
			}
			b, err := g.GenerateKey(nil)
			if err != nil {
				t.Fatal(err)
			}
			if a.Group() != g || len(a.PublicKey()) != g.PublicSize() || bytes.Equal(a.PublicKey(), b.PublicKey()) {
				t.Fatalf("bad public values %x / %x", a.PublicKey(), b.PublicKey())
			}
			if err := g.ValidatePublic(b.PublicKey()); err != nil {
				t.Fatal(err)
			}
			za, err := a.SharedSecret(b.PublicKey())
			if err != nil {
				t.Fatal(err)
			}
			zb, err := b.SharedSecret(a.PublicKey())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(za, zb) || len(za) != g.SharedSize() {
				t.Fatalf("shared secrets differ or wrong length: %x / %x", za, zb)
			}
			if m := g.modp(); m != nil {
				if m.q != nil {
					if a.x.Sign() <= 0 || a.x.Cmp(m.q) >= 0 {
						t.Errorf("exponent outside [1, q-1]")
					}
				} else if a.x.BitLen() != m.expBits || 2*a.x.BitLen() > m.p.BitLen() {
					t.Errorf("exponent has %d bits, want %d", a.x.BitLen(), m.expBits)
				}
			}
		})
	}
}

// g^x and g^xy keep their leading zero octets (strongSwan README subtlety 9).
func TestMODPLeftPadding(t *testing.T) {
	a, err := Group14.NewPrivateKey([]byte{5}) // 2^5
	if err != nil {
		t.Fatal(err)
	}
	b, err := Group14.NewPrivateKey([]byte{3}) // 2^3
	if err != nil {
		t.Fatal(err)
	}
	wantPub := make([]byte, 256)
	wantPub[255] = 32
	if !bytes.Equal(a.PublicKey(), wantPub) {
		t.Fatalf("public value not left-padded: %x", a.PublicKey())
	}
	z, err := a.SharedSecret(b.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	wantZ := make([]byte, 256)
	wantZ[254] = 0x80 // 2^15
	if !bytes.Equal(z, wantZ) {
		t.Fatalf("shared secret not left-padded: %x", z)
	}
}

func TestPublicValueValidation(t *testing.T) {
	p14 := Group14.modp().p
	pad := func(n *big.Int, size int) []byte { return n.FillBytes(make([]byte, size)) }
	sub := func(a *big.Int, b int64) *big.Int { return new(big.Int).Sub(a, big.NewInt(b)) }
	k19, _ := Group19.GenerateKey(nil)
	offCurve := k19.PublicKey()
	offCurve[len(offCurve)-1] ^= 1
	k24, _ := Group24.GenerateKey(nil)
	tests := []struct {
		name string
		g    Group
		peer []byte
	}{
		{"modp-empty", Group14, nil},
		{"modp-short", Group14, make([]byte, 255)},
		{"modp-long", Group14, make([]byte, 257)},
		{"modp-zero", Group14, make([]byte, 256)},
		{"modp-one", Group14, pad(big.NewInt(1), 256)},
		{"modp-p-1", Group14, pad(sub(p14, 1), 256)},
		{"modp-p", Group14, pad(p14, 256)},
		{"modp-all-ff", Group14, bytes.Repeat([]byte{0xff}, 256)},
		{"group2-as-group14", Group14, pad(big.NewInt(2), 128)},
		{"group24-not-in-subgroup", Group24, pad(big.NewInt(2), 256)},
		{"group24-p-1", Group24, pad(sub(Group24.modp().p, 1), 256)},
		{"ecp-off-curve", Group19, offCurve},
		{"ecp-zero", Group19, make([]byte, 64)},
		{"ecp-with-04-prefix", Group19, append([]byte{4}, k19.PublicKey()...)},
		{"ecp-wrong-curve", Group20, k19.PublicKey()},
		{"ecp-x-only", Group19, k19.PublicKey()[:32]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.g.ValidatePublic(tt.peer); !errors.Is(err, ErrInvalidPublicKey) {
				t.Errorf("ValidatePublic = %v, want ErrInvalidPublicKey", err)
			}
			k, err := tt.g.GenerateKey(nil)
			if err != nil {
				t.Fatal(err)
			}
			if z, err := k.SharedSecret(tt.peer); !errors.Is(err, ErrInvalidPublicKey) || z != nil {
				t.Errorf("SharedSecret = %x, %v, want ErrInvalidPublicKey", z, err)
			}
		})
	}
	// Control: a genuine group-24 value passes the subgroup check.
	if err := Group24.ValidatePublic(k24.PublicKey()); err != nil {
		t.Errorf("valid group 24 value rejected: %v", err)
	}
}

func TestPrivateKeyErrors(t *testing.T) {
	q24 := Group24.modp().q.Bytes()
	tests := []struct {
		name string
		g    Group
		x    []byte
		want error
	}{
		{"unsupported", Group(22), []byte{5}, ErrUnsupportedGroup},
		{"modp-zero", Group14, []byte{0}, ErrInvalidPrivateKey},
		{"modp-one", Group14, []byte{1}, ErrInvalidPrivateKey},
		{"modp-p", Group2, Group2.modp().p.Bytes(), ErrInvalidPrivateKey},
		{"group24-q", Group24, q24, ErrInvalidPrivateKey},
		{"ecp-short", Group19, make([]byte, 31), ErrInvalidPrivateKey},
		{"ecp-zero", Group19, make([]byte, 32), ErrInvalidPrivateKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.g.NewPrivateKey(tt.x); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := Group(22).GenerateKey(nil); !errors.Is(err, ErrUnsupportedGroup) {
		t.Errorf("GenerateKey(22) = %v", err)
	}
	if err := Group(22).ValidatePublic(nil); !errors.Is(err, ErrUnsupportedGroup) {
		t.Errorf("ValidatePublic(22) = %v", err)
	}
	for _, g := range []Group{Group14, Group24} { // crypto/ecdh ignores the reader since Go 1.26
		if _, err := g.GenerateKey(iotest.ErrReader(errors.New("no entropy"))); err == nil {
			t.Errorf("%v: GenerateKey with a failing reader succeeded", g)
		}
	}
}

// The fixed-base table agrees with big.Int.Exp for random, extreme and full-length exponents.
func TestFixedBaseExp(t *testing.T) {
	for _, g := range Groups {
		m := g.modp()
		if m == nil {
			continue
		}
		maxShort := new(big.Int).Sub(new(big.Int).Lsh(one, uint(m.expBits)), one)
		xs := []*big.Int{big.NewInt(2), big.NewInt(17), maxShort, new(big.Int).Sub(m.p, big.NewInt(2))}
		for i := 0; i < 8; i++ {
			k, err := g.GenerateKey(nil)
			if err != nil {
				t.Fatal(err)
			}
			xs = append(xs, k.x)
		}
		for _, x := range xs {
			if got, want := m.baseExp(x), new(big.Int).Exp(m.g, x, m.p); got.Cmp(want) != 0 {
				t.Errorf("%v: g^%x differs from big.Int.Exp", g, x)
			}
		}
	}
}
