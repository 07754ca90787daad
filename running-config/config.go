package runningconfig

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// IOSVersion is the `version` line of the rendered configuration (the persona is IOSv 15.6).
const IOSVersion = "15.6"

// DefaultHostname is the hostname of an unconfigured router.
const DefaultHostname = "Router"

// Config is one complete configuration: the system part defined in this file and any Parts
// (crypto, access lists) defined in their own files. A Config returned by Manager.Running is an
// immutable snapshot; edits happen on the clone handed to a Manager.Apply edit function.
//
// Ordered collections are kept in IOS order by the helper methods (EnsureInterface, AddRoute,
// LineBlocks); Validate rejects a Config whose order was broken by hand.
type Config struct {
	Hostname string // `hostname WORD`; DefaultHostname when unconfigured

	// PasswordEncryption is `service password-encryption`. Turning it on through
	// SetPasswordEncryption encodes every type 0 Password as type 7; turning it off leaves
	// encoded passwords as they are, like IOS.
	PasswordEncryption bool

	EnableSecret   Secret   // `enable secret`; zero when not configured
	EnablePassword Password // `enable password`; zero when not configured

	Users []User // `username ...`, in configuration order (IOS does not sort them)

	DomainLookup bool // `ip domain lookup` (IOS default on; rendered only when off)

	Interfaces []Interface // IOS order, see CompareIfNames
	Routes     []Route     // sorted by CompareRoutes
	Lines      []Line      // con 0, aux 0, vty blocks ascending

	// parts holds the subtrees defined in other files (crypto.go, acl.go). Keyed by part name.
	parts map[string]Part
}

// Part is a subtree of the configuration that lives in its own file with its own owner, such
// as the crypto configuration (isakmp policies, keys, transform sets, crypto maps) or the access
// lists. A Part is stored on the Config under a fixed name (Config.SetPart) and typically gets a
// typed accessor in its own file:
//
//	func (c *Config) Crypto() *Crypto { p, _ := c.Part("crypto").(*Crypto); return p }
//
// Render asks every part, in part-name order, to write its lines at each Slot.
type Part interface {
	// ClonePart returns a deep copy that shares no mutable memory with the receiver.
	ClonePart() Part
	// ValidatePart checks the part against the whole configuration (for example that a
	// crypto map names an existing ACL). It must not modify either.
	ValidatePart(c *Config) error
	// RenderSlot writes the part's running-config lines for slot s, if any. Render adds the
	// "!" separator after a slot that wrote something.
	RenderSlot(s Slot, w *Writer)
}

// Part returns the part stored under name, or nil.
func (c *Config) Part(name string) Part { return c.parts[name] }

// SetPart stores p under name; a nil p removes the part. Only for configurations being edited.
func (c *Config) SetPart(name string, p Part) {
	if p == nil {
		delete(c.parts, name)
		return
	}
	if c.parts == nil {
		c.parts = make(map[string]Part)
	}
	c.parts[name] = p
}

// PartNames returns the names of the stored parts in sorted order.
func (c *Config) PartNames() []string {
	names := make([]string, 0, len(c.parts))
	for n := range c.parts {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// User is one `username` entry. Exactly one of Secret and Password is set.
type User struct {
	Name      string
	Privilege int // 0-15; 1 (the default) is not rendered
	Secret    Secret
	Password  Password
}

// NewUser returns a user with IOS defaults (privilege 1) and no credential yet.
func NewUser(name string) User { return User{Name: name, Privilege: 1} }

// Interface is one `interface NAME` block.
type Interface struct {
	Name        string       // full IOS name: GigabitEthernet0/1, Loopback0, Tunnel5
	Description string       // `description LINE` (up to 240 characters)
	Address     netip.Prefix // primary `ip address A M`; invalid (zero) means `no ip address`
	Secondary   []netip.Prefix
	Shutdown    bool

	AccessGroupIn  string // `ip access-group ACL in`
	AccessGroupOut string // `ip access-group ACL out`
	CryptoMap      string // `crypto map NAME` binding
}

// NewInterface returns an interface with the IOS defaults for its type: physical ports start
// administratively down, logical interfaces (Loopback, Tunnel) start up.
func NewInterface(name string) Interface {
	return Interface{Name: name, Shutdown: IsPhysical(name)}
}

// Route is one static route `ip route PREFIX MASK {NEXTHOP | INTERFACE [NEXTHOP]} [DISTANCE]`.
type Route struct {
	Prefix    netip.Prefix // masked destination network
	Interface string       // outgoing interface, full IOS name; "" if only a next hop
	NextHop   netip.Addr   // gateway; invalid if only an interface
	Distance  int          // administrative distance 1-255; 0 means the default (1), not rendered
}

// LineKind is the type of a terminal line.
type LineKind uint8

// Line kinds in IOS render order.
const (
	LineCon LineKind = iota
	LineAux
	LineVTY
)

func (k LineKind) String() string {
	switch k {
	case LineCon:
		return "con"
	case LineAux:
		return "aux"
	case LineVTY:
		return "vty"
	}
	return fmt.Sprintf("LineKind(%d)", uint8(k))
}

// MaxVTY is the highest vty line number (`line vty <0-15>`).
const MaxVTY = 15

// LoginMode is the `login` setting of a line.
type LoginMode uint8

// Login modes.
const (
	LoginNone  LoginMode = iota // `no login`: no authentication (console default, not rendered)
	LoginLine                   // `login`: check the line password (vty default, rendered)
	LoginLocal                  // `login local`: check the username database
)

func (m LoginMode) String() string {
	switch m {
	case LoginNone:
		return "no login"
	case LoginLine:
		return "login"
	case LoginLocal:
		return "login local"
	}
	return fmt.Sprintf("LoginMode(%d)", uint8(m))
}

// Transport input protocols, combined as a set (`transport input ssh telnet`).
type Transport uint8

// Transport bits; TransportDefault (zero) means the line was never configured and is not rendered.
const (
	TransportSSH Transport = 1 << iota
	TransportTelnet
	TransportNone // explicit `transport input none`
	TransportAll  // `transport input all`

	TransportDefault Transport = 0
)

// String renders the arguments of `transport input`: "ssh", "telnet ssh", "all", "none".
func (t Transport) String() string {
	switch {
	case t == TransportDefault:
		return ""
	case t&TransportAll != 0:
		return "all"
	case t&TransportNone != 0:
		return "none"
	}
	var s []string
	if t&TransportTelnet != 0 {
		s = append(s, "telnet")
	}
	if t&TransportSSH != 0 {
		s = append(s, "ssh")
	}
	return strings.Join(s, " ")
}

// Allows reports whether the line accepts protocol p (TransportSSH or TransportTelnet). An
// unconfigured line accepts both.
func (t Transport) Allows(p Transport) bool {
	switch {
	case t == TransportDefault, t&TransportAll != 0:
		return true
	case t&TransportNone != 0:
		return false
	}
	return t&p != 0
}

// Line is one `line KIND FIRST [LAST]` block. Blocks never overlap; LineBlocks splits them when
// a command addresses part of a block.
type Line struct {
	Kind        LineKind
	First, Last int
	Login       LoginMode
	Password    Password
	Transport   Transport
	ExecMinutes int // `exec-timeout <min> [<sec>]`, default 10 0 (not rendered); 0 0 = never
	ExecSeconds int
	LogSync     bool // `logging synchronous`
	Privilege   int  // `privilege level <0-15>`, default 1 (not rendered)
}

// NewLine returns a line block with IOS defaults for its kind (vty lines ask for the line
// password, `login`; the console and aux lines do not).
func NewLine(kind LineKind, first, last int) Line {
	l := Line{Kind: kind, First: first, Last: last, ExecMinutes: 10, Privilege: 1}
	if kind == LineVTY {
		l.Login = LoginLine
	}
	return l
}

// Default returns the configuration of a router with nothing configured: hostname Router,
// domain lookup on, the console, aux and vty 0 4 lines, and no interfaces (the platform adds
// its ports, see netif).
func Default() *Config {
	return &Config{
		Hostname:     DefaultHostname,
		DomainLookup: true,
		Lines: []Line{
			NewLine(LineCon, 0, 0),
			NewLine(LineAux, 0, 0),
			NewLine(LineVTY, 0, 4),
		},
	}
}

// Clone returns a deep copy of c. Slices of values are copied in one step each; only the
// secondary-address lists and the parts need per-element work, so a clone of a configuration
// with thousands of entries costs a few allocations.
func (c *Config) Clone() *Config {
	if c == nil {
		return nil
	}
	n := *c
	n.Users = slices.Clone(c.Users)
	n.Interfaces = slices.Clone(c.Interfaces)
	for i := range n.Interfaces {
		if s := n.Interfaces[i].Secondary; s != nil {
			n.Interfaces[i].Secondary = slices.Clone(s)
		}
	}
	n.Routes = slices.Clone(c.Routes)
	n.Lines = slices.Clone(c.Lines)
	n.parts = nil
	if len(c.parts) > 0 {
		n.parts = make(map[string]Part, len(c.parts))
		for k, p := range c.parts {
			n.parts[k] = p.ClonePart()
		}
	}
	return &n
}

// ---- interfaces

func (c *Config) ifIndex(name string) (int, bool) {
	return slices.BinarySearchFunc(c.Interfaces, name, func(i Interface, n string) int {
		return CompareIfNames(i.Name, n)
	})
}

// Interface returns the interface called name (full IOS name), or nil. The pointer is into
// c.Interfaces: edit through it only on a configuration being edited.
func (c *Config) Interface(name string) *Interface {
	if i, ok := c.ifIndex(name); ok {
		return &c.Interfaces[i]
	}
	return nil
}

// EnsureInterface returns the interface called name, creating it with NewInterface defaults in
// IOS order if it does not exist. The pointer is valid until the next insertion or deletion.
func (c *Config) EnsureInterface(name string) *Interface {
	i, ok := c.ifIndex(name)
	if !ok {
		c.Interfaces = slices.Insert(c.Interfaces, i, NewInterface(name))
	}
	return &c.Interfaces[i]
}

// DeleteInterface removes the interface called name and reports whether it existed.
func (c *Config) DeleteInterface(name string) bool {
	i, ok := c.ifIndex(name)
	if ok {
		c.Interfaces = slices.Delete(c.Interfaces, i, i+1)
	}
	return ok
}

// ---- users

// User returns the user called name, or nil.
func (c *Config) User(name string) *User {
	for i := range c.Users {
		if c.Users[i].Name == name {
			return &c.Users[i]
		}
	}
	return nil
}

// SetUser replaces the user of the same name in place, or appends u.
func (c *Config) SetUser(u User) {
	if p := c.User(u.Name); p != nil {
		*p = u
		return
	}
	c.Users = append(c.Users, u)
}

// DeleteUser removes the user called name and reports whether it existed.
func (c *Config) DeleteUser(name string) bool {
	n := len(c.Users)
	c.Users = slices.DeleteFunc(c.Users, func(u User) bool { return u.Name == name })
	return len(c.Users) != n
}

// ---- routes

// CompareRoutes orders static routes like IOS: by destination address, then mask length, then
// outgoing interface, then next hop.
func CompareRoutes(a, b Route) int {
	if c := a.Prefix.Addr().Compare(b.Prefix.Addr()); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Prefix.Bits(), b.Prefix.Bits()); c != 0 {
		return c
	}
	if c := CompareIfNames(a.Interface, b.Interface); c != 0 {
		return c
	}
	return a.NextHop.Compare(b.NextHop)
}

// AddRoute inserts r in order. A route to the same destination through the same interface and
// next hop replaces the existing one (IOS updates the distance in place).
func (c *Config) AddRoute(r Route) {
	i, ok := slices.BinarySearchFunc(c.Routes, r, CompareRoutes)
	if ok {
		c.Routes[i] = r
		return
	}
	c.Routes = slices.Insert(c.Routes, i, r)
}

// DeleteRoute removes the route with r's destination, interface and next hop (the distance is
// ignored, as with `no ip route`) and reports whether it existed.
func (c *Config) DeleteRoute(r Route) bool {
	i, ok := slices.BinarySearchFunc(c.Routes, r, CompareRoutes)
	if ok {
		c.Routes = slices.Delete(c.Routes, i, i+1)
	}
	return ok
}

// ---- lines

// LineBlocks returns the blocks that exactly cover lines first..last of kind, splitting
// existing blocks at the range ends and creating default blocks for numbers that do not exist
// yet (`line vty 5 15` on a router with vty 0 4). Each returned pointer may be edited; they are
// valid until the next call that changes c.Lines. IOS does the same: after `line vty 0 15`
// the configuration shows `line vty 0 4` and `line vty 5 15` with the same settings.
func (c *Config) LineBlocks(kind LineKind, first, last int) []*Line {
	if last < first {
		last = first
	}
	var out []Line
	// Split blocks of this kind at first-1|first and last|last+1.
	for _, l := range c.Lines {
		if l.Kind != kind || l.Last < first || l.First > last {
			out = append(out, l)
			continue
		}
		if l.First < first {
			a := l
			a.Last = first - 1
			out = append(out, a)
			l.First = first
		}
		if l.Last > last {
			b := l
			b.First = last + 1
			l.Last = last
			out = append(out, l, b)
			continue
		}
		out = append(out, l)
	}
	// Fill the gaps inside first..last with default blocks.
	covered := func(n int) bool {
		for _, l := range out {
			if l.Kind == kind && l.First <= n && n <= l.Last {
				return true
			}
		}
		return false
	}
	for n := first; n <= last; {
		if covered(n) {
			n++
			continue
		}
		m := n
		for m+1 <= last && !covered(m+1) {
			m++
		}
		out = append(out, NewLine(kind, n, m))
		n = m + 1
	}
	slices.SortStableFunc(out, func(a, b Line) int {
		if c := cmp.Compare(a.Kind, b.Kind); c != 0 {
			return c
		}
		return cmp.Compare(a.First, b.First)
	})
	c.Lines = out
	var res []*Line
	for i := range c.Lines {
		l := &c.Lines[i]
		if l.Kind == kind && l.First >= first && l.Last <= last {
			res = append(res, l)
		}
	}
	return res
}

// ---- passwords

// SetPasswordEncryption sets `service password-encryption`. Turning it on encodes every type 0
// password (enable password, username passwords, line passwords) as type 7, as IOS does at
// once; turning it off changes no stored password.
func (c *Config) SetPasswordEncryption(on bool) error {
	c.PasswordEncryption = on
	if !on {
		return nil
	}
	enc := func(p *Password) error {
		if p.Type != 0 || p.Text == "" {
			return nil
		}
		q, err := EncryptType7(p.Text)
		if err != nil {
			return err
		}
		*p = q
		return nil
	}
	if err := enc(&c.EnablePassword); err != nil {
		return err
	}
	for i := range c.Users {
		if err := enc(&c.Users[i].Password); err != nil {
			return err
		}
	}
	for i := range c.Lines {
		if err := enc(&c.Lines[i].Password); err != nil {
			return err
		}
	}
	return nil
}

// NewPassword makes the stored form of a `password` typed in clear: type 7 when service
// password-encryption is on, else type 0.
func (c *Config) NewPassword(plain string) (Password, error) {
	if c.PasswordEncryption {
		return EncryptType7(plain)
	}
	return Password{Type: 0, Text: plain}, nil
}
