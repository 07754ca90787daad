package xfrm

import (
	"fmt"
	"strconv"
	"strings"
)

// EncAlg is an ESP encryption (or combined-mode AEAD) algorithm.
type EncAlg uint8

// ESP encryption algorithms (the IOS transform-set set, spec/ikev1.md "Algorithms").
const (
	EncNone     EncAlg = iota // no algorithm configured (invalid in an SA)
	EncNull                   // esp-null, RFC 2410
	EncDES                    // esp-des, RFC 2405 (56-bit DES-CBC, legacy)
	Enc3DES                   // esp-3des, RFC 2451 (3DES-EDE-CBC, legacy)
	EncAESCBC                 // esp-aes 128/192/256, RFC 3602
	EncAESGCM16               // esp-gcm 128/192/256, RFC 4106 with a 16-octet ICV
)

var encNames = [...]string{"none", "null", "des", "3des", "aes-cbc", "aes-gcm-16"}

func (a EncAlg) String() string {
	if int(a) < len(encNames) {
		return encNames[a]
	}
	return "EncAlg(" + strconv.Itoa(int(a)) + ")"
}

// AEAD reports whether the algorithm provides integrity itself (no separate AuthAlg).
func (a EncAlg) AEAD() bool { return a == EncAESGCM16 }

// KeyLens returns the acceptable encryption key lengths in octets, not counting an AEAD salt.
func (a EncAlg) KeyLens() []int {
	switch a {
	case EncNull:
		return []int{0}
	case EncDES:
		return []int{8}
	case Enc3DES:
		return []int{24}
	case EncAESCBC, EncAESGCM16:
		return []int{16, 24, 32}
	}
	return nil
}

// SaltLen is the length of the implicit nonce salt taken from KEYMAT after the key: 4 octets for
// AES-GCM (RFC 4106 §8.1), else 0.
func (a EncAlg) SaltLen() int {
	if a == EncAESGCM16 {
		return 4
	}
	return 0
}

// ICVLen is the ICV length in octets of an AEAD algorithm (16 for GCM-16), else 0.
func (a EncAlg) ICVLen() int {
	if a == EncAESGCM16 {
		return 16
	}
	return 0
}

// KernelName is the Linux crypto API name for the algorithm in an XFRM state (XFRMA_ALG_CRYPT,
// or XFRMA_ALG_AEAD for GCM whose kernel key is key|salt and whose ICV is 128 bits).
func (a EncAlg) KernelName() string {
	switch a {
	case EncNull:
		return "ecb(cipher_null)"
	case EncDES:
		return "cbc(des)"
	case Enc3DES:
		return "cbc(des3_ede)"
	case EncAESCBC:
		return "cbc(aes)"
	case EncAESGCM16:
		return "rfc4106(gcm(aes))"
	}
	return ""
}

// IKETransformID is the IPsec DOI ESP transform identifier used in a Quick Mode proposal
// (RFC 2407 §4.4.4; 12 = ESP_AES from RFC 3602, 20 = ESP_AES_GCM_16 from RFC 4106 §8.1).
func (a EncAlg) IKETransformID() uint8 {
	switch a {
	case EncNull:
		return 11
	case EncDES:
		return 2
	case Enc3DES:
		return 3
	case EncAESCBC:
		return 12
	case EncAESGCM16:
		return 20
	}
	return 0
}

// AuthAlg is an ESP integrity algorithm (HMAC with a truncated ICV).
type AuthAlg uint8

// ESP integrity algorithms.
const (
	AuthNone       AuthAlg = iota // no integrity (only valid with an AEAD, or CBC without auth)
	AuthHMACMD5                   // esp-md5-hmac, HMAC-MD5-96, RFC 2403
	AuthHMACSHA1                  // esp-sha-hmac, HMAC-SHA1-96, RFC 2404
	AuthHMACSHA256                // esp-sha256-hmac, HMAC-SHA-256-128, RFC 4868
	AuthHMACSHA384                // esp-sha384-hmac, HMAC-SHA-384-192, RFC 4868
	AuthHMACSHA512                // esp-sha512-hmac, HMAC-SHA-512-256, RFC 4868
)

var authNames = [...]string{"none", "hmac-md5-96", "hmac-sha1-96", "hmac-sha256-128",
	"hmac-sha384-192", "hmac-sha512-256"}

func (a AuthAlg) String() string {
	if int(a) < len(authNames) {
		return authNames[a]
	}
	return "AuthAlg(" + strconv.Itoa(int(a)) + ")"
}

// KeyLen is the HMAC key length in octets that IKE derives (the hash output length).
func (a AuthAlg) KeyLen() int {
	switch a {
	case AuthHMACMD5:
		return 16
	case AuthHMACSHA1:
		return 20
	case AuthHMACSHA256:
		return 32
	case AuthHMACSHA384:
		return 48
	case AuthHMACSHA512:
		return 64
	}
	return 0
}

// ICVLen is the truncated ICV length in octets: half the hash output (RFC 2403, 2404, 4868 §2.3)
// except MD5 and SHA-1, which keep 96 bits.
func (a AuthAlg) ICVLen() int {
	switch a {
	case AuthHMACMD5, AuthHMACSHA1:
		return 12
	case AuthHMACSHA256:
		return 16
	case AuthHMACSHA384:
		return 24
	case AuthHMACSHA512:
		return 32
	}
	return 0
}

// KernelName is the Linux crypto API name (XFRMA_ALG_AUTH_TRUNC, with truncation ICVLen()*8
// bits: the legacy XFRMA_ALG_AUTH would truncate SHA-2 to 96 bits, which peers reject).
func (a AuthAlg) KernelName() string {
	switch a {
	case AuthHMACMD5:
		return "hmac(md5)"
	case AuthHMACSHA1:
		return "hmac(sha1)"
	case AuthHMACSHA256:
		return "hmac(sha256)"
	case AuthHMACSHA384:
		return "hmac(sha384)"
	case AuthHMACSHA512:
		return "hmac(sha512)"
	}
	return ""
}

// IKEAuthAttr is the IPsec DOI "Authentication Algorithm" SA attribute value (RFC 2407 §4.5,
// RFC 4868 §2.4 for SHA-2: 5, 6, 7).
func (a AuthAlg) IKEAuthAttr() uint16 {
	switch a {
	case AuthHMACMD5:
		return 1
	case AuthHMACSHA1:
		return 2
	case AuthHMACSHA256:
		return 5
	case AuthHMACSHA384:
		return 6
	case AuthHMACSHA512:
		return 7
	}
	return 0
}

// Transform is one IOS transform-set keyword resolved: either an encryption transform (Enc set,
// KeyBits the default or given key size) or an integrity transform (Auth set).
type Transform struct {
	Name    string // the IOS keyword, e.g. "esp-aes"
	Enc     EncAlg
	KeyBits int // encryption key size in bits (0 for integrity transforms)
	Auth    AuthAlg
}

// transforms lists the IOS ESP transform keywords and their defaults (key size for esp-aes and
// esp-gcm is 128 unless a size follows the keyword).
var transforms = []Transform{
	{Name: "esp-aes", Enc: EncAESCBC, KeyBits: 128},
	{Name: "esp-gcm", Enc: EncAESGCM16, KeyBits: 128},
	{Name: "esp-3des", Enc: Enc3DES, KeyBits: 192},
	{Name: "esp-des", Enc: EncDES, KeyBits: 64},
	{Name: "esp-null", Enc: EncNull},
	{Name: "esp-md5-hmac", Auth: AuthHMACMD5},
	{Name: "esp-sha-hmac", Auth: AuthHMACSHA1},
	{Name: "esp-sha256-hmac", Auth: AuthHMACSHA256},
	{Name: "esp-sha384-hmac", Auth: AuthHMACSHA384},
	{Name: "esp-sha512-hmac", Auth: AuthHMACSHA512},
}

// Transforms returns the IOS ESP transform keywords in `crypto ipsec transform-set ?` order.
func Transforms() []Transform { return append([]Transform(nil), transforms...) }

// LookupTransform resolves an IOS transform keyword, optionally followed by a key size for
// esp-aes and esp-gcm ("esp-aes 256", "esp-gcm 192"). Matching is exact and case-insensitive;
// abbreviation is the parser's business.
func LookupTransform(s string) (Transform, error) {
	f := strings.Fields(strings.ToLower(s))
	if len(f) == 0 || len(f) > 2 {
		return Transform{}, fmt.Errorf("xfrm: transform %q: want a keyword and an optional key size", s)
	}
	for _, t := range transforms {
		if t.Name != f[0] {
			continue
		}
		if len(f) == 2 {
			if t.Enc != EncAESCBC && t.Enc != EncAESGCM16 {
				return Transform{}, fmt.Errorf("xfrm: transform %q takes no key size", t.Name)
			}
			bits, err := strconv.Atoi(f[1])
			if err != nil || (bits != 128 && bits != 192 && bits != 256) {
				return Transform{}, fmt.Errorf("xfrm: transform %q: key size %q is not 128, 192 or 256", t.Name, f[1])
			}
			t.KeyBits = bits
		}
		return t, nil
	}
	return Transform{}, fmt.Errorf("xfrm: unknown transform %q", f[0])
}
