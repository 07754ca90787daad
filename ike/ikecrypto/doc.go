// Package ikecrypto holds all IKEv1 cryptography of Tunnelbox: the negotiated hash and its HMAC
// prf, Diffie-Hellman over the MODP and ECP groups, the Phase 1 key schedule, the CBC encryption
// of ISAKMP messages with its IV chaining, the Quick Mode and Informational hashes, and KEYMAT
// with its split into ESP keys. Everything is built on the standard library (crypto/hmac,
// crypto/aes, crypto/des, crypto/cipher, crypto/ecdh, math/big).
//
// # Specifications
//
//   - RFC 2409 §5 (SKEYID, SKEYID_d/_a/_e, HASH_I, HASH_R), §5.5 (Quick Mode HASH(1..3), KEYMAT),
//     §5.7 (Informational HASH), Appendix B (encryption key expansion, IVs).
//   - RFC 2409 §6, RFC 3526 (MODP groups 1, 2, 5, 14, 15, 16), RFC 5114 §2.3 (group 24),
//     RFC 5903 (ECP groups 19, 20, 21: KE data is x | y, the shared secret is x).
//   - RFC 2407 §4.4.4 and §4.5, RFC 4106 §8.1 (ESP transform identifiers, key lengths, GCM salt).
//   - RFC 3947 §3.2 (NAT-D hashes).
//
// # Basics
//
// A Phase 1 exchange builds one *Phase1 from the negotiated Hash and Cipher, SKEYID (from
// SKEYIDPreShared, SKEYIDSignature or SKEYIDPublicKey) and g^xy (PrivateKey.SharedSecret). The
// Phase1 value then computes HASH_I/HASH_R, encrypts and decrypts messages, derives the IV of
// each later exchange (Phase2IV), the Quick Mode and Informational hashes and KEYMAT. An
// ESPTransform says how many KEYMAT octets an SA needs and splits them into the encryption key
// (with the GCM salt) and the integrity key, encryption key first.
//
// # Choices
//
// MODP private exponents are short: 2 × the group's security strength (NIST SP 800-57 sizes),
// e.g. 224 bits for group 14, as OpenSSL (and thus strongSwan) and IOS do; RFC 3526 §8 allows
// this. Group 24 exponents are drawn below the 256-bit subgroup order q. A peer's public value is
// rejected unless it has the exact length, 1 < y < p-1 (and y^q = 1 for group 24), or is a point
// on the curve. All DH values are fixed-length and left-padded. MODP key generation uses a
// per-group fixed-base table (built on first use) because the generator never changes; the
// shared secret uses big.Int.Exp. Neither is constant time (math/big is not); the exponents are
// ephemeral and used once.
//
// ISAKMP padding: strongSwan pads with 1..blocksize zero octets (PadZero), IOS-style peers put
// the pad count in the last octet (PadCount). Decrypt never inspects padding: the receiver walks
// the payload chain, and every HASH covers the chain only.
//
// # Caveats
//
// Byte slices passed in are never retained or modified, and returned slices are fresh. Values of
// type Phase1 (whose exported byte fields are read-only), PrivateKey and CBC are immutable after
// construction and safe for concurrent use.
// A PrivateKey should be used for one exchange only.
package ikecrypto
