package ike

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/tunnelbox/tunnelbox/ike/ikecrypto"
)

// EventKind classifies an engine event.
type EventKind uint8

// Event kinds.
const (
	EvDebug      EventKind = iota // an informational line of `debug crypto isakmp`
	EvIPsecDebug                  // a line of `debug crypto ipsec`
	EvState                       // an ISAKMP SA or Quick Mode state change
	EvPacket                      // a message sent or received (teaching views)
	EvPhase1Up                    // ISAKMP SA established
	EvPhase1Down                  // ISAKMP SA deleted
	EvPhase2Up                    // IPsec SA pair installed
	EvPhase2Down                  // IPsec SA pair removed
	EvFailure                     // a negotiation failed; Reason says why
)

var eventKindNames = [...]string{"debug", "ipsec-debug", "state", "packet", "phase1-up", "phase1-down",
	"phase2-up", "phase2-down", "failure"}

func (k EventKind) String() string {
	if int(k) < len(eventKindNames) {
		return eventKindNames[k]
	}
	return fmt.Sprintf("EventKind(%d)", uint8(k))
}

// Reason says why a negotiation failed, in the words of the spec's failure table.
type Reason uint8

// Failure reasons.
const (
	ReasonNone               Reason = iota
	ReasonNoPSK                     // no pre-shared key for the peer
	ReasonNoPolicy                  // no ISAKMP policy matches the peer's proposal
	ReasonAuthFailed                // HASH_I / HASH_R did not verify (wrong pre-shared key)
	ReasonNoTransform               // no transform set matches the Quick Mode proposal
	ReasonPFSMismatch               // PFS required but not offered, or another group
	ReasonProxyMismatch             // the proxy identities match no crypto map ACL line
	ReasonPeerRefused               // the peer answered with an error notify
	ReasonTimeout                   // retransmissions exhausted
	ReasonMalformed                 // a message failed its sanity check
	ReasonDPDDead                   // dead peer detection declared the peer dead
	ReasonAggressiveDisabled        // aggressive mode is disabled here
	ReasonNoMap                     // no crypto map entry for the peer
	ReasonDataplane                 // the data plane refused the SAs
	ReasonDeleted                   // deleted by the peer or by `clear crypto`
	ReasonHalfOpenLimit             // too many half-open ISAKMP SAs
)

var reasonText = [...]string{
	"no error",
	"no pre-shared key for the peer",
	"no ISAKMP policy matches the peer's proposal (phase 1 SA policy not acceptable)",
	"authentication failed: the peer's hash did not verify (pre-shared keys differ?)",
	"no transform set matches the peer's proposal (phase 2 SA policy not acceptable)",
	"PFS mismatch: configure the same `set pfs` group on both ends",
	"proxy identities not supported: the crypto ACLs do not mirror each other",
	"the peer refused the proposal",
	"no answer from the peer (retransmissions exhausted)",
	"message failed its sanity check or is malformed",
	"dead peer detection: the peer stopped answering",
	"aggressive mode is disabled (crypto isakmp aggressive-mode disable)",
	"no crypto map entry for the peer",
	"the data plane refused the SAs",
	"deleted",
	"too many half-open ISAKMP SAs",
}

func (r Reason) String() string {
	if int(r) < len(reasonText) {
		return reasonText[r]
	}
	return fmt.Sprintf("Reason(%d)", uint8(r))
}

// Event is one entry of the engine's event stream.
type Event struct {
	Time   time.Time
	Kind   EventKind
	ConnID int        // ISAKMP SA conn-id (0 before keys exist)
	Peer   netip.Addr // remote gateway
	Text   string     // the IOS debug line (without timestamp), or a summary
	Reason Reason     // for EvFailure
	Detail string     // for EvFailure: what exactly differed

	// Packet is set for EvPacket: the message and its decrypted payloads, for teaching views.
	Packet *PacketTrace
}

// PacketTrace describes one ISAKMP message for the teaching views and the capture export.
type PacketTrace struct {
	Sent     bool
	Exchange string // "MM1".."MM6", "AM1".."AM3", "QM1".."QM3", "INFO"
	Local    netip.AddrPort
	Remote   netip.AddrPort
	Wire     []byte   // as on the wire (without the non-ESP marker)
	Summary  []string // decrypted payloads, one line each
	Formulas []string // hash formulas with their computed values

	// Plain is the decrypted payload chain of an encrypted message (padding included), nil
	// for a clear message or one that did not decrypt: with isakmp.Parse(Wire) and
	// (*isakmp.Message).Decrypted(Plain) a viewer gets the payloads the engine saw.
	Plain []byte
	// Keys is the ISAKMP SA's key material once it exists (from MM3/MM4 or AM2 on), for the
	// teaching views (hash formulas) and the capture export (Wireshark's
	// ikev1_decryption_table needs the initiator cookie and EncKey). It is shared, never
	// modified after creation.
	Keys *TraceKeys
}

// TraceKeys is the key material of one ISAKMP SA (RFC 2409 §5): what a learner needs to
// recompute the exchange's hashes and what Wireshark needs to decrypt it.
type TraceKeys struct {
	Hash                              ikecrypto.Hash   // the prf's hash
	Cipher                            ikecrypto.Cipher // phase-1 encryption
	SKEYID, SKEYIDd, SKEYIDa, SKEYIDe []byte
	EncKey                            []byte // Ka: the cipher key derived from SKEYID_e
}
