package parser

import (
	"net/netip"
	"strconv"
	"strings"
)

// Arg is one bound value of a matched line.
type Arg struct {
	Name  string     // bind name ($name, lowercased variable name, "no", "default")
	Value string     // normalised: full keyword, canonical interface name, decimal number, address
	Num   int64      // the number, for a (lo-hi) token
	Addr  netip.Addr // the address, for A.B.C.D (and HOST when typed as an address)
	Start int        // byte offsets of the value in the typed line
	End   int
}

// Args are the values a matched line bound, in line order. The zero value is empty.
// A name bound by several tokens (a group `[seq (1-10)]$x`, or the same $name repeated)
// has several entries: Str joins them, Strs lists them.
type Args struct {
	line  string
	list  []Arg
	words []string
}

// Has reports whether name was bound (for `[log]$log`, `[no]`: whether the word was typed).
func (a Args) Has(name string) bool {
	for i := range a.list {
		if a.list[i].Name == name {
			return true
		}
	}
	return false
}

// Str returns the normalised value bound to name; several entries are joined by one space.
// It returns "" when name is not bound.
func (a Args) Str(name string) string {
	var out string
	n := 0
	for i := range a.list {
		if a.list[i].Name == name {
			if n == 0 {
				out = a.list[i].Value
			} else {
				out += " " + a.list[i].Value
			}
			n++
		}
	}
	return out
}

// Strs returns every value bound to name, in line order (repeated binds).
func (a Args) Strs(name string) []string {
	var out []string
	for i := range a.list {
		if a.list[i].Name == name {
			out = append(out, a.list[i].Value)
		}
	}
	return out
}

// Int returns the first number bound to name, or 0. Ranges are declared with bounds that fit
// the platform int (64-bit); values above 2^31-1 need a 64-bit int.
func (a Args) Int(name string) int {
	v, _ := a.Int64(name)
	return int(v)
}

// Int64 returns the first number bound to name and whether there was one.
func (a Args) Int64(name string) (int64, bool) {
	for i := range a.list {
		if a.list[i].Name == name {
			if a.list[i].Addr.IsValid() {
				continue
			}
			if v, err := strconv.ParseInt(a.list[i].Value, 10, 64); err == nil {
				return v, true
			}
		}
	}
	return 0, false
}

// IP returns the first IPv4 address bound to name, or the zero Addr.
func (a Args) IP(name string) netip.Addr {
	for i := range a.list {
		if a.list[i].Name == name && a.list[i].Addr.IsValid() {
			return a.list[i].Addr
		}
	}
	return netip.Addr{}
}

// Raw returns the text bound to name exactly as typed, from the first entry's start to the last
// entry's end (so `gi 0/0` keeps its space and a LINE keeps its inner spacing).
func (a Args) Raw(name string) string {
	start, end := -1, -1
	for i := range a.list {
		if a.list[i].Name == name {
			if start < 0 {
				start = a.list[i].Start
			}
			end = a.list[i].End
		}
	}
	if start < 0 {
		return ""
	}
	return a.line[start:end]
}

// All returns every binding in line order.
func (a Args) All() []Arg { return append([]Arg(nil), a.list...) }

// Words returns the matched line in normalised form, one element per grammar token: keywords
// spelled out, interface names canonical, numbers and addresses normalised, LINE as typed.
// Joined by spaces it is the line as IOS would store it.
func (a Args) Words() []string { return append([]string(nil), a.words...) }

// String returns the normalised line (Words joined by single spaces).
func (a Args) String() string { return strings.Join(a.words, " ") }
