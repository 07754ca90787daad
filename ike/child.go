package ike

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/tunnelbox/tunnelbox/ike/ikecrypto"
	"github.com/tunnelbox/tunnelbox/ike/isakmp"
	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
	"github.com/tunnelbox/tunnelbox/xfrm"
)

// ChildSA is one negotiated pair of IPsec SAs (inbound and outbound) for one proxy-ID pair.
type ChildSA struct {
	ID        int // conn-id of the pair (2001, 2002, ...)
	P1ConnID  int
	Peer      netip.Addr
	PeerID    string         // the peer's phase-1 identity (ID payload body)
	Local     netip.AddrPort // our gateway address and IKE port in use (4500 under NAT-T)
	Remote    netip.AddrPort
	Map       string
	Seq       int
	Interface string
	LocalSel  Selector
	RemoteSel Selector
	SPIIn     uint32
	SPIOut    uint32
	Transform runningconfig.TransformSet
	Tunnel    bool
	UDPEncap  bool
	PFSGroup  int
	LifeSecs  uint64
	LifeKB    uint64
	Created   time.Time
	Initiator bool
	Reqid     uint32

	// KeysIn / KeysOut are the ESP keys, kept for the teaching views and the capture export.
	KeysIn, KeysOut ikecrypto.ESPKeys

	in, out    *xfrm.SA
	pols       []xfrm.PolicyID
	rekeyTimer *time.Timer
	hardTimer  *time.Timer
	rekeying   bool
	gone       bool
	inAdded    bool // the inbound SA is in the data plane
}

// installChild creates the ChildSA of a finished Quick Mode and hands it to the data plane:
// inbound SA first, then outbound, then the policies (make-before-break on rekey: the old pair
// is removed only after the new one is in place).
func (e *Engine) buildChild(sa *isakmpSA, qm *quickMode, keysIn, keysOut ikecrypto.ESPKeys) (*ChildSA, error) {
	enc, auth, _, err := transformAlgs(qm.chosen)
	if err != nil {
		return nil, err
	}
	e.childID++
	c := &ChildSA{
		ID: e.childID, P1ConnID: sa.connID, Peer: sa.remote.Addr(), PeerID: sa.peerID, Local: sa.local, Remote: sa.remote,
		Map: qm.req.entry.Entry.Map, Seq: qm.req.entry.Entry.Seq, Interface: qm.req.entry.Interface,
		LocalSel: qm.req.local, RemoteSel: qm.req.remote, SPIIn: qm.spiIn, SPIOut: qm.spiOut,
		Transform: qm.chosen, Tunnel: qm.encap.Tunnel(), UDPEncap: qm.encap.UDP(), PFSGroup: qm.group,
		LifeSecs: qm.lifeSec, LifeKB: qm.lifeKB, Created: e.opts.Now(), Initiator: qm.role == initiator,
		KeysIn: keysIn, KeysOut: keysOut,
	}
	// The same peer and selectors keep their reqid across rekeys and share it with the trap
	// policy of their ACL line, so the policies stay in place.
	c.Reqid = e.reqidFor(c.Peer, c.LocalSel, c.RemoteSel)
	mode := xfrm.ModeTransport
	if c.Tunnel {
		mode = xfrm.ModeTunnel
	}
	life := xfrm.Lifetime{HardSeconds: c.LifeSecs, HardBytes: c.LifeKB * 1024}
	if c.LifeKB != 0 {
		life.SoftBytes = life.HardBytes / 10 * 9
	}
	mk := func(src, dst netip.AddrPort, spi uint32, dir xfrm.Dir, k ikecrypto.ESPKeys) *xfrm.SA {
		x := &xfrm.SA{Src: src.Addr(), Dst: dst.Addr(), SPI: spi, Proto: xfrm.ProtoESP, Mode: mode, Reqid: c.Reqid,
			Dir: dir, Enc: enc.Enc, Auth: auth, AuthKey: k.Auth, Lifetime: life}
		x.EncKey = k.Enc
		if n := enc.Enc.SaltLen(); n > 0 && len(k.Enc) >= n {
			x.EncKey, x.Salt = k.Enc[:len(k.Enc)-n], k.Enc[len(k.Enc)-n:]
		}
		if c.UDPEncap {
			x.Encap = &xfrm.Encap{SrcPort: src.Port(), DstPort: dst.Port()}
		}
		if w := e.replayWindow(); w != 0 {
			x.ReplayWindow = w
		}
		return x
	}
	c.in = mk(c.Remote, c.Local, c.SPIIn, xfrm.DirIn, keysIn)
	c.out = mk(c.Local, c.Remote, c.SPIOut, xfrm.DirOut, keysOut)
	if e.opts.TestCorruptKeys && len(c.in.AuthKey) > 0 {
		c.in.AuthKey = append([]byte(nil), c.in.AuthKey...)
		c.in.AuthKey[0] ^= 0x80
	}
	return c, nil
}

// addInbound hands a pair's inbound SA to the data plane. The responder does it when it sends QM2,
// so that the initiator's first packets after QM3 (a rekey switches to the new outbound SA at once)
// find it; the rest of the pair follows with QM3.
func (e *Engine) addInbound(sa *isakmpSA, c *ChildSA) error {
	if in := e.opts.Installer; in != nil {
		if err := in.AddSA(c.in); err != nil {
			e.fail(sa.connID, c.Peer, ReasonDataplane, err.Error())
			return fmt.Errorf("data plane refused inbound SA: %w", err)
		}
	}
	c.inAdded = true
	return nil
}

// installChild completes a finished Quick Mode's pair in the data plane: inbound SA (unless the
// responder added it with QM2), outbound SA, then the policies (make-before-break on rekey: the
// old pair is removed only after the new one is in place).
func (e *Engine) installChild(sa *isakmpSA, qm *quickMode, c *ChildSA) error {
	if !c.inAdded {
		if err := e.addInbound(sa, c); err != nil {
			return err
		}
	}
	mode := xfrm.ModeTransport
	if c.Tunnel {
		mode = xfrm.ModeTunnel
	}
	if in := e.opts.Installer; in != nil {
		if err := in.AddSA(c.out); err != nil {
			in.DelSA(c.in)
			e.fail(sa.connID, c.Peer, ReasonDataplane, err.Error())
			return fmt.Errorf("data plane refused outbound SA: %w", err)
		}
		tmplOut := xfrm.Template{Src: c.Local.Addr(), Dst: c.Remote.Addr(), Proto: xfrm.ProtoESP, Mode: mode, Reqid: c.Reqid}
		tmplIn := xfrm.Template{Src: c.Remote.Addr(), Dst: c.Local.Addr(), Proto: xfrm.ProtoESP, Mode: mode, Reqid: c.Reqid}
		pols := []xfrm.Policy{
			{Src: c.LocalSel.Prefix, Dst: c.RemoteSel.Prefix, Proto: c.LocalSel.Proto, SrcPort: c.LocalSel.Port,
				DstPort: c.RemoteSel.Port, Dir: xfrm.DirOut, Action: xfrm.ActionProtect, Tmpl: tmplOut},
			{Src: c.RemoteSel.Prefix, Dst: c.LocalSel.Prefix, Proto: c.LocalSel.Proto, SrcPort: c.RemoteSel.Port,
				DstPort: c.LocalSel.Port, Dir: xfrm.DirIn, Action: xfrm.ActionProtect, Tmpl: tmplIn},
			{Src: c.RemoteSel.Prefix, Dst: c.LocalSel.Prefix, Proto: c.LocalSel.Proto, SrcPort: c.RemoteSel.Port,
				DstPort: c.LocalSel.Port, Dir: xfrm.DirFwd, Action: xfrm.ActionProtect, Tmpl: tmplIn},
		}
		for i := range pols {
			id := pols[i].ID()
			if ref := e.policies[id]; ref != nil {
				ref.refs++
				c.pols = append(c.pols, id)
				continue
			}
			if err := in.AddPolicy(&pols[i]); err != nil && !errors.Is(err, xfrm.ErrExists) {
				e.debugf(sa.connID, c.Peer, "IPSEC: policy %v refused: %v", &pols[i], err)
				continue
			}
			e.policies[id] = &policyRef{p: pols[i], refs: 1}
			c.pols = append(c.pols, id)
		}
	}
	e.children = append(e.children, c)
	e.publishCounters()
	e.ipsecDebugf(c.Peer, "IPSEC(create_sa): sa created,\n  (sa) sa_dest= %v, sa_proto= 50, \n    sa_spi= 0x%X(%d), \n    sa_trans= %s , sa_conn_id= %d\n    sa_lifetime(k/sec)= (%d/%d)",
		c.Local.Addr(), c.SPIIn, c.SPIIn, tsShow(c.Transform), c.ID, c.LifeKB, c.LifeSecs)
	e.ipsecDebugf(c.Peer, "IPSEC(create_sa): sa created,\n  (sa) sa_dest= %v, sa_proto= 50, \n    sa_spi= 0x%X(%d), \n    sa_trans= %s , sa_conn_id= %d\n    sa_lifetime(k/sec)= (%d/%d)",
		c.Peer, c.SPIOut, c.SPIOut, tsShow(c.Transform), c.ID+1, c.LifeKB, c.LifeSecs)
	e.emit(Event{Kind: EvPhase2Up, ConnID: sa.connID, Peer: c.Peer,
		Text: fmt.Sprintf("IPsec SAs with %v up: local %v remote %v, SPI in 0x%08X out 0x%08X",
			c.Peer, c.LocalSel.Prefix, c.RemoteSel.Prefix, c.SPIIn, c.SPIOut)})
	e.armChildTimers(c)
	// Make-before-break: the pair this one replaces goes after a grace period, not at once: until
	// the responder has processed QM3 it still sends on the old pair, and those packets need the
	// old inbound SA. Traffic we send already takes the new outbound SA (the newest wins).
	if old := qm.req.rekeyOf; old != nil && !old.gone {
		e.after(e.retireGrace(old), func() {
			if !old.gone {
				e.deleteChildAndNotify(old, ReasonDeleted)
			}
		})
	}
	// When the peer rekeyed, the older pair goes on the peer's Delete or at its lifetime.
	return nil
}

func tsShow(ts runningconfig.TransformSet) string {
	s := ""
	for i, t := range ts.ShowTransforms() {
		if i > 0 {
			s += " "
		}
		s += t
	}
	return s
}

func (e *Engine) replayWindow() int {
	if k := e.cfg.Crypto(); k != nil {
		return k.ReplayWindow
	}
	return 0
}

// armChildTimers starts the lifetime timers: the initiator rekeys before the hard lifetime
// (make-before-break); both sides remove the pair at the hard lifetime.
func (e *Engine) armChildTimers(c *ChildSA) {
	if c.LifeSecs == 0 {
		return
	}
	life := e.secs(c.LifeSecs)
	margin := life / 10
	if margin > maxRekeyMargin {
		margin = maxRekeyMargin
	}
	if c.Initiator {
		c.rekeyTimer = e.after(life-margin, func() { e.rekeyChild(c) })
	}
	c.hardTimer = e.after(life, func() {
		if !c.gone {
			e.deleteChildAndNotify(c, ReasonDeleted)
		}
	})
}

// retireGrace is how long a rekeyed pair stays after its successor is installed: half of the
// rekey margin (so it always goes before its hard lifetime), at most 10 configured seconds.
func (e *Engine) retireGrace(old *ChildSA) time.Duration {
	margin := min(e.secs(old.LifeSecs)/10, maxRekeyMargin)
	return min(margin/2, e.secs(10))
}

// rekeyChild negotiates a new pair for the same selectors before c expires.
func (e *Engine) rekeyChild(c *ChildSA) {
	if c.gone || c.rekeying {
		return
	}
	c.rekeying = true
	ent, ok := e.entryFor(c.Map, c.Seq, c.Interface)
	if !ok {
		return // the crypto map entry went away: let the pair expire
	}
	e.debugf(c.P1ConnID, c.Peer, "IPSEC: rekeying SA pair 0x%08X/0x%08X with %v", c.SPIIn, c.SPIOut, c.Peer)
	e.request(ent, childRequest{entry: ent, local: c.LocalSel, remote: c.RemoteSel, rekeyOf: c}, false)
}

// entryFor finds the active (complete, bound) crypto map entry map/seq on ifname.
func (e *Engine) entryFor(mapName string, seq int, ifname string) (runningconfig.ResolvedEntry, bool) {
	for _, ent := range e.activeEntries() {
		if ent.Entry.Map == mapName && ent.Entry.Seq == seq && (ifname == "" || ent.Interface == ifname) {
			return ent, true
		}
	}
	return runningconfig.ResolvedEntry{}, false
}

// deleteChildAndNotify removes a pair and tells the peer (Delete with our inbound SPI).
func (e *Engine) deleteChildAndNotify(c *ChildSA, why Reason) {
	if sa := e.p1For(c.Peer); sa != nil {
		d := &isakmp.Delete{DOI: isakmp.DOIIPsec, Protocol: isakmp.ProtocolESP, SPIs: [][]byte{spiBytes(c.SPIIn)}}
		e.sendInfo(sa, []isakmp.Payload{d})
	}
	e.removeChild(c, why, false)
}

// removeChild takes a pair out of the data plane and the table.
func (e *Engine) removeChild(c *ChildSA, why Reason, _ bool) {
	if c.gone {
		return
	}
	c.gone = true
	for _, t := range []*time.Timer{c.rekeyTimer, c.hardTimer} {
		if t != nil {
			t.Stop()
		}
	}
	if in := e.opts.Installer; in != nil {
		for _, id := range c.pols {
			ref := e.policies[id]
			if ref == nil {
				continue
			}
			ref.refs--
			if ref.refs == 0 {
				e.delPolicy(id) // while c is in e.children: its counts go to its ACL line
			}
		}
		in.DelSA(c.out)
		in.DelSA(c.in)
	}
	delete(e.spis, c.SPIIn)
	e.children = slices.DeleteFunc(e.children, func(o *ChildSA) bool { return o == c })
	e.publishCounters()
	e.releaseReqid(reqidKey{c.Peer, c.LocalSel, c.RemoteSel})
	e.emit(Event{Kind: EvPhase2Down, ConnID: c.P1ConnID, Peer: c.Peer, Reason: why,
		Text: fmt.Sprintf("IPsec SAs with %v down (SPI in 0x%08X out 0x%08X): %s", c.Peer, c.SPIIn, c.SPIOut, why)})
}
