package xfrm

import (
	"fmt"
	"net/netip"
	"strconv"
)

// Action is what a policy does with matching traffic.
type Action uint8

// Policy actions. IOS: a crypto ACL permit line protects; deny lines (and traffic no line
// matches) pass in clear; Discard exists for the kernel's block policies.
const (
	ActionProtect Action = iota // apply the Template's SA (IPsec)
	ActionBypass                // pass in clear
	ActionDiscard               // drop
)

func (a Action) String() string {
	switch a {
	case ActionProtect:
		return "protect"
	case ActionBypass:
		return "bypass"
	case ActionDiscard:
		return "discard"
	}
	return "Action(" + strconv.Itoa(int(a)) + ")"
}

// Template names the SA a protecting policy needs: the tunnel endpoints and the Reqid shared with
// the SAs that Quick Mode installs for it.
type Template struct {
	Src, Dst netip.Addr // tunnel endpoints (outer addresses) for this policy's direction
	Proto    Proto
	Mode     Mode
	Reqid    uint32
}

// Policy is one security policy entry: a traffic selector (one IKEv1 proxy-ID pair, i.e. one
// crypto ACL line) with a direction, an action and, for ActionProtect, the SA template.
// Ports are single values as in IKEv1 ID payloads; 0 matches any. For ICMP the "ports" are the
// type and code, as in the kernel's selectors.
type Policy struct {
	Src, Dst         netip.Prefix
	Proto            uint8 // IP protocol, 0 = any
	SrcPort, DstPort uint16
	Dir              Dir
	Action           Action
	Priority         uint32 // lower runs first (the kernel's order); ties keep insertion order
	Tmpl             Template
}

// PolicyID identifies a policy the way the kernel does: its selector and direction.
type PolicyID struct {
	Src, Dst         netip.Prefix
	Proto            uint8
	SrcPort, DstPort uint16
	Dir              Dir
}

// ID returns the policy's identity.
func (p *Policy) ID() PolicyID {
	return PolicyID{Src: p.Src.Masked(), Dst: p.Dst.Masked(), Proto: p.Proto,
		SrcPort: p.SrcPort, DstPort: p.DstPort, Dir: p.Dir}
}

func (p *Policy) String() string {
	return fmt.Sprintf("%s %s -> %s proto %d ports %d/%d %s prio %d reqid %d",
		p.Dir, p.Src, p.Dst, p.Proto, p.SrcPort, p.DstPort, p.Action, p.Priority, p.Tmpl.Reqid)
}

// Validate checks that the policy is complete; errors wrap ErrInvalidPolicy.
func (p *Policy) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidPolicy, fmt.Sprintf(format, a...))
	}
	switch {
	case !p.Src.IsValid() || !p.Dst.IsValid():
		return bad("source and destination prefixes required")
	case p.Src.Addr().Is4() != p.Dst.Addr().Is4():
		return bad("prefix families differ (%s, %s)", p.Src, p.Dst)
	case p.Dir > DirFwd:
		return bad("unknown direction %d", p.Dir)
	case p.Action > ActionDiscard:
		return bad("unknown action %d", p.Action)
	case (p.SrcPort != 0 || p.DstPort != 0) && p.Proto == 0:
		return bad("ports need a protocol")
	}
	if p.Action == ActionProtect {
		t := p.Tmpl
		switch {
		case t.Proto != ProtoESP:
			return bad("template protocol %s not supported", t.Proto)
		case t.Mode == ModeTunnel && (!t.Src.IsValid() || !t.Dst.IsValid()):
			return bad("tunnel template needs both endpoints")
		case t.Mode != ModeTunnel && t.Mode != ModeTransport:
			return bad("unknown template mode %d", t.Mode)
		}
	}
	return nil
}

// Flow is the 5-tuple of one packet (ICMP: type and code in the port fields).
type Flow struct {
	Src, Dst         netip.Addr
	Proto            uint8
	SrcPort, DstPort uint16
}

func (f Flow) String() string {
	return fmt.Sprintf("%s:%d -> %s:%d proto %d", f.Src, f.SrcPort, f.Dst, f.DstPort, f.Proto)
}

// Matches reports whether the packet flow f falls inside the policy's selector.
func (p *Policy) Matches(f Flow) bool {
	return p.Src.Contains(f.Src) && p.Dst.Contains(f.Dst) &&
		(p.Proto == 0 || p.Proto == f.Proto) &&
		(p.SrcPort == 0 || p.SrcPort == f.SrcPort) &&
		(p.DstPort == 0 || p.DstPort == f.DstPort)
}
