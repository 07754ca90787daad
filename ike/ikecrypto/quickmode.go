package ikecrypto

import "fmt"

// IPsec DOI protocol identifiers (RFC 2407 §4.4.1), the protocol octet of KEYMAT.
const (
	ProtoISAKMP = 1
	ProtoAH     = 2
	ProtoESP    = 3
	ProtoIPComp = 4
)

// Hash1 returns HASH(1) = prf(SKEYID_a, M-ID | rest) (RFC 2409 §5.5). For Quick Mode, rest is
// every octet of the payload chain after the HASH payload (SA | Ni [| KE] [| IDci | IDcr] with
// their generic headers, padding excluded). The HASH payload of an Informational exchange has
// the same form (§5.7: M-ID | N/D), so Hash1 computes it too.
func (p *Phase1) Hash1(mid uint32, rest []byte) []byte {
	return p.Hash.PRF(p.SKEYIDa, be32(mid), rest)
}

// InfoHash returns the HASH(1) of an Informational exchange: prf(SKEYID_a, M-ID | N/D), where
// N/D is the payload chain after the HASH payload (RFC 2409 §5.7).
func (p *Phase1) InfoHash(mid uint32, rest []byte) []byte { return p.Hash1(mid, rest) }

// Hash2 returns HASH(2) = prf(SKEYID_a, M-ID | Ni_b | rest) (RFC 2409 §5.5): Ni_b is the
// initiator's Quick Mode nonce body, rest the payload chain of QM2 after its HASH payload.
func (p *Phase1) Hash2(mid uint32, niB, rest []byte) []byte {
	return p.Hash.PRF(p.SKEYIDa, be32(mid), niB, rest)
}

// Hash3 returns HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b) (RFC 2409 §5.5), with a single
// zero octet and the Quick Mode nonce bodies.
func (p *Phase1) Hash3(mid uint32, niB, nrB []byte) []byte {
	return p.Hash.PRF(p.SKEYIDa, []byte{0}, be32(mid), niB, nrB)
}

// Keymat returns n octets of KEYMAT for one SA (RFC 2409 §5.5):
//
//	K1 = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b)
//	Kn = prf(SKEYID_d, Kn-1 | [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b)
//	KEYMAT = K1 | K2 | ...
//
// gqmxy is the Quick Mode shared secret with PFS, nil without. spi is the SPI of the SA being
// keyed as carried in the proposal (4 octets): the SPI the *receiving* side chose. So the
// initiator's outbound SA uses the responder's SPI and vice versa, and both sides compute both
// KEYMATs identically. Ni_b and Nr_b are the Quick Mode nonce bodies. ESPTransform.KeymatLen
// gives n, ESPTransform.Split the keys.
func (p *Phase1) Keymat(n int, gqmxy []byte, protocol uint8, spi, niB, nrB []byte) ([]byte, error) {
	if len(spi) != 4 {
		return nil, fmt.Errorf("%w: got %d", ErrSPISize, len(spi))
	}
	if n < 0 {
		return nil, fmt.Errorf("%w: %d", ErrKeymatLength, n)
	}
	seed := keymatSeed(gqmxy, protocol, spi, niB, nrB)
	out := make([]byte, 0, n+p.Hash.Size())
	var k []byte
	for len(out) < n {
		k = p.Hash.PRF(p.SKEYIDd, k, seed)
		out = append(out, k...)
	}
	return out[:n], nil
}

func keymatSeed(gqmxy []byte, protocol uint8, spi, niB, nrB []byte) []byte {
	seed := make([]byte, 0, len(gqmxy)+1+len(spi)+len(niB)+len(nrB))
	seed = append(seed, gqmxy...)
	seed = append(seed, protocol)
	seed = append(seed, spi...)
	seed = append(seed, niB...)
	return append(seed, nrB...)
}
