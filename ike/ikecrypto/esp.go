package ikecrypto

import "fmt"

// ESPEncr is an ESP transform identifier (RFC 2407 §4.4.4, IANA "IPsec ESP Transform
// Identifiers"): the Transform ID of an ESP proposal in Quick Mode.
type ESPEncr uint8

// ESP transforms of the IOS set.
const (
	ESPDES      ESPEncr = 2  // ESP_DES, IOS esp-des (RFC 2405)
	ESP3DES     ESPEncr = 3  // ESP_3DES, IOS esp-3des (RFC 2451)
	ESPNull     ESPEncr = 11 // ESP_NULL, IOS esp-null (RFC 2410)
	ESPAES      ESPEncr = 12 // ESP_AES (AES-CBC), IOS esp-aes [128|192|256] (RFC 3602)
	ESPAESGCM16 ESPEncr = 20 // ESP_AES-GCM with a 16-octet ICV, IOS esp-gcm [128|192|256] (RFC 4106)
)

// String returns the IOS transform keyword.
func (e ESPEncr) String() string {
	switch e {
	case ESPDES:
		return "esp-des"
	case ESP3DES:
		return "esp-3des"
	case ESPNull:
		return "esp-null"
	case ESPAES:
		return "esp-aes"
	case ESPAESGCM16:
		return "esp-gcm"
	}
	return fmt.Sprintf("esp-transform(%d)", uint8(e))
}

// ParseESPEncr maps an IOS transform keyword to its ESPEncr.
func ParseESPEncr(name string) (ESPEncr, error) {
	for _, e := range []ESPEncr{ESPDES, ESP3DES, ESPNull, ESPAES, ESPAESGCM16} {
		if e.String() == name {
			return e, nil
		}
	}
	return 0, fmt.Errorf("%w: %q", ErrInvalidTransform, name)
}

// HasKeyLength reports whether the transform takes a Key Length attribute (AES-CBC, AES-GCM).
func (e ESPEncr) HasKeyLength() bool { return e == ESPAES || e == ESPAESGCM16 }

// IsAEAD reports whether the transform is a combined-mode cipher (no separate integrity).
func (e ESPEncr) IsAEAD() bool { return e == ESPAESGCM16 }

// ESPAuth is the IPsec DOI Authentication Algorithm attribute (RFC 2407 §4.5; 5-7 from
// RFC 4868 numbering). Zero means no integrity algorithm.
type ESPAuth uint16

// ESP integrity algorithms of the IOS set.
const (
	AuthNone       ESPAuth = 0
	AuthHMACMD5    ESPAuth = 1 // HMAC-MD5-96 (RFC 2403), IOS esp-md5-hmac
	AuthHMACSHA1   ESPAuth = 2 // HMAC-SHA1-96 (RFC 2404), IOS esp-sha-hmac
	AuthHMACSHA256 ESPAuth = 5 // HMAC-SHA-256-128 (RFC 4868), IOS esp-sha256-hmac
	AuthHMACSHA384 ESPAuth = 6 // HMAC-SHA-384-192, IOS esp-sha384-hmac
	AuthHMACSHA512 ESPAuth = 7 // HMAC-SHA-512-256, IOS esp-sha512-hmac
)

// String returns the IOS transform keyword ("" for AuthNone).
func (a ESPAuth) String() string {
	switch a {
	case AuthNone:
		return ""
	case AuthHMACMD5:
		return "esp-md5-hmac"
	case AuthHMACSHA1:
		return "esp-sha-hmac"
	case AuthHMACSHA256:
		return "esp-sha256-hmac"
	case AuthHMACSHA384:
		return "esp-sha384-hmac"
	case AuthHMACSHA512:
		return "esp-sha512-hmac"
	}
	return fmt.Sprintf("esp-auth(%d)", uint16(a))
}

// ParseESPAuth maps an IOS transform keyword to its ESPAuth.
func ParseESPAuth(name string) (ESPAuth, error) {
	for _, a := range []ESPAuth{AuthHMACMD5, AuthHMACSHA1, AuthHMACSHA256, AuthHMACSHA384, AuthHMACSHA512} {
		if a.String() == name {
			return a, nil
		}
	}
	return 0, fmt.Errorf("%w: %q", ErrInvalidTransform, name)
}

// Hash returns the hash under the HMAC (0 for AuthNone or an unknown value).
func (a ESPAuth) Hash() Hash {
	switch a {
	case AuthHMACMD5:
		return HashMD5
	case AuthHMACSHA1:
		return HashSHA1
	case AuthHMACSHA256:
		return HashSHA256
	case AuthHMACSHA384:
		return HashSHA384
	case AuthHMACSHA512:
		return HashSHA512
	}
	return 0
}

// KeySize returns the integrity key length in octets: the hash's output length (RFC 2403,
// 2404, 4868 §2.1.1).
func (a ESPAuth) KeySize() int { return a.Hash().Size() }

// ICVSize returns the truncated ICV length in octets: 12 for MD5 and SHA-1, half the digest
// for SHA-2 (RFC 4868 §2.3).
func (a ESPAuth) ICVSize() int {
	switch a {
	case AuthHMACMD5, AuthHMACSHA1:
		return 12
	}
	return a.Hash().Size() / 2
}

// ESPTransform is one negotiated ESP transform: cipher, its key length, integrity algorithm.
type ESPTransform struct {
	Encr    ESPEncr
	KeyBits int     // 128, 192 or 256 for ESPAES and ESPAESGCM16; 0 otherwise
	Auth    ESPAuth // AuthNone for ESPAESGCM16; required with ESPNull
}

// GCMSaltSize is the salt appended to the AES-GCM key in KEYMAT (RFC 4106 §8.1).
const GCMSaltSize = 4

// Validate checks that the transform can be keyed: a known cipher with a valid key length,
// integrity with every non-AEAD cipher except that DES/3DES/AES may go without (RFC 4303
// §3.2 allows confidentiality-only ESP; IOS accepts it), none with AES-GCM, not NULL without
// integrity.
func (t ESPTransform) Validate() error {
	switch t.Encr {
	case ESPDES, ESP3DES, ESPNull:
		if t.KeyBits != 0 {
			return fmt.Errorf("%w: %v has a fixed key length", ErrInvalidTransform, t.Encr)
		}
	case ESPAES, ESPAESGCM16:
		if t.KeyBits != 128 && t.KeyBits != 192 && t.KeyBits != 256 {
			return fmt.Errorf("%w: %v key length %d", ErrInvalidTransform, t.Encr, t.KeyBits)
		}
	default:
		return fmt.Errorf("%w: transform %d", ErrInvalidTransform, uint8(t.Encr))
	}
	if t.Auth != AuthNone && t.Auth.Hash() == 0 {
		return fmt.Errorf("%w: authentication algorithm %d", ErrInvalidTransform, uint16(t.Auth))
	}
	if t.Encr.IsAEAD() && t.Auth != AuthNone {
		return fmt.Errorf("%w: %v takes no integrity algorithm", ErrInvalidTransform, t.Encr)
	}
	if t.Encr == ESPNull && t.Auth == AuthNone {
		return fmt.Errorf("%w: esp-null without integrity", ErrInvalidTransform)
	}
	return nil
}

// EncKeySize returns the encryption key length in octets, including the 4-octet salt for
// AES-GCM (RFC 4106 §8.1), 0 for NULL.
func (t ESPTransform) EncKeySize() int {
	switch t.Encr {
	case ESPDES:
		return 8
	case ESP3DES:
		return 24
	case ESPAES:
		return t.KeyBits / 8
	case ESPAESGCM16:
		return t.KeyBits/8 + GCMSaltSize
	}
	return 0
}

// AuthKeySize returns the integrity key length in octets (0 without integrity).
func (t ESPTransform) AuthKeySize() int { return t.Auth.KeySize() }

// KeymatLen returns how many KEYMAT octets one SA of this transform needs.
func (t ESPTransform) KeymatLen() int { return t.EncKeySize() + t.AuthKeySize() }

// ICVSize returns the ICV length in octets: 16 for AES-GCM-16, else the integrity algorithm's.
func (t ESPTransform) ICVSize() int {
	if t.Encr == ESPAESGCM16 {
		return 16
	}
	if t.Auth == AuthNone {
		return 0
	}
	return t.Auth.ICVSize()
}

// ESPKeys are the keys of one ESP SA.
type ESPKeys struct {
	// Enc is the encryption key; for AES-GCM the key followed by the 4-octet salt (as the
	// Linux rfc4106(gcm(aes)) algorithm takes it); empty for NULL.
	Enc []byte
	// Auth is the integrity key; empty without integrity.
	Auth []byte
}

// Split divides KEYMAT (exactly KeymatLen octets) into the encryption key, taken first, and
// the integrity key (the order strongSwan, IOS and RFC 7296 §2.17 use; RFC 2409 leaves it
// implicit).
func (t ESPTransform) Split(keymat []byte) (ESPKeys, error) {
	if err := t.Validate(); err != nil {
		return ESPKeys{}, err
	}
	if len(keymat) != t.KeymatLen() {
		return ESPKeys{}, fmt.Errorf("%w: %d octets, %v needs %d", ErrKeymatLength, len(keymat), t.Encr, t.KeymatLen())
	}
	e := t.EncKeySize()
	return ESPKeys{
		Enc:  append([]byte(nil), keymat[:e]...),
		Auth: append([]byte(nil), keymat[e:]...),
	}, nil
}

// ESPKeymat derives and splits the keys of one ESP SA: Keymat for t.KeymatLen octets with
// protocol ESP, then Split. spi is the SPI of that SA (chosen by its receiver).
func (p *Phase1) ESPKeymat(t ESPTransform, gqmxy, spi, niB, nrB []byte) (ESPKeys, error) {
	if err := t.Validate(); err != nil {
		return ESPKeys{}, err
	}
	km, err := p.Keymat(t.KeymatLen(), gqmxy, ProtoESP, spi, niB, nrB)
	if err != nil {
		return ESPKeys{}, err
	}
	return t.Split(km)
}
