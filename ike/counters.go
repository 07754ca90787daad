package ike

import (
	"net/netip"
	"sync/atomic"

	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
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

// counterState is the engine's bookkeeping of policy counts (loop goroutine only, except view
// and stale).
type counterState struct {
	retiredFlows map[FlowKey]FlowStats // counts of deleted outbound policies
	retiredLines map[lineKey]uint64    // their matches, by the ACL line they belonged to
	view         atomic.Pointer[aclView]
	dirty        bool        // the view is out of date and a rebuild is queued on the loop
	stale        atomic.Bool // dirty, for readers off the loop
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
	return e.newLineResolver().lineOf(id)
}

// lineResolver answers lineOf for many policies at a time. publishCounters runs after every
// SA pair that comes or goes and resolves every installed policy: looking up each policy's
// users among all pairs, and the active crypto map entries once per pair, made that cubic in
// the number of tunnels (a third of a responder's CPU at 300 tunnels in the setup-rate lab
// benchmark). The resolver indexes both once per pass.
type lineResolver struct {
	trap  map[xfrm.PolicyID]lineKey
	users map[xfrm.PolicyID][]*ChildSA // the pairs that use each policy, in e.children order
	ents  []runningconfig.ResolvedEntry
	entry map[entryKey]int // first index in ents of map/seq/interface, and of map/seq ("")
}

type entryKey struct {
	m     string
	seq   int
	iface string
}

func (e *Engine) newLineResolver() *lineResolver {
	r := &lineResolver{trap: e.trap.lines, users: make(map[xfrm.PolicyID][]*ChildSA, len(e.policies)),
		ents: e.activeEntries(), entry: map[entryKey]int{}}
	for _, c := range e.children {
		for _, id := range c.pols {
			if u := r.users[id]; len(u) == 0 || u[len(u)-1] != c {
				r.users[id] = append(u, c)
			}
		}
	}
	for i, ent := range r.ents {
		for _, k := range []entryKey{{ent.Entry.Map, ent.Entry.Seq, ent.Interface}, {ent.Entry.Map, ent.Entry.Seq, ""}} {
			if _, ok := r.entry[k]; !ok {
				r.entry[k] = i
			}
		}
	}
	return r
}

// entryFor is Engine.entryFor over the resolver's snapshot of the active entries.
func (r *lineResolver) entryFor(mapName string, seq int, ifname string) (runningconfig.ResolvedEntry, bool) {
	i, ok := r.entry[entryKey{mapName, seq, ifname}]
	if !ok {
		return runningconfig.ResolvedEntry{}, false
	}
	return r.ents[i], true
}

func (r *lineResolver) lineOf(id xfrm.PolicyID) (lineKey, bool) {
	if lk, ok := r.trap[id]; ok {
		return lk, true
	}
	for _, c := range r.users[id] {
		ent, ok := r.entryFor(c.Map, c.Seq, c.Interface)
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
	return linesOf(e.activeEntries())
}

// linesOf returns the crypto ACL permit lines of ents with their selectors.
func linesOf(ents []runningconfig.ResolvedEntry) map[lineKey]bool {
	out := map[lineKey]bool{}
	for _, ent := range ents {
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

// publishCounters marks the view ACLMatches reads out of date and queues one rebuild on the
// loop. Called on the loop after every change of the installed policies or the configuration.
// A rebuild costs time linear in the installed policies and lines, so a burst of SA pairs (a
// hub whose peers all come up at once: hundreds of installs queued behind each other) shares
// one rebuild instead of paying one per install, which made the burst quadratic. ACLMatches
// never reads an out-of-date view: it has the loop rebuild first.
func (e *Engine) publishCounters() {
	if e.ctr.dirty {
		return
	}
	e.ctr.dirty = true
	e.ctr.stale.Store(true)
	e.post(e.rebuildCounters) // if the queue is full, ACLMatches rebuilds on demand
}

// rebuildCounters rebuilds the view ACLMatches reads if it is out of date (loop goroutine).
func (e *Engine) rebuildCounters() {
	if !e.ctr.dirty {
		return
	}
	e.ctr.dirty = false
	v := &aclView{live: map[ACLLine][]xfrm.Policy{}, retired: map[ACLLine]uint64{}}
	r := e.newLineResolver()
	lines := linesOf(r.ents)
	for id, ref := range e.policies {
		if id.Dir != xfrm.DirOut || ref.p.Action != xfrm.ActionProtect {
			continue
		}
		if lk, ok := r.lineOf(id); ok && lines[lk] {
			v.live[lk.line] = append(v.live[lk.line], ref.p)
		}
	}
	for lk, n := range e.ctr.retiredLines {
		if lines[lk] {
			v.retired[lk.line] += n
		}
	}
	e.ctr.view.Store(v)
	e.ctr.stale.Store(false)
}

// ACLMatches returns how many packets matched the crypto ACL line seq of list (the count `show
// access-lists` prints): packets the data plane protected or dropped for want of an SA under
// the line's policies, including policies since removed. Lines that are no crypto ACL line of
// an active crypto map entry, deny lines and data planes that do not count have none. It reads
// the data plane's atomics without waiting for the engine's loop, unless policies changed since
// the loop last built its view (then it waits for the loop to rebuild it). Safe for concurrent
// use; never call it on the loop. Engine implements shell/commands.ACLCounter with it.
func (e *Engine) ACLMatches(list string, seq int) uint64 {
	if e.ctr.stale.Load() {
		e.do(e.rebuildCounters) // a closed engine keeps its last view
	}
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
	for _, ent := range e.activeEntries() {
		for _, p := range ent.Peers {
			add(p)
		}
	}
	for _, c := range e.children {
		add(c.Peer)
	}
	return out
}
