package runningconfig

import (
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/scrypt"
)

// IOS credential formats (see ../shared spec/ecosystem.md B5):
//
//	type 0  clear text as typed; never stored for a secret (it is hashed with DefaultSecretType)
//	type 4  SHA-256, unsalted, Cisco base64: accepted pre-hashed, never generated (broken)
//	type 5  md5crypt "$1$<salt up to 8>$<22>", 1000 rounds
//	type 7  reversible XOR ("Vigenere") encoding of a `password`, two decimal digits + hex
//	type 8  PBKDF2-HMAC-SHA256, 20000 iterations, "$8$<14-char salt>$<43>"
//	type 9  scrypt N=16384 r=1 p=1, "$9$<14-char salt>$<43>"
//
// The salt of types 8 and 9 is 10 random bytes in Cisco base64 (14 characters) and is fed to
// the KDF as those 14 ASCII characters, not decoded.

// Secret types of `enable secret` / `username ... secret`.
const (
	SecretSHA256 = 4 // broken; accepted pre-hashed only
	SecretMD5    = 5
	SecretPBKDF2 = 8
	SecretScrypt = 9

	// DefaultSecretType is what a secret typed in clear is hashed with.
	DefaultSecretType = SecretScrypt
)

// Parameters of the type 8 and type 9 hashes.
const (
	type8Iterations        = 20000
	type9N, type9R, type9P = 16384, 1, 1
	ciscoSaltLen           = 14 // 10 random bytes in Cisco base64
	ciscoDigestLen         = 43 // 32 bytes in Cisco base64, no padding
)

const cisco64Alphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// cisco64 is standard base64 over Cisco's alphabet (types 4, 8, 9), unpadded.
var cisco64 = base64.NewEncoding(cisco64Alphabet).WithPadding(base64.NoPadding)

// Secret is a one-way hashed credential with its IOS type. The zero Secret means "not set".
type Secret struct {
	Type int    // SecretSHA256, SecretMD5, SecretPBKDF2 or SecretScrypt
	Hash string // the text after the type in the configuration ("$9$...")
}

// IsZero reports whether no secret is set.
func (s Secret) IsZero() bool { return s.Hash == "" }

// String is the configuration form "<type> <hash>".
func (s Secret) String() string { return strconv.Itoa(s.Type) + " " + s.Hash }

// HashSecret hashes a clear-text secret with a fresh random salt. typ is SecretMD5,
// SecretPBKDF2 or SecretScrypt; type 4 is never generated.
func HashSecret(plain string, typ int) (Secret, error) {
	var salt string
	switch typ {
	case SecretMD5:
		salt = randomCisco64(3)[:4] // IOS uses 4 salt characters for type 5
	case SecretPBKDF2, SecretScrypt:
		salt = randomCisco64(10)
	default:
		return Secret{}, fmt.Errorf("%w: cannot generate a type %d secret", ErrUnsupportedSecretType, typ)
	}
	return hashSecretSalt(plain, typ, salt)
}

// hashSecretSalt hashes plain with the given salt (deterministic; used by Verify and tests).
func hashSecretSalt(plain string, typ int, salt string) (Secret, error) {
	switch typ {
	case SecretSHA256:
		sum := sha256.Sum256([]byte(plain))
		return Secret{Type: typ, Hash: cisco64.EncodeToString(sum[:])}, nil
	case SecretMD5:
		return Secret{Type: typ, Hash: md5Crypt([]byte(plain), []byte(salt))}, nil
	case SecretPBKDF2:
		dk, err := pbkdf2.Key(sha256.New, plain, []byte(salt), type8Iterations, sha256.Size)
		if err != nil {
			return Secret{}, fmt.Errorf("running-config: type 8: %w", err)
		}
		return Secret{Type: typ, Hash: "$8$" + salt + "$" + cisco64.EncodeToString(dk)}, nil
	case SecretScrypt:
		dk, err := scrypt.Key([]byte(plain), []byte(salt), type9N, type9R, type9P, 32)
		if err != nil {
			return Secret{}, fmt.Errorf("running-config: type 9: %w", err)
		}
		return Secret{Type: typ, Hash: "$9$" + salt + "$" + cisco64.EncodeToString(dk)}, nil
	}
	return Secret{}, fmt.Errorf("%w: type %d", ErrUnsupportedSecretType, typ)
}

// NewSecret builds a secret from what was typed after `secret`: type 0 (clear text) is hashed
// with DefaultSecretType; types 4, 5, 8 and 9 must be well-formed hashes and are kept as given.
func NewSecret(typ int, text string) (Secret, error) {
	if typ == 0 {
		return HashSecret(text, DefaultSecretType)
	}
	s := Secret{Type: typ, Hash: text}
	if err := s.check(); err != nil {
		return Secret{}, err
	}
	return s, nil
}

// check validates the shape of a hashed secret.
func (s Secret) check() error {
	bad := func(why string) error {
		return fmt.Errorf("%w: type %d %s", ErrBadSecret, s.Type, why)
	}
	switch s.Type {
	case SecretSHA256:
		if len(s.Hash) != ciscoDigestLen || !isCisco64(s.Hash) {
			return bad("must be 43 base64 characters")
		}
	case SecretMD5:
		salt, digest, ok := splitCrypt(s.Hash, "$1$")
		if !ok || len(salt) > 8 || len(digest) != 22 || !isCisco64(digest) || strings.ContainsAny(salt, "$ ") {
			return bad("must be $1$<salt>$<22 characters>")
		}
	case SecretPBKDF2, SecretScrypt:
		salt, digest, ok := splitCrypt(s.Hash, fmt.Sprintf("$%d$", s.Type))
		if !ok || len(salt) != ciscoSaltLen || len(digest) != ciscoDigestLen || !isCisco64(salt) || !isCisco64(digest) {
			return bad("must be $" + strconv.Itoa(s.Type) + "$<14 characters>$<43 characters>")
		}
	default:
		return fmt.Errorf("%w: type %d", ErrUnsupportedSecretType, s.Type)
	}
	return nil
}

// Verify reports whether plain matches s. A malformed or zero secret never matches. The final
// comparison is constant-time.
func Verify(s Secret, plain string) bool {
	if s.IsZero() || s.check() != nil {
		return false
	}
	var salt string
	switch s.Type {
	case SecretMD5:
		salt, _, _ = splitCrypt(s.Hash, "$1$")
	case SecretPBKDF2, SecretScrypt:
		salt, _, _ = splitCrypt(s.Hash, fmt.Sprintf("$%d$", s.Type))
	}
	got, err := hashSecretSalt(plain, s.Type, salt)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(got.Hash), []byte(s.Hash)) == 1
}

// splitCrypt splits "<magic><salt>$<digest>".
func splitCrypt(h, magic string) (salt, digest string, ok bool) {
	rest, found := strings.CutPrefix(h, magic)
	if !found {
		return "", "", false
	}
	salt, digest, ok = strings.Cut(rest, "$")
	return salt, digest, ok
}

func isCisco64(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(cisco64Alphabet, s[i]) < 0 {
			return false
		}
	}
	return s != ""
}

// randomCisco64 returns n random bytes in Cisco base64.
func randomCisco64(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("running-config: crypto/rand failed: " + err.Error()) // crypto/rand never fails on Linux
	}
	return cisco64.EncodeToString(b)
}

// md5Crypt is the FreeBSD/Poul-Henning Kamp MD5-based crypt(3) ("$1$"), used by IOS type 5.
func md5Crypt(pw, salt []byte) string {
	const magic = "$1$"
	if i := strings.IndexByte(string(salt), '$'); i >= 0 {
		salt = salt[:i]
	}
	if len(salt) > 8 {
		salt = salt[:8]
	}
	alt := md5.New()
	alt.Write(pw)
	alt.Write(salt)
	alt.Write(pw)
	altSum := alt.Sum(nil)

	h := md5.New()
	h.Write(pw)
	h.Write([]byte(magic))
	h.Write(salt)
	for n := len(pw); n > 0; n -= 16 {
		h.Write(altSum[:min(n, 16)])
	}
	for i := len(pw); i != 0; i >>= 1 {
		if i&1 != 0 {
			h.Write([]byte{0})
		} else {
			h.Write(pw[:1])
		}
	}
	final := h.Sum(nil)
	for i := 0; i < 1000; i++ {
		r := md5.New()
		if i&1 != 0 {
			r.Write(pw)
		} else {
			r.Write(final)
		}
		if i%3 != 0 {
			r.Write(salt)
		}
		if i%7 != 0 {
			r.Write(pw)
		}
		if i&1 != 0 {
			r.Write(final)
		} else {
			r.Write(pw)
		}
		final = r.Sum(final[:0])
	}
	var out strings.Builder
	out.WriteString(magic)
	out.Write(salt)
	out.WriteByte('$')
	to64 := func(v uint32, n int) {
		for ; n > 0; n-- {
			out.WriteByte(cisco64Alphabet[v&0x3f])
			v >>= 6
		}
	}
	for _, g := range [][3]int{{0, 6, 12}, {1, 7, 13}, {2, 8, 14}, {3, 9, 15}, {4, 10, 5}} {
		to64(uint32(final[g[0]])<<16|uint32(final[g[1]])<<8|uint32(final[g[2]]), 4)
	}
	to64(uint32(final[11]), 2)
	return out.String()
}

// ---- passwords (type 0 / type 7)

// Password is a reversible `password`: Type 0 holds the clear text, Type 7 the type 7 string.
// The zero Password means "not set".
type Password struct {
	Type int // 0 or 7
	Text string
}

// IsZero reports whether no password is set.
func (p Password) IsZero() bool { return p.Text == "" }

// NewPasswordTyped builds a password from what was typed after `password`: type 0 keeps the
// clear text, type 7 must decode.
func NewPasswordTyped(typ int, text string) (Password, error) {
	switch typ {
	case 0:
		return Password{Type: 0, Text: text}, nil
	case 7:
		if _, err := DecryptType7(text); err != nil {
			return Password{}, err
		}
		return Password{Type: 7, Text: strings.ToUpper(text)}, nil
	}
	return Password{}, fmt.Errorf("%w: password type %d", ErrUnsupportedSecretType, typ)
}

// Plaintext returns the clear text of p (decoding type 7).
func (p Password) Plaintext() (string, error) {
	if p.Type == 7 {
		return DecryptType7(p.Text)
	}
	return p.Text, nil
}

// Verify reports whether plain matches p, in constant time over the clear text.
func (p Password) Verify(plain string) bool {
	if p.IsZero() {
		return false
	}
	want, err := p.Plaintext()
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(plain)) == 1
}

// type7Key is the fixed XOR key of IOS type 7 (publicly known since 1995).
const type7Key = "dsfd;kfoA,.iyewrkldJKDHSUBsgvca69834ncxv9873254k;fg87"

// EncryptType7 encodes plain as type 7 with a random key offset 0-15, as IOS does.
func EncryptType7(plain string) (Password, error) {
	var b [1]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Password{}, fmt.Errorf("running-config: type 7: %w", err)
	}
	return Password{Type: 7, Text: encryptType7(plain, int(b[0]%16))}, nil
}

// encryptType7 encodes plain starting at key offset off.
func encryptType7(plain string, off int) string {
	var out strings.Builder
	fmt.Fprintf(&out, "%02d", off)
	for i := 0; i < len(plain); i++ {
		fmt.Fprintf(&out, "%02X", plain[i]^type7Key[(off+i)%len(type7Key)])
	}
	return out.String()
}

// DecryptType7 decodes a type 7 string: two decimal digits (key offset), then hex byte pairs.
func DecryptType7(s string) (string, error) {
	if len(s) < 4 || len(s)%2 != 0 {
		return "", fmt.Errorf("%w: length %d", ErrBadType7, len(s))
	}
	off, err := strconv.Atoi(s[:2])
	if err != nil || s[0] < '0' || s[0] > '9' || off >= len(type7Key) {
		return "", fmt.Errorf("%w: bad offset %q", ErrBadType7, s[:2])
	}
	raw, err := hex.DecodeString(s[2:])
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadType7, err)
	}
	for i := range raw {
		raw[i] ^= type7Key[(off+i)%len(type7Key)]
	}
	return string(raw), nil
}
