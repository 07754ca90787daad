package ike

import (
	"bytes"
	"fmt"

	"github.com/tunnelbox/tunnelbox/ike/ikecrypto"
	"github.com/tunnelbox/tunnelbox/ike/isakmp"
)

// Main Mode with pre-shared keys (RFC 2409 §5.4, NAT-T per RFC 3947 §3):
//
//	Initiator                          Responder
//	MM1 HDR, SA, VID...          -->
//	                             <--   MM2 HDR, SA, VID...
//	MM3 HDR, KE, Ni, NAT-D, NAT-D -->
//	                             <--   MM4 HDR, KE, Nr, NAT-D, NAT-D
//	MM5 HDR*, IDii, HASH_I [, N(INITIAL-CONTACT)] --> (port 4500 when a NAT was detected)
//	                             <--   MM6 HDR*, IDir, HASH_R

const nonceLen = 32

// natTVendorIDs are the NAT-T vendor IDs an initiator announces, newest first.
var natTVendorIDs = []string{isakmp.VendorIDRFC3947, isakmp.VendorIDNATTDraft03,
	isakmp.VendorIDNATTDraft02N, isakmp.VendorIDNATTDraft02}

func vid(s string) *isakmp.VendorID { return &isakmp.VendorID{Data: []byte(s)} }

// initiatorVIDs are the vendor IDs of MM1/AM1: NAT-T (all versions) and DPD.
func initiatorVIDs() []isakmp.Payload {
	var ps []isakmp.Payload
	for _, v := range natTVendorIDs {
		ps = append(ps, vid(v))
	}
	return append(ps, vid(isakmp.VendorIDDPD))
}

// noteVendorIDs records what the peer's vendor IDs announce.
func (sa *isakmpSA) noteVendorIDs(ps []isakmp.Payload) {
	for _, p := range ps {
		v, ok := p.(*isakmp.VendorID)
		if !ok {
			continue
		}
		switch string(v.Data) {
		case isakmp.VendorIDRFC3947:
			sa.nat.rfc = true
		case isakmp.VendorIDNATTDraft02, isakmp.VendorIDNATTDraft02N, isakmp.VendorIDNATTDraft03:
			sa.nat.draft = true
		case isakmp.VendorIDDPD:
			sa.nat.peerHasDPD = true
		}
	}
}

// responderVIDs answers the peer's: the NAT-T version chosen (RFC 3947 if offered) and DPD if
// the peer announced it. Only what the peer announced is echoed, so that MM2 is never larger
// than the MM1 that caused it (no amplification before authentication).
func (sa *isakmpSA) responderVIDs() []isakmp.Payload {
	var ps []isakmp.Payload
	switch {
	case sa.nat.rfc:
		ps = append(ps, vid(isakmp.VendorIDRFC3947))
	case sa.nat.draft:
		ps = append(ps, vid(isakmp.VendorIDNATTDraft02N))
	}
	if sa.nat.peerHasDPD {
		ps = append(ps, vid(isakmp.VendorIDDPD))
	}
	return ps
}

// natdPayloads builds the two NAT-D payloads: the peer's address as we send to it, then ours
// (or, with ForceNATT, a value that cannot match, so that the peer detects a NAT in front of us).
func (e *Engine) natdPayloads(sa *isakmpSA) []isakmp.Payload {
	if !sa.nat.supported() {
		return nil
	}
	draft := sa.nat.draftOnly()
	remote := ikecrypto.NATD(sa.hash, sa.icky, sa.rcky, sa.remote.Addr(), sa.remote.Port())
	local := ikecrypto.NATD(sa.hash, sa.icky, sa.rcky, sa.local.Addr(), sa.local.Port())
	if e.opts.ForceNATT {
		local = e.random(len(local))
	}
	return []isakmp.Payload{&isakmp.NATD{Draft: draft, Hash: remote}, &isakmp.NATD{Draft: draft, Hash: local}}
}

// checkNATD applies RFC 3947 §3.2 to the peer's NAT-D payloads.
func (e *Engine) checkNATD(sa *isakmpSA, m *isakmp.Message) {
	var hashes [][]byte
	for _, p := range m.Payloads {
		if n, ok := p.(*isakmp.NATD); ok {
			hashes = append(hashes, n.Hash)
		}
	}
	if len(hashes) < 2 {
		sa.nat.rfc, sa.nat.draft = false, false // the peer does not do NAT-T after all
		return
	}
	me := ikecrypto.NATD(sa.hash, sa.icky, sa.rcky, sa.local.Addr(), sa.local.Port())
	sa.nat.localBehind = !bytes.Equal(hashes[0], me) || e.opts.ForceNATT
	them := ikecrypto.NATD(sa.hash, sa.icky, sa.rcky, sa.remote.Addr(), sa.remote.Port())
	sa.nat.remoteBehind = true
	for _, h := range hashes[1:] {
		if bytes.Equal(h, them) {
			sa.nat.remoteBehind = false
		}
	}
	if sa.nat.detected() {
		e.debugf(sa.connID, sa.remote.Addr(), "ISAKMP:(%d): NAT found, both nodes inside NAT? local %v, remote %v",
			sa.connID, sa.nat.localBehind, sa.nat.remoteBehind)
	}
}

func (e *Engine) newNonceKE(sa *isakmpSA) ([]byte, []byte, error) {
	key, err := sa.group.GenerateKey(e.opts.Rand)
	if err != nil {
		return nil, nil, err
	}
	sa.dh = key
	return e.random(nonceLen), key.PublicKey(), nil
}

func localID(sa *isakmpSA) *isakmp.ID { return isakmp.IDAddr(sa.local.Addr(), 17, PortIKE) }

// mainModeStart sends MM1.
func (e *Engine) mainModeStart(sa *isakmpSA) {
	sap := phase1SA(sa.offered)
	sa.saiB = isakmp.Body(sap)
	ps := append([]isakmp.Payload{sap}, initiatorVIDs()...)
	m := &isakmp.Message{Header: sa.header(isakmp.ExchangeIdentityProt, 0), Payloads: ps}
	sa.step = 1
	e.sendP1(sa, m.AppendMarshal(nil), "MM1", true)
}

// mainMode dispatches a received Main Mode message by role and step.
func (e *Engine) mainMode(sa *isakmpSA, m *isakmp.Message, data []byte) {
	var err error
	var reason Reason
	switch {
	case sa.role == responder && sa.step == 0:
		reason, err = e.mmR1(sa, m, data)
	case sa.role == initiator && sa.step == 1:
		reason, err = e.mmI2(sa, m, data)
	case sa.role == responder && sa.step == 2:
		reason, err = e.mmR3(sa, m, data)
	case sa.role == initiator && sa.step == 3:
		reason, err = e.mmI4(sa, m, data)
	case sa.role == responder && sa.step == 4:
		reason, err = e.mmR5(sa, m, data)
	case sa.role == initiator && sa.step == 5:
		reason, err = e.mmI6(sa, m, data)
	default:
		e.debugf(sa.connID, sa.remote.Addr(), "ISAKMP:(%d): unexpected Main Mode message at step %d dropped", sa.connID, sa.step)
		return
	}
	if err != nil {
		e.phase1Failed(sa, m, reason, err)
	}
}

// phase1Failed ends a phase-1 negotiation that cannot go on: a visible reason, a notify to the
// peer where IOS sends one, and no state left behind.
func (e *Engine) phase1Failed(sa *isakmpSA, m *isakmp.Message, reason Reason, err error) {
	peer := sa.remote.Addr()
	mode := "Main"
	if sa.aggressive {
		mode = "Aggressive"
	}
	switch reason {
	case ReasonNoPolicy, ReasonNoPSK, ReasonAggressiveDisabled:
		e.debugf(sa.connID, peer, "ISAKMP:(%d): phase 1 SA policy not acceptable! (local %v remote %v)", sa.connID, sa.local.Addr(), peer)
		e.sendClearNotify(sa, isakmp.NotifyNoProposalChosen)
	case ReasonMalformed, ReasonAuthFailed:
		e.debugf(sa.connID, peer, "%%CRYPTO-4-IKMP_BAD_MESSAGE: IKE message from %v failed its sanity check or is malformed", peer)
	}
	e.debugf(sa.connID, peer, "%%CRYPTO-6-IKMP_MODE_FAILURE: Processing of %s mode failed with peer at %v", mode, peer)
	e.fail(sa.connID, peer, reason, err.Error())
	e.deleteSA(sa, reason, false)
}

// sendClearNotify sends an unprotected Informational notify (before keys exist, RFC 2408 §5).
func (e *Engine) sendClearNotify(sa *isakmpSA, t isakmp.NotifyType) {
	n := isakmp.NewISAKMPNotify(t, sa.icky, sa.rcky, nil)
	m := &isakmp.Message{Header: sa.header(isakmp.ExchangeInformational, 0), Payloads: []isakmp.Payload{n}}
	e.send(sa.local, sa.remote, m.AppendMarshal(nil))
}

// mmR1: responder receives MM1, answers MM2.
func (e *Engine) mmR1(sa *isakmpSA, m *isakmp.Message, data []byte) (Reason, error) {
	e.received(sa, data, "MM1")
	e.stateChange(sa, "IKE_READY", "IKE_R_MM1", "IKE_MESG_FROM_PEER, IKE_MM_EXCH")
	offer, ok := m.Find(isakmp.PayloadSA).(*isakmp.SA)
	if !ok {
		return ReasonMalformed, fmt.Errorf("MM1 without an SA payload")
	}
	sa.saiB = isakmp.Body(offer)
	sa.noteVendorIDs(m.Payloads)
	e.debugf(0, sa.remote.Addr(), "ISAKMP:(0): processing SA payload. message ID = 0")
	reply, reason, err := e.answerProposal(sa, offer)
	if err != nil {
		return reason, err
	}
	ps := append([]isakmp.Payload{reply}, sa.responderVIDs()...)
	out := &isakmp.Message{Header: sa.header(isakmp.ExchangeIdentityProt, 0), Payloads: ps}
	sa.state = MMSASetup
	sa.step = 2
	e.stateChange(sa, "IKE_R_MM1", "IKE_R_MM2", "IKE_MESG_INTERNAL, IKE_PROCESS_COMPLETE")
	e.sendP1(sa, out.AppendMarshal(nil), "MM2", false)
	return 0, nil
}

// chosenSA returns the SA payload of the responder's answer (MM2 or AM2), or why there is none: a
// notify that refused our offer, or a malformed answer.
func chosenSA(m *isakmp.Message, sent, got string) (*isakmp.SA, Reason, error) {
	if reply, ok := m.Find(isakmp.PayloadSA).(*isakmp.SA); ok {
		return reply, 0, nil
	}
	if n, ok := m.Find(isakmp.PayloadNotify).(*isakmp.Notify); ok {
		return nil, ReasonPeerRefused, fmt.Errorf("the peer answered %s with %v", sent, n.NotifyType)
	}
	return nil, ReasonMalformed, fmt.Errorf("%s without an SA payload", got)
}

// answerProposal is the responder's policy check of MM1/AM1 (choosePolicy) with the failure
// told apart as IOS does: no pre-shared key for the peer, or no matching policy.
func (e *Engine) answerProposal(sa *isakmpSA, offer *isakmp.SA) (*isakmp.SA, Reason, error) {
	reply, ok, why := e.choosePolicy(sa, offer)
	if ok {
		return reply, 0, nil
	}
	if _, has := e.cfg.PreSharedKey(sa.remote.Addr()); !has {
		return nil, ReasonNoPSK, fmt.Errorf("%s", why)
	}
	return nil, ReasonNoPolicy, fmt.Errorf("%s", why)
}

// mmI2: initiator receives MM2, sends MM3.
func (e *Engine) mmI2(sa *isakmpSA, m *isakmp.Message, data []byte) (Reason, error) {
	reply, reason, err := chosenSA(m, "MM1", "MM2")
	if err != nil {
		return reason, err
	}
	sa.rcky = m.Header.RCookie
	e.received(sa, data, "MM2")
	e.stateChange(sa, "IKE_I_MM1", "IKE_I_MM2", "IKE_MESG_FROM_PEER, IKE_MM_EXCH")
	if err := e.acceptChosen(sa, reply); err != nil {
		return ReasonNoPolicy, err
	}
	sa.noteVendorIDs(m.Payloads)
	ni, gxi, err := e.newNonceKE(sa)
	if err != nil {
		return ReasonNoPolicy, err
	}
	sa.ni, sa.gxi = ni, gxi
	ps := []isakmp.Payload{&isakmp.KE{Data: gxi}, &isakmp.Nonce{Data: ni}}
	ps = append(ps, e.natdPayloads(sa)...)
	out := &isakmp.Message{Header: sa.header(isakmp.ExchangeIdentityProt, 0), Payloads: ps}
	sa.state = MMSASetup
	sa.step = 3
	e.stateChange(sa, "IKE_I_MM2", "IKE_I_MM3", "IKE_MESG_INTERNAL, IKE_PROCESS_COMPLETE")
	e.sendP1(sa, out.AppendMarshal(nil), "MM3", true)
	return 0, nil
}

// keNonce extracts and validates the peer's KE and nonce.
func keNonce(sa *isakmpSA, m *isakmp.Message) (ke, nonce []byte, err error) {
	k, ok1 := m.Find(isakmp.PayloadKE).(*isakmp.KE)
	n, ok2 := m.Find(isakmp.PayloadNonce).(*isakmp.Nonce)
	if !ok1 || !ok2 {
		return nil, nil, fmt.Errorf("KE or nonce payload missing")
	}
	if err := sa.group.ValidatePublic(k.Data); err != nil {
		return nil, nil, err
	}
	return k.Data, n.Data, nil
}

// mmR3: responder receives MM3, sends MM4 and derives the keys.
func (e *Engine) mmR3(sa *isakmpSA, m *isakmp.Message, data []byte) (Reason, error) {
	gxi, ni, err := keNonce(sa, m)
	if err != nil {
		return ReasonMalformed, err
	}
	e.received(sa, data, "MM3")
	e.stateChange(sa, "IKE_R_MM2", "IKE_R_MM3", "IKE_MESG_FROM_PEER, IKE_MM_EXCH")
	sa.gxi, sa.ni = gxi, ni
	e.checkNATD(sa, m)
	nr, gxr, err := e.newNonceKE(sa)
	if err != nil {
		return ReasonMalformed, err
	}
	sa.nr, sa.gxr = nr, gxr
	ps := []isakmp.Payload{&isakmp.KE{Data: gxr}, &isakmp.Nonce{Data: nr}}
	ps = append(ps, e.natdPayloads(sa)...)
	out := &isakmp.Message{Header: sa.header(isakmp.ExchangeIdentityProt, 0), Payloads: ps}
	if err := e.deriveKeys(sa); err != nil {
		return ReasonMalformed, err
	}
	e.debugf(sa.connID, sa.remote.Addr(), "ISAKMP:(%d):found peer pre-shared key matching %v", sa.connID, sa.remote.Addr())
	sa.state = MMKeyExch
	sa.step = 4
	e.stateChange(sa, "IKE_R_MM3", "IKE_R_MM4", "IKE_MESG_INTERNAL, IKE_PROCESS_COMPLETE")
	e.sendP1(sa, out.AppendMarshal(nil), "MM4", false)
	return 0, nil
}

// mmI4: initiator receives MM4, derives the keys, sends MM5 (floating to 4500 behind a NAT).
func (e *Engine) mmI4(sa *isakmpSA, m *isakmp.Message, data []byte) (Reason, error) {
	gxr, nr, err := keNonce(sa, m)
	if err != nil {
		return ReasonMalformed, err
	}
	e.received(sa, data, "MM4")
	e.stateChange(sa, "IKE_I_MM3", "IKE_I_MM4", "IKE_MESG_FROM_PEER, IKE_MM_EXCH")
	sa.gxr, sa.nr = gxr, nr
	e.checkNATD(sa, m)
	if err := e.deriveKeys(sa); err != nil {
		return ReasonMalformed, err
	}
	if sa.nat.detected() && !sa.nat.floated {
		sa.local = withPort(sa.local, PortNATT)
		sa.remote = withPort(sa.remote, PortNATT)
		sa.nat.floated = true
	}
	id := localID(sa)
	sa.idiiB = isakmp.Body(id)
	hashI := sa.keys.HashI(sa.gxi, sa.gxr, sa.icky, sa.rcky, sa.saiB, sa.idiiB)
	ps := []isakmp.Payload{id, &isakmp.Hash{Data: hashI}}
	if e.p1For(sa.remote.Addr()) == nil {
		ps = append(ps, isakmp.NewISAKMPNotify(isakmp.NotifyInitialContact, sa.icky, sa.rcky, nil))
	}
	msg, next := sa.encrypt(sa.header(isakmp.ExchangeIdentityProt, 0), ps, sa.iv)
	sa.iv = next
	sa.state = MMKeyExch
	sa.step = 5
	e.debugf(sa.connID, sa.remote.Addr(), "ISAKMP:(%d):SA is doing pre-shared key authentication using id type ID_IPV4_ADDR", sa.connID)
	e.stateChange(sa, "IKE_I_MM4", "IKE_I_MM5", "IKE_MESG_INTERNAL, IKE_PROCESS_COMPLETE")
	e.sendP1(sa, msg, "MM5", true)
	return 0, nil
}

// verifyAuth decrypts MM5 or MM6 and checks the peer's HASH_I or HASH_R over its ID payload;
// on success it adopts the next IV and the peer's identity. A message that does not decrypt into
// ID and HASH almost always means the pre-shared keys differ.
func (e *Engine) verifyAuth(sa *isakmpSA, m *isakmp.Message, name string) error {
	next, err := sa.decrypt(m, sa.iv)
	if err != nil {
		return fmt.Errorf("%s did not decrypt (%v): the pre-shared keys differ?", name, err)
	}
	id, ok1 := m.Find(isakmp.PayloadID).(*isakmp.ID)
	h, ok2 := m.Find(isakmp.PayloadHash).(*isakmp.Hash)
	if !ok1 || !ok2 {
		return fmt.Errorf("%s without ID or HASH: the pre-shared keys differ?", name)
	}
	hash, want := sa.keys.HashR, "HASH_R"
	if sa.role == responder {
		hash, want = sa.keys.HashI, "HASH_I"
	}
	if !bytes.Equal(h.Data, hash(sa.gxi, sa.gxr, sa.icky, sa.rcky, sa.saiB, isakmp.Body(id))) {
		return fmt.Errorf("%s of %v does not verify: the pre-shared keys differ", want, sa.remote.Addr())
	}
	sa.iv = next
	sa.peerID = string(isakmp.Body(id))
	return nil
}

// mmR5: responder receives MM5, checks HASH_I, sends MM6: phase 1 is complete.
func (e *Engine) mmR5(sa *isakmpSA, m *isakmp.Message, data []byte) (Reason, error) {
	if err := e.verifyAuth(sa, m, "MM5"); err != nil {
		return ReasonAuthFailed, err
	}
	e.received(sa, data, "MM5")
	e.stateChange(sa, "IKE_R_MM4", "IKE_R_MM5", "IKE_MESG_FROM_PEER, IKE_MM_EXCH")
	e.debugf(sa.connID, sa.remote.Addr(), "ISAKMP:(%d):SA authentication status:\tauthenticated", sa.connID)
	my := localID(sa)
	sa.idirB = isakmp.Body(my)
	hashR := sa.keys.HashR(sa.gxi, sa.gxr, sa.icky, sa.rcky, sa.saiB, sa.idirB)
	msg, next := sa.encrypt(sa.header(isakmp.ExchangeIdentityProt, 0), []isakmp.Payload{my, &isakmp.Hash{Data: hashR}}, sa.iv)
	sa.iv = next
	sa.step = 6
	e.stateChange(sa, "IKE_R_MM5", "IKE_P1_COMPLETE", "IKE_MESG_INTERNAL, IKE_PROCESS_COMPLETE")
	e.sendP1(sa, msg, "MM6", false)
	e.authenticated(sa, m)
	return 0, nil
}

// mmI6: initiator receives MM6, checks HASH_R: phase 1 is complete.
func (e *Engine) mmI6(sa *isakmpSA, m *isakmp.Message, data []byte) (Reason, error) {
	if err := e.verifyAuth(sa, m, "MM6"); err != nil {
		return ReasonAuthFailed, err
	}
	e.received(sa, data, "MM6")
	e.stateChange(sa, "IKE_I_MM5", "IKE_I_MM6", "IKE_MESG_FROM_PEER, IKE_MM_EXCH")
	sa.step = 6
	e.authenticated(sa, m)
	return 0, nil
}

// authenticated completes phase 1 once the peer is authenticated, honouring an INITIAL-CONTACT
// the peer sent with its authentication.
func (e *Engine) authenticated(sa *isakmpSA, m *isakmp.Message) {
	if hasNotify(m, isakmp.NotifyInitialContact) {
		e.initialContact(sa)
	}
	e.phase1Done(sa)
}

func hasNotify(m *isakmp.Message, t isakmp.NotifyType) bool {
	for _, p := range m.Payloads {
		if n, ok := p.(*isakmp.Notify); ok && n.NotifyType == t {
			return true
		}
	}
	return false
}
