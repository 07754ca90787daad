// Package xfrm holds the plain data types that cross the seam between the IKE engine and the
// IPsec data planes: security associations (SA), security policies (Policy), per-SA counters
// (Counters) and data-plane events (Event: acquire, soft and hard expiry).
//
// The seam itself, the ike.Installer interface, is owned by package ike (docs/internal-api.md).
// This package imports nothing of ike; its backends are xfrm/userspace (a TUN device plus ESP in
// UDP, RFC 4303 and RFC 3948, built on xfrm/esp) and xfrm/kernel (netlink XFRM).
//
// # Algorithms
//
// ESP algorithms are named twice: by their IOS transform-set keyword (esp-aes, esp-gcm,
// esp-sha-hmac, ...; see LookupTransform) and by the Linux kernel's crypto API name (cbc(aes),
// rfc4106(gcm(aes)), hmac(sha1) with a 96-bit ICV, ...; see EncAlg.KernelName and
// AuthAlg.KernelName), so the engine speaks IOS and the kernel backend speaks Linux.
//
// # NAT traversal
//
// UDP port 4500 carries both IKE (behind a four-octet zero non-ESP marker) and ESP (RFC 3948).
// The IKE engine owns that socket; Classify4500 is the one demultiplexer both sides use.
//
// # Concurrency
//
// The types here are plain values. An SA or Policy handed to a backend is copied by it: the
// caller may reuse or change its own value afterwards, but must not mutate the key slices
// while the call is running.
package xfrm
