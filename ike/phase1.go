package ike

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/tunnelbox/tunnelbox/ike/ikecrypto"
	"github.com/tunnelbox/tunnelbox/ike/isakmp"
	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
)

type role uint8

const (
	initiator role = iota
	responder
)

func (r role) letter() string {
	if r == initiator {
		return "I"
	}
	return "R"
}

// P1State is the state of an ISAKMP SA as `show crypto isakmp sa` prints it.
type P1State uint8

// ISAKMP SA states (ios-cli.md §4.1).
const (
	MMNoState P1State = iota
	MMSASetup
	MMKeyExch
	AGNoState
	AGInitExch
	QMIdle
	MMNoStateDeleted
)

var p1StateNames = [...]string{"MM_NO_STATE", "MM_SA_SETUP", "MM_KEY_EXCH", "AG_NO_STATE", "AG_INIT_EXCH",
	"QM_IDLE", "MM_NO_STATE"}

func (s P1State) String() string { return p1StateNames[s] }

// natState is what NAT traversal found for one ISAKMP SA.
type natState struct {
	rfc, draft    bool // the peer announced RFC 3947 / a draft vendor ID
	localBehind   bool // a NAT in front of us (or ForceNATT)
	remoteBehind  bool // a NAT in front of the peer
	floated       bool // moved to port 4500
	peerHasDPD    bool
	peerUnityOrSw bool
}

func (n *natState) supported() bool { return n.rfc || n.draft }
func (n *natState) detected() bool  { return n.supported() && (n.localBehind || n.remoteBehind) }

// natdType is the NAT-D payload type of the negotiated NAT-T version.
func (n *natState) draftOnly() bool { return n.draft && !n.rfc }

// isakmpSA is one ISAKMP (phase 1) SA, from the first message to its deletion.
type isakmpSA struct {
	connID     int
	role       role
	aggressive bool
	state      P1State
	step       int // last message number handled (sent or received) of MM1..MM6 / AM1..AM3
	icky, rcky isakmp.Cookie
	local      netip.AddrPort
	remote     netip.AddrPort
	nat        natState

	offered []runningconfig.ISAKMPPolicy // initiator: what MM1/AM1 offered
	policy  runningconfig.ISAKMPPolicy   // the accepted policy
	life    time.Duration
	hash    ikecrypto.Hash
	cipher  ikecrypto.Cipher
	group   ikecrypto.Group

	saiB     []byte // body of the initiator's SA payload
	dh       *ikecrypto.PrivateKey
	gxi, gxr []byte
	ni, nr   []byte
	idiiB    []byte
	idirB    []byte
	peerID   string // the peer's ID payload body: INITIAL-CONTACT removes SAs of this identity
	psk      []byte
	keys     *ikecrypto.Phase1
	iv       []byte // current phase-1 CBC IV
	lastBlk  []byte // last CBC block of phase 1: seeds Quick Mode and Informational IVs

	rxLocal   netip.AddrPort // where the message being handled came in; adopted once it verifies
	rxRemote  netip.AddrPort
	plainOut  []byte     // payload chain of the last message encrypted (PacketTrace.Plain)
	plainIn   []byte     // payload chain of the last message decrypted
	traceKeys *TraceKeys // key material for PacketTrace, built once

	lastRecv []byte // the last phase-1 message accepted, to spot duplicates
	lastSent []byte // the last phase-1 message sent, resent on timeout or duplicate
	sentFrom netip.AddrPort
	retry    retransmitter

	created     time.Time
	upSince     time.Time
	qms         map[uint32]*quickMode
	infoMIDs    map[uint32]bool
	pending     []childRequest
	dead        bool
	expireTimer *time.Timer
	rekeyTimer  *time.Timer
	dpd         dpdState
	natTimer    *time.Timer // NAT keepalives (startNATKeepalive)
	replaced    bool        // a newer ISAKMP SA with the same peer took over (rekey)
}

func (sa *isakmpSA) established() bool { return sa.state == QMIdle && !sa.dead }

// retransmitter resends the last message of an exchange with exponential backoff.
type retransmitter struct {
	timer *time.Timer
	gen   uint64
	tries int
}

func (r *retransmitter) stop() {
	r.gen++
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	r.tries = 0
}

// armRetransmit (re)starts the retransmission of what resend sends; after MaxRetransmits the
// exchange fails with giveUp.
func (e *Engine) armRetransmit(r *retransmitter, resend func(), giveUp func()) {
	r.stop()
	gen := r.gen
	var fire func()
	interval := e.opts.Retransmit
	fire = func() {
		if r.gen != gen {
			return
		}
		if r.tries >= e.opts.MaxRetransmits {
			r.timer = nil
			giveUp()
			return
		}
		r.tries++
		resend()
		interval *= 2
		r.timer = e.after(interval, fire)
	}
	r.timer = e.after(interval, fire)
}

// sortedSAs returns the ISAKMP SAs by conn-id (deterministic iteration).
func (e *Engine) sortedSAs() []*isakmpSA { return e.sortedSAsWhere(nil) }

// sortedSAsWhere returns the ISAKMP SAs for which keep is true (all when keep is nil) by
// conn-id. Filtering before sorting matters on the per-SA paths (a new phase 1 looks for the
// few SAs it replaces): sorting every SA there made each new tunnel cost O(n log n) in the
// tunnels already up.
func (e *Engine) sortedSAsWhere(keep func(*isakmpSA) bool) []*isakmpSA {
	out := make([]*isakmpSA, 0, len(e.sas))
	for _, sa := range e.sas {
		if keep == nil || keep(sa) {
			out = append(out, sa)
		}
	}
	slices.SortFunc(out, func(a, b *isakmpSA) int {
		if a.connID != b.connID {
			return a.connID - b.connID
		}
		return bytes.Compare(a.icky[:], b.icky[:])
	})
	return out
}

// p1For returns the newest established ISAKMP SA with peer, or nil.
func (e *Engine) p1For(peer netip.Addr) *isakmpSA {
	var best *isakmpSA
	for _, sa := range e.sas {
		if sa.remote.Addr() == peer && sa.established() && !sa.replaced {
			if best == nil || sa.upSince.After(best.upSince) {
				best = sa
			}
		}
	}
	return best
}

// negotiating returns an ISAKMP SA with peer that is still in phase 1, or nil.
func (e *Engine) negotiating(peer netip.Addr) *isakmpSA {
	for _, sa := range e.sas {
		if sa.remote.Addr() == peer && !sa.established() && !sa.dead && sa.role == initiator {
			return sa
		}
	}
	return nil
}

// handlePacket is the entry point of every received datagram.
func (e *Engine) handlePacket(local, remote netip.AddrPort, data []byte) {
	m, err := isakmp.Parse(data)
	if m == nil {
		e.debugf(0, remote.Addr(), "ISAKMP: dropped datagram from %v: %v", remote, err)
		return
	}
	if err != nil {
		e.debugf(0, remote.Addr(), "%%CRYPTO-4-IKMP_BAD_MESSAGE: IKE message from %v failed its sanity check or is malformed (%v)", remote.Addr(), err)
		return
	}
	h := &m.Header
	sa := e.sas[h.ICookie]
	if sa == nil {
		if h.RCookie.IsZero() && h.MessageID == 0 && !h.Flags.Has(isakmp.FlagEncryption) &&
			(h.Exchange == isakmp.ExchangeIdentityProt || h.Exchange == isakmp.ExchangeAggressive) {
			e.newResponder(local, remote, m, data)
			return
		}
		e.debugf(0, remote.Addr(), "%%CRYPTO-4-IKMP_NO_SA: IKE message from %v has no SA and is not an initialization offer", remote.Addr())
		return
	}
	if sa.dead {
		return
	}
	// The responder cookie: learnt from the first answer, then it must match.
	if !sa.rcky.IsZero() && h.RCookie != sa.rcky {
		if !(h.RCookie.IsZero() && h.MessageID == 0 && sa.role == responder && bytes.Equal(data, sa.lastRecv)) {
			e.debugf(sa.connID, remote.Addr(), "ISAKMP:(%d): message with a wrong responder cookie dropped", sa.connID)
			return
		}
	}
	if h.MessageID == 0 && (h.Exchange == isakmp.ExchangeIdentityProt || h.Exchange == isakmp.ExchangeAggressive) {
		if bytes.Equal(data, sa.lastRecv) {
			// A retransmission of the peer's last message: answer it once with our last reply.
			if sa.lastSent != nil {
				e.debugf(sa.connID, remote.Addr(), "ISAKMP:(%d): retransmission detected, resending last reply", sa.connID)
				e.send(sa.sentFrom, remote, sa.lastSent)
			}
			return
		}
		if sa.established() {
			return
		}
		sa.rxLocal, sa.rxRemote = local, remote
		if sa.aggressive {
			e.aggressive(sa, m, data)
		} else {
			e.mainMode(sa, m, data)
		}
		return
	}
	if !sa.established() {
		e.debugf(sa.connID, remote.Addr(), "ISAKMP:(%d): %v before phase 1 completed dropped", sa.connID, h.Exchange)
		return
	}
	switch h.Exchange {
	case isakmp.ExchangeQuick:
		sa.rxLocal, sa.rxRemote = local, remote
		e.quick(sa, m, data)
	case isakmp.ExchangeInformational:
		sa.rxLocal, sa.rxRemote = local, remote
		e.informational(sa, m)
	default:
		e.debugf(sa.connID, remote.Addr(), "ISAKMP:(%d): unexpected exchange %v dropped", sa.connID, h.Exchange)
	}
}

// acceptFrom adopts the addresses of the message being handled, once it has been verified: a
// forged datagram with the right cookies cannot redirect an SA.
func (e *Engine) acceptFrom(sa *isakmpSA) {
	if sa.rxRemote.IsValid() {
		e.peerMoved(sa, sa.rxLocal, sa.rxRemote)
	}
}

// peerMoved follows the peer when NAT traversal moved it (port 4500, or a NAT's new mapping).
func (e *Engine) peerMoved(sa *isakmpSA, local, remote netip.AddrPort) {
	if local.IsValid() && local.Addr().IsValid() && !local.Addr().IsUnspecified() {
		sa.local = local
	} else if local.Port() != 0 {
		sa.local = netip.AddrPortFrom(sa.local.Addr(), local.Port())
	}
	sa.remote = remote
	if remote.Port() == PortNATT || sa.local.Port() == PortNATT {
		sa.nat.floated = true
	}
}

// newResponder creates the responder's ISAKMP SA for an MM1 or AM1, within the half-open bounds.
func (e *Engine) newResponder(local, remote netip.AddrPort, m *isakmp.Message, data []byte) {
	peer := remote.Addr()
	forPeer, total := e.halfOpen(peer)
	if forPeer >= e.opts.HalfOpenPerPeer {
		e.debugf(0, peer, "ISAKMP: half-open SA limit reached (%d for %v): MM1 from %v dropped", forPeer, peer, peer)
		e.fail(0, peer, ReasonHalfOpenLimit, fmt.Sprintf("%d half-open for the peer", forPeer))
		return
	}
	if total >= e.opts.HalfOpenTotal {
		// A flood from many addresses: the oldest half-open responder SA gives way, so that a
		// real peer's MM1 still gets its chance instead of waiting out the flood.
		if old := e.oldestHalfOpen(); old != nil {
			e.debugf(0, peer, "ISAKMP: half-open SA limit (%d) reached: dropping the oldest, from %v", total, old.remote.Addr())
			e.deleteSA(old, ReasonHalfOpenLimit, false)
		}
	}
	sa := &isakmpSA{
		role:       responder,
		aggressive: m.Header.Exchange == isakmp.ExchangeAggressive,
		icky:       m.Header.ICookie,
		rcky:       e.newCookie(),
		local:      local,
		remote:     remote,
		created:    e.opts.Now(),
		qms:        map[uint32]*quickMode{},
		infoMIDs:   map[uint32]bool{},
	}
	if sa.aggressive {
		sa.state = AGNoState
	}
	e.sas[sa.icky] = sa
	e.debugf(0, peer, "ISAKMP (0): received packet from %v dport %d sport %d Global (N) NEW SA", peer, local.Port(), remote.Port())
	// A half-open SA that never completes is reaped.
	e.after(e.opts.HalfOpenTimeout, func() {
		if !sa.established() && !sa.dead {
			e.fail(sa.connID, peer, ReasonTimeout, "phase 1 did not complete")
			e.deleteSA(sa, ReasonTimeout, false)
		}
	})
	if sa.aggressive {
		e.aggressive(sa, m, data)
	} else {
		e.mainMode(sa, m, data)
	}
}

// startPhase1 begins Main Mode (or Aggressive Mode) with peer for the pending child requests.
func (e *Engine) startPhase1(local netip.Addr, peer netip.Addr, aggressive bool, reqs []childRequest) *isakmpSA {
	pols := e.offerPolicies()
	if len(pols) == 0 {
		e.fail(0, peer, ReasonNoPolicy, "no ISAKMP policy with authentication pre-share is configured")
		return nil
	}
	psk, ok := e.cfg.PreSharedKey(peer)
	if !ok {
		e.debugf(0, peer, "ISAKMP:(0):No pre-shared key with %v!", peer)
		e.fail(0, peer, ReasonNoPSK, "crypto isakmp key ... address "+peer.String()+" is missing")
		return nil
	}
	if aggressive {
		// One KE goes in AM1, so every offered policy must share the first one's group.
		g := pols[0].Group
		pols = slices.DeleteFunc(pols, func(p runningconfig.ISAKMPPolicy) bool { return p.Group != g })
	}
	sa := &isakmpSA{
		role:       initiator,
		aggressive: aggressive,
		icky:       e.newCookie(),
		local:      netip.AddrPortFrom(local, PortIKE),
		remote:     netip.AddrPortFrom(peer, PortIKE),
		offered:    pols,
		psk:        []byte(psk),
		created:    e.opts.Now(),
		qms:        map[uint32]*quickMode{},
		infoMIDs:   map[uint32]bool{},
		pending:    reqs,
	}
	e.sas[sa.icky] = sa
	if aggressive {
		sa.state = AGNoState
		e.stateChange(sa, "IKE_READY", "IKE_I_AM1", "IKE_MESG_FROM_IPSEC, IKE_SA_REQ_AM")
		e.aggressiveStart(sa)
	} else {
		e.stateChange(sa, "IKE_READY", "IKE_I_MM1", "IKE_MESG_FROM_IPSEC, IKE_SA_REQ_MM")
		e.debugf(0, peer, "ISAKMP:(0):beginning Main Mode exchange")
		e.mainModeStart(sa)
	}
	return sa
}

// offerPolicies returns the policies an initiator offers: the pre-shared-key ones (this engine
// authenticates with pre-shared keys only), in priority order.
func (e *Engine) offerPolicies() []runningconfig.ISAKMPPolicy {
	var out []runningconfig.ISAKMPPolicy
	for _, p := range e.cfg.ISAKMPPolicies() {
		if p.Auth == runningconfig.AuthPreShare {
			out = append(out, p)
		}
	}
	return out
}

func (e *Engine) stateChange(sa *isakmpSA, from, to, input string) {
	e.debugf(sa.connID, sa.remote.Addr(), "ISAKMP:(%d):Input = %s", sa.connID, input)
	e.debugf(sa.connID, sa.remote.Addr(), "ISAKMP:(%d):Old State = %s  New State = %s ", sa.connID, from, to)
	e.emit(Event{Kind: EvState, ConnID: sa.connID, Peer: sa.remote.Addr(), Text: from + " -> " + to})
}

// ---- phase-1 proposals

// policyAttrs turns a policy into phase-1 transform attributes.
func policyAttrs(p runningconfig.ISAKMPPolicy) isakmp.IKEAttributes {
	a := isakmp.IKEAttributes{
		Hash:        hashAttr(p.Hash),
		AuthMethod:  isakmp.AuthPreSharedKey,
		Group:       isakmp.Group(p.Group),
		LifeSeconds: uint64(p.Lifetime),
	}
	switch p.Encryption {
	case runningconfig.EncrDES:
		a.Encryption = isakmp.EncryptionDES
	case runningconfig.Encr3DES:
		a.Encryption = isakmp.Encryption3DES
	case runningconfig.EncrAES:
		a.Encryption = isakmp.EncryptionAES
		a.KeyLength = uint16(p.CipherKeyBits())
	}
	if p.Auth != runningconfig.AuthPreShare {
		a.AuthMethod = isakmp.AuthRSASig
		if p.Auth == runningconfig.AuthRSAEncr {
			a.AuthMethod = isakmp.AuthRSAEnc
		}
	}
	return a
}

func hashAttr(h runningconfig.Hash) isakmp.HashAlgorithm {
	switch h {
	case runningconfig.HashMD5:
		return isakmp.HashMD5
	case runningconfig.HashSHA256:
		return isakmp.HashSHA2256
	case runningconfig.HashSHA384:
		return isakmp.HashSHA2384
	case runningconfig.HashSHA512:
		return isakmp.HashSHA2512
	}
	return isakmp.HashSHA1
}

// phase1SA builds the SA payload offering pols, one transform each, in priority order.
func phase1SA(pols []runningconfig.ISAKMPPolicy) *isakmp.SA {
	prop := &isakmp.Proposal{Number: 1, Protocol: isakmp.ProtocolISAKMP}
	for i, p := range pols {
		a := policyAttrs(p)
		prop.Transforms = append(prop.Transforms, &isakmp.Transform{Number: uint8(i + 1),
			ID: isakmp.TransformKeyIKE, Attributes: a.Attributes()})
	}
	return &isakmp.SA{DOI: isakmp.DOIIPsec, Situation: isakmp.SituationIdentityOnly, Proposals: []*isakmp.Proposal{prop}}
}

// choosePolicy is the responder's IOS policy check: its policies in priority order, each
// against every offered transform; the first match wins. The peer's lifetime must not exceed
// ours, and the SA uses the peer's (the shorter). It returns the reply SA payload.
func (e *Engine) choosePolicy(sa *isakmpSA, offer *isakmp.SA) (*isakmp.SA, bool, string) {
	if len(offer.Proposals) == 0 || offer.Proposals[0].Protocol != isakmp.ProtocolISAKMP {
		return nil, false, "no ISAKMP proposal"
	}
	prop := offer.Proposals[0]
	peer := sa.remote.Addr()
	var why []string
	for _, p := range e.cfg.ISAKMPPolicies() {
		want := policyAttrs(p)
		for _, t := range prop.Transforms {
			e.debugf(0, peer, "ISAKMP:(0):Checking ISAKMP transform %d against priority %d policy", t.Number, p.Priority)
			got, err := t.IKEAttributes()
			if err != nil {
				e.debugf(0, peer, "ISAKMP:(0):transform %d: %v", t.Number, err)
				continue
			}
			e.debugAttrs(got)
			mismatch := ""
			switch {
			case got.Encryption != want.Encryption:
				mismatch = "Encryption algorithm offered does not match policy!"
			case got.KeyLength != want.KeyLength:
				mismatch = "Proposed key length does not match policy"
			case got.Hash != want.Hash:
				mismatch = "Hash algorithm offered does not match policy!"
			case got.AuthMethod != want.AuthMethod:
				mismatch = "Authentication method offered does not match policy!"
			case got.Group != want.Group:
				mismatch = "Diffie-Hellman group offered does not match policy!"
			case got.LifeSeconds > uint64(p.Lifetime):
				mismatch = "Lifetime offered exceeds policy!"
			}
			if mismatch != "" {
				e.debugf(0, peer, "ISAKMP:(0):%s", mismatch)
				e.debugf(0, peer, "ISAKMP:(0):atts are not acceptable. Next payload is 0")
				why = append(why, fmt.Sprintf("transform %d vs policy %d: %s", t.Number, p.Priority, mismatch))
				continue
			}
			if p.Auth == runningconfig.AuthPreShare {
				psk, ok := e.cfg.PreSharedKey(peer)
				if !ok {
					e.debugf(0, peer, "ISAKMP:(0):No pre-shared key with %v!", peer)
					return nil, false, "no pre-shared key for " + peer.String()
				}
				sa.psk = []byte(psk)
			}
			e.debugf(0, peer, "ISAKMP:(0):atts are acceptable. Next payload is 0")
			sa.policy = p
			life := got.LifeSeconds
			if life == 0 {
				life = uint64(p.Lifetime)
			}
			sa.life = e.secs(life)
			if err := sa.setSuite(p); err != nil {
				return nil, false, err.Error()
			}
			reply := &isakmp.SA{DOI: isakmp.DOIIPsec, Situation: isakmp.SituationIdentityOnly,
				Proposals: []*isakmp.Proposal{{Number: prop.Number, Protocol: isakmp.ProtocolISAKMP,
					Transforms: []*isakmp.Transform{t}}}}
			return reply, true, ""
		}
	}
	detail := "none of the peer's transforms matches a policy"
	if len(why) > 0 {
		detail = why[0]
		if len(why) > 1 {
			detail += fmt.Sprintf(" (and %d more)", len(why)-1)
		}
	}
	return nil, false, detail
}

// setSuite records the negotiated algorithms of policy p.
func (sa *isakmpSA) setSuite(p runningconfig.ISAKMPPolicy) error {
	sa.policy = p
	var err error
	switch p.Encryption {
	case runningconfig.EncrDES:
		sa.cipher = ikecrypto.CipherDES
	case runningconfig.Encr3DES:
		sa.cipher = ikecrypto.Cipher3DES
	default:
		sa.cipher, err = ikecrypto.CipherFromAttrs(ikecrypto.EncrAttrAES, uint16(p.CipherKeyBits()))
		if err != nil {
			return err
		}
	}
	sa.hash = ikecrypto.Hash(hashAttr(p.Hash))
	sa.group = ikecrypto.Group(p.Group)
	if !sa.group.Valid() {
		return fmt.Errorf("ike: group %d not supported", p.Group)
	}
	return nil
}

// acceptChosen is the initiator's check of the responder's SA payload: one transform that is one
// of those offered.
func (e *Engine) acceptChosen(sa *isakmpSA, reply *isakmp.SA) error {
	if len(reply.Proposals) != 1 || len(reply.Proposals[0].Transforms) != 1 {
		return fmt.Errorf("the responder must choose exactly one transform")
	}
	got, err := reply.Proposals[0].Transforms[0].IKEAttributes()
	if err != nil {
		return err
	}
	for _, p := range sa.offered {
		want := policyAttrs(p)
		if got.Encryption == want.Encryption && got.KeyLength == want.KeyLength && got.Hash == want.Hash &&
			got.AuthMethod == want.AuthMethod && got.Group == want.Group {
			sa.life = e.secs(uint64(p.Lifetime))
			if got.LifeSeconds != 0 && got.LifeSeconds < uint64(p.Lifetime) {
				sa.life = e.secs(got.LifeSeconds)
			}
			return sa.setSuite(p)
		}
	}
	return fmt.Errorf("the responder chose a transform that was not offered")
}

func (e *Engine) debugAttrs(a isakmp.IKEAttributes) {
	if len(e.subs) == 0 || e.quietISAKMP.Load() {
		return
	}
	lines := []string{"encryption " + a.Encryption.String()}
	if a.KeyLength != 0 {
		lines = append(lines, fmt.Sprintf("keylength of %d", a.KeyLength))
	}
	lines = append(lines, "hash "+a.Hash.String(), fmt.Sprintf("default group %d", a.Group), "auth "+a.AuthMethod.String())
	if a.LifeSeconds != 0 {
		lines = append(lines, "life type in seconds", fmt.Sprintf("life duration (basic) of %d", a.LifeSeconds))
	}
	for _, l := range lines {
		e.debugf(0, netip.Addr{}, "ISAKMP:      %s", l)
	}
}

// ---- keys and encryption

// deriveKeys computes g^xy and the SKEYID family once both KE values and nonces are known.
func (e *Engine) deriveKeys(sa *isakmpSA) error {
	peerPub := sa.gxr
	if sa.role == responder {
		peerPub = sa.gxi
	}
	gxy, err := sa.dh.SharedSecret(peerPub)
	if err != nil {
		return err
	}
	skeyid := ikecrypto.SKEYIDPreShared(sa.hash, sa.psk, sa.ni, sa.nr)
	keys, err := ikecrypto.NewPhase1(sa.hash, sa.cipher, skeyid, gxy, sa.icky, sa.rcky)
	if err != nil {
		return err
	}
	sa.keys = keys
	sa.iv = keys.Phase1IV(sa.gxi, sa.gxr)
	e.connID++
	sa.connID = e.connID
	return nil
}

// encrypt builds an encrypted message with payloads ps, using iv, and returns it with the IV
// for the next message (its last ciphertext block).
func (sa *isakmpSA) encrypt(h isakmp.HeaderFields, ps []isakmp.Payload, iv []byte) ([]byte, []byte) {
	plain := isakmp.AppendPayloads(nil, ps)
	ct, next, err := sa.keys.Encrypt(iv, plain, ikecrypto.PadZero)
	if err != nil {
		panic("ike: encrypt: " + err.Error()) // only with a wrong IV length: a bug
	}
	sa.plainOut = plain
	h.Flags |= isakmp.FlagEncryption
	h.NextPayload = ps[0].Type()
	m := &isakmp.Message{Header: h, Ciphertext: ct}
	return m.AppendMarshal(nil), next
}

// decrypt decrypts m's body with iv and decodes its payloads; it returns the IV that follows.
func (sa *isakmpSA) decrypt(m *isakmp.Message, iv []byte) ([]byte, error) {
	sa.plainIn = nil
	if !m.Header.Flags.Has(isakmp.FlagEncryption) {
		return nil, fmt.Errorf("message is not encrypted")
	}
	pt, next, err := sa.keys.Decrypt(iv, m.Ciphertext)
	if err != nil {
		return nil, err
	}
	if err := m.Decrypted(pt); err != nil {
		return nil, err
	}
	sa.plainIn = pt
	return next, nil
}

func (sa *isakmpSA) header(ex isakmp.ExchangeType, mid uint32) isakmp.HeaderFields {
	return isakmp.HeaderFields{ICookie: sa.icky, RCookie: sa.rcky, Exchange: ex, MessageID: mid}
}

// sendP1 sends a phase-1 message, remembers it for retransmission and arms the timer (unless
// it is the last message of the exchange, which is only resent when the peer repeats itself).
func (e *Engine) sendP1(sa *isakmpSA, msg []byte, name string, retransmit bool) {
	sa.lastSent = msg
	sa.sentFrom = sa.local
	e.debugf(sa.connID, sa.remote.Addr(), "ISAKMP:(%d): sending packet to %v my_port %d peer_port %d (%s) %-13s",
		sa.connID, sa.remote.Addr(), sa.local.Port(), sa.remote.Port(), sa.role.letter(), sa.state)
	e.trace(sa, true, name, msg)
	e.send(sa.local, sa.remote, msg)
	sa.retry.stop()
	if retransmit {
		e.armRetransmit(&sa.retry, func() {
			e.debugf(sa.connID, sa.remote.Addr(), "ISAKMP:(%d): retransmitting phase 1 %v...", sa.connID, sa.state)
			e.send(sa.sentFrom, sa.remote, sa.lastSent)
		}, func() {
			e.fail(sa.connID, sa.remote.Addr(), ReasonTimeout, "no answer to "+name)
			e.deleteSA(sa, ReasonTimeout, false)
		})
	}
}

// received notes an accepted phase-1 message (for duplicate detection) and stops retransmission.
func (e *Engine) received(sa *isakmpSA, data []byte, name string) {
	e.acceptFrom(sa)
	sa.lastRecv = data
	sa.retry.stop()
	e.debugf(sa.connID, sa.remote.Addr(), "ISAKMP (%d): received packet from %v dport %d sport %d Global (%s) %-13s",
		sa.connID, sa.remote.Addr(), sa.local.Port(), sa.remote.Port(), sa.role.letter(), sa.state)
	e.trace(sa, false, name, data)
}

func (e *Engine) trace(sa *isakmpSA, sent bool, name string, wire []byte) {
	pt := &PacketTrace{Sent: sent, Exchange: name, Local: sa.local, Remote: sa.remote,
		Wire: append([]byte(nil), wire...)}
	if len(wire) > 19 && isakmp.Flags(wire[19]).Has(isakmp.FlagEncryption) {
		plain := sa.plainIn
		if sent {
			plain = sa.plainOut
		}
		pt.Plain = append([]byte(nil), plain...)
	}
	if sa.keys != nil {
		if sa.traceKeys == nil {
			k := sa.keys
			sa.traceKeys = &TraceKeys{Hash: k.Hash, Cipher: k.Cipher, SKEYID: k.SKEYID, SKEYIDd: k.SKEYIDd,
				SKEYIDa: k.SKEYIDa, SKEYIDe: k.SKEYIDe, EncKey: k.EncKey}
		}
		pt.Keys = sa.traceKeys
	}
	e.emit(Event{Kind: EvPacket, ConnID: sa.connID, Peer: sa.remote.Addr(),
		Text: fmt.Sprintf("%s %s", map[bool]string{true: "sent", false: "received"}[sent], name), Packet: pt})
}

// phase1Done finishes phase 1 on either side: lifetime timers, INITIAL-CONTACT handling done by
// the caller, then the Quick Modes that waited for it.
func (e *Engine) phase1Done(sa *isakmpSA) {
	sa.state = QMIdle
	sa.upSince = e.opts.Now()
	sa.lastBlk = sa.iv
	sa.retry.stop()
	peer := sa.remote.Addr()
	e.stateChange(sa, "IKE_P1_COMPLETE", "IKE_P1_COMPLETE", "IKE_MESG_INTERNAL, IKE_PHASE1_COMPLETE")
	e.debugf(sa.connID, peer, "ISAKMP:(%d):SA has been authenticated with %v", sa.connID, peer)
	e.emit(Event{Kind: EvPhase1Up, ConnID: sa.connID, Peer: peer,
		Text: fmt.Sprintf("ISAKMP SA with %v established (conn-id %d)", peer, sa.connID)})
	if sa.life > 0 {
		sa.expireTimer = e.after(sa.life, func() {
			if !sa.dead {
				e.sendDeleteP1(sa)
				e.deleteSA(sa, ReasonDeleted, false)
			}
		})
		if sa.role == initiator {
			sa.rekeyTimer = e.after(sa.life*9/10, func() { e.rekeyPhase1(sa) })
		}
	}
	e.startDPD(sa)
	e.startNATKeepalive(sa)
	// Older ISAKMP SAs with this peer that this one replaces (phase-1 rekey) are deleted now.
	replaced := e.sortedSAsWhere(func(old *isakmpSA) bool {
		return old != sa && old.remote.Addr() == peer && old.established() && old.replaced
	})
	for _, old := range replaced {
		e.sendDeleteP1(old)
		e.deleteSA(old, ReasonDeleted, false)
	}
	reqs := sa.pending
	sa.pending = nil
	for _, r := range reqs {
		e.startQuick(sa, r)
	}
}

// rekeyPhase1 negotiates a new ISAKMP SA with the same peer before this one expires
// (make-before-break), if IPsec SAs still use the peer.
func (e *Engine) rekeyPhase1(sa *isakmpSA) {
	if sa.dead || !sa.established() || !e.peerInUse(sa.remote.Addr()) {
		return
	}
	sa.replaced = true
	e.debugf(sa.connID, sa.remote.Addr(), "ISAKMP:(%d):rekeying phase 1 SA with %v", sa.connID, sa.remote.Addr())
	if e.startPhase1(sa.local.Addr(), sa.remote.Addr(), sa.aggressive, nil) == nil {
		sa.replaced = false
	}
}

func (e *Engine) peerInUse(peer netip.Addr) bool {
	for _, c := range e.children {
		if c.Peer == peer {
			return true
		}
	}
	return false
}

// deleteSA removes an ISAKMP SA and its Quick Modes in progress; with children it also removes
// the IPsec SAs negotiated with that peer.
func (e *Engine) deleteSA(sa *isakmpSA, why Reason, children bool) {
	if sa.dead {
		return
	}
	wasUp := sa.established()
	sa.dead = true
	sa.retry.stop()
	for _, q := range sa.qms {
		if q.state == qmDone {
			q.retry.stop()
		} else {
			e.dropQM(sa, q) // an early inbound SA of an unfinished Quick Mode goes too
		}
	}
	for _, t := range []*time.Timer{sa.expireTimer, sa.rekeyTimer, sa.dpd.timer, sa.natTimer} {
		if t != nil {
			t.Stop()
		}
	}
	delete(e.sas, sa.icky)
	peer := sa.remote.Addr()
	e.debugf(sa.connID, peer, "ISAKMP:(%d):deleting SA reason \"%s\" state (%s) %-13s (peer %v)",
		sa.connID, why, sa.role.letter(), sa.state, peer)
	if wasUp {
		e.emit(Event{Kind: EvPhase1Down, ConnID: sa.connID, Peer: peer, Reason: why,
			Text: fmt.Sprintf("ISAKMP SA with %v deleted (conn-id %d): %s", peer, sa.connID, why)})
	}
	if children {
		for _, c := range slices.Clone(e.children) {
			if c.Peer == peer {
				e.removeChild(c, why, false)
			}
		}
	}
	sa.pending = nil // requests that waited for this phase 1 go with it; traffic asks again
}
