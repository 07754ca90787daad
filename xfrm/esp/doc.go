// Package esp implements the ESP packet transform of RFC 4303 for one security association:
// encapsulation (Seal) and decapsulation (Open) of the ESP header, payload, padding, trailer and
// ICV, in tunnel or transport mode, without extended sequence numbers.
//
// Algorithms: AES-CBC (RFC 3602), 3DES-CBC (RFC 2451), DES-CBC (RFC 2405) and NULL (RFC 2410)
// with HMAC-MD5-96, HMAC-SHA1-96 (RFC 2403, 2404) or HMAC-SHA-256/384/512 truncated to half
// (RFC 4868); and AES-GCM with a 16-octet ICV (RFC 4106: 8-octet explicit IV, 4-octet salt,
// AAD = SPI | sequence number).
//
// # Wire format (RFC 4303 §2)
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|               Security Parameters Index (SPI)                 |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                      Sequence Number                          |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                IV (CBC: one block, GCM: 8 octets)             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Payload Data (variable)                    |
//	+               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|               |     Padding (0-255 bytes, 1, 2, 3, ...)       |
//	+-+-+-+-+-+-+-+-+               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                               |  Pad Length   | Next Header   |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|         Integrity Check Value (ICV, variable)                 |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Inbound processing follows RFC 4303 §3.4: length and SPI first, then a cheap anti-replay
// pre-check, then the ICV (constant-time compare, or the AEAD tag), then the anti-replay window
// update (RFC 6479 ring of 64-bit blocks) only for authentic packets, then decryption and the
// padding and next-header checks. Every drop is counted by cause (xfrm.Counters) and its
// plaintext is never returned.
//
// IVs: CBC IVs are random (read from crypto/rand in batches so the hot path makes no system
// call); GCM IVs are the 64-bit sequence number, unique per key because the 32-bit counter is
// never allowed to wrap (RFC 4303 §3.3.3: the SA must be rekeyed; Seal then fails and reports a
// hard expiry).
//
// Lifetimes: byte and packet limits (xfrm.Lifetime) are counted here and reported once each
// through Options.OnExpire; a hard limit also makes the State refuse further packets. Time limits
// belong to the caller (the backend's timers).
//
// # Concurrency
//
// A State is safe for concurrent use; each call holds the State's lock for the whole packet, so
// one SA processes one packet at a time (sequence numbers and the replay window need that order
// anyway). Seal and Open allocate nothing when dst has room for the result.
package esp
