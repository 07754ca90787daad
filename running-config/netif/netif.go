package netif

import (
	"errors"
	"fmt"
	"log"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
)

// ErrNoLink is returned (wrapped) by Validate when a changed interface has no Linux link.
var ErrNoLink = errors.New("netif: no Linux link for interface")

const (
	linuxPrefix = "eth"
	iosPrefix   = "GigabitEthernet0/"
	maxPort     = 1 << 16
)

// IOSName maps a Linux link name to its IOS port name: "eth3" -> "GigabitEthernet0/3".
func IOSName(linux string) (string, bool) {
	n, ok := portNumber(linux, linuxPrefix)
	if !ok {
		return "", false
	}
	return iosPrefix + strconv.Itoa(n), true
}

// LinuxName maps an IOS port name to its Linux link: "GigabitEthernet0/3" -> "eth3".
// Subinterfaces and logical interfaces have no link.
func LinuxName(ios string) (string, bool) {
	n, ok := portNumber(ios, iosPrefix)
	if !ok {
		return "", false
	}
	return linuxPrefix + strconv.Itoa(n), true
}

// portNumber parses prefix + a canonical decimal number (no sign, no leading zero).
func portNumber(s, prefix string) (int, bool) {
	d, ok := strings.CutPrefix(s, prefix)
	if !ok || d == "" || len(d) > 5 || (len(d) > 1 && d[0] == '0') {
		return 0, false
	}
	n := 0
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return 0, false
		}
		n = n*10 + int(d[i]-'0')
	}
	return n, n < maxPort
}

// Links talks to the links of one network namespace. It implements runningconfig.Subscriber.
type Links struct {
	h *netlink.Handle
	// OnError receives the failures of Commit, which cannot refuse a change that is already
	// running (IOS prints such failures as log messages). Defaults to the standard logger.
	OnError func(error)
}

var _ runningconfig.Subscriber = (*Links)(nil)

// Open returns Links for the current network namespace, over a netlink handle limited to
// NETLINK_ROUTE.
func Open() (*Links, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netif: open netlink: %w", err)
	}
	return &Links{h: h}, nil
}

// OpenAt returns Links for the network namespace ns.
func OpenAt(ns netns.NsHandle) (*Links, error) {
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netif: open netlink in namespace: %w", err)
	}
	return &Links{h: h}, nil
}

// Close releases the netlink handle.
func (l *Links) Close() { l.h.Close() }

// Link is the state of one mapped Linux link.
type Link struct {
	IOSName   string // GigabitEthernet0/N
	LinuxName string // ethN
	Index     int
	AdminUp   bool           // IFF_UP (`no shutdown`)
	OperUp    bool           // carrier and operational state up
	Addrs     []netip.Prefix // IPv4 addresses in kernel order (the first added first)
	MAC       net.HardwareAddr
	MTU       int
}

// Status is the IOS interface status column: "up", "down" or "administratively down".
func (k Link) Status() string {
	switch {
	case !k.AdminUp:
		return "administratively down"
	case k.OperUp:
		return "up"
	}
	return "down"
}

// Protocol is the IOS line protocol column: "up" or "down".
func (k Link) Protocol() string {
	if k.AdminUp && k.OperUp {
		return "up"
	}
	return "down"
}

// List returns the links that map to IOS ports, in IOS order.
func (l *Links) List() ([]Link, error) {
	all, err := l.h.LinkList()
	if err != nil {
		return nil, fmt.Errorf("netif: list links: %w", err)
	}
	var out []Link
	for _, nl := range all {
		a := nl.Attrs()
		ios, ok := IOSName(a.Name)
		if !ok {
			continue
		}
		k := Link{
			IOSName:   ios,
			LinuxName: a.Name,
			Index:     a.Index,
			AdminUp:   a.Flags&net.FlagUp != 0,
			OperUp:    a.OperState == netlink.OperUp || a.OperState == netlink.OperUnknown && a.RawFlags&unix.IFF_LOWER_UP != 0,
			MAC:       a.HardwareAddr,
			MTU:       a.MTU,
		}
		if k.Addrs, err = l.v4Addrs(nl); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b Link) int { return runningconfig.CompareIfNames(a.IOSName, b.IOSName) })
	return out, nil
}

func (l *Links) v4Addrs(nl netlink.Link) ([]netip.Prefix, error) {
	addrs, err := l.h.AddrList(nl, netlink.FAMILY_V4)
	if err != nil {
		return nil, fmt.Errorf("netif: addresses of %s: %w", nl.Attrs().Name, err)
	}
	var out []netip.Prefix
	for _, a := range addrs {
		if p, ok := toPrefix(a.IPNet); ok {
			out = append(out, p)
		}
	}
	return out, nil
}

func toPrefix(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	ip, ok := netip.AddrFromSlice(n.IP.To4())
	ones, bits := n.Mask.Size()
	if !ok || bits != 32 {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(ip, ones), true
}

// AddPorts adds to c an Interface (IOS defaults) for every mapped link that c lacks. Use it in
// an Apply edit at boot, before the startup-config is replayed.
func (l *Links) AddPorts(c *runningconfig.Config) error {
	links, err := l.List()
	if err != nil {
		return err
	}
	for _, k := range links {
		c.EnsureInterface(k.IOSName)
	}
	return nil
}

// changed returns the mapped interfaces of next whose address or shutdown state differs from
// prev (or that prev lacks).
func changed(prev, next *runningconfig.Config) []*runningconfig.Interface {
	var out []*runningconfig.Interface
	for i := range next.Interfaces {
		f := &next.Interfaces[i]
		if _, ok := LinuxName(f.Name); !ok {
			continue
		}
		var o *runningconfig.Interface
		if prev != nil {
			o = prev.Interface(f.Name)
		}
		if o == nil || o.Shutdown != f.Shutdown || o.Address != f.Address || !slices.Equal(o.Secondary, f.Secondary) {
			out = append(out, f)
		}
	}
	return out
}

// Validate refuses a change to a GigabitEthernet interface that has no Linux link.
func (l *Links) Validate(old, new *runningconfig.Config) error {
	for _, f := range changed(old, new) {
		name, _ := LinuxName(f.Name)
		if _, err := l.h.LinkByName(name); err != nil {
			var nf netlink.LinkNotFoundError
			if errors.As(err, &nf) {
				return fmt.Errorf("%w: %s (%s)", ErrNoLink, f.Name, name)
			}
			return fmt.Errorf("netif: %s: %w", name, err)
		}
	}
	return nil
}

// Commit applies every changed GigabitEthernet interface to its link, then, when the static
// routes or a port changed, the static routes (SyncRoutes); failures go to OnError.
func (l *Links) Commit(old, new *runningconfig.Config) {
	ifs := changed(old, new)
	for _, f := range ifs {
		if err := l.Apply(f); err != nil {
			l.report(err)
		}
	}
	if len(ifs) > 0 || old == nil || !slices.Equal(old.Routes, new.Routes) {
		if err := l.SyncRoutes(new); err != nil {
			l.report(err)
		}
	}
}

func (l *Links) report(err error) {
	if l.OnError != nil {
		l.OnError(err)
		return
	}
	log.Print(err)
}

// Apply makes the Linux link of f match it: the IPv4 addresses become exactly f.Address and
// f.Secondary (primary added first, so the kernel treats it as primary), and the link is set
// down for `shutdown`, up otherwise. Equivalent to `ip addr add/del` and `ip link set up/down`.
func (l *Links) Apply(f *runningconfig.Interface) error {
	name, ok := LinuxName(f.Name)
	if !ok {
		return fmt.Errorf("%w: %s", ErrNoLink, f.Name)
	}
	link, err := l.h.LinkByName(name)
	if err != nil {
		return fmt.Errorf("netif: %s: %w", name, err)
	}
	var want []netip.Prefix
	if f.Address.IsValid() {
		want = append(want, f.Address)
		want = append(want, f.Secondary...)
	}
	// Remove what is not wanted. Deleting a kernel primary may take its secondaries with it,
	// so the list is read again before adding.
	have, err := l.v4Addrs(link)
	if err != nil {
		return err
	}
	for _, p := range have {
		if !slices.Contains(want, p) {
			if err := l.h.AddrDel(link, toAddr(p)); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
				return fmt.Errorf("netif: %s: delete %s: %w", name, p, err)
			}
		}
	}
	if have, err = l.v4Addrs(link); err != nil {
		return err
	}
	for _, p := range want {
		if !slices.Contains(have, p) {
			if err := l.h.AddrAdd(link, toAddr(p)); err != nil && !errors.Is(err, unix.EEXIST) {
				return fmt.Errorf("netif: %s: add %s: %w", name, p, err)
			}
		}
	}
	up := link.Attrs().Flags&net.FlagUp != 0
	switch {
	case f.Shutdown && up:
		if err := l.h.LinkSetDown(link); err != nil {
			return fmt.Errorf("netif: %s: set down: %w", name, err)
		}
	case !f.Shutdown && !up:
		if err := l.h.LinkSetUp(link); err != nil {
			return fmt.Errorf("netif: %s: set up: %w", name, err)
		}
	}
	return nil
}

func toAddr(p netip.Prefix) *netlink.Addr {
	return &netlink.Addr{IPNet: &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), 32)}}
}
