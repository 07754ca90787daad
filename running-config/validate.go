package runningconfig

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
)

// Limits from the IOS command reference (spec/ios-cli.md 3.2).
const (
	MaxHostnameLen    = 63
	MaxDescriptionLen = 240
	MaxPrivilege      = 15
	MaxExecMinutes    = 35791
	MaxExecSeconds    = 2147483
)

// Validate checks the whole configuration: the system part here, then every Part. It never
// modifies c. Manager.Apply runs it on every edited configuration before the subscribers.
func (c *Config) Validate() error {
	if err := ValidateHostname(c.Hostname); err != nil {
		return err
	}
	if !c.EnableSecret.IsZero() {
		if err := c.EnableSecret.check(); err != nil {
			return fmt.Errorf("enable secret: %w", err)
		}
	}
	if err := c.EnablePassword.check(); err != nil {
		return fmt.Errorf("enable password: %w", err)
	}
	if err := c.validateUsers(); err != nil {
		return err
	}
	if err := c.validateInterfaces(); err != nil {
		return err
	}
	if err := c.validateRoutes(); err != nil {
		return err
	}
	if err := c.validateLines(); err != nil {
		return err
	}
	for _, name := range c.PartNames() {
		if err := c.parts[name].ValidatePart(c); err != nil {
			return err
		}
	}
	return nil
}

// ValidateHostname applies the IOS hostname rule: 1-63 characters, letters, digits and hyphens,
// starting with a letter and ending with a letter or digit.
func ValidateHostname(h string) error {
	bad := func(why string) error { return fmt.Errorf("%w %q: %s", ErrInvalidHostname, h, why) }
	if h == "" || len(h) > MaxHostnameLen {
		return bad("must be 1-63 characters")
	}
	isLetter := func(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }
	isDigit := func(b byte) bool { return b >= '0' && b <= '9' }
	if !isLetter(h[0]) {
		return bad("must start with a letter")
	}
	if last := h[len(h)-1]; !isLetter(last) && !isDigit(last) {
		return bad("must end with a letter or digit")
	}
	for i := 0; i < len(h); i++ {
		if b := h[i]; !isLetter(b) && !isDigit(b) && b != '-' {
			return bad("only letters, digits and hyphens")
		}
	}
	return nil
}

// check validates a reversible password.
func (p Password) check() error {
	if p.IsZero() {
		return nil
	}
	switch p.Type {
	case 0:
		return nil
	case 7:
		_, err := DecryptType7(p.Text)
		return err
	}
	return fmt.Errorf("%w: password type %d", ErrUnsupportedSecretType, p.Type)
}

func (c *Config) validateUsers() error {
	seen := make(map[string]bool, len(c.Users))
	for i := range c.Users {
		u := &c.Users[i]
		if u.Name == "" || len(u.Name) > 64 {
			return fmt.Errorf("%w: username %q must be 1-64 characters", ErrInvalidValue, u.Name)
		}
		if seen[u.Name] {
			return fmt.Errorf("%w: username %s", ErrDuplicate, u.Name)
		}
		seen[u.Name] = true
		if u.Privilege < 0 || u.Privilege > MaxPrivilege {
			return fmt.Errorf("%w: username %s privilege %d", ErrInvalidValue, u.Name, u.Privilege)
		}
		if !u.Secret.IsZero() && !u.Password.IsZero() {
			return fmt.Errorf("%w: username %s has both a secret and a password", ErrInvalidValue, u.Name)
		}
		if !u.Secret.IsZero() {
			if err := u.Secret.check(); err != nil {
				return fmt.Errorf("username %s: %w", u.Name, err)
			}
		}
		if err := u.Password.check(); err != nil {
			return fmt.Errorf("username %s: %w", u.Name, err)
		}
	}
	return nil
}

func validIfAddr(p netip.Prefix) bool {
	if !p.IsValid() || !p.Addr().Is4() || p.Bits() == 0 {
		return false
	}
	return p.Bits() == 32 || p.Bits() == 31 || p.Addr() != p.Masked().Addr()
}

func (c *Config) validateInterfaces() error {
	var nets []ownedNet
	for i := range c.Interfaces {
		f := &c.Interfaces[i]
		if !ValidIfName(f.Name) {
			return fmt.Errorf("%w: interface name %q", ErrInvalidValue, f.Name)
		}
		if i > 0 {
			switch CompareIfNames(c.Interfaces[i-1].Name, f.Name) {
			case 0:
				return fmt.Errorf("%w: interface %s", ErrDuplicate, f.Name)
			case 1:
				return fmt.Errorf("%w: interface %s after %s", ErrUnsorted, f.Name, c.Interfaces[i-1].Name)
			}
		}
		if len(f.Description) > MaxDescriptionLen {
			return fmt.Errorf("%w: %s description longer than %d characters", ErrInvalidValue, f.Name, MaxDescriptionLen)
		}
		if len(f.Secondary) > 0 && !f.Address.IsValid() {
			return fmt.Errorf("%w: %s has secondary addresses but no primary", ErrInvalidValue, f.Name)
		}
		if f.Address.IsValid() {
			if !validIfAddr(f.Address) {
				return fmt.Errorf("%w: %s address %s", ErrInvalidValue, f.Name, f.Address)
			}
			nets = append(nets, ownedNet{f.Address, i})
		}
		for _, a := range f.Secondary {
			if !validIfAddr(a) {
				return fmt.Errorf("%w: %s address %s", ErrInvalidValue, f.Name, a)
			}
			nets = append(nets, ownedNet{a, i})
		}
	}
	return c.checkOverlaps(nets)
}

// ownedNet is an interface address and the index of its interface.
type ownedNet struct {
	p   netip.Prefix
	ifx int
}

// checkOverlaps finds subnets shared by two different interfaces in O(n log n): IPv4 prefixes
// either nest or are disjoint, so after sorting by network address (shorter first) a prefix
// overlaps an earlier one exactly when it starts inside the widest range seen so far. The
// error names the interface that comes first in the configuration, as IOS does when the later
// one is configured.
func (c *Config) checkOverlaps(nets []ownedNet) error {
	slices.SortFunc(nets, func(a, b ownedNet) int {
		if d := a.p.Masked().Addr().Compare(b.p.Masked().Addr()); d != 0 {
			return d
		}
		return cmp.Compare(a.p.Bits(), b.p.Bits())
	})
	var open []ownedNet // chain of nested prefixes containing the current position
	for _, n := range nets {
		for len(open) > 0 && !open[len(open)-1].p.Overlaps(n.p) {
			open = open[:len(open)-1]
		}
		for _, o := range open {
			if o.ifx != n.ifx && o.p.Overlaps(n.p) {
				later, earlier := n, o
				if later.ifx < earlier.ifx {
					later, earlier = earlier, later
				}
				return &OverlapError{Prefix: later.p, Interface: c.Interfaces[earlier.ifx].Name}
			}
		}
		open = append(open, n)
	}
	return nil
}

func (c *Config) validateRoutes() error {
	for i := range c.Routes {
		r := &c.Routes[i]
		if !r.Prefix.IsValid() || !r.Prefix.Addr().Is4() || r.Prefix != r.Prefix.Masked() {
			return fmt.Errorf("%w: route %s: inconsistent address and mask", ErrInvalidValue, r.Prefix)
		}
		if r.Interface == "" && !r.NextHop.IsValid() {
			return fmt.Errorf("%w: route %s has neither next hop nor interface", ErrInvalidValue, r.Prefix)
		}
		if r.NextHop.IsValid() && !r.NextHop.Is4() {
			return fmt.Errorf("%w: route %s next hop %s", ErrInvalidValue, r.Prefix, r.NextHop)
		}
		if r.Interface != "" && !ValidIfName(r.Interface) {
			return fmt.Errorf("%w: route %s interface %q", ErrInvalidValue, r.Prefix, r.Interface)
		}
		if r.Distance < 0 || r.Distance > 255 {
			return fmt.Errorf("%w: route %s distance %d", ErrInvalidValue, r.Prefix, r.Distance)
		}
		if i > 0 {
			switch CompareRoutes(c.Routes[i-1], *r) {
			case 0:
				return fmt.Errorf("%w: route %s", ErrDuplicate, r.Prefix)
			case 1:
				return fmt.Errorf("%w: route %s", ErrUnsorted, r.Prefix)
			}
		}
	}
	return nil
}

func (c *Config) validateLines() error {
	for i := range c.Lines {
		l := &c.Lines[i]
		max := 0
		if l.Kind == LineVTY {
			max = MaxVTY
		}
		if l.Kind > LineVTY || l.First < 0 || l.Last < l.First || l.Last > max {
			return fmt.Errorf("%w: line %s %d %d", ErrInvalidValue, l.Kind, l.First, l.Last)
		}
		if i > 0 {
			p := &c.Lines[i-1]
			if p.Kind > l.Kind || p.Kind == l.Kind && p.Last >= l.First {
				return fmt.Errorf("%w: line %s %d overlaps or follows line %s %d", ErrUnsorted, l.Kind, l.First, p.Kind, p.First)
			}
		}
		if l.Privilege < 0 || l.Privilege > MaxPrivilege {
			return fmt.Errorf("%w: line %s %d privilege level %d", ErrInvalidValue, l.Kind, l.First, l.Privilege)
		}
		if l.ExecMinutes < 0 || l.ExecMinutes > MaxExecMinutes || l.ExecSeconds < 0 || l.ExecSeconds > MaxExecSeconds {
			return fmt.Errorf("%w: line %s %d exec-timeout %d %d", ErrInvalidValue, l.Kind, l.First, l.ExecMinutes, l.ExecSeconds)
		}
		if l.Login > LoginLocal {
			return fmt.Errorf("%w: line %s %d login mode %d", ErrInvalidValue, l.Kind, l.First, l.Login)
		}
		if err := l.Password.check(); err != nil {
			return fmt.Errorf("line %s %d: %w", l.Kind, l.First, err)
		}
	}
	return nil
}
