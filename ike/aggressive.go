package ike

import (
	"bytes"
	"fmt"
	"net/netip"

	"github.com/tunnelbox/tunnelbox/ike/isakmp"
)

// Aggressive Mode with pre-shared keys (RFC 2409 §5.4, NAT-T per RFC 3947 §3.2):
//
//	Initiator                               Responder
//	AM1 HDR, SA, KE, Ni, IDii, VID...  -->
//	                                   <--  AM2 HDR, SA, KE, Nr, IDir, HASH_R, NAT-D, NAT-D, VID...
//	AM3 HDR, HASH_I, NAT-D, NAT-D      -->  (port 4500 when a NAT was detected)
//
// AM3 is sent in the clear as RFC 2409 draws it; an encrypted AM3 from a peer is accepted too.

func withPort(a netip.AddrPort, port uint16) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr(), port)
}

// aggressiveStart sends AM1.
func (e *Engine) aggressiveStart(sa *isakmpSA) {
	if err := sa.setSuite(sa.offered[0]); err != nil {
		e.fail(0, sa.remote.Addr(), ReasonNoPolicy, err.Error())
		e.deleteSA(sa, ReasonNoPolicy, false)
		return
	}
	sap := phase1SA(sa.offered)
	sa.saiB = isakmp.Body(sap)
	ni, gxi, err := e.newNonceKE(sa)
	if err != nil {
		e.fail(0, sa.remote.Addr(), ReasonNoPolicy, err.Error())
		e.deleteSA(sa, ReasonNoPolicy, false)
		return
	}
	sa.ni, sa.gxi = ni, gxi
	id := localID(sa)
	sa.idiiB = isakmp.Body(id)
	ps := []isakmp.Payload{sap, &isakmp.KE{Data: gxi}, &isakmp.Nonce{Data: ni}, id}
	ps = append(ps, initiatorVIDs()...)
	m := &isakmp.Message{Header: sa.header(isakmp.ExchangeAggressive, 0), Payloads: ps}
	sa.step = 1
	e.debugf(0, sa.remote.Addr(), "ISAKMP:(0):beginning Aggressive Mode exchange")
	e.sendP1(sa, m.AppendMarshal(nil), "AM1", true)
}

func (e *Engine) aggressive(sa *isakmpSA, m *isakmp.Message, data []byte) {
	var reason Reason
	var err error
	switch {
	case sa.role == responder && sa.step == 0:
		reason, err = e.amR1(sa, m, data)
	case sa.role == initiator && sa.step == 1:
		reason, err = e.amI2(sa, m, data)
	case sa.role == responder && sa.step == 2:
		reason, err = e.amR3(sa, m, data)
	default:
		e.debugf(sa.connID, sa.remote.Addr(), "ISAKMP:(%d): unexpected Aggressive Mode message dropped", sa.connID)
		return
	}
	if err != nil {
		e.phase1Failed(sa, m, reason, err)
	}
}

// amR1: responder receives AM1, answers AM2 (keys are derived here).
func (e *Engine) amR1(sa *isakmpSA, m *isakmp.Message, data []byte) (Reason, error) {
	e.received(sa, data, "AM1")
	e.stateChange(sa, "IKE_READY", "IKE_R_AM1", "IKE_MESG_FROM_PEER, IKE_AM_EXCH")
	if k := e.cfg.Crypto(); k != nil && k.AggressiveDisabled {
		return ReasonAggressiveDisabled, fmt.Errorf("aggressive mode offered by %v but disabled", sa.remote.Addr())
	}
	offer, ok1 := m.Find(isakmp.PayloadSA).(*isakmp.SA)
	id, ok2 := m.Find(isakmp.PayloadID).(*isakmp.ID)
	if !ok1 || !ok2 {
		return ReasonMalformed, fmt.Errorf("AM1 without SA or ID payload")
	}
	sa.saiB = isakmp.Body(offer)
	sa.idiiB = isakmp.Body(id)
	sa.peerID = string(sa.idiiB)
	sa.noteVendorIDs(m.Payloads)
	reply, reason, err := e.answerProposal(sa, offer)
	if err != nil {
		return reason, err
	}
	gxi, ni, err := keNonce(sa, m)
	if err != nil {
		return ReasonNoPolicy, fmt.Errorf("AM1 key exchange: %v", err)
	}
	sa.gxi, sa.ni = gxi, ni
	nr, gxr, err := e.newNonceKE(sa)
	if err != nil {
		return ReasonMalformed, err
	}
	sa.nr, sa.gxr = nr, gxr
	if err := e.deriveKeys(sa); err != nil {
		return ReasonMalformed, err
	}
	my := localID(sa)
	sa.idirB = isakmp.Body(my)
	hashR := sa.keys.HashR(sa.gxi, sa.gxr, sa.icky, sa.rcky, sa.saiB, sa.idirB)
	ps := []isakmp.Payload{reply, &isakmp.KE{Data: gxr}, &isakmp.Nonce{Data: nr}, my, &isakmp.Hash{Data: hashR}}
	ps = append(ps, e.natdPayloads(sa)...)
	ps = append(ps, sa.responderVIDs()...)
	out := &isakmp.Message{Header: sa.header(isakmp.ExchangeAggressive, 0), Payloads: ps}
	sa.state = AGInitExch
	sa.step = 2
	e.stateChange(sa, "IKE_R_AM1", "IKE_R_AM2", "IKE_MESG_INTERNAL, IKE_PROCESS_COMPLETE")
	e.sendP1(sa, out.AppendMarshal(nil), "AM2", true)
	return 0, nil
}

// amI2: initiator receives AM2, checks HASH_R, sends AM3: phase 1 is complete.
func (e *Engine) amI2(sa *isakmpSA, m *isakmp.Message, data []byte) (Reason, error) {
	reply, reason, err := chosenSA(m, "AM1", "AM2")
	if err != nil {
		return reason, err
	}
	id, okID := m.Find(isakmp.PayloadID).(*isakmp.ID)
	h, okH := m.Find(isakmp.PayloadHash).(*isakmp.Hash)
	if !okID || !okH {
		return ReasonMalformed, fmt.Errorf("AM2 without ID or HASH payload")
	}
	if err := e.acceptChosen(sa, reply); err != nil {
		return ReasonNoPolicy, err
	}
	gxr, nr, err := keNonce(sa, m)
	if err != nil {
		return ReasonMalformed, err
	}
	sa.rcky = m.Header.RCookie
	sa.gxr, sa.nr = gxr, nr
	if err := e.deriveKeys(sa); err != nil {
		return ReasonMalformed, err
	}
	want := sa.keys.HashR(sa.gxi, sa.gxr, sa.icky, sa.rcky, sa.saiB, isakmp.Body(id))
	if !bytes.Equal(h.Data, want) {
		return ReasonAuthFailed, fmt.Errorf("HASH_R of %v does not verify: the pre-shared keys differ", sa.remote.Addr())
	}
	sa.peerID = string(isakmp.Body(id))
	e.received(sa, data, "AM2")
	e.stateChange(sa, "IKE_I_AM1", "IKE_I_AM2", "IKE_MESG_FROM_PEER, IKE_AM_EXCH")
	sa.noteVendorIDs(m.Payloads)
	e.checkNATD(sa, m)
	if sa.nat.detected() && !sa.nat.floated {
		sa.local = withPort(sa.local, PortNATT)
		sa.remote = withPort(sa.remote, PortNATT)
		sa.nat.floated = true
	}
	hashI := sa.keys.HashI(sa.gxi, sa.gxr, sa.icky, sa.rcky, sa.saiB, sa.idiiB)
	ps := []isakmp.Payload{&isakmp.Hash{Data: hashI}}
	ps = append(ps, e.natdPayloads(sa)...)
	out := &isakmp.Message{Header: sa.header(isakmp.ExchangeAggressive, 0), Payloads: ps}
	sa.step = 3
	e.stateChange(sa, "IKE_I_AM2", "IKE_P1_COMPLETE", "IKE_MESG_INTERNAL, IKE_PROCESS_COMPLETE")
	e.sendP1(sa, out.AppendMarshal(nil), "AM3", false)
	e.phase1Done(sa)
	return 0, nil
}

// amR3: responder receives AM3 and checks HASH_I: phase 1 is complete.
func (e *Engine) amR3(sa *isakmpSA, m *isakmp.Message, data []byte) (Reason, error) {
	if m.Header.Flags.Has(isakmp.FlagEncryption) {
		next, err := sa.decrypt(m, sa.iv)
		if err != nil {
			return ReasonAuthFailed, fmt.Errorf("AM3 did not decrypt: %v", err)
		}
		sa.iv = next
	}
	h, ok := m.Find(isakmp.PayloadHash).(*isakmp.Hash)
	if !ok {
		return ReasonMalformed, fmt.Errorf("AM3 without HASH payload")
	}
	want := sa.keys.HashI(sa.gxi, sa.gxr, sa.icky, sa.rcky, sa.saiB, sa.idiiB)
	if !bytes.Equal(h.Data, want) {
		return ReasonAuthFailed, fmt.Errorf("HASH_I of %v does not verify: the pre-shared keys differ", sa.remote.Addr())
	}
	e.received(sa, data, "AM3")
	e.checkNATD(sa, m)
	sa.step = 3
	e.stateChange(sa, "IKE_R_AM2", "IKE_P1_COMPLETE", "IKE_MESG_FROM_PEER, IKE_AM_EXCH")
	e.phase1Done(sa)
	return 0, nil
}
