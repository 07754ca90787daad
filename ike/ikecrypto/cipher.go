package ikecrypto

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"fmt"
)

// Cipher is an IKE (Phase 1) encryption algorithm with its key length: the Encryption Algorithm
// attribute (class 1) of RFC 2409 Appendix A plus, for AES, the Key Length attribute (class 14,
// RFC 3602/RFC 2409 §4.5).
type Cipher uint8

// Ciphers of the IOS set (`encryption des|3des|aes [128|192|256]`).
const (
	CipherDES    Cipher = iota + 1 // DES-CBC, attribute value 1
	Cipher3DES                     // 3DES-CBC (EDE, 3 keys), attribute value 5
	CipherAES128                   // AES-CBC, attribute value 7, key length 128
	CipherAES192                   // AES-CBC, attribute value 7, key length 192
	CipherAES256                   // AES-CBC, attribute value 7, key length 256
)

// IKE Encryption Algorithm attribute values (RFC 2409 Appendix A, IANA).
const (
	EncrAttrDES  = 1
	EncrAttr3DES = 5
	EncrAttrAES  = 7
)

// Ciphers lists the supported ciphers.
var Ciphers = []Cipher{CipherDES, Cipher3DES, CipherAES128, CipherAES192, CipherAES256}

// String returns the IOS spelling as `show crypto isakmp policy` prints it.
func (c Cipher) String() string {
	switch c {
	case CipherDES:
		return "des"
	case Cipher3DES:
		return "3des"
	case CipherAES128:
		return "aes"
	case CipherAES192:
		return "aes 192"
	case CipherAES256:
		return "aes 256"
	}
	return fmt.Sprintf("cipher(%d)", uint8(c))
}

// Valid reports whether c is implemented.
func (c Cipher) Valid() bool { return c >= CipherDES && c <= CipherAES256 }

// CipherFromAttrs maps the Encryption Algorithm and Key Length attributes of a proposal to a
// Cipher. keyBits is 0 when the Key Length attribute is absent; it is then required for AES and
// must be absent or exact for DES/3DES (fixed-length ciphers, RFC 2409 §4.5).
func CipherFromAttrs(alg, keyBits uint16) (Cipher, error) {
	switch alg {
	case EncrAttrDES:
		if keyBits == 0 || keyBits == 64 {
			return CipherDES, nil
		}
	case EncrAttr3DES:
		if keyBits == 0 || keyBits == 192 {
			return Cipher3DES, nil
		}
	case EncrAttrAES:
		switch keyBits {
		case 128:
			return CipherAES128, nil
		case 192:
			return CipherAES192, nil
		case 256:
			return CipherAES256, nil
		}
	}
	return 0, fmt.Errorf("%w: algorithm %d, key length %d", ErrUnsupportedCipher, alg, keyBits)
}

// Attrs returns the Encryption Algorithm attribute value and the Key Length in bits to send
// (0: omit the Key Length attribute, as for the fixed-length DES and 3DES).
func (c Cipher) Attrs() (alg, keyBits uint16) {
	switch c {
	case CipherDES:
		return EncrAttrDES, 0
	case Cipher3DES:
		return EncrAttr3DES, 0
	case CipherAES128:
		return EncrAttrAES, 128
	case CipherAES192:
		return EncrAttrAES, 192
	case CipherAES256:
		return EncrAttrAES, 256
	}
	return 0, 0
}

// KeySize returns the key length in octets.
func (c Cipher) KeySize() int {
	switch c {
	case CipherDES:
		return 8
	case Cipher3DES:
		return 24
	case CipherAES128:
		return 16
	case CipherAES192:
		return 24
	case CipherAES256:
		return 32
	}
	return 0
}

// BlockSize returns the block (and IV) length in octets.
func (c Cipher) BlockSize() int {
	switch c {
	case CipherDES, Cipher3DES:
		return des.BlockSize
	case CipherAES128, CipherAES192, CipherAES256:
		return aes.BlockSize
	}
	return 0
}

// Padding selects how Encrypt fills the last block. RFC 2408 §3.1 only says the message is
// padded and the header length covers the padding; implementations differ in the fill.
type Padding uint8

const (
	// PadZero appends 1..blocksize zero octets (a block-aligned message gets one whole block),
	// exactly as strongSwan does (see testdata/vector-*.json).
	PadZero Padding = iota
	// PadCount appends 1..blocksize octets, zeros followed by a last octet holding the number
	// of padding octets, the convention IOS peers use.
	PadCount
)

// CBC encrypts and decrypts ISAKMP message bodies (everything after the 28-octet header) in CBC
// mode with explicit IVs. The caller keeps the IV chain: each call returns the IV of the next
// message, which it should adopt only once the message has been accepted (RFC 2409 App. B).
type CBC struct {
	c     Cipher
	block cipher.Block
}

// NewCBC keys c. DES and 3DES keys are checked against the weak and semi-weak DES keys
// (RFC 2409 App. B, RFC 2451 §2.5), and 3DES keys with K1 = K2 or K2 = K3 are refused.
func (c Cipher) NewCBC(key []byte) (*CBC, error) {
	if !c.Valid() {
		return nil, fmt.Errorf("%w: %d", ErrUnsupportedCipher, uint8(c))
	}
	if len(key) != c.KeySize() {
		return nil, fmt.Errorf("%w: %v needs %d octets, got %d", ErrKeySize, c, c.KeySize(), len(key))
	}
	var (
		b   cipher.Block
		err error
	)
	switch c {
	case CipherDES:
		if isWeakDESKey(key) {
			return nil, ErrWeakKey
		}
		b, err = des.NewCipher(key)
	case Cipher3DES:
		if isWeakDESKey(key[:8]) || isWeakDESKey(key[8:16]) || isWeakDESKey(key[16:]) ||
			sameDESKey(key[:8], key[8:16]) || sameDESKey(key[8:16], key[16:]) {
			return nil, ErrWeakKey
		}
		b, err = des.NewTripleDESCipher(key)
	default:
		b, err = aes.NewCipher(key)
	}
	if err != nil {
		return nil, fmt.Errorf("ikecrypto: %v: %w", c, err)
	}
	return &CBC{c: c, block: b}, nil
}

// Cipher returns the algorithm.
func (b *CBC) Cipher() Cipher { return b.c }

// BlockSize returns the cipher's block size.
func (b *CBC) BlockSize() int { return b.block.BlockSize() }

// Encrypt pads plaintext (the payload chain) with 1..blocksize octets as pad says and encrypts
// it with iv. It returns the ciphertext and the next IV (its last block).
func (b *CBC) Encrypt(iv, plaintext []byte, pad Padding) (ciphertext, nextIV []byte, err error) {
	bs := b.block.BlockSize()
	if len(iv) != bs {
		return nil, nil, ErrIVSize
	}
	n := bs - len(plaintext)%bs // 1..bs
	out := make([]byte, len(plaintext)+n)
	copy(out, plaintext)
	if pad == PadCount {
		out[len(out)-1] = byte(n)
	}
	cipher.NewCBCEncrypter(b.block, iv).CryptBlocks(out, out)
	return out, bytes.Clone(out[len(out)-bs:]), nil
}

// Decrypt decrypts a whole-blocks ciphertext with iv and returns the plaintext with its padding
// (the caller walks the payload chain and ignores what follows it) and the next IV (the last
// ciphertext block). Padding is never checked: peers differ in how they fill it.
func (b *CBC) Decrypt(iv, ciphertext []byte) (plaintext, nextIV []byte, err error) {
	bs := b.block.BlockSize()
	if len(iv) != bs {
		return nil, nil, ErrIVSize
	}
	if len(ciphertext) == 0 || len(ciphertext)%bs != 0 {
		return nil, nil, ErrCiphertextSize
	}
	out := make([]byte, len(ciphertext))
	cipher.NewCBCDecrypter(b.block, iv).CryptBlocks(out, ciphertext)
	return out, bytes.Clone(ciphertext[len(ciphertext)-bs:]), nil
}

// The 4 weak and 12 semi-weak DES keys (FIPS 74 §3.6), with parity bits set.
var weakDESKeys = [16][8]byte{
	{0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01},
	{0xFE, 0xFE, 0xFE, 0xFE, 0xFE, 0xFE, 0xFE, 0xFE},
	{0xE0, 0xE0, 0xE0, 0xE0, 0xF1, 0xF1, 0xF1, 0xF1},
	{0x1F, 0x1F, 0x1F, 0x1F, 0x0E, 0x0E, 0x0E, 0x0E},
	{0x01, 0xFE, 0x01, 0xFE, 0x01, 0xFE, 0x01, 0xFE},
	{0xFE, 0x01, 0xFE, 0x01, 0xFE, 0x01, 0xFE, 0x01},
	{0x1F, 0xE0, 0x1F, 0xE0, 0x0E, 0xF1, 0x0E, 0xF1},
	{0xE0, 0x1F, 0xE0, 0x1F, 0xF1, 0x0E, 0xF1, 0x0E},
	{0x01, 0xE0, 0x01, 0xE0, 0x01, 0xF1, 0x01, 0xF1},
	{0xE0, 0x01, 0xE0, 0x01, 0xF1, 0x01, 0xF1, 0x01},
	{0x1F, 0xFE, 0x1F, 0xFE, 0x0E, 0xFE, 0x0E, 0xFE},
	{0xFE, 0x1F, 0xFE, 0x1F, 0xFE, 0x0E, 0xFE, 0x0E},
	{0x01, 0x1F, 0x01, 0x1F, 0x01, 0x0E, 0x01, 0x0E},
	{0x1F, 0x01, 0x1F, 0x01, 0x0E, 0x01, 0x0E, 0x01},
	{0xE0, 0xFE, 0xE0, 0xFE, 0xF1, 0xFE, 0xF1, 0xFE},
	{0xFE, 0xE0, 0xFE, 0xE0, 0xFE, 0xF1, 0xFE, 0xF1},
}

// isWeakDESKey compares k with the weak keys, ignoring the parity bit of each octet.
func isWeakDESKey(k []byte) bool {
	for i := range weakDESKeys {
		if sameDESKey(k, weakDESKeys[i][:]) {
			return true
		}
	}
	return false
}

func sameDESKey(a, b []byte) bool {
	for i := 0; i < 8; i++ {
		if a[i]&0xFE != b[i]&0xFE {
			return false
		}
	}
	return true
}
