// Package ike is the IKEv1 engine: Main Mode, Aggressive Mode and Quick Mode with pre-shared
// keys (RFC 2409), the IPsec DOI (RFC 2407), NAT traversal (RFC 3947, with the draft vendor IDs),
// dead peer detection (RFC 3706), Informational exchanges (notify, delete, RESPONDER-LIFETIME,
// INITIAL-CONTACT) and lifetimes with make-before-break rekey, driven by the typed running
// configuration (crypto maps bound to interfaces).
//
// # Basics
//
// An Engine negotiates with peers over a Transport (UDP ports 500 and 4500, or an in-memory
// pair in tests) and installs the resulting IPsec SAs through an Installer, the data-plane seam
// this package owns (xfrm/userspace and xfrm/kernel implement it; a nil Installer means
// negotiation only). Every failure is reported on the event stream with its reason, which feeds
// `debug crypto isakmp`, the %CRYPTO log lines and the teaching views.
//
// # Counters
//
// A data plane that counts packets per outbound policy (PolicyCounter) or unknown SPIs per peer
// (InvalidSPICounter) lets the engine report them where IOS shows them: ACLMatches maps every
// trap and SA-pair policy to the crypto ACL line it came from (`show access-lists` "(N
// matches)"), and Status carries per-flow counts ("#pkts no sa (send)") and per-peer unknown
// SPIs ("#pkts invalid sa (rcv)"). Counts of deleted policies are kept for their line and flow
// (counters.go).
//
// # Concurrency
//
// All state belongs to one goroutine (the loop started by Start). Received datagrams, timer
// expiries, configuration changes, data-plane events and queries from the shell are posted to it
// as closures; timers only post and carry a generation number so that a stale expiry is ignored.
// The exported methods are safe for concurrent use.
//
// # Layout
//
// engine.go holds the loop and the public API; phase1.go the ISAKMP SA and what Main and
// Aggressive Mode share; mainmode.go, aggressive.go, quickmode.go and informational.go one
// exchange each, with one method per (state, role); trap.go the trap policies, child.go the SA
// pairs, counters.go their counts; proposals.go turns the configuration into
// proposals and checks received ones the IOS way.
package ike
