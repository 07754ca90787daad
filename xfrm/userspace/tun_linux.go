package userspace

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"syscall"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// TxQueueLen is the TUN device's transmit queue (packets the kernel routed into the tunnel that
// the outbound reader has not read yet). Linux's default for a TUN device, 500, overflows under
// a TCP burst whenever the reader is descheduled for a moment: the iperf3 lab benchmark lost
// about one packet in a thousand there, each a TCP retransmission and a halved window.
const TxQueueLen = 5000

// New creates the TUN device (IFF_TUN|IFF_NO_PI, named cfg.TUNName, MTU cfg.MTU, transmit queue
// TxQueueLen, up) in the calling thread's network namespace, opens a NETLINK_ROUTE handle there
// for the routes, and starts the outbound reader. Equivalent to: `ip tuntap add dev tbx0 mode
// tun; ip link set tbx0 mtu 1400 txqueuelen 5000 up`.
func New(cfg Config) (*Backend, error) {
	if cfg.TUNName == "" {
		cfg.TUNName = DefaultTUNName
	}
	if cfg.MTU == 0 {
		cfg.MTU = DefaultMTU
	}
	if cfg.MTU < 576 || cfg.MTU > maxPacket {
		return nil, fmt.Errorf("userspace: MTU %d outside 576..%d", cfg.MTU, maxPacket)
	}
	if cfg.Send == nil {
		return nil, fmt.Errorf("userspace: Config.Send is required")
	}
	f, name, err := openTUN(cfg.TUNName)
	if err != nil {
		return nil, err
	}
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("userspace: netlink: %w", err)
	}
	link, err := h.LinkByName(name)
	if err == nil {
		err = h.LinkSetMTU(link, cfg.MTU)
	}
	if err == nil {
		err = h.LinkSetTxQLen(link, TxQueueLen)
	}
	if err == nil {
		err = h.LinkSetUp(link)
	}
	if err != nil {
		h.Close()
		f.Close()
		return nil, fmt.Errorf("userspace: set up %s: %w", name, err)
	}
	cfg.TUNName = name
	rc, err := f.SyscallConn()
	if err != nil {
		h.Close()
		f.Close()
		return nil, fmt.Errorf("userspace: %s: %w", name, err)
	}
	return newBackend(cfg, &tunFile{File: f, rc: rc}, &netlinkRoutes{h: h, link: link.Attrs().Index})
}

// tunFile is the TUN device: an *os.File on Go's poller that can also read a batch of packets
// per wakeup (one read(2) per packet: a TUN device without IFF_VNET_HDR hands out one packet
// per read).
type tunFile struct {
	*os.File
	rc syscall.RawConn
}

// ReadBatch implements batchReader.
func (t *tunFile) ReadBatch(bufs [][]byte, sizes []int) (int, error) {
	n := 0
	var rerr error
	err := t.rc.Read(func(fd uintptr) bool {
		for n < len(bufs) {
			k, err := unix.Read(int(fd), bufs[n])
			switch {
			case err == unix.EINTR:
				continue
			case err == unix.EAGAIN:
				return n > 0 // nothing yet: wait for the poller; else deliver what was read
			case err != nil:
				rerr = err
				return true
			}
			sizes[n] = k
			n++
		}
		return true
	})
	switch {
	case n > 0:
		return n, nil // an error after some packets comes back on the next read
	case err != nil:
		return 0, fmt.Errorf("userspace: TUN read: %w", err)
	case rerr != nil:
		return 0, fmt.Errorf("userspace: TUN read: %w", rerr)
	}
	return 0, fmt.Errorf("userspace: TUN read: %w", io.ErrNoProgress)
}

// openTUN opens /dev/net/tun non-blocking (so Close unblocks the reader through Go's poller)
// and attaches it to a TUN interface named name.
func openTUN(name string) (*os.File, string, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, "", fmt.Errorf("userspace: open /dev/net/tun: %w", err)
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		unix.Close(fd)
		return nil, "", fmt.Errorf("userspace: TUN name %q: %w", name, err)
	}
	ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return nil, "", fmt.Errorf("userspace: TUNSETIFF %s: %w", name, err)
	}
	return os.NewFile(uintptr(fd), "/dev/net/tun"), ifr.Name(), nil
}

// netlinkRoutes adds and removes `ip route add PREFIX dev TUN` routes.
type netlinkRoutes struct {
	h    *netlink.Handle
	link int
}

func (r *netlinkRoutes) route(p netip.Prefix) *netlink.Route {
	return &netlink.Route{
		LinkIndex: r.link,
		Scope:     netlink.SCOPE_LINK,
		Dst:       &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())},
	}
}

func (r *netlinkRoutes) add(p netip.Prefix) error { return r.h.RouteReplace(r.route(p)) }
func (r *netlinkRoutes) del(p netip.Prefix) error { return r.h.RouteDel(r.route(p)) }
func (r *netlinkRoutes) close() error {
	r.h.Close()
	return nil
}
