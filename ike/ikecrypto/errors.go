package ikecrypto

import "errors"

var (
	// ErrUnsupportedHash is returned for a hash algorithm this package does not implement.
	ErrUnsupportedHash = errors.New("ikecrypto: unsupported hash algorithm")
	// ErrUnsupportedCipher is returned for an IKE encryption algorithm or key length this
	// package does not implement.
	ErrUnsupportedCipher = errors.New("ikecrypto: unsupported encryption algorithm")
	// ErrUnsupportedGroup is returned for a Diffie-Hellman group this package does not implement.
	ErrUnsupportedGroup = errors.New("ikecrypto: unsupported Diffie-Hellman group")
	// ErrInvalidPublicKey is returned when a peer's KE data has the wrong length, is out of
	// range, is not in the prime-order subgroup, or is not a point on the curve. The engine
	// answers it with INVALID-KEY-INFORMATION.
	ErrInvalidPublicKey = errors.New("ikecrypto: invalid Diffie-Hellman public value")
	// ErrInvalidPrivateKey is returned by Group.NewPrivateKey for an out-of-range exponent or scalar.
	ErrInvalidPrivateKey = errors.New("ikecrypto: invalid Diffie-Hellman private value")
	// ErrKeySize is returned when a cipher key has the wrong length.
	ErrKeySize = errors.New("ikecrypto: wrong key length")
	// ErrWeakKey is returned for a DES weak or semi-weak key, or a 3DES key whose parts repeat.
	ErrWeakKey = errors.New("ikecrypto: weak DES key")
	// ErrNotKeyed is returned by Phase1.Encrypt and Decrypt on a Phase1 not made by NewPhase1.
	ErrNotKeyed = errors.New("ikecrypto: ISAKMP SA has no encryption key")
	// ErrIVSize is returned when an IV is not one cipher block long.
	ErrIVSize = errors.New("ikecrypto: IV length is not the cipher block size")
	// ErrCiphertextSize is returned when a ciphertext is empty or not a multiple of the block size.
	ErrCiphertextSize = errors.New("ikecrypto: ciphertext length is not a positive multiple of the block size")
	// ErrSPISize is returned when a KEYMAT SPI is not 4 octets.
	ErrSPISize = errors.New("ikecrypto: SPI must be 4 octets")
	// ErrKeymatLength is returned for a negative KEYMAT length or one the key split does not match.
	ErrKeymatLength = errors.New("ikecrypto: wrong KEYMAT length")
	// ErrInvalidTransform is returned for an ESP transform that cannot be keyed (unknown
	// algorithm, bad key size, or integrity with a combined-mode cipher).
	ErrInvalidTransform = errors.New("ikecrypto: invalid ESP transform")
)
