package runningconfig

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Slot is an insertion point in the running-config where Parts write their sections. The
// slots are listed in IOS order; the system sections between them are fixed:
//
//	version / service ... / hostname / boot markers /
//	SlotAfterBoot      logging buffered
//	enable / no aaa new-model /
//	ip domain lookup, ip cef / username ...
//	SlotCryptoISAKMP   crypto keyring, crypto isakmp policy blocks, crypto isakmp key/keepalive/...
//	SlotCryptoIPsec    crypto ipsec security-association ..., transform-set blocks, profiles
//	SlotCryptoMap      crypto dynamic-map and crypto map blocks
//	interface ... (with ip access-group and the crypto map binding as the last line)
//	ip forward-protocol nd / no ip http server / no ip http secure-server / ip route ...
//	SlotNamedACL       ip access-list extended|standard NAME blocks
//	SlotNumberedACL    access-list N ... lines
//	control-plane / line ... / end
//
// Render writes a single "!" after every slot that produced output; a Part separates its own
// blocks inside a slot with Writer.Bang (for example between the ISAKMP policies and the
// isakmp keys nothing, between transform sets one "!").
type Slot int

// Slots in IOS order.
const (
	SlotCryptoISAKMP Slot = iota
	SlotCryptoIPsec
	SlotCryptoMap
	SlotNamedACL
	SlotNumberedACL
	SlotAfterBoot // after the boot markers, before enable: `logging buffered`
)

func (s Slot) String() string {
	switch s {
	case SlotCryptoISAKMP:
		return "crypto-isakmp"
	case SlotCryptoIPsec:
		return "crypto-ipsec"
	case SlotCryptoMap:
		return "crypto-map"
	case SlotNamedACL:
		return "named-acl"
	case SlotNumberedACL:
		return "numbered-acl"
	case SlotAfterBoot:
		return "after-boot"
	}
	return "Slot(" + strconv.Itoa(int(s)) + ")"
}

// Writer accumulates running-config lines. Lines are written without their newline; children
// of a block carry their own leading space (" set peer 10.0.0.2").
type Writer struct {
	b       strings.Builder
	scratch [64]byte // for appending addresses without allocating
}

// str writes s without a newline.
func (w *Writer) str(s string) { w.b.WriteString(s) }

// addr writes a without a newline or allocation.
func (w *Writer) addr(a netip.Addr) { w.b.Write(a.AppendTo(w.scratch[:0])) }

// mask writes the dotted netmask of a prefix length.
func (w *Writer) mask(bits int) {
	if bits < 0 || bits > 32 {
		w.str("invalid")
		return
	}
	w.addr(maskAddr(bits))
}

func (w *Writer) nl() { w.b.WriteByte('\n') }

// Line writes one line.
func (w *Writer) Line(s string) {
	w.b.WriteString(s)
	w.b.WriteByte('\n')
}

// Linef writes one formatted line.
func (w *Writer) Linef(format string, args ...any) {
	fmt.Fprintf(&w.b, format, args...)
	w.b.WriteByte('\n')
}

// Bang writes a "!" separator line.
func (w *Writer) Bang() { w.b.WriteString("!\n") }

// Len is the number of bytes written so far.
func (w *Writer) Len() int { return w.b.Len() }

// RenderOptions carries what is not part of the configuration but shows in its text.
type RenderOptions struct {
	// LastChange, when not zero, adds "! Last configuration change at <time> by <LastChangeBy>"
	// ("by ..." only when LastChangeBy is set).
	LastChange   time.Time
	LastChangeBy string
	// NVRAMUpdated, when not zero, adds "! NVRAM config last updated at <time>".
	NVRAMUpdated time.Time
}

// iosTime formats t like IOS config comments: "19:11:29 UTC Sat Oct 25 2025".
func iosTime(t time.Time) string { return t.Format("15:04:05 MST Mon Jan 2 2006") }

// Render returns the complete `show running-config` output of c exactly as IOS prints it:
//
//	Building configuration...
//	<empty line>
//	Current configuration : N bytes
//	!
//	version 15.6
//	...
//	end
//
// N is ConfigBytes of the text after the "Current configuration" line (Body(c)).
func Render(c *Config) string { return RenderWith(c, RenderOptions{}) }

// RenderWith is Render with the optional comment lines of opts.
func RenderWith(c *Config, opts RenderOptions) string {
	body := BodyWith(c, opts)
	return Header(body) + body
}

// Header returns the lines IOS prints before the configuration text of `show running-config`.
func Header(body string) string {
	return "Building configuration...\n\nCurrent configuration : " + strconv.Itoa(ConfigBytes(body)) + " bytes\n"
}

// ConfigBytes is the byte count IOS reports in "Current configuration : N bytes": the length
// of the configuration text from its first "!" through "end" and its final newline.
func ConfigBytes(body string) int { return len(body) }

// Body returns the configuration text without the show header: what `write memory` stores as
// the startup-config and what `show startup-config` prints after its first line.
func Body(c *Config) string { return BodyWith(c, RenderOptions{}) }

// StartupText is the text `write memory` / `copy running-config startup-config` saves: the same
// text as the running-config body.
func StartupText(c *Config) string { return Body(c) }

// NVRAMSize is the size IOS reports for nvram in `show startup-config` ("Using N out of 262136
// bytes").
const NVRAMSize = 262136

// ShowStartup formats a saved startup-config for `show startup-config`.
func ShowStartup(text string) string {
	return "Using " + strconv.Itoa(len(text)) + " out of " + strconv.Itoa(NVRAMSize) + " bytes\n" + text
}

// BodyWith returns the configuration text with the optional comment lines of opts.
func BodyWith(c *Config, opts RenderOptions) string {
	w := &Writer{}
	w.b.Grow(estimateSize(c))
	w.Bang()
	if !opts.LastChange.IsZero() {
		s := "! Last configuration change at " + iosTime(opts.LastChange)
		if opts.LastChangeBy != "" {
			s += " by " + opts.LastChangeBy
		}
		w.Line(s)
	}
	if !opts.NVRAMUpdated.IsZero() {
		w.Line("! NVRAM config last updated at " + iosTime(opts.NVRAMUpdated))
	}
	if !opts.LastChange.IsZero() || !opts.NVRAMUpdated.IsZero() {
		w.Bang()
	}

	w.Line("version " + IOSVersion)
	w.Line("service timestamps debug datetime msec")
	w.Line("service timestamps log datetime msec")
	if c.PasswordEncryption {
		w.Line("service password-encryption")
	} else {
		w.Line("no service password-encryption")
	}
	w.Bang()
	w.Line("hostname " + c.Hostname)
	w.Bang()
	w.Line("boot-start-marker")
	w.Line("boot-end-marker")
	w.Bang()
	parts := c.PartNames()
	c.renderSlot(w, SlotAfterBoot, parts)
	if !c.EnableSecret.IsZero() || !c.EnablePassword.IsZero() {
		if !c.EnableSecret.IsZero() {
			w.Line("enable secret " + c.EnableSecret.String())
		}
		if p := c.EnablePassword; !p.IsZero() {
			if p.Type == 7 {
				w.Line("enable password 7 " + p.Text)
			} else {
				w.Line("enable password " + p.Text)
			}
		}
		w.Bang()
	}
	w.Line("no aaa new-model")
	w.Bang()
	if !c.DomainLookup {
		w.Line("no ip domain lookup")
	}
	w.Line("ip cef")
	w.Bang()
	if len(c.Users) > 0 {
		for i := range c.Users {
			renderUser(w, &c.Users[i])
		}
		w.Bang()
	}

	c.renderSlot(w, SlotCryptoISAKMP, parts)
	c.renderSlot(w, SlotCryptoIPsec, parts)
	c.renderSlot(w, SlotCryptoMap, parts)

	for i := range c.Interfaces {
		renderInterface(w, &c.Interfaces[i])
		w.Bang()
	}

	w.Line("ip forward-protocol nd")
	w.Bang()
	w.Line("no ip http server")
	w.Line("no ip http secure-server")
	for i := range c.Routes {
		renderRoute(w, &c.Routes[i])
	}
	w.Bang()

	c.renderSlot(w, SlotNamedACL, parts)
	c.renderSlot(w, SlotNumberedACL, parts)

	w.Line("control-plane")
	w.Bang()
	for i := range c.Lines {
		renderLine(w, &c.Lines[i])
	}
	w.Bang()
	w.Line("end")
	return w.b.String()
}

// renderSlot lets every part write at s, then separates the slot with "!" if it wrote anything.
func (c *Config) renderSlot(w *Writer, s Slot, names []string) {
	if len(names) == 0 {
		return
	}
	before := w.Len()
	for _, name := range names {
		c.parts[name].RenderSlot(s, w)
	}
	if w.Len() != before {
		w.Bang()
	}
}

func renderUser(w *Writer, u *User) {
	s := "username " + u.Name
	if u.Privilege != 1 {
		s += " privilege " + strconv.Itoa(u.Privilege)
	}
	switch {
	case !u.Secret.IsZero():
		s += " secret " + u.Secret.String()
	case !u.Password.IsZero():
		s += " password " + strconv.Itoa(u.Password.Type) + " " + u.Password.Text
	}
	w.Line(s)
}

// renderInterface writes one interface block in IOS order: description, addresses (secondaries
// first, as IOS lists them), access groups, shutdown, duplex/speed, crypto map.
func renderInterface(w *Writer, f *Interface) {
	w.str("interface ")
	w.str(f.Name)
	w.nl()
	if f.Description != "" {
		w.str(" description ")
		w.str(f.Description)
		w.nl()
	}
	for _, p := range f.Secondary {
		w.str(" ip address ")
		w.addr(p.Addr())
		w.str(" ")
		w.mask(p.Bits())
		w.str(" secondary\n")
	}
	if f.Address.IsValid() {
		w.str(" ip address ")
		w.addr(f.Address.Addr())
		w.str(" ")
		w.mask(f.Address.Bits())
		w.nl()
	} else {
		w.Line(" no ip address")
	}
	if f.AccessGroupIn != "" {
		w.Line(" ip access-group " + f.AccessGroupIn + " in")
	}
	if f.AccessGroupOut != "" {
		w.Line(" ip access-group " + f.AccessGroupOut + " out")
	}
	if f.Shutdown {
		w.Line(" shutdown")
	}
	if IsPhysical(f.Name) && !isSubinterface(f.Name) {
		w.Line(" duplex auto")
		w.Line(" speed auto")
	}
	if f.CryptoMap != "" {
		w.Line(" crypto map " + f.CryptoMap)
	}
}

func isSubinterface(name string) bool {
	n, ok := splitIfName(name)
	return ok && n.sub >= 0
}

func renderRoute(w *Writer, r *Route) {
	w.str("ip route ")
	w.addr(r.Prefix.Addr())
	w.str(" ")
	w.mask(r.Prefix.Bits())
	if r.Interface != "" {
		w.str(" ")
		w.str(r.Interface)
	}
	if r.NextHop.IsValid() {
		w.str(" ")
		w.addr(r.NextHop)
	}
	if r.Distance != 0 && r.Distance != 1 {
		w.str(" ")
		w.b.Write(strconv.AppendInt(w.scratch[:0], int64(r.Distance), 10))
	}
	w.nl()
}

// renderLine writes one line block in IOS order: exec-timeout, privilege level, password,
// logging synchronous, login, transport input.
func renderLine(w *Writer, l *Line) {
	if l.First == l.Last {
		w.Linef("line %s %d", l.Kind, l.First)
	} else {
		w.Linef("line %s %d %d", l.Kind, l.First, l.Last)
	}
	if l.ExecMinutes != 10 || l.ExecSeconds != 0 {
		w.Linef(" exec-timeout %d %d", l.ExecMinutes, l.ExecSeconds)
	}
	if l.Privilege != 1 {
		w.Linef(" privilege level %d", l.Privilege)
	}
	if !l.Password.IsZero() {
		if l.Password.Type == 7 {
			w.Line(" password 7 " + l.Password.Text)
		} else {
			w.Line(" password " + l.Password.Text)
		}
	}
	if l.LogSync {
		w.Line(" logging synchronous")
	}
	switch l.Login {
	case LoginLine:
		w.Line(" login")
	case LoginLocal:
		w.Line(" login local")
	}
	if t := l.Transport.String(); t != "" {
		w.Line(" transport input " + t)
	}
}

// MaskString renders a prefix length as a dotted netmask (24 -> "255.255.255.0").
func MaskString(bits int) string {
	if bits < 0 || bits > 32 {
		return "invalid"
	}
	return maskAddr(bits).String()
}

func maskAddr(bits int) netip.Addr {
	m := ^uint32(0) << (32 - bits)
	if bits == 0 {
		m = 0
	}
	return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)})
}

// MaskBits converts a dotted netmask to a prefix length; ok is false for a non-contiguous or
// non-IPv4 mask.
func MaskBits(mask netip.Addr) (bits int, ok bool) {
	if !mask.Is4() {
		return 0, false
	}
	b := mask.As4()
	m := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	for bits = 0; bits < 32 && m&(1<<(31-bits)) != 0; bits++ {
	}
	if bits < 32 && m<<bits != 0 {
		return 0, false
	}
	return bits, true
}

// estimateSize guesses the rendered size so the builder allocates once.
func estimateSize(c *Config) int {
	return 700 + 90*len(c.Interfaces) + 60*len(c.Routes) + 80*len(c.Users) + 60*len(c.Lines)
}
