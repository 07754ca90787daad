package runningconfig

import (
	"cmp"
	"strconv"
	"strings"
)

// Interface names are full IOS names ("GigabitEthernet0/1", "GigabitEthernet0/1.10",
// "Loopback0", "Tunnel5"); the parser normalises abbreviations before they reach the model.

// ifName is a decoded interface name: type, slash-separated unit numbers and an optional
// subinterface number (-1 when absent).
type ifName struct {
	typ  string
	nums []int
	sub  int
}

// splitIfName decodes name. ok is false when name has no unit number or a malformed one.
func splitIfName(name string) (n ifName, ok bool) {
	i := strings.IndexAny(name, "0123456789")
	if i <= 0 {
		return ifName{typ: name, sub: -1}, false
	}
	n.typ, n.sub = name[:i], -1
	rest := name[i:]
	if j := strings.IndexByte(rest, '.'); j >= 0 {
		s, err := strconv.Atoi(rest[j+1:])
		if err != nil || s < 0 || rest[j+1:] == "" {
			return n, false
		}
		n.sub, rest = s, rest[:j]
	}
	for _, f := range strings.Split(rest, "/") {
		v, err := strconv.Atoi(f)
		if err != nil || v < 0 || f == "" || (len(f) > 1 && f[0] == '0') {
			return n, false
		}
		n.nums = append(n.nums, v)
	}
	return n, true
}

// ValidIfName reports whether name is a well-formed full interface name: a capitalised type made
// of letters and hyphens, unit numbers separated by "/", an optional ".N" subinterface.
func ValidIfName(name string) bool {
	n, ok := splitIfName(name)
	if !ok {
		return false
	}
	t := n.typ
	if t[0] < 'A' || t[0] > 'Z' || t[len(t)-1] == '-' {
		return false // IOS types are capitalised words: GigabitEthernet, Loopback, Virtual-Template
	}
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-') {
			return false
		}
	}
	return true
}

// IsPhysical reports whether name is a hardware port (Ethernet family), as opposed to a logical
// interface (Loopback, Tunnel, Virtual-Template ...). Subinterfaces count as physical.
func IsPhysical(name string) bool {
	n, _ := splitIfName(name)
	return strings.HasSuffix(n.typ, "Ethernet")
}

// ifClass ranks interface types the way IOS lists them in the running-config: loopbacks, then
// tunnels, then other logical interfaces, then hardware ports.
func ifClass(typ string) int {
	switch {
	case typ == "Loopback":
		return 0
	case typ == "Tunnel":
		return 1
	case strings.HasSuffix(typ, "Ethernet"):
		return 3
	}
	return 2
}

// CompareIfNames orders interface names as IOS lists them: by class (Loopback, Tunnel, other
// logical, hardware), then type, then unit numbers numerically (GigabitEthernet0/2 before
// GigabitEthernet0/10), then a parent before its subinterfaces. The empty name sorts first.
func CompareIfNames(a, b string) int {
	if a == b {
		return 0
	}
	if a == "" || b == "" {
		return cmp.Compare(a, b)
	}
	na, oka := splitIfName(a)
	nb, okb := splitIfName(b)
	if !oka || !okb {
		if oka != okb { // malformed names last
			if oka {
				return -1
			}
			return 1
		}
		return cmp.Compare(a, b)
	}
	if c := cmp.Compare(ifClass(na.typ), ifClass(nb.typ)); c != 0 {
		return c
	}
	if c := cmp.Compare(na.typ, nb.typ); c != 0 {
		return c
	}
	for i := 0; i < len(na.nums) && i < len(nb.nums); i++ {
		if c := cmp.Compare(na.nums[i], nb.nums[i]); c != 0 {
			return c
		}
	}
	if c := cmp.Compare(len(na.nums), len(nb.nums)); c != 0 {
		return c
	}
	if c := cmp.Compare(na.sub, nb.sub); c != 0 {
		return c
	}
	return cmp.Compare(a, b)
}
