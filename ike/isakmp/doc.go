// Package isakmp implements the IKEv1 wire format: the ISAKMP header and payloads of RFC 2408,
// in the IPsec DOI of RFC 2407, as IKE uses them (RFC 2409), with NAT traversal (RFC 3947 and
// draft-ietf-ipsec-nat-t-ike-02/03), Dead Peer Detection (RFC 3706) and the Cisco/strongSwan
// fragmentation payload. It knows nothing of keys, state or policy: package ike drives the
// exchanges, package ikecrypto decrypts and hashes.
//
// # Layout
//
//	+--------------------------+----------------------------------------------+
//	| ISAKMP header (28)       | payload chain: each payload starts with      |
//	| cookies, next payload,   | next payload (1) | reserved (1) | length (2) |
//	| version, exchange, flags,|  ... or, with the E flag, ciphertext that    |
//	| message ID, length       |  decrypts to such a chain plus padding       |
//	+--------------------------+----------------------------------------------+
//
// Header is a view over the header octets and HeaderFields its decoded form. Every payload type
// is a struct implementing Payload (SA with Proposal and Transform, KE, ID, Certificate,
// CertRequest, Hash, Signature, Nonce, Notify, Delete, VendorID, ModeCfg, NATD, NATOA, Fragment,
// and Unknown for everything else). Attributes keep their form (basic TV or variable TLV), so a
// decoded message encodes back to the same octets. IKEAttributes and IPsecAttributes are the
// typed views of phase-1 and phase-2 transform attributes.
//
// # Decoding
//
// Parse checks lengths before anything else, then header fields, then payloads, then the
// semantics of each payload body, and never panics on any input:
//
//   - the datagram must be at least 28 octets and exactly as long as the header says (at most
//     MaxMessageLen); the initiator cookie must not be zero. Failures here are the silent-drop
//     sentinels ErrTruncated, ErrTrailingData, ErrTooLarge and ErrZeroCookie: nothing about
//     such a datagram may be answered.
//   - every other failure is a *NotifyError whose Type is the notify RFC 2408 §5 names for it:
//     INVALID-MAJOR-VERSION, INVALID-MINOR-VERSION, INVALID-EXCHANGE-TYPE, INVALID-FLAGS for the
//     header; PAYLOAD-MALFORMED for a payload length below 4, beyond the message, a body too
//     short for its fixed fields, a bad attribute encoding or more than MaxPayloads payloads;
//     UNEQUAL-PAYLOAD-LENGTHS when the chain ends before the message, or a proposal or transform
//     length disagrees with its container; DOI-NOT-SUPPORTED, SITUATION-NOT-SUPPORTED,
//     INVALID-PROTOCOL-ID, INVALID-SPI, BAD-PROPOSAL-SYNTAX (counts, nesting, numbering) and
//     ATTRIBUTES-NOT-SUPPORTED (a basic-only attribute in variable form) inside an SA;
//     INVALID-ID-INFORMATION, INVALID-KEY-INFORMATION, INVALID-HASH-INFORMATION for empty or
//     mis-sized ID, KE and HASH payloads.
//   - IKEv1 has no critical bit. A payload of a type this package does not decode (reserved,
//     private, GDOI, or an IKEv2 type) is walked over by its length and kept as *Unknown;
//     Message.Unknown returns the INVALID-PAYLOAD-TYPE error the engine may send.
//
// Sending a notify is the engine's decision, not this package's: RFC 2408 §5 makes it a MAY,
// and notifies in answer to unauthenticated input reflect traffic at third parties. The
// engine sends at most what ike's robustness rules allow (see spec/ikev1.md).
//
// An encrypted message (FlagEncryption) is returned with its body in Ciphertext. The engine
// decrypts it and calls Message.Decrypted (or ParsePayloads directly), which tolerates padding
// after the chain (RFC 2409 Appendix B; strongSwan pads with zeros and no pad-length octet).
//
// Counts are bounded (MaxPayloads, MaxProposals, MaxTransforms, MaxAttributes) and nothing is
// allocated in proportion to a length field, only to octets actually present, so the memory a
// message costs is linear in its size.
//
// # Encoding
//
// AppendMarshal appends: Message.AppendMarshal the whole message, AppendPayloads a chain (each
// payload with its generic header, next-payload fields and lengths filled in), and each payload's
// AppendMarshal its body only, which is what RFC 2409 hashes as SAi_b, IDii_b, Ni_b. Payloads
// decoded from the wire also keep their exact octets (Payload.Raw, Body, Message.ChainFrom);
// HASH_I, HASH_R and HASH(1..3) must be computed over those, not over a re-encoding.
//
// # Concurrency
//
// Parse copies its input, so messages never alias a receive buffer. A Message and its payloads
// are plain values: safe for concurrent reads, unsafe for concurrent writes.
package isakmp
