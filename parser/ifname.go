package parser

import (
	"strconv"
	"strings"
)

// ifType is one interface type the IFNAME token knows.
type ifType struct {
	name  string // canonical IOS spelling
	lower string
	help  string // IOS help text in `interface ?`
	// physical types take slot/port numbers (1 to 3 components); the others one number.
	physical bool
	subif    bool  // accepts .N sub-interfaces
	min, max int64 // range of a single-number type
}

// ifTypes is in abbreviation priority order: a prefix resolves to the first type it abbreviates
// (IOS resolves "t" to Tunnel, "e" to Ethernet, "v" to Vlan).
var ifTypes = []ifType{
	{name: "Ethernet", help: "IEEE 802.3", physical: true, subif: true},
	{name: "FastEthernet", help: "FastEthernet IEEE 802.3", physical: true, subif: true},
	{name: "GigabitEthernet", help: "GigabitEthernet IEEE 802.3z", physical: true, subif: true},
	{name: "Loopback", help: "Loopback interface", max: 2147483647},
	{name: "Tunnel", help: "Tunnel interface", max: 2147483647},
	{name: "TenGigabitEthernet", help: "Ten Gigabit Ethernet", physical: true, subif: true},
	{name: "Vlan", help: "Catalyst Vlans", min: 1, max: 4094},
	{name: "Virtual-Template", help: "Virtual Template interface", min: 1, max: 1000},
	{name: "Serial", help: "Serial", physical: true, subif: true},
	{name: "Port-channel", help: "Ethernet Channel of interfaces", min: 1, max: 4096, subif: true},
	{name: "Dialer", help: "Dialer interface", max: 255},
	{name: "Null", help: "Null interface", max: 0},
	{name: "BVI", help: "Bridge-Group Virtual Interface", min: 1, max: 255},
	{name: "Multilink", help: "Multilink-group interface", min: 1, max: 2147483647},
}

// Bounds of the numbers of physical interfaces (slot/subslot/port) and of sub-interfaces.
const (
	maxPhysComponent = 255
	maxSubif         = 4294967295
)

func init() {
	for i := range ifTypes {
		ifTypes[i].lower = strings.ToLower(ifTypes[i].name)
	}
}

// lookupIfType resolves a (possibly abbreviated) interface type, case-insensitively.
func lookupIfType(s string) (int, bool) {
	if s == "" {
		return -1, false
	}
	for i := range ifTypes {
		if hasPrefixFold(ifTypes[i].lower, s) {
			return i, true
		}
	}
	return -1, false
}

// numberHelp is the placeholder and help shown after a bare interface type.
func (t *ifType) numberHelp() HelpItem {
	lo, hi := t.min, t.max
	if t.physical {
		lo, hi = 0, maxPhysComponent
	}
	return HelpItem{Word: "<" + strconv.FormatInt(lo, 10) + "-" + strconv.FormatInt(hi, 10) + ">",
		Help: t.name + " interface number"}
}

// number validates the number part of an interface name ("0/0", "0/1.10", "0") and returns it
// normalised (leading zeros removed).
func (t *ifType) number(s string) (string, bool) {
	main, sub, hasSub := strings.Cut(s, ".")
	if hasSub && !t.subif {
		return "", false
	}
	var b strings.Builder
	if t.physical {
		parts := strings.Split(main, "/")
		if len(parts) > 3 {
			return "", false
		}
		for i, p := range parts {
			v, ok := decimal(p, maxPhysComponent)
			if !ok {
				return "", false
			}
			if i > 0 {
				b.WriteByte('/')
			}
			b.WriteString(strconv.FormatInt(v, 10))
		}
	} else {
		v, ok := decimal(main, t.max)
		if !ok || v < t.min {
			return "", false
		}
		b.WriteString(strconv.FormatInt(v, 10))
	}
	if hasSub {
		v, ok := decimal(sub, maxSubif)
		if !ok || v < 1 {
			return "", false
		}
		b.WriteByte('.')
		b.WriteString(strconv.FormatInt(v, 10))
	}
	return b.String(), true
}

// splitIfname splits a joined interface name "gi0/0" into type "gi" and number "0/0".
func splitIfname(s string) (typ, num string) {
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			return s[:i], s[i:]
		}
	}
	return s, ""
}

// CanonicalInterface normalises an interface name typed in one word or two ("gi0/0", "Gi 0/0",
// "lo0", "Loopback 0", "g0/0.10") to its full IOS name ("GigabitEthernet0/0", "Loopback0",
// "GigabitEthernet0/0.10").
func CanonicalInterface(s string) (string, bool) {
	s = strings.TrimSpace(s)
	typ, num := splitIfname(s)
	typ = strings.TrimRight(typ, " \t")
	ti, ok := lookupIfType(typ)
	if !ok || num == "" {
		return "", false
	}
	t := &ifTypes[ti]
	n, ok := t.number(num)
	if !ok {
		return "", false
	}
	return t.name + n, true
}

// decimal parses a non-empty run of ASCII digits no larger than max.
func decimal(s string, max int64) (int64, bool) {
	if s == "" || len(s) > 19 {
		return 0, false
	}
	var v int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
		if v > max {
			return 0, false
		}
	}
	return v, true
}

// parseIPv4 parses a strict dotted quad (1-3 decimal digits per octet).
func parseIPv4(s string) ([4]byte, bool) {
	var a [4]byte
	part := 0
	digits := 0
	v := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if digits == 0 || v > 255 || part > 3 {
				return a, false
			}
			a[part] = byte(v)
			part++
			digits, v = 0, 0
			continue
		}
		c := s[i]
		if c < '0' || c > '9' || digits == 3 {
			return a, false
		}
		v = v*10 + int(c-'0')
		digits++
	}
	return a, part == 4
}

// isHostname accepts a DNS-style host name: letters, digits, '-', '.', not all digits and dots
// (those must parse as A.B.C.D).
func isHostname(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	letter := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			letter = true
		case c >= '0' && c <= '9', c == '-', c == '.', c == '_':
		default:
			return false
		}
	}
	return letter
}

// hasPrefixFold reports whether lowercase keyword kw starts with s, ignoring ASCII case in s.
func hasPrefixFold(kw, s string) bool {
	if len(s) > len(kw) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != kw[i] {
			return false
		}
	}
	return true
}
