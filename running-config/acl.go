package runningconfig

import (
	"cmp"
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
//
// The lists are kept in a copy-on-write collection (see cow in crypto.go), so cloning the part
// for an edit costs O(1) and an edit copies only the chunk it touches: a configuration with
// thousands of lists replays in time linear in its size.

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

func (o PortOp) String() string {
	if int(o) < len(portOpNames) {
		return portOpNames[o]
	}
	return "PortOp(" + strconv.Itoa(int(o)) + ")"
}

// ParsePortOp parses eq, neq, lt, gt or range.
func ParsePortOp(s string) (PortOp, bool) {
	i := slices.Index(portOpNames[1:], s)
	return PortOp(i + 1), i >= 0
}

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
	ProtoICMP   = 1
	ProtoIGMP   = 2
	ProtoIPinIP = 4
	ProtoTCP    = 6
	ProtoUDP    = 17
	ProtoGRE    = 47
	ProtoESP    = 50
	ProtoAH     = 51
	ProtoEIGRP  = 88
	ProtoOSPF   = 89
	ProtoNOS    = 94
	ProtoPIM    = 103
	ProtoPCP    = 108
)

// NamedProto is a protocol keyword of extended access lists with its `?` help.
type NamedProto struct {
	Proto int
	Name  string
	Help  string
}

// Protocols lists the protocol keywords of extended lists in `?` order (ios-cli.md §3.3). A
// protocol typed as a number that has a name here is rendered by name (50 -> esp).
var Protocols = []NamedProto{
	{ProtoAH, "ahp", "Authentication Header Protocol"},
	{ProtoEIGRP, "eigrp", "Cisco's EIGRP routing protocol"},
	{ProtoESP, "esp", "Encapsulation Security Payload"},
	{ProtoGRE, "gre", "Cisco's GRE tunneling"},
	{ProtoICMP, "icmp", "Internet Control Message Protocol"},
	{ProtoIGMP, "igmp", "Internet Gateway Message Protocol"},
	{ProtoIP, "ip", "Any Internet Protocol"},
	{ProtoIPinIP, "ipinip", "IP in IP tunneling"},
	{ProtoNOS, "nos", "KA9Q NOS compatible IP over IP tunneling"},
	{ProtoOSPF, "ospf", "OSPF routing protocol"},
	{ProtoPCP, "pcp", "Payload Compression Protocol"},
	{ProtoPIM, "pim", "Protocol Independent Multicast"},
	{ProtoTCP, "tcp", "Transmission Control Protocol"},
	{ProtoUDP, "udp", "User Datagram Protocol"},
}

// ProtoName renders an ACL protocol as IOS does: by name where it has one, else the number.
func ProtoName(p int) string {
	for i := range Protocols {
		if Protocols[i].Proto == p {
			return Protocols[i].Name
		}
	}
	return strconv.Itoa(p)
}

// ProtoNumber parses an ACL protocol keyword or number (0-255); ProtoIP for `ip`.
func ProtoNumber(s string) (int, bool) {
	for i := range Protocols {
		if Protocols[i].Name == s {
			return Protocols[i].Proto, true
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 || v > 255 {
		return 0, false
	}
	return v, true
}

// NamedPort is a well-known port keyword with its `?` help.
type NamedPort struct {
	Port uint16
	Name string
	Help string
}

// TCPPorts and UDPPorts are the port keywords IOS accepts and shows in place of numbers, in
// `?` order (ios-cli.md §3.3). Ports without a keyword (22, 443, 5060) stay numeric.
var (
	TCPPorts = []NamedPort{
		{179, "bgp", "Border Gateway Protocol (179)"},
		{19, "chargen", "Character generator (19)"},
		{514, "cmd", "Remote commands (rcmd, 514)"},
		{13, "daytime", "Daytime (13)"},
		{9, "discard", "Discard (9)"},
		{53, "domain", "Domain Name Service (53)"},
		{7, "echo", "Echo (7)"},
		{512, "exec", "Exec (rsh, 512)"},
		{79, "finger", "Finger (79)"},
		{21, "ftp", "File Transfer Protocol (21)"},
		{20, "ftp-data", "FTP data connections (20)"},
		{70, "gopher", "Gopher (70)"},
		{101, "hostname", "NIC hostname server (101)"},
		{113, "ident", "Ident Protocol (113)"},
		{194, "irc", "Internet Relay Chat (194)"},
		{543, "klogin", "Kerberos login (543)"},
		{544, "kshell", "Kerberos shell (544)"},
		{513, "login", "Login (rlogin, 513)"},
		{515, "lpd", "Printer service (515)"},
		{119, "nntp", "Network News Transport Protocol (119)"},
		{496, "pim-auto-rp", "PIM Auto-RP (496)"},
		{109, "pop2", "Post Office Protocol v2 (109)"},
		{110, "pop3", "Post Office Protocol v3 (110)"},
		{25, "smtp", "Simple Mail Transport Protocol (25)"},
		{111, "sunrpc", "Sun Remote Procedure Call (111)"},
		{49, "tacacs", "TAC Access Control System (49)"},
		{517, "talk", "Talk (517)"},
		{23, "telnet", "Telnet (23)"},
		{37, "time", "Time (37)"},
		{540, "uucp", "Unix-to-Unix Copy Program (540)"},
		{43, "whois", "Nicname (43)"},
		{80, "www", "World Wide Web (HTTP, 80)"},
	}
	UDPPorts = []NamedPort{
		{512, "biff", "Biff (mail notification, comsat, 512)"},
		{68, "bootpc", "Bootstrap Protocol (BOOTP) client (68)"},
		{67, "bootps", "Bootstrap Protocol (BOOTP) server (67)"},
		{9, "discard", "Discard (9)"},
		{195, "dnsix", "DNSIX security protocol auditing (195)"},
		{53, "domain", "Domain Name Service (DNS, 53)"},
		{7, "echo", "Echo (7)"},
		{500, "isakmp", "Internet Security Association and Key Management Protocol (500)"},
		{434, "mobile-ip", "Mobile IP registration (434)"},
		{42, "nameserver", "IEN116 name service (obsolete, 42)"},
		{138, "netbios-dgm", "NetBios datagram service (138)"},
		{137, "netbios-ns", "NetBios name service (137)"},
		{139, "netbios-ss", "NetBios session service (139)"},
		{4500, "non500-isakmp", "Internet Security Association and Key Management Protocol (4500)"},
		{123, "ntp", "Network Time Protocol (123)"},
		{496, "pim-auto-rp", "PIM Auto-RP (496)"},
		{520, "rip", "Routing Information Protocol (router, in.routed, 520)"},
		{161, "snmp", "Simple Network Management Protocol (161)"},
		{162, "snmptrap", "SNMP Traps (162)"},
		{111, "sunrpc", "Sun Remote Procedure Call (111)"},
		{514, "syslog", "System Logger (514)"},
		{49, "tacacs", "TAC Access Control System (49)"},
		{517, "talk", "Talk (517)"},
		{69, "tftp", "Trivial File Transfer Protocol (69)"},
		{37, "time", "Time (37)"},
		{513, "who", "Who service (rwho, 513)"},
		{177, "xdmcp", "X Display Manager Control Protocol (177)"},
	}
)

// PortNames returns the port keywords valid for proto (TCP or UDP), nil for other protocols.
func PortNames(proto int) []NamedPort {
	switch proto {
	case ProtoTCP:
		return TCPPorts
	case ProtoUDP:
		return UDPPorts
	}
	return nil
}

// PortName renders port p of protocol proto by its IOS name, or as a number.
func PortName(proto int, p uint16) string {
	for _, n := range PortNames(proto) {
		if n.Port == p {
			return n.Name
		}
	}
	return strconv.Itoa(int(p))
}

// PortNumber parses a port number or an IOS port name of proto.
func PortNumber(proto int, s string) (uint16, bool) {
	if v, err := strconv.Atoi(s); err == nil {
		if v < 0 || v > 65535 {
			return 0, false
		}
		return uint16(v), true
	}
	for _, n := range PortNames(proto) {
		if n.Name == s {
			return n.Port, true
		}
	}
	return 0, false
}

// ICMPMatch is the optional ICMP message filter of an `icmp` entry: a type, or a type and
// code, typed as numbers or as a name.
type ICMPMatch struct {
	Set     bool // a type is given
	Type    uint8
	HasCode bool
	Code    uint8
}

// NamedICMP is an ICMP message keyword; Code -1 stands for every code of the type.
type NamedICMP struct {
	Name string
	Type uint8
	Code int
	Help string
}

// ICMPNames are the ICMP message keywords accepted after an icmp entry's destination, in `?`
// order.
var ICMPNames = []NamedICMP{
	{"administratively-prohibited", 3, 13, "Administratively prohibited"},
	{"echo", 8, -1, "Echo (ping)"},
	{"echo-reply", 0, -1, "Echo reply"},
	{"host-unreachable", 3, 1, "Host unreachable"},
	{"net-unreachable", 3, 0, "Net unreachable"},
	{"packet-too-big", 3, 4, "Fragmentation needed and DF set"},
	{"parameter-problem", 12, -1, "All parameter problems"},
	{"port-unreachable", 3, 3, "Port unreachable"},
	{"redirect", 5, -1, "All redirects"},
	{"source-quench", 4, -1, "Source quenches"},
	{"time-exceeded", 11, -1, "All time exceededs"},
	{"ttl-exceeded", 11, 0, "TTL exceeded"},
	{"unreachable", 3, -1, "All unreachables"},
}

// ICMPByName returns the filter an ICMP keyword stands for.
func ICMPByName(s string) (ICMPMatch, bool) {
	for _, n := range ICMPNames {
		if n.Name == s {
			m := ICMPMatch{Set: true, Type: n.Type}
			if n.Code >= 0 {
				m.HasCode, m.Code = true, uint8(n.Code)
			}
			return m, true
		}
	}
	return ICMPMatch{}, false
}

// String renders the filter by name where IOS has one, else as `TYPE [CODE]`; "" when unset.
func (m ICMPMatch) String() string {
	if !m.Set {
		return ""
	}
	for _, n := range ICMPNames {
		if n.Type == m.Type && (n.Code < 0 && !m.HasCode || m.HasCode && n.Code == int(m.Code)) {
			return n.Name
		}
	}
	s := strconv.Itoa(int(m.Type))
	if m.HasCode {
		s += " " + strconv.Itoa(int(m.Code))
	}
	return s
}

// Matches reports whether an ICMP message of type t and code c passes the filter.
func (m ICMPMatch) Matches(t, c uint8) bool {
	return !m.Set || m.Type == t && (!m.HasCode || m.Code == c)
}

// ACE is one access-list entry: a permit/deny rule or a remark. ACE values are comparable.
type ACE struct {
	Seq    int    // sequence number (numbered lists get 10, 20, ... as IOS shows them)
	Remark string // non-empty for a `remark LINE` entry; the other fields are then unused

	Permit      bool
	Proto       int // ProtoIP or 0-255 (extended lists only)
	Src, Dst    Wildcard
	SrcPort     PortMatch
	DstPort     PortMatch
	ICMP        ICMPMatch // icmp entries only
	Established bool
	Log         string // "", "log" or "log-input"
}

// IsRemark reports whether e is a remark line.
func (e *ACE) IsRemark() bool { return e.Remark != "" }

// Matches reports whether a packet with the given protocol, addresses and ports matches e.
// Ports count for TCP and UDP; for ICMP sport and dport carry the message type and code (as
// in xfrm.Flow). Remarks match nothing.
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
	switch proto {
	case ProtoTCP, ProtoUDP:
		return e.SrcPort.Matches(sport) && e.DstPort.Matches(dport)
	case ProtoICMP:
		return e.Proto == ProtoIP || e.ICMP.Matches(uint8(sport), uint8(dport))
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
		if s := e.ICMP.String(); s != "" && e.Proto == ProtoICMP {
			b.WriteString(" " + s)
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

// Check validates one entry for a list of kind: addresses IPv4 and normalised, protocol and
// ports consistent. The shell builds entries that pass; a hand-built config may not.
func (e *ACE) Check(kind ACLKind) error {
	if e.IsRemark() {
		if len(e.Remark) > MaxRemarkLen {
			return fmt.Errorf("%w: remark longer than %d characters", ErrACL, MaxRemarkLen)
		}
		return nil
	}
	addrs := []Wildcard{e.Src, e.Dst}
	if kind == ACLStandard {
		addrs = addrs[:1]
	}
	for _, w := range addrs {
		if !w.Addr.Is4() || NewWildcard(w.Addr, w.Bits) != w {
			return fmt.Errorf("%w: address %v not normalised to wildcard %s", ErrACL, w.Addr, u32Addr(w.Bits))
		}
	}
	if e.Proto < ProtoIP || e.Proto > 255 {
		return fmt.Errorf("%w: protocol %d", ErrACL, e.Proto)
	}
	ports := e.Proto == ProtoTCP || e.Proto == ProtoUDP
	for _, p := range []PortMatch{e.SrcPort, e.DstPort} {
		if p.Op > PortRange || p.Op != PortAny && !ports || p.Op == PortRange && p.Lo > p.Hi {
			return fmt.Errorf("%w: port match %s %d %d for protocol %s", ErrACL, p.Op, p.Lo, p.Hi, ProtoName(e.Proto))
		}
	}
	if e.ICMP.Set && e.Proto != ProtoICMP || e.Established && e.Proto != ProtoTCP {
		return fmt.Errorf("%w: option not valid for protocol %s", ErrACL, ProtoName(e.Proto))
	}
	if e.Log != "" && e.Log != "log" && e.Log != "log-input" {
		return fmt.Errorf("%w: log option %q", ErrACL, e.Log)
	}
	if kind == ACLStandard && (e.Proto != ProtoIP || e.Dst != (Wildcard{}) && e.Dst != AnyAddr) {
		return fmt.Errorf("%w: standard entry with extended fields", ErrACL)
	}
	return nil
}

// MaxRemarkLen is the longest `remark` IOS accepts.
const MaxRemarkLen = 100

// MaxACLSeq is the highest sequence number of an entry.
const MaxACLSeq = 2147483647

// ACL is one access list, numbered or named. Its Entries are shared between configuration
// snapshots: change them only through the methods (Add, DeleteSeq, DeleteRule), which never
// write into a shared array.
type ACL struct {
	Name     string // "101", "10" or a name
	Kind     ACLKind
	Numbered bool // `access-list N ...` (also `ip access-list extended 110`)
	Entries  []ACE

	order uint64 // creation order (show access-lists and named lists render in it)
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

// NextSeq is the sequence number IOS gives an entry added without one: the last rule's + 10
// (10 for the first). Remarks take no number of their own: a remark carries the number of the
// rule it stands before, so `show access-lists` numbers rules 10, 20, ... with or without them.
func (l *ACL) NextSeq() int {
	for i := len(l.Entries) - 1; i >= 0; i-- {
		if !l.Entries[i].IsRemark() {
			return l.Entries[i].Seq + 10
		}
	}
	return 10
}

// entryKey orders entries: by sequence number, remarks before the rule of the same number.
func entryKey(e *ACE) int64 {
	k := int64(e.Seq) << 1
	if !e.IsRemark() {
		k |= 1
	}
	return k
}

// ErrDuplicateSeq and ErrDuplicateRule are the two ways an entry can clash with the list;
// ErrSeqRange is a sequence number above MaxACLSeq.
var (
	ErrDuplicateSeq  = fmt.Errorf("%w: duplicate sequence number", ErrACL)
	ErrDuplicateRule = fmt.Errorf("%w: duplicate rule", ErrACL)
	ErrSeqRange      = fmt.Errorf("%w: sequence number out of range", ErrACL)
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
	if e.Seq < 1 || e.Seq > MaxACLSeq {
		return ErrSeqRange
	}
	if !e.IsRemark() {
		for i := range l.Entries {
			if l.Entries[i].sameRule(&e) {
				return &DuplicateRuleError{Seq: l.Entries[i].Seq}
			}
		}
	}
	// Insert after every entry whose key is not greater: remarks of one number stay in the
	// order they were typed, before their rule.
	k := entryKey(&e)
	i, _ := slices.BinarySearchFunc(l.Entries, k+1, func(a ACE, t int64) int { return cmp.Compare(entryKey(&a), t) })
	if !e.IsRemark() && i > 0 && entryKey(&l.Entries[i-1]) == k {
		return ErrDuplicateSeq
	}
	// Clip: the array may be shared with another snapshot, so Insert must allocate.
	l.Entries = slices.Insert(slices.Clip(l.Entries), i, e)
	return nil
}

// DeleteSeq removes the rule with sequence number seq, with the remarks that stand before it,
// and reports whether it existed.
func (l *ACL) DeleteSeq(seq int) bool {
	if !slices.ContainsFunc(l.Entries, func(a ACE) bool { return a.Seq == seq }) {
		return false
	}
	l.Entries = slices.DeleteFunc(slices.Clone(l.Entries), func(a ACE) bool { return a.Seq == seq })
	return true
}

// DeleteRule removes the entry equal to e (ignoring its sequence number) and reports whether
// it existed (`no permit ...` in a named list).
func (l *ACL) DeleteRule(e ACE) bool {
	i := slices.IndexFunc(l.Entries, func(a ACE) bool { return a.sameRule(&e) })
	if i < 0 {
		return false
	}
	l.Entries = slices.Delete(slices.Clone(l.Entries), i, i+1)
	return true
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

// check validates the list on its own.
func (l *ACL) check() error {
	if l.Name == "" {
		return fmt.Errorf("%w: empty name", ErrACL)
	}
	if l.Numbered {
		n, err := strconv.Atoi(l.Name)
		if err != nil {
			return fmt.Errorf("%w: numbered list %q", ErrACL, l.Name)
		}
		if k, ok := NumberedKind(n); !ok || k != l.Kind {
			return fmt.Errorf("%w: list %d is not %s", ErrACL, n, strings.ToLower(l.Kind.String()))
		}
	} else if !ValidACLName(l.Name) {
		return fmt.Errorf("%w: invalid name %q", ErrACL, l.Name)
	}
	for i := range l.Entries {
		if i > 0 && (entryKey(&l.Entries[i]) < entryKey(&l.Entries[i-1]) ||
			!l.Entries[i].IsRemark() && entryKey(&l.Entries[i]) == entryKey(&l.Entries[i-1])) {
			return fmt.Errorf("%w: list %s sequence %d", ErrUnsorted, l.Name, l.Entries[i].Seq)
		}
		if err := l.Entries[i].Check(l.Kind); err != nil {
			return fmt.Errorf("list %s sequence %d: %w", l.Name, l.Entries[i].Seq, err)
		}
	}
	return nil
}

// ValidACLName reports whether s can name an access list: IOS refuses names that start with a
// digit (those are list numbers) and names with spaces.
func ValidACLName(s string) bool {
	return s != "" && (s[0] < '0' || s[0] > '9') && !strings.ContainsAny(s, " \t")
}

// ACLs is the configuration part holding every access list.
type ACLs struct {
	lists cow[ACL] // keyed by name
	next  uint64   // creation counter
}

// ACLs returns the access-list part of c, or nil when no list exists.
func (c *Config) ACLs() *ACLs {
	p, _ := c.Part(PartACL).(*ACLs)
	return p
}

// Lists returns every list in creation order (the order of `show access-lists`). The pointers
// are into the configuration: read only, except on a configuration being edited, and there
// use EnsureACL to get a list to change.
func (a *ACLs) Lists() []*ACL {
	out := make([]*ACL, 0, a.lists.len())
	a.lists.each(func(_ string, l *ACL) bool { out = append(out, l); return true })
	slices.SortFunc(out, func(x, y *ACL) int { return cmp.Compare(x.order, y.order) })
	return out
}

// Len is the number of lists.
func (a *ACLs) Len() int { return a.lists.len() }

// ACL returns the access list called name, or nil. The list is read only (see Lists).
func (c *Config) ACL(name string) *ACL {
	a := c.ACLs()
	if a == nil {
		return nil
	}
	return a.lists.get(name)
}

// EnsureACL returns the list called name for editing, creating it with the given kind. It
// fails when the list exists with another kind (IOS: "% Access-list type conflicts with prior
// definition"). The pointer is valid until the next list is created or deleted.
func (c *Config) EnsureACL(name string, kind ACLKind, numbered bool) (*ACL, error) {
	a := c.ACLs()
	if a == nil {
		a = &ACLs{}
		c.SetPart(PartACL, a)
	}
	if l := a.lists.get(name); l != nil {
		if l.Kind != kind {
			return nil, fmt.Errorf("%w: %s is a %s list", ErrACLKindConflict, name, strings.ToLower(l.Kind.String()))
		}
		return a.lists.mut(name), nil
	}
	a.next++
	return a.lists.insert(name, ACL{Name: name, Kind: kind, Numbered: numbered, order: a.next}), nil
}

// ErrACLKindConflict is returned when a list is used as both standard and extended.
var ErrACLKindConflict = fmt.Errorf("%w: type conflicts with prior definition", ErrACL)

// DeleteACL removes the list called name and reports whether it existed.
func (c *Config) DeleteACL(name string) bool {
	a := c.ACLs()
	if a == nil {
		return false
	}
	ok := a.lists.delete(name)
	if a.lists.len() == 0 {
		c.SetPart(PartACL, nil)
	}
	return ok
}

// ClonePart implements Part in O(1): the clone shares every chunk until it edits one.
func (a *ACLs) ClonePart() Part {
	return &ACLs{lists: a.lists.clone(), next: a.next}
}

// ValidatePart implements Part. Lists are kept unique and ordered by the collection; what was
// touched since the clone (the lists handed out for editing) is checked: name still its key,
// kind consistent with a number, sequence numbers ascending and unique, entries well-formed.
func (a *ACLs) ValidatePart(_ *Config) error {
	return a.lists.checkDirty(func(name string, l *ACL) error {
		if l.Name != name {
			return fmt.Errorf("%w: access list %s renamed to %s", ErrInvalidValue, name, l.Name)
		}
		return l.check()
	})
}

// RenderSlot implements Part: named lists as `ip access-list KIND NAME` blocks with
// one-space-indented entries without sequence numbers (creation order), numbered lists as
// `access-list N ...` lines in numeric order. deny is padded to the width of permit in both
// forms (§3.3).
func (a *ACLs) RenderSlot(s Slot, w *Writer) {
	switch s {
	case SlotNamedACL:
		for _, l := range a.Lists() {
			if l.Numbered {
				continue
			}
			w.Line("ip access-list " + strings.ToLower(l.Kind.String()) + " " + l.Name)
			for i := range l.Entries {
				w.Line(" " + l.Entries[i].Text(l.Kind, true))
			}
		}
	case SlotNumberedACL:
		nums := make([]*ACL, 0, a.lists.len())
		a.lists.each(func(_ string, l *ACL) bool {
			if l.Numbered {
				nums = append(nums, l)
			}
			return true
		})
		slices.SortStableFunc(nums, func(x, y *ACL) int {
			xn, _ := strconv.Atoi(x.Name)
			yn, _ := strconv.Atoi(y.Name)
			return cmp.Compare(xn, yn)
		})
		for _, l := range nums {
			for i := range l.Entries {
				w.Line("access-list " + l.Name + " " + l.Entries[i].Text(l.Kind, true))
			}
		}
	}
}

var _ Part = (*ACLs)(nil)
