package ike

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/tunnelbox/tunnelbox/ike/isakmp"
)

// Informational exchanges (RFC 2409 §5.7): HDR*, HASH(1), N/D with
// HASH(1) = prf(SKEYID_a, M-ID | N/D), each with a fresh IV from the last phase-1 block.

// sendInfo sends one protected Informational message carrying ps.
func (e *Engine) sendInfo(sa *isakmpSA, ps []isakmp.Payload) {
	if sa.keys == nil || sa.lastBlk == nil {
		return
	}
	mid := e.newMID(sa)
	sa.infoMIDs[mid] = true
	rest := isakmp.AppendPayloads(nil, ps)
	hash := sa.keys.InfoHash(mid, rest)
	iv := sa.keys.Phase2IV(sa.lastBlk, mid)
	msg, _ := sa.encrypt(sa.header(isakmp.ExchangeInformational, mid), append([]isakmp.Payload{&isakmp.Hash{Data: hash}}, ps...), iv)
	e.trace(sa, true, "INFO", msg)
	e.send(sa.local, sa.remote, msg)
}

// informational handles a received protected Informational message.
func (e *Engine) informational(sa *isakmpSA, m *isakmp.Message) {
	peer := sa.remote.Addr()
	mid := m.Header.MessageID
	if !m.Header.Flags.Has(isakmp.FlagEncryption) {
		e.debugf(sa.connID, peer, "ISAKMP:(%d): unprotected informational from %v ignored", sa.connID, peer)
		return
	}
	iv := sa.keys.Phase2IV(sa.lastBlk, mid)
	h, _, err := sa.decryptQM(m, iv)
	if err != nil || !bytes.Equal(h.Data, sa.keys.InfoHash(mid, m.ChainFrom(1))) {
		e.debugf(sa.connID, peer, "%%CRYPTO-4-IKMP_BAD_MESSAGE: IKE message from %v failed its sanity check or is malformed", peer)
		return
	}
	e.acceptFrom(sa)
	e.trace(sa, false, "INFO", m.Raw())
	sa.dpd.heard = e.opts.Now()
	for _, p := range m.Payloads[1:] {
		switch p := p.(type) {
		case *isakmp.Notify:
			e.notify(sa, p)
		case *isakmp.Delete:
			e.deletePayload(sa, p)
		}
	}
}

func (e *Engine) notify(sa *isakmpSA, n *isakmp.Notify) {
	peer := sa.remote.Addr()
	switch n.NotifyType {
	case isakmp.NotifyRUThere:
		seq, err := n.DPDSequence()
		if err != nil {
			return
		}
		e.debugf(sa.connID, peer, "ISAKMP:(%d):DPD/R_U_THERE received from peer %v, sequence 0x%X", sa.connID, peer, seq)
		e.sendInfo(sa, []isakmp.Payload{isakmp.NewDPD(isakmp.NotifyRUThereAck, sa.icky, sa.rcky, seq)})
	case isakmp.NotifyRUThereAck:
		seq, err := n.DPDSequence()
		if err == nil && seq == sa.dpd.seq {
			sa.dpd.outstanding = 0
		}
	case isakmp.NotifyInitialContact:
		e.initialContact(sa)
	case isakmp.NotifyConnected:
		for _, qm := range sa.qms {
			if qm.role == initiator && qm.state == qmI3Sent && qm.commit && len(n.SPI) == 4 &&
				(binary.BigEndian.Uint32(n.SPI) == qm.spiOut || binary.BigEndian.Uint32(n.SPI) == qm.spiIn) {
				e.debugf(sa.connID, peer, "ISAKMP:(%d):processing NOTIFY CONNECTED", sa.connID)
				if _, err := e.finishQM(sa, qm); err != nil {
					e.fail(sa.connID, peer, ReasonDataplane, err.Error())
				}
			}
		}
	case isakmp.NotifyResponderLifetime:
		// Only meaningful inside QM2; handled there.
	default:
		e.debugf(sa.connID, peer, "ISAKMP:(%d):processing NOTIFY %v protocol %d", sa.connID, n.NotifyType, n.Protocol)
		if n.NotifyType.IsError() {
			// A refusal of one of our Quick Modes: match it by the SPI we proposed.
			for _, qm := range sa.qms {
				if qm.role == initiator && qm.state == qmI1Sent && (len(n.SPI) != 4 || binary.BigEndian.Uint32(n.SPI) == qm.spiIn) {
					e.fail(sa.connID, peer, ReasonPeerRefused, fmt.Sprintf("the peer answered QM1 with %v", n.NotifyType))
					e.dropQM(sa, qm)
					break
				}
			}
		}
	}
}

func (e *Engine) deletePayload(sa *isakmpSA, d *isakmp.Delete) {
	peer := sa.remote.Addr()
	e.debugf(sa.connID, peer, "ISAKMP:(%d):processing DELETE payload. message ID = 0, protocol %v", sa.connID, d.Protocol)
	switch d.Protocol {
	case isakmp.ProtocolISAKMP:
		for _, spi := range d.SPIs {
			if len(spi) != 16 {
				continue
			}
			var ic, rc isakmp.Cookie
			copy(ic[:], spi[:8])
			copy(rc[:], spi[8:])
			if t := e.sas[ic]; t != nil && t.rcky == rc && t.remote.Addr() == peer {
				e.deleteSA(t, ReasonDeleted, false)
			}
		}
	case isakmp.ProtocolESP:
		for _, spi := range d.SPIs {
			if len(spi) != 4 {
				continue
			}
			v := binary.BigEndian.Uint32(spi)
			for _, c := range slices.Clone(e.children) {
				if c.Peer == peer && c.SPIOut == v {
					e.removeChild(c, ReasonDeleted, false)
				}
			}
		}
	}
}

// sendDeleteP1 tells the peer that an ISAKMP SA goes.
func (e *Engine) sendDeleteP1(sa *isakmpSA) {
	if sa.established() {
		e.sendInfo(sa, []isakmp.Payload{isakmp.NewDeleteISAKMP(sa.icky, sa.rcky)})
	}
}

// sendDeleteAll tells the peer that every IPsec SA with it and then the ISAKMP SA go.
func (e *Engine) sendDeleteAll(sa *isakmpSA) {
	for _, c := range e.children {
		if c.Peer == sa.remote.Addr() {
			d := &isakmp.Delete{DOI: isakmp.DOIIPsec, Protocol: isakmp.ProtocolESP, SPIs: [][]byte{spiBytes(c.SPIIn)}}
			e.sendInfo(sa, []isakmp.Payload{d})
		}
	}
	e.sendDeleteP1(sa)
}

// initialContact removes every other SA with the peer's identity: it restarted and lost them
// (RFC 2407 §4.6.3.3). Several identities behind one address (strongSwan with one IKE SA per
// identity) keep each other's SAs.
func (e *Engine) initialContact(sa *isakmpSA) {
	peer := sa.remote.Addr()
	e.debugf(sa.connID, peer, "ISAKMP:(%d):received INITIAL-CONTACT from %v: removing older SAs", sa.connID, peer)
	older := e.sortedSAsWhere(func(o *isakmpSA) bool {
		return o != sa && o.remote.Addr() == peer && o.peerID == sa.peerID
	})
	for _, o := range older {
		e.deleteSA(o, ReasonDeleted, false)
	}
	for _, c := range slices.Clone(e.children) {
		if c.Peer == peer && c.PeerID == sa.peerID && c.P1ConnID != sa.connID {
			e.removeChild(c, ReasonDeleted, false)
		}
	}
}

// ---- dead peer detection (RFC 3706)

type dpdState struct {
	timer       *time.Timer
	seq         uint32
	outstanding int
	heard       time.Time
	lastIn      uint64 // inbound ESP packets at the last check
}

// startDPD arms DPD when `crypto isakmp keepalive` is configured and the peer does DPD.
func (e *Engine) startDPD(sa *isakmpSA) {
	k := e.cfg.Crypto()
	if k == nil || k.Keepalive == nil || !sa.nat.peerHasDPD {
		return
	}
	sa.dpd.seq = binary.BigEndian.Uint32(e.random(4)) & 0x7fffffff
	sa.dpd.heard = e.opts.Now()
	interval := e.secs(uint64(k.Keepalive.Interval))
	sa.dpd.timer = e.after(interval, func() { e.dpdCheck(sa) })
}

// dpdCheck runs every keepalive interval (and every retry interval while a probe is
// unanswered): a peer that sent nothing, IKE or ESP, since the last check is probed; one that
// leaves Retry-spaced probes unanswered five times is declared dead.
func (e *Engine) dpdCheck(sa *isakmpSA) {
	if sa.dead {
		return
	}
	k := e.cfg.Crypto()
	if k == nil || k.Keepalive == nil {
		return
	}
	ka := k.Keepalive
	interval := e.secs(uint64(ka.Interval))
	retry := e.secs(uint64(max(ka.Retry, 2)))
	peer := sa.remote.Addr()
	now := e.opts.Now()
	in := e.inboundPackets(peer)
	heard := now.Sub(sa.dpd.heard) < interval || in != sa.dpd.lastIn
	sa.dpd.lastIn = in
	if sa.dpd.outstanding == 0 && heard && !ka.Periodic {
		sa.dpd.timer = e.after(interval, func() { e.dpdCheck(sa) })
		return
	}
	if sa.dpd.outstanding >= 5 {
		e.debugf(sa.connID, peer, "ISAKMP:(%d):peer %v not responding! DPD declares it dead", sa.connID, peer)
		e.fail(sa.connID, peer, ReasonDPDDead, fmt.Sprintf("%d R-U-THERE probes unanswered", sa.dpd.outstanding))
		e.deleteSA(sa, ReasonDPDDead, true)
		return
	}
	sa.dpd.seq++
	sa.dpd.outstanding++
	e.debugf(sa.connID, peer, "ISAKMP:(%d):DPD/R_U_THERE sent to %v, sequence 0x%X", sa.connID, peer, sa.dpd.seq)
	e.sendInfo(sa, []isakmp.Payload{isakmp.NewDPD(isakmp.NotifyRUThere, sa.icky, sa.rcky, sa.dpd.seq)})
	sa.dpd.timer = e.after(retry, func() { e.dpdCheck(sa) })
}

func (e *Engine) inboundPackets(peer netip.Addr) uint64 {
	in := e.opts.Installer
	if in == nil {
		return 0
	}
	var n uint64
	for _, c := range e.children {
		if c.Peer == peer {
			if ctr, err := in.Counters(c.in); err == nil {
				n += ctr.Packets
			}
		}
	}
	return n
}

// startNATKeepalive sends a NAT keepalive every `crypto isakmp nat keepalive` seconds while this
// ISAKMP SA lives and a NAT stands in front of us (RFC 3948 §2.3: the side behind the NAT keeps
// its mapping alive; IOS sends none unless configured).
func (e *Engine) startNATKeepalive(sa *isakmpSA) {
	k := e.cfg.Crypto()
	ka, ok := e.opts.Transport.(NATKeepaliver)
	if k == nil || k.NATKeepalive == 0 || !ok || !sa.nat.localBehind || !sa.nat.floated {
		return
	}
	interval := e.secs(uint64(k.NATKeepalive))
	var tick func()
	tick = func() {
		if sa.dead {
			return
		}
		if err := ka.SendNATKeepalive(sa.local, sa.remote); err != nil {
			e.debugf(sa.connID, sa.remote.Addr(), "ISAKMP:(%d): NAT keepalive to %v failed: %v", sa.connID, sa.remote, err)
		}
		sa.natTimer = e.after(interval, tick)
	}
	sa.natTimer = e.after(interval, tick)
}
