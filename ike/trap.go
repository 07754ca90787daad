package ike

import (
	"errors"
	"net/netip"

	"github.com/tunnelbox/tunnelbox/xfrm"
)

// Trap policies make traffic trigger negotiation, as on IOS: for every permit line of every
// active crypto map entry the engine installs an outbound protecting policy before any SA
// exists (strongSwan calls this a trap). The data plane routes the line's destination into the
// tunnel and, finding no SA for the policy's reqid, raises an Acquire that starts Quick Mode
// (and phase 1 if needed) for that line. The SAs Quick Mode installs later carry the same reqid,
// so the same policy then protects the traffic.
//
// Entries are taken in crypto map order and lines in ACL order; a selector already trapped by
// an earlier line keeps the earlier line's peer (IOS uses the first entry that matches). Trap
// priorities come after those of negotiated pairs (0), so a narrower pair (per-host SAs, a
// responder's narrowed proxy IDs) is looked up first.

// trapPriorityBase is the priority of the first trap policy; later lines count up from it.
const trapPriorityBase = 1 << 20

// reqidKey names what one reqid stands for: a peer and a pair of proxy identities.
type reqidKey struct {
	peer          netip.Addr
	local, remote Selector
}

// trapState is the engine's record of reqids and trap policies (loop goroutine only).
type trapState struct {
	reqids map[reqidKey]uint32
	traps  map[xfrm.PolicyID]reqidKey // installed trap policies (each holds one reference in e.policies)
	lines  map[xfrm.PolicyID]lineKey  // the crypto ACL line each trap policy was made for
}

// reqidFor returns the reqid of peer and the selector pair, allocating one the first time: trap
// policies and every SA pair negotiated for them (rekeys included) share it.
func (e *Engine) reqidFor(peer netip.Addr, local, remote Selector) uint32 {
	k := reqidKey{peer, local, remote}
	if r, ok := e.trap.reqids[k]; ok {
		return r
	}
	if e.trap.reqids == nil {
		e.trap.reqids = map[reqidKey]uint32{}
	}
	e.reqid++
	e.trap.reqids[k] = e.reqid
	return e.reqid
}

// releaseReqid forgets the reqid of k once neither a trap nor an SA pair uses it.
func (e *Engine) releaseReqid(k reqidKey) {
	for _, c := range e.children {
		if !c.gone && c.Peer == k.peer && c.LocalSel == k.local && c.RemoteSel == k.remote {
			return
		}
	}
	for _, tk := range e.trap.traps {
		if tk == k {
			return
		}
	}
	delete(e.trap.reqids, k)
}

// wantTraps computes the trap policies of the current configuration, in priority order, with
// their reqid keys and ACL lines.
func (e *Engine) wantTraps() ([]xfrm.Policy, []reqidKey, []lineKey) {
	var pols []xfrm.Policy
	var keys []reqidKey
	var lines []lineKey
	seen := map[xfrm.PolicyID]bool{}
	for _, ent := range e.activeEntries() {
		if len(ent.Peers) == 0 || !ent.LocalAddr.IsValid() || ent.ACL == nil {
			continue
		}
		peer := ent.Peers[0]
		mode := xfrm.ModeTunnel
		if len(ent.TransformSets) > 0 && ent.TransformSets[0].Transport {
			mode = xfrm.ModeTransport
		}
		for _, ace := range ent.ACL.Entries {
			if ace.IsRemark() {
				continue
			}
			l, r, ok := selectorsOf(ace)
			if !ok {
				continue // deny lines pass in clear; wildcards that are no subnet cannot be proxy IDs
			}
			p := xfrm.Policy{Src: l.Prefix, Dst: r.Prefix, Proto: l.Proto, SrcPort: l.Port, DstPort: r.Port,
				Dir: xfrm.DirOut, Action: xfrm.ActionProtect, Priority: trapPriorityBase + uint32(len(pols)),
				Tmpl: xfrm.Template{Src: ent.LocalAddr, Dst: peer, Proto: xfrm.ProtoESP, Mode: mode}}
			if seen[p.ID()] {
				continue
			}
			seen[p.ID()] = true
			pols = append(pols, p)
			keys = append(keys, reqidKey{peer, l, r})
			lines = append(lines, lineKey{ACLLine{ent.ACL.Name, ace.Seq}, FlowKey{l, r}})
		}
	}
	return pols, keys, lines
}

// syncTraps brings the installed trap policies in line with the configuration: new lines get a
// policy, lines that went away lose theirs (unless an SA pair still uses the policy).
func (e *Engine) syncTraps() {
	in := e.opts.Installer
	if in == nil {
		return
	}
	defer e.publishCounters()
	if e.trap.traps == nil {
		e.trap.traps = map[xfrm.PolicyID]reqidKey{}
		e.trap.lines = map[xfrm.PolicyID]lineKey{}
	}
	pols, keys, lines := e.wantTraps()
	want := make(map[xfrm.PolicyID]int, len(pols))
	for i := range pols {
		want[pols[i].ID()] = i
	}
	for id, k := range e.trap.traps {
		if i, ok := want[id]; ok && keys[i] == k {
			e.trap.lines[id] = lines[i] // the line may have been renumbered or renamed
			continue
		}
		e.dropTrap(id)
	}
	e.pruneRetired()
	for i := range pols {
		p := &pols[i]
		id := p.ID()
		if _, ok := e.trap.traps[id]; ok {
			continue
		}
		k := keys[i]
		p.Tmpl.Reqid = e.reqidFor(k.peer, k.local, k.remote)
		if ref := e.policies[id]; ref != nil {
			ref.refs++ // an SA pair installed it already
		} else {
			if err := in.AddPolicy(p); err != nil && !errors.Is(err, xfrm.ErrExists) {
				e.debugf(0, k.peer, "IPSEC: trap policy %v refused: %v", p, err)
				e.releaseReqid(k)
				continue
			}
			e.policies[id] = &policyRef{p: *p, refs: 1}
		}
		e.trap.traps[id] = k
		e.trap.lines[id] = lines[i]
		e.ipsecDebugf(k.peer, "IPSEC(trap): %v -> %v, peer %v, reqid %d: traffic starts negotiation",
			k.local, k.remote, k.peer, p.Tmpl.Reqid)
	}
}

// dropTrap releases the trap policy id.
func (e *Engine) dropTrap(id xfrm.PolicyID) {
	k, ok := e.trap.traps[id]
	if !ok {
		return
	}
	if ref := e.policies[id]; ref != nil {
		ref.refs--
		if ref.refs <= 0 {
			e.delPolicy(id) // while the trap's line is still known: its counts go to the line
		}
	}
	delete(e.trap.traps, id)
	delete(e.trap.lines, id)
	e.releaseReqid(k)
}

// clearTraps removes every trap policy (engine shutdown).
func (e *Engine) clearTraps() {
	for id := range e.trap.traps {
		e.dropTrap(id)
	}
	e.publishCounters()
}
