package ikecrypto

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// Cookie is an ISAKMP cookie (CKY-I or CKY-R, RFC 2408 §3.1).
type Cookie = [8]byte

// SKEYIDPreShared returns SKEYID for pre-shared key authentication:
// prf(pre-shared-key, Ni_b | Nr_b) (RFC 2409 §5). Ni_b and Nr_b are the Nonce payload bodies.
func SKEYIDPreShared(h Hash, psk, niB, nrB []byte) []byte {
	return h.PRF(psk, niB, nrB)
}

// SKEYIDSignature returns SKEYID for signature authentication: prf(Ni_b | Nr_b, g^xy)
// (RFC 2409 §5).
func SKEYIDSignature(h Hash, niB, nrB, gxy []byte) []byte {
	key := make([]byte, 0, len(niB)+len(nrB))
	key = append(append(key, niB...), nrB...)
	return h.PRF(key, gxy)
}

// SKEYIDPublicKey returns SKEYID for (revised) public key encryption authentication:
// prf(hash(Ni_b | Nr_b), CKY-I | CKY-R) (RFC 2409 §5).
func SKEYIDPublicKey(h Hash, niB, nrB []byte, ckyI, ckyR Cookie) []byte {
	return h.PRF(h.Sum(niB, nrB), ckyI[:], ckyR[:])
}

// Phase1 is the keying material of one ISAKMP SA (RFC 2409 §5 and Appendix B). Main Mode and
// Aggressive Mode derive it the same way; they differ only in which messages are encrypted.
type Phase1 struct {
	Hash   Hash   // negotiated hash; prf = HMAC-Hash
	Cipher Cipher // negotiated encryption

	SKEYID  []byte
	SKEYIDd []byte // prf(SKEYID, g^xy | CKY-I | CKY-R | 0): keys Phase 2 (KEYMAT)
	SKEYIDa []byte // prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1): authenticates Phase 2 and Informational
	SKEYIDe []byte // prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2): source of EncKey
	EncKey  []byte // Ka: SKEYID_e, expanded per Appendix B when too short, truncated to the key size

	cbc *CBC
}

// NewPhase1 derives SKEYID_d, SKEYID_a, SKEYID_e and the encryption key from SKEYID and g^xy,
// and keys the cipher. It fails for an unsupported hash or cipher or a weak DES key.
func NewPhase1(h Hash, c Cipher, skeyid, gxy []byte, ckyI, ckyR Cookie) (*Phase1, error) {
	if !h.Valid() {
		return nil, fmt.Errorf("%w: %d", ErrUnsupportedHash, uint16(h))
	}
	if !c.Valid() {
		return nil, fmt.Errorf("%w: %d", ErrUnsupportedCipher, uint8(c))
	}
	p := &Phase1{Hash: h, Cipher: c, SKEYID: append([]byte(nil), skeyid...)}
	p.SKEYIDd = h.PRF(skeyid, gxy, ckyI[:], ckyR[:], []byte{0})
	p.SKEYIDa = h.PRF(skeyid, p.SKEYIDd, gxy, ckyI[:], ckyR[:], []byte{1})
	p.SKEYIDe = h.PRF(skeyid, p.SKEYIDa, gxy, ckyI[:], ckyR[:], []byte{2})
	p.EncKey = ExpandKey(h, p.SKEYIDe, c.KeySize())
	cbc, err := c.NewCBC(p.EncKey)
	if err != nil {
		return nil, err
	}
	p.cbc = cbc
	return p, nil
}

// ExpandKey returns the first n octets of SKEYID_e when it is long enough, else of
// K1 | K2 | ... with K1 = prf(SKEYID_e, 0) and Kn = prf(SKEYID_e, Kn-1) (RFC 2409 Appendix B;
// the 0 is a single zero octet).
func ExpandKey(h Hash, skeyidE []byte, n int) []byte {
	if len(skeyidE) >= n {
		return append([]byte(nil), skeyidE[:n]...)
	}
	out := make([]byte, 0, n+h.Size())
	k := []byte{0}
	for len(out) < n {
		k = h.PRF(skeyidE, k)
		out = append(out, k...)
	}
	return out[:n]
}

// HashI returns HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b) (RFC 2409
// §5). SAi_b is the body of the initiator's SA payload (first message) and IDii_b the body of
// its ID payload, both without the generic payload header.
func (p *Phase1) HashI(gxi, gxr []byte, ckyI, ckyR Cookie, saiB, idiiB []byte) []byte {
	return p.Hash.PRF(p.SKEYID, gxi, gxr, ckyI[:], ckyR[:], saiB, idiiB)
}

// HashR returns HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b) (RFC 2409
// §5). SAi_b is still the initiator's SA payload body.
func (p *Phase1) HashR(gxi, gxr []byte, ckyI, ckyR Cookie, saiB, idirB []byte) []byte {
	return p.Hash.PRF(p.SKEYID, gxr, gxi, ckyR[:], ckyI[:], saiB, idirB)
}

// Phase1IV returns the IV of the first encrypted Phase 1 message: hash(g^xi | g^xr) truncated
// to the block size (RFC 2409 App. B). Main Mode encrypts MM5 with it, MM6 with MM5's last
// ciphertext block; the last block of MM6 is the "last Phase 1 CBC output block". In Aggressive
// Mode a peer that sends AM3 encrypted uses it for AM3 and AM3's last block becomes that
// output block; when no Phase 1 message is encrypted (AM3 in clear), this IV itself takes its
// place in Phase2IV.
func (p *Phase1) Phase1IV(gxi, gxr []byte) []byte {
	return p.Hash.Sum(gxi, gxr)[:p.Cipher.BlockSize()]
}

// Phase2IV returns the IV of the first message of a Quick Mode or Informational exchange:
// hash(last Phase 1 CBC output block | M-ID) truncated to the block size (RFC 2409 App. B). It
// always starts from the Phase 1 block: neither Quick Modes nor Informationals change it. The
// later messages of a Quick Mode chain from the previous ciphertext's last block.
func (p *Phase1) Phase2IV(lastPhase1Block []byte, mid uint32) []byte {
	return p.Hash.Sum(lastPhase1Block, be32(mid))[:p.Cipher.BlockSize()]
}

// Encrypt encrypts a payload chain with the ISAKMP SA's key (see CBC.Encrypt).
func (p *Phase1) Encrypt(iv, plaintext []byte, pad Padding) (ciphertext, nextIV []byte, err error) {
	if p.cbc == nil {
		return nil, nil, ErrNotKeyed
	}
	return p.cbc.Encrypt(iv, plaintext, pad)
}

// Decrypt decrypts a message body with the ISAKMP SA's key (see CBC.Decrypt).
func (p *Phase1) Decrypt(iv, ciphertext []byte) (plaintext, nextIV []byte, err error) {
	if p.cbc == nil {
		return nil, nil, ErrNotKeyed
	}
	return p.cbc.Decrypt(iv, ciphertext)
}

// NATD returns a NAT-D payload body: hash(CKY-I | CKY-R | IP | Port) with the negotiated hash
// (RFC 3947 §3.2). The address is 4 octets for IPv4 and 16 for IPv6; the port is in network
// order.
func NATD(h Hash, ckyI, ckyR Cookie, addr netip.Addr, port uint16) []byte {
	a := addr.Unmap().AsSlice()
	var pb [2]byte
	binary.BigEndian.PutUint16(pb[:], port)
	return h.Sum(ckyI[:], ckyR[:], a, pb[:])
}

func be32(v uint32) []byte {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	return b[:]
}
