// Package kernel is the Linux kernel IPsec data plane: it programs the kernel's XFRM states
// (SAs) and policies over netlink (github.com/vishvananda/netlink and its nl package) and turns
// the kernel's ACQUIRE and EXPIRE notifications into xfrm.Events. It implements the ike.Installer
// seam (AddSA, DelSA, AddPolicy, DelPolicy, Counters, Events, Close), like xfrm/userspace.
//
// # States
//
// An xfrm.SA becomes one ESP state (`ip xfrm state`): tunnel or transport mode, the encryption
// algorithm under its kernel name (cbc(aes), cbc(des3_ede), cbc(des), ecb(cipher_null), or the
// AEAD rfc4106(gcm(aes)) whose key is key|salt and whose ICV is 128 bits), the integrity
// algorithm as XFRMA_ALG_AUTH_TRUNC with the RFC truncation (96 bits for HMAC-MD5 and
// HMAC-SHA-1, half the hash for SHA-2, RFC 4868), UDP encapsulation (RFC 3948) when SA.Encap is
// set, soft and hard lifetimes in seconds, bytes and packets, and the anti-replay window. The
// window is always carried as XFRMA_REPLAY_ESN_VAL: the legacy u8 field of xfrm_usersa_info is
// capped at 32 packets by the kernel, and IOS uses 64.
//
// # Policies
//
// An xfrm.Policy becomes one kernel policy (out, in or fwd) with its selector, the template
// (tunnel endpoints, ESP, mode, reqid) for ActionProtect, allow for ActionBypass and block for
// ActionDiscard. Kernel priorities are PriorityBase+Priority, so that the IKE bypass policies
// the backend adds itself (priority BypassPriority, lower wins) always come first: for every
// pair of gateway addresses a protecting policy names, UDP from and to ports 500 and 4500
// between the two gateways passes in clear even when a crypto ACL covers the gateways
// themselves (transport mode, `permit ip any any`). Bypass policies are reference-counted and go
// with the last policy that needed them.
//
// # Events
//
// The backend joins the XFRMNLGRP_ACQUIRE and XFRMNLGRP_EXPIRE multicast groups on its own
// socket (the library's monitor delivers only EXPIRE). An ACQUIRE for one of this backend's
// outbound policies becomes xfrm.EventAcquire with the policy and the packet's flow; an EXPIRE
// of one of its SAs becomes EventExpireSoft or EventExpireHard with the cause inferred from the
// counters. The kernel removes a state at its hard expiry; DelSA then returns xfrm.ErrNotFound.
// The kernel checks byte and packet limits before it counts a packet (xfrm_state_check_expire
// precedes the curlft update in xfrm_output_one and xfrm_input): the packet that crosses a
// limit still passes, the next one raises the event (and, past the hard limit, is dropped), so
// an SA that goes idle just past its soft byte limit raises nothing until traffic resumes.
// Time limits run on the state's own timer, which first fires one second after the add.
//
// # Namespaces and errors
//
// Options.Netns names the network namespace whose tables the backend programs; every socket is
// opened there (netlink.NewHandleAt with the NETLINK_XFRM family only, so nfnetlink is never
// needed). The kernel's refusals are *Error values carrying the errno and the kernel's extended
// ack message, e.g. "kernel: add SA 192.0.2.2 spi 0x00001000 esp: kernel has no ESP support
// (Requested type not found)"; errors.Is matches ErrNoESP, ErrNoAlgorithm, xfrm.ErrExists and
// xfrm.ErrNotFound. Probe tells whether ESP states can be added at all (`--dataplane auto`).
//
// # Inbound ESP in UDP
//
// The kernel decapsulates ESP-in-UDP only on a UDP socket with the UDP_ENCAP option: the IKE
// engine's port 4500 socket. EnableUDPEncap sets it; IKE datagrams (with the non-ESP marker)
// still reach the socket, without the marker stripped.
//
// # Concurrency and shutdown
//
// All methods are safe for concurrent use. Close removes every state and policy the backend
// added (and nothing else), stops the event reader and closes the Events channel.
package kernel
