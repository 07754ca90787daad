package ike

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"github.com/tunnelbox/tunnelbox/ike/ikecrypto"
	"github.com/tunnelbox/tunnelbox/ike/isakmp"
	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
	"github.com/tunnelbox/tunnelbox/xfrm"
)

// Quick Mode (RFC 2409 §5.5), protected by the ISAKMP SA:
//
//	QM1 HDR*, HASH(1), SA, Ni [, KE] [, IDci, IDcr]  -->
//	                                                <--  QM2 HDR*, HASH(2), SA, Nr [, KE] [, IDci, IDcr]
//	QM3 HDR*, HASH(3)                                -->
//
// HASH(1) = prf(SKEYID_a, M-ID | SA | Ni [| KE] [| IDci | IDcr])
// HASH(2) = prf(SKEYID_a, M-ID | Ni_b | SA | Nr [| KE] [| IDci | IDcr])
// HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b)

// Selector is one side of a proxy identity: a subnet, an IP protocol (0 any) and a port (0 any).
type Selector struct {
	Prefix netip.Prefix
	Proto  uint8
	Port   uint16
}

func (s Selector) String() string {
	return fmt.Sprintf("%v/%d/%d", s.Prefix, s.Proto, s.Port)
}

// IOS renders a proxy like 192.168.1.0/255.255.255.0/256/0 (256 = any protocol).
func (s Selector) ios() string {
	proto := int(s.Proto)
	if proto == 0 {
		proto = 256
	}
	return fmt.Sprintf("%v/%v/%d/%d", s.Prefix.Addr(), prefixMask(s.Prefix), proto, s.Port)
}

func prefixMask(p netip.Prefix) netip.Addr {
	v := uint32(0)
	if p.Bits() > 0 {
		v = ^uint32(0) << (32 - p.Bits())
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// childRequest is a wish for an IPsec SA pair: one crypto map entry and one of its ACL lines.
type childRequest struct {
	entry   runningconfig.ResolvedEntry
	local   Selector
	remote  Selector
	rekeyOf *ChildSA
}

// selectorsOf turns a crypto ACL permit line into the initiator's proxy identities, or false
// when the line cannot be one (wildcards that are not a subnet).
func selectorsOf(ace runningconfig.ACE) (local, remote Selector, ok bool) {
	src, ok1 := ace.Src.Prefix()
	dst, ok2 := ace.Dst.Prefix()
	if !ok1 || !ok2 || !ace.Permit {
		return local, remote, false
	}
	proto := uint8(0)
	if ace.Proto != runningconfig.ProtoIP {
		proto = uint8(ace.Proto)
	}
	local = Selector{Prefix: src, Proto: proto}
	remote = Selector{Prefix: dst, Proto: proto}
	if ace.SrcPort.Op == runningconfig.PortEq {
		local.Port = ace.SrcPort.Lo
	}
	if ace.DstPort.Op == runningconfig.PortEq {
		remote.Port = ace.DstPort.Lo
	}
	return local, remote, true
}

type qmState uint8

const (
	qmI1Sent qmState = iota + 1 // initiator sent QM1
	qmR2Sent                    // responder sent QM2
	qmI3Sent                    // initiator sent QM3 (and waits for CONNECTED with the commit bit)
	qmDone
)

// quickMode is one Quick Mode exchange.
type quickMode struct {
	mid    uint32
	role   role
	state  qmState
	iv     []byte
	req    childRequest
	hasIDs bool
	idci   []byte // bodies of the ID payloads as sent/received (HASH input)
	idcr   []byte
	ni, nr []byte
	dh     *ikecrypto.PrivateKey
	peerKE []byte
	group  int

	spiIn   uint32
	spiOut  uint32
	offered []runningconfig.TransformSet // initiator: proposal i+1 is offered[i]
	chosen  runningconfig.TransformSet
	encap   isakmp.EncapsulationMode
	lifeSec uint64
	lifeKB  uint64
	commit  bool
	child   *ChildSA // the pair, once its keys are derived (the responder: with QM2)

	lastRecv []byte
	lastSent []byte
	retry    retransmitter
	started  time.Time
}

// transformAlgs resolves a transform set into data-plane and key-derivation algorithms.
func transformAlgs(ts runningconfig.TransformSet) (enc xfrm.Transform, auth xfrm.AuthAlg, kt ikecrypto.ESPTransform, err error) {
	if ts.AH != "" || ts.Comp != "" || ts.ESPCipher == "" {
		return enc, 0, kt, fmt.Errorf("transform set %s: only ESP transforms are supported", ts.Name)
	}
	name := ts.ESPCipher
	if ts.ESPKeyBits != 0 {
		name = fmt.Sprintf("%s %d", name, ts.ESPKeyBits)
	}
	if enc, err = xfrm.LookupTransform(name); err != nil {
		return enc, 0, kt, err
	}
	if ts.ESPAuth != "" {
		a, err := xfrm.LookupTransform(ts.ESPAuth)
		if err != nil {
			return enc, 0, kt, err
		}
		auth = a.Auth
	}
	kt.Encr, err = ikecrypto.ParseESPEncr(ts.ESPCipher)
	if err != nil {
		return enc, 0, kt, err
	}
	if kt.Encr.HasKeyLength() {
		kt.KeyBits = ts.ESPKeyLen()
	}
	if ts.ESPAuth != "" {
		if kt.Auth, err = ikecrypto.ParseESPAuth(ts.ESPAuth); err != nil {
			return enc, 0, kt, err
		}
	}
	return enc, auth, kt, kt.Validate()
}

// encapMode is the Encapsulation Mode attribute for a transform set on this ISAKMP SA.
func (sa *isakmpSA) encapMode(ts runningconfig.TransformSet) isakmp.EncapsulationMode {
	tunnel := !ts.Transport
	switch {
	case sa.nat.detected() && sa.nat.rfc:
		if tunnel {
			return isakmp.EncapsulationUDPTunnel
		}
		return isakmp.EncapsulationUDPTransport
	case sa.nat.detected():
		if tunnel {
			return isakmp.EncapsulationUDPTunnelDraft
		}
		return isakmp.EncapsulationUDPTransportDraft
	case tunnel:
		return isakmp.EncapsulationTunnel
	}
	return isakmp.EncapsulationTransport
}

// qmTransform builds the one transform of a proposal for ts.
func (sa *isakmpSA) qmTransform(ts runningconfig.TransformSet, pfs int, secs, kb uint64) (*isakmp.Transform, error) {
	enc, auth, _, err := transformAlgs(ts)
	if err != nil {
		return nil, err
	}
	a := isakmp.IPsecAttributes{
		Encapsulation: sa.encapMode(ts),
		Group:         isakmp.Group(pfs),
		LifeSeconds:   secs,
		LifeKilobytes: kb,
	}
	if auth != xfrm.AuthNone {
		a.AuthAlgorithm = isakmp.AuthAlgorithm(auth.IKEAuthAttr())
	}
	if enc.Enc == xfrm.EncAESCBC || enc.Enc == xfrm.EncAESGCM16 {
		a.KeyLength = uint16(enc.KeyBits)
	}
	return &isakmp.Transform{Number: 1, ID: isakmp.TransformID(enc.Enc.IKETransformID()), Attributes: a.Attributes()}, nil
}

func spiBytes(spi uint32) []byte { return binary.BigEndian.AppendUint32(nil, spi) }

func (e *Engine) newMID(sa *isakmpSA) uint32 {
	for {
		b := e.random(4)
		mid := binary.BigEndian.Uint32(b)
		if mid != 0 && sa.qms[mid] == nil && !sa.infoMIDs[mid] {
			return mid
		}
	}
}

// startQuick begins Quick Mode as initiator for req on the established ISAKMP SA sa.
func (e *Engine) startQuick(sa *isakmpSA, req childRequest) {
	peer := sa.remote.Addr()
	ent := req.entry
	qm := &quickMode{mid: e.newMID(sa), role: initiator, req: req, hasIDs: true, started: e.opts.Now(),
		group: ent.Entry.PFSGroup, lifeSec: uint64(ent.LifetimeSecs), lifeKB: uint64(ent.LifetimeKB)}
	qm.iv = sa.keys.Phase2IV(sa.lastBlk, qm.mid)
	qm.spiIn = e.newSPI()
	e.debugf(sa.connID, peer, "ISAKMP:(%d):beginning Quick Mode exchange, M-ID of %d", sa.connID, int32(qm.mid))
	e.ipsecDebugf(peer, "IPSEC(sa_request): ,\n  (key eng. msg.) OUTBOUND local= %v, remote= %v,\n    local_proxy= %s,\n    remote_proxy= %s,\n    protocol= ESP, lifedur= %ds and %dkb",
		sa.local, sa.remote, req.local.ios(), req.remote.ios(), qm.lifeSec, qm.lifeKB)
	sap := &isakmp.SA{DOI: isakmp.DOIIPsec, Situation: isakmp.SituationIdentityOnly}
	for _, ts := range ent.TransformSets {
		t, err := sa.qmTransform(ts, qm.group, qm.lifeSec, qm.lifeKB)
		if err != nil {
			e.debugf(sa.connID, peer, "ISAKMP:(%d): %v", sa.connID, err)
			continue
		}
		qm.offered = append(qm.offered, ts)
		sap.Proposals = append(sap.Proposals, &isakmp.Proposal{Number: uint8(len(qm.offered)),
			Protocol: isakmp.ProtocolESP, SPI: spiBytes(qm.spiIn), Transforms: []*isakmp.Transform{t}})
	}
	if len(sap.Proposals) == 0 {
		delete(e.spis, qm.spiIn)
		e.fail(sa.connID, peer, ReasonNoTransform, "no transform set of the crypto map entry can be proposed")
		return
	}
	qm.ni = e.random(nonceLen)
	ps := []isakmp.Payload{sap, &isakmp.Nonce{Data: qm.ni}}
	if qm.group != 0 {
		g := ikecrypto.Group(qm.group)
		key, err := g.GenerateKey(e.opts.Rand)
		if err != nil {
			e.fail(sa.connID, peer, ReasonPFSMismatch, err.Error())
			return
		}
		qm.dh = key
		ps = append(ps, &isakmp.KE{Data: key.PublicKey()})
	}
	idci := isakmp.IDPrefix(req.local.Prefix, req.local.Proto, req.local.Port)
	idcr := isakmp.IDPrefix(req.remote.Prefix, req.remote.Proto, req.remote.Port)
	qm.idci, qm.idcr = isakmp.Body(idci), isakmp.Body(idcr)
	ps = append(ps, idci, idcr)
	rest := isakmp.AppendPayloads(nil, ps)
	hash := sa.keys.Hash1(qm.mid, rest)
	h := sa.header(isakmp.ExchangeQuick, qm.mid)
	if e.opts.SetCommitBit {
		h.Flags |= isakmp.FlagCommit
		qm.commit = true
	}
	msg, next := sa.encrypt(h, append([]isakmp.Payload{&isakmp.Hash{Data: hash}}, ps...), qm.iv)
	qm.iv = next
	qm.state = qmI1Sent
	sa.qms[qm.mid] = qm
	e.debugf(sa.connID, peer, "ISAKMP:(%d):Node %d, Input = IKE_MESG_INTERNAL, IKE_INIT_QM", sa.connID, int32(qm.mid))
	e.debugf(sa.connID, peer, "ISAKMP:(%d):Old State = IKE_QM_READY  New State = IKE_QM_I_QM1 ", sa.connID)
	e.sendQM(sa, qm, msg, "QM1", true)
}

func (e *Engine) sendQM(sa *isakmpSA, qm *quickMode, msg []byte, name string, retransmit bool) {
	qm.lastSent = msg
	e.debugf(sa.connID, sa.remote.Addr(), "ISAKMP:(%d): sending packet to %v my_port %d peer_port %d (%s) %-13s",
		sa.connID, sa.remote.Addr(), sa.local.Port(), sa.remote.Port(), qm.role.letter(), sa.state)
	e.trace(sa, true, name, msg)
	e.send(sa.local, sa.remote, msg)
	qm.retry.stop()
	if retransmit {
		e.armRetransmit(&qm.retry, func() {
			e.debugf(sa.connID, sa.remote.Addr(), "ISAKMP:(%d): retransmitting phase 2 QM_IDLE %d ...", sa.connID, int32(qm.mid))
			e.send(sa.local, sa.remote, qm.lastSent)
		}, func() {
			e.fail(sa.connID, sa.remote.Addr(), ReasonTimeout, "no answer to "+name)
			e.dropQM(sa, qm)
		})
	}
}

func (e *Engine) dropQM(sa *isakmpSA, qm *quickMode) {
	qm.retry.stop()
	delete(sa.qms, qm.mid)
	if qm.state != qmDone {
		delete(e.spis, qm.spiIn)
		if c := qm.child; c != nil && c.inAdded && e.opts.Installer != nil {
			e.opts.Installer.DelSA(c.in) // QM3 never came: the early inbound SA goes
			c.inAdded = false
		}
	}
}

// quick handles a received Quick Mode message.
func (e *Engine) quick(sa *isakmpSA, m *isakmp.Message, data []byte) {
	mid := m.Header.MessageID
	qm := sa.qms[mid]
	if qm != nil && bytes.Equal(qm.lastRecv, data) {
		if qm.lastSent != nil {
			e.send(sa.local, sa.remote, qm.lastSent)
		}
		return
	}
	var reason Reason
	var err error
	switch {
	case qm == nil:
		if sa.infoMIDs[mid] {
			return
		}
		reason, err = e.qmR1(sa, m, data)
	case qm.role == initiator && qm.state == qmI1Sent:
		reason, err = e.qmI2(sa, qm, m, data)
	case qm.role == responder && qm.state == qmR2Sent:
		reason, err = e.qmR3(sa, qm, m, data)
	default:
		return
	}
	if err != nil {
		peer := sa.remote.Addr()
		e.debugf(sa.connID, peer, "ISAKMP:(%d): phase 2 SA policy not acceptable! (local %v remote %v)", sa.connID, sa.local.Addr(), peer)
		e.debugf(sa.connID, peer, "%%CRYPTO-6-IKMP_MODE_FAILURE: Processing of Quick mode failed with peer at %v", peer)
		e.fail(sa.connID, peer, reason, err.Error())
	}
}

// decryptQM decrypts a Quick Mode message and checks that HASH comes first.
func (sa *isakmpSA) decryptQM(m *isakmp.Message, iv []byte) (*isakmp.Hash, []byte, error) {
	next, err := sa.decrypt(m, iv)
	if err != nil {
		return nil, nil, err
	}
	if len(m.Payloads) == 0 {
		return nil, nil, fmt.Errorf("empty message")
	}
	h, ok := m.Payloads[0].(*isakmp.Hash)
	if !ok {
		return nil, nil, fmt.Errorf("HASH is not the first payload")
	}
	return h, next, nil
}

// qmR1: responder receives QM1 and answers QM2, or refuses it with a notify.
func (e *Engine) qmR1(sa *isakmpSA, m *isakmp.Message, data []byte) (Reason, error) {
	mid := m.Header.MessageID
	peer := sa.remote.Addr()
	iv := sa.keys.Phase2IV(sa.lastBlk, mid)
	h, next, err := sa.decryptQM(m, iv)
	// Traced before it is judged, so that a refused QM1 shows in the teaching views.
	e.trace(sa, false, "QM1", data)
	if err != nil {
		return ReasonMalformed, fmt.Errorf("QM1: %v", err)
	}
	if !bytes.Equal(h.Data, sa.keys.Hash1(mid, m.ChainFrom(1))) {
		return ReasonMalformed, fmt.Errorf("QM1: HASH(1) does not verify")
	}
	e.acceptFrom(sa)
	offer, ok1 := m.Find(isakmp.PayloadSA).(*isakmp.SA)
	nonce, ok2 := m.Find(isakmp.PayloadNonce).(*isakmp.Nonce)
	if !ok1 || !ok2 {
		return ReasonMalformed, fmt.Errorf("QM1 without SA or nonce")
	}
	qm := &quickMode{mid: mid, role: responder, iv: next, ni: nonce.Data, started: e.opts.Now(),
		commit: m.Header.Flags.Has(isakmp.FlagCommit)}
	e.debugf(sa.connID, peer, "ISAKMP:(%d):set new node %d to QM_IDLE", sa.connID, int32(mid))
	if ke, ok := m.Find(isakmp.PayloadKE).(*isakmp.KE); ok {
		qm.peerKE = ke.Data
	}
	// Proxy identities: IDci is the initiator's side (our remote), IDcr ours.
	var ids []*isakmp.ID
	for _, p := range m.Payloads {
		if id, ok := p.(*isakmp.ID); ok {
			ids = append(ids, id)
		}
	}
	switch len(ids) {
	case 0:
		qm.req.local = Selector{Prefix: netip.PrefixFrom(sa.local.Addr(), 32)}
		qm.req.remote = Selector{Prefix: netip.PrefixFrom(peer, 32)}
	case 2:
		rs, err1 := idSelector(ids[0])
		ls, err2 := idSelector(ids[1])
		if err1 != nil || err2 != nil {
			e.refuseQM(sa, qm, isakmp.NotifyInvalidIDInformation, offer)
			return ReasonProxyMismatch, fmt.Errorf("proxy identity types not supported")
		}
		qm.req.local, qm.req.remote, qm.hasIDs = ls, rs, true
		qm.idci, qm.idcr = isakmp.Body(ids[0]), isakmp.Body(ids[1])
	default:
		return ReasonMalformed, fmt.Errorf("QM1 with %d ID payloads", len(ids))
	}
	e.ipsecDebugf(peer, "IPSEC(validate_proposal_request): proposal part #1,\n  (key eng. msg.) INBOUND local= %v, remote= %v,\n    local_proxy= %s,\n    remote_proxy= %s",
		sa.local.Addr(), peer, qm.req.local.ios(), qm.req.remote.ios())
	ent, ok := e.findEntry(peer, qm.req.local, qm.req.remote)
	if !ok {
		e.debugf(sa.connID, peer, "map_db_find_best did not find matching map")
		e.ipsecDebugf(peer, "IPSEC(ipsec_process_proposal): proxy identities not supported")
		e.refuseQM(sa, qm, isakmp.NotifyInvalidIDInformation, offer)
		return ReasonProxyMismatch, fmt.Errorf("no crypto map entry for %v permits local %v remote %v",
			peer, qm.req.local, qm.req.remote)
	}
	qm.req.entry = ent
	reply, reason, err := e.chooseQM(sa, qm, offer)
	if err != nil {
		e.refuseQM(sa, qm, isakmp.NotifyNoProposalChosen, offer)
		return reason, err
	}
	qm.spiIn = e.newSPI()
	reply.Proposals[0].SPI = spiBytes(qm.spiIn)
	qm.nr = e.random(nonceLen)
	ps := []isakmp.Payload{reply, &isakmp.Nonce{Data: qm.nr}}
	if qm.group != 0 {
		key, err := ikecrypto.Group(qm.group).GenerateKey(e.opts.Rand)
		if err != nil {
			return ReasonPFSMismatch, err
		}
		if err := key.Group().ValidatePublic(qm.peerKE); err != nil {
			e.refuseQM(sa, qm, isakmp.NotifyInvalidKeyInformation, offer)
			return ReasonPFSMismatch, fmt.Errorf("PFS key exchange: %v", err)
		}
		qm.dh = key
		ps = append(ps, &isakmp.KE{Data: key.PublicKey()})
	}
	if qm.hasIDs {
		ps = append(ps, ids[0], ids[1])
	}
	// RESPONDER-LIFETIME when our lifetime is shorter than the initiator's (RFC 2407 §4.6.3.1).
	secs, kb := uint64(ent.LifetimeSecs), uint64(ent.LifetimeKB)
	lower := false
	if qm.lifeSec == 0 || secs < qm.lifeSec {
		lower = lower || qm.lifeSec != 0
		qm.lifeSec = secs
	}
	if kb != 0 && (qm.lifeKB == 0 || kb < qm.lifeKB) {
		lower = lower || qm.lifeKB != 0
		qm.lifeKB = kb
	}
	if lower {
		ps = append(ps, isakmp.NewResponderLifetime(isakmp.ProtocolESP, spiBytes(qm.spiIn), qm.lifeSec, qm.lifeKB))
	}
	rest := isakmp.AppendPayloads(nil, ps)
	hash := sa.keys.Hash2(mid, qm.ni, rest)
	hdr := sa.header(isakmp.ExchangeQuick, mid)
	if qm.commit {
		hdr.Flags |= isakmp.FlagCommit
	}
	msg, next2 := sa.encrypt(hdr, append([]isakmp.Payload{&isakmp.Hash{Data: hash}}, ps...), qm.iv)
	qm.iv = next2
	qm.lastRecv = data
	qm.state = qmR2Sent
	// The inbound SA goes in now, before QM2 leaves: the initiator may send on the new pair as soon
	// as it has sent QM3 (on a rekey it switches at once).
	c, reason, err := e.childKeys(sa, qm)
	if err != nil {
		delete(e.spis, qm.spiIn)
		return reason, err
	}
	if err := e.addInbound(sa, c); err != nil {
		delete(e.spis, qm.spiIn)
		return ReasonDataplane, err
	}
	qm.child = c
	sa.qms[mid] = qm
	e.debugf(sa.connID, peer, "ISAKMP:(%d):Old State = IKE_QM_SPI_STARVE  New State = IKE_QM_R_QM2 ", sa.connID)
	e.sendQM(sa, qm, msg, "QM2", true)
	return 0, nil
}

// idSelector turns an ID payload into a selector (address, subnet, or a range that is a subnet).
func idSelector(id *isakmp.ID) (Selector, error) {
	s := Selector{Proto: id.Protocol, Port: id.Port}
	switch id.IDType {
	case isakmp.IDIPv4Addr:
		a, err := id.Addr()
		if err != nil {
			return s, err
		}
		s.Prefix = netip.PrefixFrom(a, 32)
	case isakmp.IDIPv4AddrSubnet:
		p, err := id.Prefix()
		if err != nil {
			return s, err
		}
		s.Prefix = p
	case isakmp.IDIPv4AddrRange:
		from, to, err := id.Range()
		if err != nil {
			return s, err
		}
		for bits := 0; bits <= 32; bits++ {
			p := netip.PrefixFrom(from, bits)
			if p.Masked().Addr() == from && lastAddr(p) == to {
				s.Prefix = p
				return s, nil
			}
		}
		return s, fmt.Errorf("range %v-%v is not a subnet", from, to)
	default:
		return s, fmt.Errorf("ID type %v", id.IDType)
	}
	return s, nil
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	v := binary.BigEndian.Uint32(b[:])
	if p.Bits() < 32 {
		v |= ^uint32(0) >> p.Bits()
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// findEntry finds the crypto map entry for peer whose ACL has a permit line that mirrors the
// proposal: our side inside the line's source, the peer's side inside its destination, the
// protocol and ports within the line's (IOS "proxy_match").
func (e *Engine) findEntry(peer netip.Addr, local, remote Selector) (runningconfig.ResolvedEntry, bool) {
	for _, ent := range e.activeEntries() {
		if !hasPeer(ent, peer) {
			continue
		}
		for _, ace := range ent.ACL.Rules() {
			if !ace.Permit {
				continue
			}
			ls, rs, ok := selectorsOf(ace)
			if !ok {
				continue
			}
			if within(local, ls) && within(remote, rs) {
				return ent, true
			}
		}
	}
	return runningconfig.ResolvedEntry{}, false
}

func hasPeer(ent runningconfig.ResolvedEntry, peer netip.Addr) bool {
	if ent.Entry.DynamicMap != "" {
		return true
	}
	for _, p := range ent.Peers {
		if p == peer {
			return true
		}
	}
	return false
}

// within reports whether the proposed selector lies inside the configured one.
func within(prop, conf Selector) bool {
	if conf.Prefix.Bits() > prop.Prefix.Bits() || !conf.Prefix.Contains(prop.Prefix.Addr()) {
		return false
	}
	if conf.Proto != 0 && conf.Proto != prop.Proto {
		return false
	}
	if conf.Port != 0 && conf.Port != prop.Port {
		return false
	}
	return true
}

// chooseQM picks the first offered proposal that equals one of the entry's transform sets, with
// the PFS rules of spec/ikev1.md, and returns the reply SA payload (SPI filled in by the caller).
func (e *Engine) chooseQM(sa *isakmpSA, qm *quickMode, offer *isakmp.SA) (*isakmp.SA, Reason, error) {
	peer := sa.remote.Addr()
	want := qm.req.entry.Entry.PFSGroup
	var lastWhy string
	pfsIssue := false
	for _, prop := range offer.Proposals {
		if prop.Protocol != isakmp.ProtocolESP {
			lastWhy = fmt.Sprintf("proposal %d: protocol %v not supported", prop.Number, prop.Protocol)
			continue
		}
		if len(prop.SPI) != 4 {
			continue
		}
		e.debugf(sa.connID, peer, "ISAKMP:(%d):Checking IPSec proposal %d", sa.connID, prop.Number)
		for _, t := range prop.Transforms {
			a, err := t.IPsecAttributes(isakmp.ProtocolESP)
			if err != nil {
				lastWhy = err.Error()
				continue
			}
			e.debugf(sa.connID, peer, "ISAKMP: transform %d, %v", t.Number, isakmp.TransformName(isakmp.ProtocolESP, t.ID))
			e.debugf(sa.connID, peer, "ISAKMP:   attributes in transform:")
			e.debugf(sa.connID, peer, "ISAKMP:      encaps is %d (%v)", a.Encapsulation, a.Encapsulation)
			if a.LifeSeconds != 0 {
				e.debugf(sa.connID, peer, "ISAKMP:      SA life type in seconds")
				e.debugf(sa.connID, peer, "ISAKMP:      SA life duration (basic) of %d", a.LifeSeconds)
			}
			if a.AuthAlgorithm != 0 {
				e.debugf(sa.connID, peer, "ISAKMP:      authenticator is %v", a.AuthAlgorithm)
			}
			if a.KeyLength != 0 {
				e.debugf(sa.connID, peer, "ISAKMP:      key length is %d", a.KeyLength)
			}
			if a.Group != 0 {
				e.debugf(sa.connID, peer, "ISAKMP:      group is %d", a.Group)
			}
			if want != 0 && int(a.Group) != want {
				pfsIssue = true
				lastWhy = fmt.Sprintf("PFS group %d offered, group %d required (set pfs group%d)", a.Group, want, want)
				continue
			}
			if a.Group != 0 && qm.peerKE == nil {
				lastWhy = "PFS group without a KE payload"
				continue
			}
			for _, ts := range qm.req.entry.TransformSets {
				if !sa.transformEquals(ts, t, a) {
					continue
				}
				e.debugf(sa.connID, peer, "ISAKMP:(%d):atts are acceptable.", sa.connID)
				qm.chosen = ts
				qm.encap = a.Encapsulation
				qm.group = int(a.Group)
				qm.spiOut = binary.BigEndian.Uint32(prop.SPI)
				qm.lifeSec, qm.lifeKB = a.LifeSeconds, a.LifeKilobytes
				reply := &isakmp.SA{DOI: isakmp.DOIIPsec, Situation: isakmp.SituationIdentityOnly,
					Proposals: []*isakmp.Proposal{{Number: prop.Number, Protocol: isakmp.ProtocolESP,
						Transforms: []*isakmp.Transform{t}}}}
				return reply, 0, nil
			}
			if lastWhy == "" || !pfsIssue {
				lastWhy = fmt.Sprintf("transform proposal %v not supported for identity", isakmp.TransformName(isakmp.ProtocolESP, t.ID))
			}
		}
	}
	if want == 0 && lastWhy == "" {
		lastWhy = "no acceptable proposal"
	}
	if pfsIssue {
		return nil, ReasonPFSMismatch, fmt.Errorf("%s", lastWhy)
	}
	e.ipsecDebugf(peer, "IPSEC(ipsec_process_proposal): transform proposal not supported for identity")
	e.debugf(sa.connID, peer, "ISAKMP:(%d): IPSec policy invalidated proposal with error 256", sa.connID)
	return nil, ReasonNoTransform, fmt.Errorf("%s", lastWhy)
}

// transformEquals compares a received transform with a transform set.
func (sa *isakmpSA) transformEquals(ts runningconfig.TransformSet, t *isakmp.Transform, a isakmp.IPsecAttributes) bool {
	enc, auth, _, err := transformAlgs(ts)
	if err != nil {
		return false
	}
	if uint8(t.ID) != enc.Enc.IKETransformID() {
		return false
	}
	if (enc.Enc == xfrm.EncAESCBC || enc.Enc == xfrm.EncAESGCM16) && int(a.KeyLength) != enc.KeyBits {
		return false
	}
	wantAuth := uint16(0)
	if auth != xfrm.AuthNone {
		wantAuth = auth.IKEAuthAttr()
	}
	if uint16(a.AuthAlgorithm) != wantAuth {
		return false
	}
	return a.Encapsulation.Tunnel() == !ts.Transport
}

// refuseQM answers a Quick Mode proposal it cannot accept with an Informational notify.
func (e *Engine) refuseQM(sa *isakmpSA, qm *quickMode, t isakmp.NotifyType, offer *isakmp.SA) {
	var spi []byte
	if offer != nil && len(offer.Proposals) > 0 {
		spi = offer.Proposals[0].SPI
	}
	n := &isakmp.Notify{DOI: isakmp.DOIIPsec, Protocol: isakmp.ProtocolESP, NotifyType: t, SPI: spi}
	e.sendInfo(sa, []isakmp.Payload{n})
	sa.infoMIDs[qm.mid] = true
}

// qmI2: initiator receives QM2, sends QM3 and installs the SAs.
func (e *Engine) qmI2(sa *isakmpSA, qm *quickMode, m *isakmp.Message, data []byte) (Reason, error) {
	peer := sa.remote.Addr()
	h, next, err := sa.decryptQM(m, qm.iv)
	if err != nil {
		return ReasonMalformed, fmt.Errorf("QM2: %v", err)
	}
	if !bytes.Equal(h.Data, sa.keys.Hash2(qm.mid, qm.ni, m.ChainFrom(1))) {
		return ReasonMalformed, fmt.Errorf("QM2: HASH(2) does not verify")
	}
	e.acceptFrom(sa)
	reply, ok1 := m.Find(isakmp.PayloadSA).(*isakmp.SA)
	nonce, ok2 := m.Find(isakmp.PayloadNonce).(*isakmp.Nonce)
	if !ok1 || !ok2 || len(reply.Proposals) != 1 || len(reply.Proposals[0].Transforms) != 1 || len(reply.Proposals[0].SPI) != 4 {
		e.dropQM(sa, qm)
		return ReasonMalformed, fmt.Errorf("QM2 must carry one proposal with one transform and a nonce")
	}
	prop := reply.Proposals[0]
	n := int(prop.Number)
	if n < 1 || n > len(qm.offered) {
		e.dropQM(sa, qm)
		return ReasonNoTransform, fmt.Errorf("QM2 chose proposal %d, which was not offered", n)
	}
	a, err := prop.Transforms[0].IPsecAttributes(isakmp.ProtocolESP)
	if err != nil || !sa.transformEquals(qm.offered[n-1], prop.Transforms[0], a) || int(a.Group) != qm.group {
		e.dropQM(sa, qm)
		return ReasonNoTransform, fmt.Errorf("QM2 changed the proposal it chose")
	}
	qm.chosen, qm.encap = qm.offered[n-1], a.Encapsulation
	qm.spiOut = binary.BigEndian.Uint32(prop.SPI)
	qm.nr = nonce.Data
	if qm.group != 0 {
		ke, ok := m.Find(isakmp.PayloadKE).(*isakmp.KE)
		if !ok {
			e.dropQM(sa, qm)
			return ReasonPFSMismatch, fmt.Errorf("QM2 without the PFS key exchange")
		}
		if err := qm.dh.Group().ValidatePublic(ke.Data); err != nil {
			e.dropQM(sa, qm)
			return ReasonPFSMismatch, err
		}
		qm.peerKE = ke.Data
	}
	for _, p := range m.Payloads {
		if nt, ok := p.(*isakmp.Notify); ok && nt.NotifyType == isakmp.NotifyResponderLifetime {
			if s, kb, err := nt.ResponderLifetime(); err == nil {
				if s != 0 && (qm.lifeSec == 0 || s < qm.lifeSec) {
					qm.lifeSec = s
				}
				if kb != 0 && (qm.lifeKB == 0 || kb < qm.lifeKB) {
					qm.lifeKB = kb
				}
				e.debugf(sa.connID, peer, "ISAKMP:(%d):processing RESPONDER_LIFETIME notify: %ds %dkb", sa.connID, s, kb)
			}
		}
	}
	qm.iv = next
	qm.lastRecv = data
	e.trace(sa, false, "QM2", data)
	hash3 := sa.keys.Hash3(qm.mid, qm.ni, qm.nr)
	msg, next2 := sa.encrypt(sa.header(isakmp.ExchangeQuick, qm.mid), []isakmp.Payload{&isakmp.Hash{Data: hash3}}, qm.iv)
	qm.iv = next2
	qm.state = qmI3Sent
	if m.Header.Flags.Has(isakmp.FlagCommit) {
		qm.commit = true
	}
	e.sendQM(sa, qm, msg, "QM3", false)
	if qm.commit {
		// Use of the SAs waits for the responder's CONNECTED notify (RFC 2408 §4.? commit bit).
		e.debugf(sa.connID, peer, "ISAKMP:(%d):commit bit set: waiting for CONNECTED", sa.connID)
		e.armRetransmit(&qm.retry, func() { e.send(sa.local, sa.remote, qm.lastSent) }, func() {
			e.fail(sa.connID, peer, ReasonTimeout, "no CONNECTED notify after QM3 (commit bit)")
			e.dropQM(sa, qm)
		})
		return 0, nil
	}
	return e.finishQM(sa, qm)
}

// qmR3: responder receives QM3 and installs the SAs.
func (e *Engine) qmR3(sa *isakmpSA, qm *quickMode, m *isakmp.Message, data []byte) (Reason, error) {
	h, next, err := sa.decryptQM(m, qm.iv)
	if err != nil {
		return ReasonMalformed, fmt.Errorf("QM3: %v", err)
	}
	if !bytes.Equal(h.Data, sa.keys.Hash3(qm.mid, qm.ni, qm.nr)) {
		return ReasonMalformed, fmt.Errorf("QM3: HASH(3) does not verify")
	}
	e.acceptFrom(sa)
	qm.iv = next
	qm.lastRecv = data
	qm.lastSent = nil // a repeated QM3 needs no answer
	e.trace(sa, false, "QM3", data)
	e.debugf(sa.connID, sa.remote.Addr(), "ISAKMP:(%d):deleting node %d error FALSE reason \"QM done (await)\"", sa.connID, int32(qm.mid))
	reason, err := e.finishQM(sa, qm)
	if err == nil && qm.commit {
		n := &isakmp.Notify{DOI: isakmp.DOIIPsec, Protocol: isakmp.ProtocolESP, NotifyType: isakmp.NotifyConnected,
			SPI: spiBytes(qm.spiIn)}
		e.sendInfo(sa, []isakmp.Payload{n})
	}
	return reason, err
}

// childKeys derives the keys of both SAs of a Quick Mode and builds its pair (not yet installed).
func (e *Engine) childKeys(sa *isakmpSA, qm *quickMode) (*ChildSA, Reason, error) {
	var gqmxy []byte
	if qm.group != 0 {
		s, err := qm.dh.SharedSecret(qm.peerKE)
		if err != nil {
			return nil, ReasonPFSMismatch, err
		}
		gqmxy = s
	}
	_, _, kt, err := transformAlgs(qm.chosen)
	if err != nil {
		return nil, ReasonNoTransform, err
	}
	in, err := sa.keys.ESPKeymat(kt, gqmxy, spiBytes(qm.spiIn), qm.ni, qm.nr)
	if err != nil {
		return nil, ReasonNoTransform, err
	}
	out, err := sa.keys.ESPKeymat(kt, gqmxy, spiBytes(qm.spiOut), qm.ni, qm.nr)
	if err != nil {
		return nil, ReasonNoTransform, err
	}
	c, err := e.buildChild(sa, qm, in, out)
	if err != nil {
		return nil, ReasonNoTransform, err
	}
	return c, 0, nil
}

// finishQM installs the pair of a finished Quick Mode (deriving its keys unless the responder
// already did with QM2).
func (e *Engine) finishQM(sa *isakmpSA, qm *quickMode) (Reason, error) {
	qm.retry.stop()
	if qm.child == nil {
		c, reason, err := e.childKeys(sa, qm)
		if err != nil {
			e.dropQM(sa, qm)
			return reason, err
		}
		qm.child = c
	}
	qm.state = qmDone
	if qm.role == initiator {
		e.debugf(sa.connID, sa.remote.Addr(), "ISAKMP:(%d):Old State = IKE_QM_I_QM1  New State = IKE_QM_PHASE2_COMPLETE ", sa.connID)
	} else {
		e.debugf(sa.connID, sa.remote.Addr(), "ISAKMP:(%d):Old State = IKE_QM_R_QM2  New State = IKE_QM_PHASE2_COMPLETE ", sa.connID)
	}
	// The exchange's state is kept for duplicate detection until the ISAKMP SA goes.
	if err := e.installChild(sa, qm, qm.child); err != nil {
		return ReasonDataplane, err
	}
	return 0, nil
}
