package ike

import (
	"net/netip"
	"sync/atomic"

	"github.com/tunnelbox/tunnelbox/xfrm"
)

// Crypto ACL match counters. IOS counts the packets that match each line of a crypto ACL
// (`show access-lists`: "10 permit ip 10.1.1.0 0.0.0.255 10.2.2.0 0.0.0.255 (11 matches)") and,
// per proxy-identity pair, the packets dropped while no SA existed (`#pkts no sa (send)`). Here
// the data plane counts packets per outbound policy and the engine, which knows which ACL line
// each of its policies came from, maps the counts to lines:
//
//   - a trap policy belongs to the line it was made for (the first crypto map entry that traps
//     a selector owns it, as IOS uses the first entry that matches);
//   - an SA pair's own outbound policy (a responder's narrower proxy identities) belongs to the
//     first permit line of its crypto map entry's ACL that covers its identities;
//   - an SA pair whose identities are its line's shares the trap policy.
//
// A policy the engine deletes hands its counts to its line first, so a line's count does not
// drop when SAs go (rekeys, clear crypto sa); a line that is removed or changed starts again
// from zero, as a new IOS access-list entry does.

// PolicyCounter is implemented by data planes that count packets per outbound policy
// (xfrm/userspace): matched is the packets for which the policy was the first outbound match,
// noSA those dropped because no SA existed yet. The engine asks for it with a type assertion on
// Options.Installer; without it every count is zero.
type PolicyCounter interface {
	PolicyCounters(p *xfrm.Policy) (matched, noSA uint64, err error)
}

// InvalidSPICounter is implemented by data planes that count inbound ESP with an unknown SPI
// per sending peer (IOS "#pkts invalid sa (rcv)", %CRYPTO-4-RECVD_PKT_INV_SPI).
type InvalidSPICounter interface {
	InvalidSPI(peer netip.Addr) uint64
}

// ACLLine names one entry of an access list: the list's name ("101", "VPN") and sequence number.
type ACLLine struct {
	List string
	Seq  int
}

// FlowKey names an outbound flow: the proxy identities of one outbound policy (our side
// first), as `show crypto ipsec sa` prints them in a block.
type FlowKey struct {
	Local, Remote Selector
}

// FlowStats are the data plane's counters of one outbound flow, deleted policies included.
type FlowStats struct {
	Matches uint64 // packets the flow's policy matched (protected, or dropped for want of an SA)
	NoSA    uint64 // of those, dropped because no SA existed yet (IOS "#pkts no sa (send)")
}

// lineKey is an ACL line with the proxy identities it stands for: when a line is edited its
// selectors change and the retired counts of the old line no longer apply.
type lineKey struct {
	line ACLLine
	sel  FlowKey
}

// counterState is the engine's bookkeeping of policy counts (loop goroutine only, except view).
type counterState struct {
	retiredFlows map[FlowKey]FlowStats // counts of deleted outbound policies
	retiredLines map[lineKey]uint64    // their matches, by the ACL line they belonged to
	view         atomic.Pointer[aclView]
}

// aclView is what ACLMatches reads without a round trip to the loop: the live outbound policies
// of each line and the counts its deleted policies left. Immutable once published.
type aclView struct {
	live    map[ACLLine][]xfrm.Policy
	retired map[ACLLine]uint64
}

// flowKeyOf is the flow of an outbound policy.
func flowKeyOf(p *xfrm.Policy) FlowKey {
	return FlowKey{Local: Selector{Prefix: p.Src, Proto: p.Proto, Port: p.SrcPort},
		Remote: Selector{Prefix: p.Dst, Proto: p.Proto, Port: p.DstPort}}
}

// countsOf asks the data plane for the counters of p (zero when it does not count).
func (e *Engine) countsOf(p *xfrm.Policy) FlowStats {
	pc, ok := e.opts.Installer.(PolicyCounter)
	if !ok {
		return FlowStats{}
	}
	m, n, err := pc.PolicyCounters(p)
	if err != nil {
		return FlowStats{}
	}
	return FlowStats{Matches: m, NoSA: n}
}

// lineOf returns the ACL line (and that line's selectors) an installed outbound policy counts
// for: its trap's line, else the line of the entry of an SA pair that uses it.
func (e *Engine) lineOf(id xfrm.PolicyID) (lineKey, bool) {
	if lk, ok := e.trap.lines[id]; ok {
		return lk, true
	}
	for _, c := range e.children {
		if !containsID(c.pols, id) {
			continue
		}
		ent, ok := e.entryFor(c.Map, c.Seq, c.Interface)
		if !ok || ent.ACL == nil {
			continue
		}
		for _, ace := range ent.ACL.Entries {
			if ace.IsRemark() {
				continue
			}
			l, r, ok := selectorsOf(ace)
			if ok && within(c.LocalSel, l) && within(c.RemoteSel, r) {
				return lineKey{ACLLine{ent.ACL.Name, ace.Seq}, FlowKey{l, r}}, true
			}
		}
	}
	return lineKey{}, false
}

func containsID(ids []xfrm.PolicyID, id xfrm.PolicyID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// delPolicy removes the installed policy id from the data plane and the engine's table. An
// outbound policy's counts are read first and kept for its flow and its ACL line.
func (e *Engine) delPolicy(id xfrm.PolicyID) {
	ref := e.policies[id]
	if ref == nil {
		return
	}
	p := ref.p
	if p.Dir == xfrm.DirOut {
		if c := e.countsOf(&p); c != (FlowStats{}) {
			if e.ctr.retiredFlows == nil {
				e.ctr.retiredFlows = map[FlowKey]FlowStats{}
				e.ctr.retiredLines = map[lineKey]uint64{}
			}
			k := flowKeyOf(&p)
			r := e.ctr.retiredFlows[k]
			e.ctr.retiredFlows[k] = FlowStats{Matches: r.Matches + c.Matches, NoSA: r.NoSA + c.NoSA}
			if lk, ok := e.lineOf(id); ok {
				e.ctr.retiredLines[lk] += c.Matches
			}
		}
	}
	if in := e.opts.Installer; in != nil {
		in.DelPolicy(&p)
	}
	delete(e.policies, id)
}

// configuredLines returns every crypto ACL permit line of the active crypto map entries with
// its selectors.
func (e *Engine) configuredLines() map[lineKey]bool {
	out := map[lineKey]bool{}
	for _, ent := range e.cfg.ActiveMapEntries() {
		if ent.ACL == nil {
			continue
		}
		for _, ace := range ent.ACL.Entries {
			if ace.IsRemark() {
				continue
			}
			if l, r, ok := selectorsOf(ace); ok {
				out[lineKey{ACLLine{ent.ACL.Name, ace.Seq}, FlowKey{l, r}}] = true
			}
		}
	}
	return out
}

// pruneRetired forgets the kept counts of lines that are no longer configured as they were,
// and of flows that are neither a configured line nor installed (after a configuration change).
func (e *Engine) pruneRetired() {
	lines := e.configuredLines()
	flows := map[FlowKey]bool{}
	for lk := range lines {
		flows[lk.sel] = true
	}
	for id, ref := range e.policies {
		if id.Dir == xfrm.DirOut {
			flows[flowKeyOf(&ref.p)] = true
		}
	}
	for lk := range e.ctr.retiredLines {
		if !lines[lk] {
			delete(e.ctr.retiredLines, lk)
		}
	}
	for k := range e.ctr.retiredFlows {
		if !flows[k] {
			delete(e.ctr.retiredFlows, k)
		}
	}
}

// publishCounters rebuilds the view ACLMatches reads. Called on the loop after every change of
// the installed policies or the configuration.
func (e *Engine) publishCounters() {
	v := &aclView{live: map[ACLLine][]xfrm.Policy{}, retired: map[ACLLine]uint64{}}
	lines := e.configuredLines()
	for id, ref := range e.policies {
		if id.Dir != xfrm.DirOut || ref.p.Action != xfrm.ActionProtect {
			continue
		}
		if lk, ok := e.lineOf(id); ok && lines[lk] {
			v.live[lk.line] = append(v.live[lk.line], ref.p)
		}
	}
	for lk, n := range e.ctr.retiredLines {
		if lines[lk] {
			v.retired[lk.line] += n
		}
	}
	e.ctr.view.Store(v)
}

// ACLMatches returns how many packets matched the crypto ACL line seq of list (the count `show
// access-lists` prints): packets the data plane protected or dropped for want of an SA under
// the line's policies, including policies since removed. Lines that are no crypto ACL line of
// an active crypto map entry, deny lines and data planes that do not count have none. It reads
// the data plane's atomics without waiting for the engine's loop; safe for concurrent use.
// Engine implements shell/commands.ACLCounter with it.
func (e *Engine) ACLMatches(list string, seq int) uint64 {
	v := e.ctr.view.Load()
	if v == nil {
		return 0
	}
	line := ACLLine{list, seq}
	n := v.retired[line]
	pc, ok := e.opts.Installer.(PolicyCounter)
	if !ok {
		return n
	}
	for i := range v.live[line] {
		if m, _, err := pc.PolicyCounters(&v.live[line][i]); err == nil {
			n += m
		}
	}
	return n
}

// flowStats returns the counters of every outbound flow with an installed policy or kept
// counts (loop goroutine).
func (e *Engine) flowStats() map[FlowKey]FlowStats {
	out := make(map[FlowKey]FlowStats, len(e.ctr.retiredFlows)+len(e.policies))
	for k, v := range e.ctr.retiredFlows {
		out[k] = v
	}
	for id, ref := range e.policies {
		if id.Dir != xfrm.DirOut {
			continue
		}
		c := e.countsOf(&ref.p)
		k := flowKeyOf(&ref.p)
		r := out[k]
		out[k] = FlowStats{Matches: r.Matches + c.Matches, NoSA: r.NoSA + c.NoSA}
	}
	return out
}

// invalidSPIs returns the unknown-SPI counts of every peer of the configuration and of the SA
// pairs (loop goroutine); nil when the data plane does not count them.
func (e *Engine) invalidSPIs() map[netip.Addr]uint64 {
	ic, ok := e.opts.Installer.(InvalidSPICounter)
	if !ok {
		return nil
	}
	out := map[netip.Addr]uint64{}
	add := func(p netip.Addr) {
		if _, seen := out[p]; !seen && p.IsValid() {
			out[p] = ic.InvalidSPI(p)
		}
	}
	for _, ent := range e.cfg.ActiveMapEntries() {
		for _, p := range ent.Peers {
			add(p)
		}
	}
	for _, c := range e.children {
		add(c.Peer)
	}
	return out
}
