package ike

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
	"github.com/tunnelbox/tunnelbox/xfrm"
)

// request asks for an IPsec SA pair: Quick Mode on an established ISAKMP SA with the entry's
// first peer, or phase 1 first.
func (e *Engine) request(ent runningconfig.ResolvedEntry, req childRequest, aggressive bool) {
	if len(ent.Peers) == 0 {
		return
	}
	peer := ent.Peers[0]
	// Nothing to do when the pair exists (and is not being replaced) or is being negotiated.
	for _, c := range e.children {
		if c.Peer == peer && c.LocalSel == req.local && c.RemoteSel == req.remote && req.rekeyOf == nil {
			return
		}
	}
	for _, sa := range e.sas {
		if sa.remote.Addr() != peer {
			continue
		}
		for _, qm := range sa.qms {
			if qm.role == initiator && qm.state == qmI1Sent && qm.req.local == req.local && qm.req.remote == req.remote {
				return
			}
		}
		for _, p := range sa.pending {
			if p.local == req.local && p.remote == req.remote {
				return
			}
		}
	}
	if sa := e.p1For(peer); sa != nil {
		e.startQuick(sa, req)
		return
	}
	if sa := e.negotiating(peer); sa != nil {
		sa.pending = append(sa.pending, req)
		return
	}
	local := ent.LocalAddr
	if !local.IsValid() {
		e.fail(0, peer, ReasonNoMap, "interface "+ent.Interface+" has no IP address")
		return
	}
	e.startPhase1(local, peer, aggressive, []childRequest{req})
}

// Initiate brings up crypto map entry mapName seq (every entry of the map when seq is 0) without
// waiting for traffic: one Quick Mode per permit line of its ACL. It is the lab command
// `crypto map NAME [SEQ] initiate [aggressive]`.
func (e *Engine) Initiate(mapName string, seq int, aggressive bool) error {
	var err error
	if derr := e.do(func() {
		found := false
		for _, ent := range e.activeEntries() {
			if ent.Entry.Map != mapName || (seq != 0 && ent.Entry.Seq != seq) {
				continue
			}
			found = true
			for _, ace := range ent.ACL.Rules() {
				l, r, ok := selectorsOf(ace)
				if !ok {
					continue
				}
				e.request(ent, childRequest{entry: ent, local: l, remote: r}, aggressive)
			}
		}
		if !found {
			err = fmt.Errorf("ike: crypto map %s %d is not bound to an interface or is incomplete", mapName, seq)
		}
	}); derr != nil {
		return derr
	}
	return err
}

// Acquire starts negotiation for a packet that matched a crypto ACL line with no SA: the first
// active entry whose ACL permit line matches the flow (as IOS does).
func (e *Engine) Acquire(f xfrm.Flow) {
	e.post(func() { e.acquire(f) })
}

func (e *Engine) acquire(f xfrm.Flow) {
	for _, ent := range e.activeEntries() {
		for _, ace := range ent.ACL.Entries {
			if ace.IsRemark() || !ace.Matches(int(f.Proto), f.Src, f.Dst, f.SrcPort, f.DstPort) {
				continue
			}
			if !ace.Permit {
				break // a deny line: the packet passes in clear
			}
			l, r, ok := selectorsOf(ace)
			if !ok {
				break
			}
			if ent.Entry.PerHost {
				l = Selector{Prefix: netip.PrefixFrom(f.Src, 32), Proto: l.Proto, Port: l.Port}
				r = Selector{Prefix: netip.PrefixFrom(f.Dst, 32), Proto: r.Proto, Port: r.Port}
			}
			e.request(ent, childRequest{entry: ent, local: l, remote: r}, false)
			return
		}
	}
}

func (e *Engine) dataplaneEvent(ev xfrm.Event) {
	switch ev.Kind {
	case xfrm.EventAcquire:
		e.acquire(ev.Flow)
	case xfrm.EventExpireSoft, xfrm.EventExpireHard:
		if ev.SA == nil {
			return
		}
		for _, c := range slices.Clone(e.children) {
			if (c.SPIIn == ev.SA.SPI && ev.SA.Dst == c.Local.Addr()) || (c.SPIOut == ev.SA.SPI && ev.SA.Dst == c.Peer) {
				if ev.Kind == xfrm.EventExpireSoft {
					if c.Initiator {
						e.rekeyChild(c)
					}
				} else {
					e.deleteChildAndNotify(c, ReasonDeleted)
				}
			}
		}
	}
}

// ClearAll deletes every SA (`clear crypto session`, `clear crypto sa`), telling the peers.
func (e *Engine) ClearAll() error {
	return e.do(func() {
		for _, sa := range e.sortedSAs() {
			e.sendDeleteAll(sa)
			e.deleteSA(sa, ReasonDeleted, true)
		}
		for _, c := range slices.Clone(e.children) {
			e.removeChild(c, ReasonDeleted, false)
		}
	})
}

// ClearIPsec deletes the IPsec SAs (all, or those with peer, or of map) and keeps the ISAKMP SAs
// (`clear crypto sa [peer A | map NAME]`).
func (e *Engine) ClearIPsec(peer netip.Addr, mapName string) error {
	return e.do(func() {
		for _, c := range slices.Clone(e.children) {
			if (peer.IsValid() && c.Peer != peer) || (mapName != "" && c.Map != mapName) {
				continue
			}
			e.deleteChildAndNotify(c, ReasonDeleted)
		}
	})
}

// ClearISAKMP deletes ISAKMP SAs (all, or the one with conn-id connID): `clear crypto isakmp`.
func (e *Engine) ClearISAKMP(connID int) error {
	var err error
	derr := e.do(func() {
		n := 0
		for _, sa := range e.sortedSAs() {
			if connID != 0 && sa.connID != connID {
				continue
			}
			n++
			e.sendDeleteP1(sa)
			e.deleteSA(sa, ReasonDeleted, false)
		}
		if connID != 0 && n == 0 {
			err = fmt.Errorf("ike: no ISAKMP SA with conn-id %d", connID)
		}
	})
	if derr != nil {
		return derr
	}
	return err
}

// P1Info is one ISAKMP SA as `show crypto isakmp sa` needs it.
type P1Info struct {
	ConnID      int
	Local       netip.AddrPort
	Remote      netip.AddrPort
	State       P1State
	Initiator   bool
	Aggressive  bool
	Established bool
	Policy      runningconfig.ISAKMPPolicy
	Lifetime    time.Duration
	Remaining   time.Duration
	NATT        bool
	DPD         bool
	ICookie     [8]byte
	RCookie     [8]byte
}

// ChildInfo is one IPsec SA pair with the data plane's counters.
type ChildInfo struct {
	ChildSA
	In, Out   xfrm.Counters
	Remaining time.Duration
}

// Status is a snapshot of the engine for the show commands.
type Status struct {
	ISAKMP   []P1Info
	IPsec    []ChildInfo
	LastFail map[netip.Addr]Event

	// Flows are the data plane's counters of every outbound flow with a policy (trap or SA
	// pair) or with counts kept from deleted policies; empty when the data plane does not
	// count per policy (see PolicyCounter).
	Flows map[FlowKey]FlowStats
	// InvalidSPI is, for every peer of the active crypto map entries and of the SA pairs, the
	// ESP datagrams it sent with an unknown SPI; nil when the data plane does not count them
	// (see InvalidSPICounter).
	InvalidSPI map[netip.Addr]uint64
}

// Status returns a snapshot of every SA.
func (e *Engine) Status() Status {
	var st Status
	e.do(func() {
		now := e.opts.Now()
		for _, sa := range e.sortedSAs() {
			p := P1Info{ConnID: sa.connID, Local: sa.local, Remote: sa.remote, State: sa.state,
				Initiator: sa.role == initiator, Aggressive: sa.aggressive, Established: sa.established(),
				Policy: sa.policy, Lifetime: sa.life, NATT: sa.nat.detected(), DPD: sa.nat.peerHasDPD,
				ICookie: sa.icky, RCookie: sa.rcky}
			if sa.established() {
				p.Remaining = max(0, sa.life-now.Sub(sa.upSince))
			}
			st.ISAKMP = append(st.ISAKMP, p)
		}
		for _, c := range e.children {
			ci := ChildInfo{ChildSA: *c}
			ci.Remaining = max(0, e.secs(c.LifeSecs)-now.Sub(c.Created))
			if in := e.opts.Installer; in != nil {
				ci.In, _ = in.Counters(c.in)
				ci.Out, _ = in.Counters(c.out)
			}
			st.IPsec = append(st.IPsec, ci)
		}
		st.LastFail = make(map[netip.Addr]Event, len(e.lastFail))
		for k, v := range e.lastFail {
			st.LastFail[k] = v
		}
		if _, ok := e.opts.Installer.(PolicyCounter); ok {
			st.Flows = e.flowStats()
		}
		st.InvalidSPI = e.invalidSPIs()
	})
	return st
}

// History returns the last events with peer (every peer when peer is invalid), oldest first:
// what the teaching views draw.
func (e *Engine) History(peer netip.Addr) []Event {
	var out []Event
	e.do(func() {
		if peer.IsValid() {
			out = slices.Clone(e.history[peer])
			return
		}
		for _, h := range e.history {
			out = append(out, h...)
		}
		slices.SortStableFunc(out, func(a, b Event) int { return a.Time.Compare(b.Time) })
	})
	return out
}
