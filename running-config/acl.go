package runningconfig

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Access lists (ios-cli.md §3.3): numbered standard (1-99, 1300-1999) and extended (100-199,
// 2000-2699) lists, and named lists with sequence numbers. They live in the configuration part
// "acl"; crypto maps refer to them by name ("101" or "VPN").

// PartACL is the name under which the access lists are stored on a Config.
const PartACL = "acl"

// ErrACL is wrapped by the access-list errors of this file.
var ErrACL = errors.New("running-config: access list")

// ACLKind tells standard from extended lists.
type ACLKind uint8

// Access-list kinds.
const (
	ACLStandard ACLKind = iota
	ACLExtended
)

func (k ACLKind) String() string {
	if k == ACLStandard {
		return "Standard"
	}
	return "Extended"
}

// ProtoIP is the Proto of an entry that matches every protocol (`permit ip ...`).
const ProtoIP = -1

// Wildcard is an address and IOS wildcard bits (inverse mask); `any` is 0.0.0.0
// 255.255.255.255 and `host A` is A 0.0.0.0.
type Wildcard struct {
	Addr netip.Addr
	Bits uint32 // set bits are "don't care"
}

// AnyAddr is the wildcard that matches every IPv4 address.
var AnyAddr = Wildcard{Addr: netip.IPv4Unspecified(), Bits: 0xffffffff}

// HostAddr returns the wildcard matching exactly a.
func HostAddr(a netip.Addr) Wildcard { return Wildcard{Addr: a, Bits: 0} }

// NewWildcard returns a with the bits covered by the wildcard cleared, as IOS normalises it.
func NewWildcard(a netip.Addr, bits uint32) Wildcard {
	return Wildcard{Addr: u32Addr(addrU32(a) &^ bits), Bits: bits}
}

// IsAny reports whether w matches every address.
func (w Wildcard) IsAny() bool { return w.Bits == 0xffffffff }

// IsHost reports whether w matches exactly one address.
func (w Wildcard) IsHost() bool { return w.Bits == 0 }

// Contains reports whether w matches a.
func (w Wildcard) Contains(a netip.Addr) bool {
	if !a.Is4() {
		return false
	}
	return addrU32(a)&^w.Bits == addrU32(w.Addr)&^w.Bits
}

// Prefix returns w as a prefix when its wildcard bits are contiguous (a subnet), which is what a
// proxy identity (ID_IPV4_ADDR_SUBNET) can carry.
func (w Wildcard) Prefix() (netip.Prefix, bool) {
	mask := ^w.Bits
	ones := 0
	for m := mask; m&0x80000000 != 0; m <<= 1 {
		ones++
	}
	if ones < 32 && mask<<ones != 0 {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(w.Addr, ones), true
}

// String renders w as IOS does in an ACL: `any`, `host A` or `A W`.
func (w Wildcard) String() string {
	switch {
	case w.IsAny():
		return "any"
	case w.IsHost():
		return "host " + w.Addr.String()
	}
	return w.Addr.String() + " " + u32Addr(w.Bits).String()
}

func addrU32(a netip.Addr) uint32 {
	if !a.Is4() {
		return 0
	}
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func u32Addr(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// PortOp is the port operator of an extended entry.
type PortOp uint8

// Port operators.
const (
	PortAny PortOp = iota
	PortEq
	PortNeq
	PortLt
	PortGt
	PortRange
)

var portOpNames = [...]string{"", "eq", "neq", "lt", "gt", "range"}

func (o PortOp) String() string { return portOpNames[o] }

// PortMatch is `eq P`, `neq P`, `lt P`, `gt P` or `range LO HI` (Hi is used by range only).
type PortMatch struct {
	Op     PortOp
	Lo, Hi uint16
}

// Matches reports whether port p satisfies m.
func (m PortMatch) Matches(p uint16) bool {
	switch m.Op {
	case PortEq:
		return p == m.Lo
	case PortNeq:
		return p != m.Lo
	case PortLt:
		return p < m.Lo
	case PortGt:
		return p > m.Lo
	case PortRange:
		return p >= m.Lo && p <= m.Hi
	}
	return true
}

// Range returns the inclusive port range m covers when it is one range (not neq).
func (m PortMatch) Range() (lo, hi uint16, ok bool) {
	switch m.Op {
	case PortAny:
		return 0, 65535, true
	case PortEq:
		return m.Lo, m.Lo, true
	case PortLt:
		if m.Lo == 0 {
			return 0, 0, false
		}
		return 0, m.Lo - 1, true
	case PortGt:
		if m.Lo == 65535 {
			return 0, 0, false
		}
		return m.Lo + 1, 65535, true
	case PortRange:
		return m.Lo, m.Hi, true
	}
	return 0, 0, false
}

func (m PortMatch) render(proto int) string {
	switch m.Op {
	case PortAny:
		return ""
	case PortRange:
		return "range " + PortName(proto, m.Lo) + " " + PortName(proto, m.Hi)
	}
	return m.Op.String() + " " + PortName(proto, m.Lo)
}

// Protocol numbers named in ACLs.
const (
	ProtoICMP = 1
	ProtoTCP  = 6
	ProtoUDP  = 17
	ProtoGRE  = 47
	ProtoESP  = 50
	ProtoAH   = 51
	ProtoOSPF = 89
)

var protoNames = map[int]string{ProtoIP: "ip", ProtoICMP: "icmp", ProtoTCP: "tcp", ProtoUDP: "udp",
	ProtoGRE: "gre", ProtoESP: "esp", ProtoAH: "ahp", ProtoOSPF: "ospf"}

// ProtoName renders an ACL protocol as IOS does: by name where it has one, else the number.
func ProtoName(p int) string {
	if n, ok := protoNames[p]; ok {
		return n
	}
	return strconv.Itoa(p)
}

// ProtoNumber parses an ACL protocol keyword or number (0-255); ProtoIP for `ip`.
func ProtoNumber(s string) (int, bool) {
	for p, n := range protoNames {
		if n == s {
			return p, true
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 || v > 255 {
		return 0, false
	}
	return v, true
}

// Well-known port names IOS shows in place of numbers (§3.3). 22 and 443 stay numeric.
var tcpPortNames = map[uint16]string{179: "bgp", 19: "chargen", 514: "cmd", 13: "daytime", 9: "discard",
	53: "domain", 7: "echo", 512: "exec", 79: "finger", 21: "ftp", 20: "ftp-data", 70: "gopher",
	101: "hostname", 113: "ident", 194: "irc", 543: "klogin", 544: "kshell", 513: "login", 515: "lpd",
	119: "nntp", 496: "pim-auto-rp", 109: "pop2", 110: "pop3", 25: "smtp", 111: "sunrpc", 49: "tacacs",
	517: "talk", 23: "telnet", 37: "time", 540: "uucp", 43: "whois", 80: "www"}

var udpPortNames = map[uint16]string{512: "biff", 68: "bootpc", 67: "bootps", 9: "discard", 195: "dnsix",
	53: "domain", 7: "echo", 500: "isakmp", 434: "mobile-ip", 42: "nameserver", 138: "netbios-dgm",
	137: "netbios-ns", 139: "netbios-ss", 4500: "non500-isakmp", 123: "ntp", 496: "pim-auto-rp",
	520: "rip", 161: "snmp", 162: "snmptrap", 111: "sunrpc", 514: "syslog", 49: "tacacs", 517: "talk",
	69: "tftp", 37: "time", 513: "who", 177: "xdmcp"}

// PortName renders port p of protocol proto by its IOS name, or as a number.
func PortName(proto int, p uint16) string {
	var n string
	switch proto {
	case ProtoTCP:
		n = tcpPortNames[p]
	case ProtoUDP:
		n = udpPortNames[p]
	}
	if n != "" {
		return n
	}
	return strconv.Itoa(int(p))
}

// PortNames returns the port keywords valid for proto, for the grammar's help.
func PortNames(proto int) map[uint16]string {
	switch proto {
	case ProtoTCP:
		return tcpPortNames
	case ProtoUDP:
		return udpPortNames
	}
	return nil
}

// PortNumber parses a port number or an IOS port name of proto.
func PortNumber(proto int, s string) (uint16, bool) {
	if v, err := strconv.Atoi(s); err == nil {
		if v < 0 || v > 65535 {
			return 0, false
		}
		return uint16(v), true
	}
	for p, n := range PortNames(proto) {
		if n == s {
			return p, true
		}
	}
	return 0, false
}

// ACE is one access-list entry: a permit/deny rule or a remark.
type ACE struct {
	Seq    int    // sequence number (numbered lists get 10, 20, ... as IOS shows them)
	Remark string // non-empty for a `remark LINE` entry; the other fields are then unused

	Permit      bool
	Proto       int // ProtoIP or 0-255 (extended lists only)
	Src, Dst    Wildcard
	SrcPort     PortMatch
	DstPort     PortMatch
	Established bool
	Log         string // "", "log" or "log-input"
}

// IsRemark reports whether e is a remark line.
func (e *ACE) IsRemark() bool { return e.Remark != "" }

// Matches reports whether a packet with the given protocol, addresses and ports matches e (ports
// are ignored for protocols other than TCP and UDP). Remarks match nothing.
func (e *ACE) Matches(proto int, src, dst netip.Addr, sport, dport uint16) bool {
	if e.IsRemark() {
		return false
	}
	if e.Proto != ProtoIP && e.Proto != proto {
		return false
	}
	if !e.Src.Contains(src) || !e.Dst.Contains(dst) {
		return false
	}
	if proto == ProtoTCP || proto == ProtoUDP {
		return e.SrcPort.Matches(sport) && e.DstPort.Matches(dport)
	}
	return true
}

// action is "permit" or "deny", padded to the width of "permit" when pad is set.
func (e *ACE) action(pad bool) string {
	switch {
	case e.Permit:
		return "permit"
	case pad:
		return "deny  "
	}
	return "deny"
}

// Text renders the entry after its list prefix, as in the running-config: `permit ip any any`,
// `deny   10.1.1.1` (standard lists pad deny; running-config pads deny in extended lists too).
func (e *ACE) Text(kind ACLKind, padDeny bool) string {
	if e.IsRemark() {
		return "remark " + e.Remark
	}
	var b strings.Builder
	b.WriteString(e.action(padDeny))
	if kind == ACLStandard {
		b.WriteByte(' ')
		switch {
		case e.Src.IsAny():
			b.WriteString("any")
		case e.Src.IsHost():
			b.WriteString(e.Src.Addr.String())
		default:
			b.WriteString(e.Src.Addr.String() + " " + u32Addr(e.Src.Bits).String())
		}
	} else {
		b.WriteString(" " + ProtoName(e.Proto) + " " + e.Src.String())
		if p := e.SrcPort.render(e.Proto); p != "" {
			b.WriteString(" " + p)
		}
		b.WriteString(" " + e.Dst.String())
		if p := e.DstPort.render(e.Proto); p != "" {
			b.WriteString(" " + p)
		}
		if e.Established {
			b.WriteString(" established")
		}
	}
	if e.Log != "" {
		b.WriteString(" " + e.Log)
	}
	return b.String()
}

// ShowText renders the entry as `show access-lists` does: standard networks as
// `A, wildcard bits W`, deny padded in standard lists only.
func (e *ACE) ShowText(kind ACLKind) string {
	if kind == ACLStandard && !e.Src.IsAny() && !e.Src.IsHost() {
		s := e.action(true) + " " + e.Src.Addr.String() + ", wildcard bits " + u32Addr(e.Src.Bits).String()
		if e.Log != "" {
			s += " " + e.Log
		}
		return s
	}
	return e.Text(kind, kind == ACLStandard)
}

// sameRule reports whether a and b are the same rule apart from their sequence numbers.
func (e *ACE) sameRule(o *ACE) bool {
	a, b := *e, *o
	a.Seq, b.Seq = 0, 0
	return a == b
}

// ACL is one access list, numbered or named.
type ACL struct {
	Name     string // "101", "10" or a name
	Kind     ACLKind
	Numbered bool // `access-list N ...` (also `ip access-list extended 110`)
	Entries  []ACE
}

// NumberedKind returns the kind of numbered list n, or false when n is not an ACL number.
func NumberedKind(n int) (ACLKind, bool) {
	switch {
	case n >= 1 && n <= 99, n >= 1300 && n <= 1999:
		return ACLStandard, true
	case n >= 100 && n <= 199, n >= 2000 && n <= 2699:
		return ACLExtended, true
	}
	return 0, false
}

// NextSeq is the sequence number IOS gives an entry added without one: last + 10.
func (l *ACL) NextSeq() int {
	if len(l.Entries) == 0 {
		return 10
	}
	return l.Entries[len(l.Entries)-1].Seq + 10
}

// ErrDuplicateSeq and ErrDuplicateRule are the two ways an entry can clash with the list.
var (
	ErrDuplicateSeq  = fmt.Errorf("%w: duplicate sequence number", ErrACL)
	ErrDuplicateRule = fmt.Errorf("%w: duplicate rule", ErrACL)
)

// DuplicateRuleError says at which sequence number the same rule already stands.
type DuplicateRuleError struct{ Seq int }

func (e *DuplicateRuleError) Error() string {
	return fmt.Sprintf("running-config: access list rule exists at sequence %d", e.Seq)
}

func (e *DuplicateRuleError) Unwrap() error { return ErrDuplicateRule }

// Add inserts e in sequence order. Seq 0 means "next" (last + 10). A rule that already exists is
// refused with *DuplicateRuleError (IOS: "% Access rule can't be configured at higher sequence
// num as it is part of the existing rule at sequence num 10"), as is a taken sequence number.
// Remarks may repeat.
func (l *ACL) Add(e ACE) error {
	if e.Seq == 0 {
		e.Seq = l.NextSeq()
	}
	if !e.IsRemark() {
		for i := range l.Entries {
			if l.Entries[i].sameRule(&e) {
				return &DuplicateRuleError{Seq: l.Entries[i].Seq}
			}
		}
	}
	i, found := slices.BinarySearchFunc(l.Entries, e.Seq, func(a ACE, s int) int { return a.Seq - s })
	if found {
		return ErrDuplicateSeq
	}
	l.Entries = slices.Insert(l.Entries, i, e)
	return nil
}

// DeleteSeq removes the entry with sequence number seq and reports whether it existed.
func (l *ACL) DeleteSeq(seq int) bool {
	n := len(l.Entries)
	l.Entries = slices.DeleteFunc(l.Entries, func(a ACE) bool { return a.Seq == seq })
	return len(l.Entries) != n
}

// DeleteRule removes the entry equal to e (ignoring its sequence number) and reports whether
// it existed (`no permit ...` in a named list).
func (l *ACL) DeleteRule(e ACE) bool {
	n := len(l.Entries)
	l.Entries = slices.DeleteFunc(l.Entries, func(a ACE) bool { return a.sameRule(&e) })
	return len(l.Entries) != n
}

// Rules returns the permit/deny entries (no remarks), in order.
func (l *ACL) Rules() []ACE {
	out := make([]ACE, 0, len(l.Entries))
	for _, e := range l.Entries {
		if !e.IsRemark() {
			out = append(out, e)
		}
	}
	return out
}

// ACLs is the configuration part holding every access list, in creation order.
type ACLs struct {
	Lists []*ACL
}

// ACLs returns the access-list part of c, or nil when no list exists.
func (c *Config) ACLs() *ACLs {
	p, _ := c.Part(PartACL).(*ACLs)
	return p
}

// ACL returns the access list called name, or nil.
func (c *Config) ACL(name string) *ACL {
	a := c.ACLs()
	if a == nil {
		return nil
	}
	for _, l := range a.Lists {
		if l.Name == name {
			return l
		}
	}
	return nil
}

// EnsureACL returns the list called name, creating it with the given kind. It fails when the
// list exists with another kind (IOS: "% Access-list type conflicts with prior definition").
func (c *Config) EnsureACL(name string, kind ACLKind, numbered bool) (*ACL, error) {
	if l := c.ACL(name); l != nil {
		if l.Kind != kind {
			return nil, fmt.Errorf("%w: %s is a %s list", ErrACLKindConflict, name, strings.ToLower(l.Kind.String()))
		}
		return l, nil
	}
	a := c.ACLs()
	if a == nil {
		a = &ACLs{}
		c.SetPart(PartACL, a)
	}
	l := &ACL{Name: name, Kind: kind, Numbered: numbered}
	a.Lists = append(a.Lists, l)
	return l, nil
}

// ErrACLKindConflict is returned when a list is used as both standard and extended.
var ErrACLKindConflict = fmt.Errorf("%w: type conflicts with prior definition", ErrACL)

// DeleteACL removes the list called name and reports whether it existed.
func (c *Config) DeleteACL(name string) bool {
	a := c.ACLs()
	if a == nil {
		return false
	}
	n := len(a.Lists)
	a.Lists = slices.DeleteFunc(a.Lists, func(l *ACL) bool { return l.Name == name })
	if len(a.Lists) == 0 {
		c.SetPart(PartACL, nil)
	}
	return len(a.Lists) != n
}

// ClonePart implements Part.
func (a *ACLs) ClonePart() Part {
	n := &ACLs{Lists: make([]*ACL, len(a.Lists))}
	for i, l := range a.Lists {
		c := *l
		c.Entries = slices.Clone(l.Entries)
		n.Lists[i] = &c
	}
	return n
}

// ValidatePart implements Part: names unique, kinds consistent with numbers, sequence numbers
// ascending and unique.
func (a *ACLs) ValidatePart(_ *Config) error {
	seen := make(map[string]bool, len(a.Lists))
	for _, l := range a.Lists {
		if seen[l.Name] {
			return fmt.Errorf("%w: access list %s", ErrDuplicate, l.Name)
		}
		seen[l.Name] = true
		if l.Numbered {
			n, err := strconv.Atoi(l.Name)
			if err != nil {
				return fmt.Errorf("%w: numbered list %q", ErrACL, l.Name)
			}
			if k, ok := NumberedKind(n); !ok || k != l.Kind {
				return fmt.Errorf("%w: list %d is not %s", ErrACL, n, strings.ToLower(l.Kind.String()))
			}
		}
		for i := range l.Entries {
			if i > 0 && l.Entries[i].Seq <= l.Entries[i-1].Seq {
				return fmt.Errorf("%w: list %s sequence %d", ErrUnsorted, l.Name, l.Entries[i].Seq)
			}
		}
	}
	return nil
}

// RenderSlot implements Part: named lists as `ip access-list KIND NAME` blocks with
// one-space-indented entries without sequence numbers, numbered lists as `access-list N ...`
// lines in numeric order. deny is padded to the width of permit in both forms (§3.3).
func (a *ACLs) RenderSlot(s Slot, w *Writer) {
	switch s {
	case SlotNamedACL:
		for _, l := range a.Lists {
			if l.Numbered {
				continue
			}
			w.Line("ip access-list " + strings.ToLower(l.Kind.String()) + " " + l.Name)
			for i := range l.Entries {
				w.Line(" " + l.Entries[i].Text(l.Kind, true))
			}
		}
	case SlotNumberedACL:
		nums := make([]*ACL, 0, len(a.Lists))
		for _, l := range a.Lists {
			if l.Numbered {
				nums = append(nums, l)
			}
		}
		slices.SortStableFunc(nums, func(x, y *ACL) int {
			xn, _ := strconv.Atoi(x.Name)
			yn, _ := strconv.Atoi(y.Name)
			return xn - yn
		})
		for _, l := range nums {
			for i := range l.Entries {
				w.Line("access-list " + l.Name + " " + l.Entries[i].Text(l.Kind, true))
			}
		}
	}
}

var _ Part = (*ACLs)(nil)
