package ike

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/tunnelbox/tunnelbox/xfrm"
)

// UDP is the engine's Transport on UDP: one socket on port 500 (IKE) and one on port 4500 (IKE
// after NAT traversal, and UDP-encapsulated ESP, RFC 3947/3948), both normally bound to 0.0.0.0
// in the router's network namespace.
//
// Because the sockets are bound to the wildcard address, every received datagram carries its
// destination address in an IP_PKTINFO control message, and every datagram sent names its
// source address the same way: a responder answers from the address the initiator used, and an
// initiator sends from the crypto map interface's address, whatever the routing table would pick.
//
// On port 4500 the first four octets tell the datagrams apart (xfrm.Classify4500): IKE after the
// zero non-ESP marker goes to the engine without it, ESP goes to the data plane's handler (the
// userspace backend's HandleESPInUDP), NAT keepalives (0xFF) and runts are dropped and counted.
// Send prepends the marker when it sends from port 4500.
type UDP struct {
	ike, natt *net.UDPConn
	ikePort   uint16
	nattPort  uint16
	pktinfo   bool // the sockets are bound to 0.0.0.0: PKTINFO names the source on send
	serveOnce sync.Once
	wg        sync.WaitGroup
	closed    atomic.Bool
	handlers  UDPHandlers
	stats     udpCounters
	bufs      sync.Pool // *[]byte scratch for marker + message on 4500
	// sendBatches: *sendBatch for SendESPBatch
	sendBatches sync.Pool
	noGSO       atomic.Bool // the kernel or the device cannot segment UDP (SendESPBatch)
	tap         atomic.Pointer[espTap]
}

// UDPHandlers receive what the sockets read. They run on the reader goroutines, one per socket:
// IKE must not block (Engine.Receive never does) and ESP is synchronous (the buffer is reused
// after it returns).
type UDPHandlers struct {
	// IKE gets every ISAKMP datagram, from port 500 as is and from port 4500 without the
	// non-ESP marker. Required.
	IKE func(Packet)
	// ESP gets every UDP-encapsulated ESP datagram received on port 4500 (SPI first) with the
	// sender's address; nil drops them (a router without a userspace data plane). The error is
	// only counted: the data plane counts its own drops.
	ESP func(b []byte, from netip.AddrPort) error
}

// UDPStats counts what the transport received and sent.
type UDPStats struct {
	IKEIn, IKEOut     uint64 // ISAKMP datagrams received (both ports) and sent
	ESPIn, ESPOut     uint64 // ESP-in-UDP datagrams handed to the data plane and sent for it
	ESPRefused        uint64 // ESP datagrams the handler returned an error for, or no handler
	Keepalives        uint64 // NAT keepalives received (dropped)
	Invalid           uint64 // runts on 4500, truncated datagrams (dropped)
	SendErrors        uint64
	UnknownLocalAddrs uint64 // datagrams without a usable IP_PKTINFO (the local address is the bound one)
	Coalesced         uint64 // reads that returned several datagrams the kernel coalesced (UDP_GRO)
}

type udpCounters struct {
	ikeIn, ikeOut, espIn, espOut, espRefused, keepalives, invalid, sendErrors, noPktinfo, coalesced atomic.Uint64
}

// ErrUDPAddr is returned by Send for an address the transport cannot use (not IPv4).
var ErrUDPAddr = errors.New("ike: UDP transport is IPv4 only")

// maxDatagram is the largest UDP payload over IPv4.
const maxDatagram = 65535

// RecvBuffer is the receive buffer NewUDP asks for on both sockets. Linux's default (about
// 208 KiB, a few hundred small datagrams) overflows when hundreds of peers start Main Mode at
// once (a hub after a reboot; the setup-rate lab benchmark) and under a burst of ESP on port
// 4500; every datagram dropped there costs its sender a retransmission seconds later. 4 MiB
// holds a few thousand datagrams.
const RecvBuffer = 4 << 20

// ListenUDP binds UDP ports 500 and 4500 on addr (0.0.0.0 when addr is the zero Addr) in the
// calling thread's network namespace. Call Serve to start reading.
func ListenUDP(addr netip.Addr) (*UDP, error) {
	if !addr.IsValid() {
		addr = netip.IPv4Unspecified()
	}
	if !addr.Unmap().Is4() {
		return nil, fmt.Errorf("%w: %s", ErrUDPAddr, addr)
	}
	addr = addr.Unmap()
	ike, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(addr, PortIKE)))
	if err != nil {
		return nil, fmt.Errorf("ike: listen on UDP %d: %w", PortIKE, err)
	}
	natt, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(addr, PortNATT)))
	if err != nil {
		ike.Close()
		return nil, fmt.Errorf("ike: listen on UDP %d: %w", PortNATT, err)
	}
	u, err := NewUDP(ike, natt)
	if err != nil {
		ike.Close()
		natt.Close()
		return nil, err
	}
	return u, nil
}

// NewUDP wraps two bound IPv4 UDP sockets: ike plays port 500, natt port 4500 (tests pass
// sockets on other ports; Send then maps the engine's PortNATT to natt's port). It enables
// IP_PKTINFO on both. The UDP owns the sockets from now on.
func NewUDP(ike, natt *net.UDPConn) (*UDP, error) {
	u := &UDP{ike: ike, natt: natt}
	for i, c := range []*net.UDPConn{ike, natt} {
		la, ok := c.LocalAddr().(*net.UDPAddr)
		if !ok {
			return nil, fmt.Errorf("ike: UDP socket has no local address")
		}
		ap := la.AddrPort()
		if !ap.Addr().Unmap().Is4() {
			return nil, fmt.Errorf("%w: socket bound to %s", ErrUDPAddr, ap)
		}
		if i == 0 {
			u.ikePort = ap.Port()
			u.pktinfo = ap.Addr().Unmap().IsUnspecified()
		} else {
			u.nattPort = ap.Port()
		}
		if err := setPktinfo(c); err != nil {
			return nil, err
		}
		setRecvBuffer(c, RecvBuffer)
	}
	u.bufs.New = func() any { b := make([]byte, 0, 2048); return &b }
	u.sendBatches.New = func() any { return newSendBatch(SendBatch) }
	return u, nil
}

// setGRO lets the kernel hand the reader a burst of equal ESP datagrams of one sender as one
// (UDP_GRO; split again by the reader before the ESP handler), which saves the per-datagram receive work when the
// sender used UDP GSO over a veth link or the NIC coalesces. Best effort: without it the
// datagrams come one by one.
func setGRO(c *net.UDPConn) {
	if rc, err := c.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { unix.SetsockoptInt(int(fd), unix.SOL_UDP, unix.UDP_GRO, 1) })
	}
}

// setRecvBuffer sizes c's receive buffer: SO_RCVBUFFORCE when the process may (CAP_NET_ADMIN,
// which a router has), else SO_RCVBUF, which the kernel caps at net.core.rmem_max. It is best
// effort: a smaller buffer only means earlier drops under a burst.
func setRecvBuffer(c *net.UDPConn, n int) {
	rc, err := c.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, n) != nil {
			unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, n)
		}
	})
}

func setPktinfo(c *net.UDPConn) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return fmt.Errorf("ike: %w", err)
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
	}); err != nil {
		return fmt.Errorf("ike: %w", err)
	}
	if serr != nil {
		return fmt.Errorf("ike: setsockopt IP_PKTINFO: %w", serr)
	}
	return nil
}

// Ports returns the ports the two sockets are bound to (500 and 4500 after ListenUDP).
func (u *UDP) Ports() (ike, natt uint16) { return u.ikePort, u.nattPort }

// Serve starts one reader goroutine per socket delivering to h. It may be called once; later
// calls do nothing. With an ESP handler it turns on UDP_GRO on the NAT-T socket (see setGRO).
func (u *UDP) Serve(h UDPHandlers) {
	u.serveOnce.Do(func() {
		u.handlers = h
		if h.ESP != nil {
			// Only for a userspace data plane: a socket with kernel ESP-in-UDP decapsulation
			// (UDP_ENCAP) must get the datagrams one by one.
			setGRO(u.natt)
		}
		u.wg.Add(2)
		go u.read(u.ike, u.ikePort, false)
		go u.read(u.natt, u.nattPort, true)
	})
}

// read is one socket's reader: it takes up to RecvBatch datagrams per system call (recvmmsg)
// and dispatches them in order, so a burst of ESP costs one wakeup and one system call per
// batch instead of per datagram. The buffers are reused once the whole batch is handled.
func (u *UDP) read(c *net.UDPConn, port uint16, natt bool) {
	defer u.wg.Done()
	rc, err := c.SyscallConn()
	if err != nil {
		return
	}
	bound := netip.Addr{}
	if la, ok := c.LocalAddr().(*net.UDPAddr); ok {
		bound = la.AddrPort().Addr().Unmap()
	}
	rb := newRecvBatch(RecvBatch, maxDatagram)
	for {
		var n int
		var serr error
		err := rc.Read(func(fd uintptr) bool {
			n, serr = rb.recv(fd)
			return serr != unix.EAGAIN && serr != unix.EINTR
		})
		if err != nil || u.closed.Load() {
			return // the socket was closed
		}
		if serr != nil {
			continue // ICMP errors surface as read errors on Linux: keep reading
		}
		for i := range n {
			h := &rb.hdrs[i]
			if h.Hdr.Flags&unix.MSG_TRUNC != 0 {
				u.stats.invalid.Add(1)
				continue
			}
			from, ok := rb.from(i)
			if !ok {
				u.stats.invalid.Add(1)
				continue
			}
			oob := rb.oob(i)
			local, ok := pktinfoDst(oob)
			if !ok {
				u.stats.noPktinfo.Add(1)
				local = bound
			}
			to := netip.AddrPortFrom(local, port)
			b := rb.bufs[i][:h.Len]
			// Datagrams the kernel coalesced (UDP_GRO: equal segments, the last may be
			// shorter) are handed on one by one, as they were sent.
			if seg := groSize(oob); seg > 0 && len(b) > seg {
				u.stats.coalesced.Add(1)
				for len(b) > seg {
					u.dispatch(b[:seg], to, from, natt)
					b = b[seg:]
				}
			}
			u.dispatch(b, to, from, natt)
		}
	}
}

// RecvBatch is how many datagrams one reader takes from its socket per system call
// (recvmmsg), and SendBatch the most SendESPBatch hands to the kernel per call (sendmmsg).
const (
	RecvBatch = 32
	SendBatch = 64
)

// oobSpace is each received datagram's control buffer: room for IP_PKTINFO and a spare.
var oobSpace = unix.CmsgSpace(unix.SizeofInet4Pktinfo) + 64

// recvBatch is the argument of recvmmsg(2): one header, buffer, sender address and control
// buffer per datagram, allocated once per reader. The headers point into the other slices,
// which the struct keeps alive and which the Go heap never moves.
type recvBatch struct {
	hdrs  []unix.Mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet4
	oobs  []byte
	bufs  [][]byte
}

func newRecvBatch(n, size int) *recvBatch {
	rb := &recvBatch{
		hdrs:  make([]unix.Mmsghdr, n),
		iovs:  make([]unix.Iovec, n),
		names: make([]unix.RawSockaddrInet4, n),
		oobs:  make([]byte, n*oobSpace),
		bufs:  make([][]byte, n),
	}
	for i := range n {
		rb.bufs[i] = make([]byte, size)
		rb.iovs[i].Base = &rb.bufs[i][0]
		rb.iovs[i].SetLen(size)
		h := &rb.hdrs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&rb.names[i]))
		h.Iov = &rb.iovs[i]
		h.SetIovlen(1)
		h.Control = &rb.oobs[i*oobSpace]
	}
	return rb
}

// recv reads up to len(rb.hdrs) datagrams without blocking.
func (rb *recvBatch) recv(fd uintptr) (int, error) {
	for i := range rb.hdrs {
		h := &rb.hdrs[i]
		h.Hdr.Namelen = unix.SizeofSockaddrInet4
		h.Hdr.SetControllen(oobSpace)
		h.Hdr.Flags = 0
		h.Len = 0
	}
	n, _, errno := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&rb.hdrs[0])),
		uintptr(len(rb.hdrs)), unix.MSG_DONTWAIT, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// from is the sender of datagram i; false when it is not an IPv4 address.
func (rb *recvBatch) from(i int) (netip.AddrPort, bool) {
	sa := &rb.names[i]
	if rb.hdrs[i].Hdr.Namelen < unix.SizeofSockaddrInet4 || sa.Family != unix.AF_INET {
		return netip.AddrPort{}, false
	}
	p := (*[2]byte)(unsafe.Pointer(&sa.Port)) // network byte order
	return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(p[0])<<8|uint16(p[1])), true
}

// oob is the control data received with datagram i.
func (rb *recvBatch) oob(i int) []byte {
	n := min(int(rb.hdrs[i].Hdr.Controllen), oobSpace)
	return rb.oobs[i*oobSpace : i*oobSpace+n]
}

// dispatch classifies one datagram and hands it on.
func (u *UDP) dispatch(b []byte, local, from netip.AddrPort, natt bool) {
	if !natt {
		u.stats.ikeIn.Add(1)
		u.handlers.IKE(Packet{Local: local, Remote: from, Data: b})
		return
	}
	kind, rest := xfrm.Classify4500(b)
	switch kind {
	case xfrm.UDPIKE:
		u.stats.ikeIn.Add(1)
		u.handlers.IKE(Packet{Local: local, Remote: from, Data: rest})
	case xfrm.UDPESP:
		u.stats.espIn.Add(1)
		if t := u.tap.Load(); t != nil {
			t.add(false, local, from, rest) // before the handler, which may decrypt in place
		}
		if u.handlers.ESP == nil || u.handlers.ESP(rest, from) != nil {
			u.stats.espRefused.Add(1)
		}
	case xfrm.UDPKeepalive:
		u.stats.keepalives.Add(1)
	default:
		u.stats.invalid.Add(1)
	}
}

// pktinfoDst returns the destination address of a datagram from its IP_PKTINFO message.
func pktinfoDst(oob []byte) (netip.Addr, bool) {
	// struct in_pktinfo { int ipi_ifindex; struct in_addr ipi_spec_dst; struct in_addr ipi_addr; }
	d := cmsgData(oob, unix.IPPROTO_IP, unix.IP_PKTINFO)
	if len(d) < unix.SizeofInet4Pktinfo {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4([4]byte(d[8:12])), true
}

// groSize returns the segment size of a datagram the kernel coalesced (UDP_GRO: an int), or 0.
func groSize(oob []byte) int {
	d := cmsgData(oob, unix.SOL_UDP, unix.UDP_GRO)
	if len(d) < 4 {
		return 0
	}
	return int(*(*int32)(unsafe.Pointer(&d[0])))
}

// cmsgData returns the data of the first control message of that level and type in oob, or
// nil. It walks the messages in place (RFC 3542 §20.2 layout, Linux alignment) without
// allocating, checking every length against the buffer.
func cmsgData(oob []byte, level, typ int32) []byte {
	hdr := unix.CmsgLen(0) // the aligned header: data starts here
	for len(oob) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < hdr || l > len(oob) {
			return nil
		}
		if h.Level == level && h.Type == typ {
			return oob[hdr:l]
		}
		next := unix.CmsgSpace(l - hdr)
		if next > len(oob) {
			break
		}
		oob = oob[next:]
	}
	return nil
}

// Send implements Transport: msg goes from local (its port chooses the socket: PortNATT, or the
// NAT-T socket's own port, means 4500 with the non-ESP marker) to remote. A valid, specified
// local address becomes the datagram's source address.
func (u *UDP) Send(local, remote netip.AddrPort, msg []byte) error {
	if u.closed.Load() {
		return ErrClosed
	}
	c, natt := u.ike, false
	if p := local.Port(); p == PortNATT || (p != 0 && p == u.nattPort) {
		c, natt = u.natt, true
	}
	b := msg
	if natt {
		bp := u.bufs.Get().(*[]byte)
		defer u.bufs.Put(bp)
		*bp = append(append((*bp)[:0], 0, 0, 0, 0), msg...)
		b = *bp
	}
	if _, err := u.write(c, b, local.Addr(), remote); err != nil {
		u.stats.sendErrors.Add(1)
		return err
	}
	u.stats.ikeOut.Add(1)
	return nil
}

// SendESP sends one ESP-in-UDP datagram (SPI first, no marker) from the NAT-T socket to to:
// userspace.Config.Send. The kernel picks the source address (the route towards the peer).
func (u *UDP) SendESP(b []byte, to netip.AddrPort) (int, error) {
	if u.closed.Load() {
		return 0, ErrClosed
	}
	if len(b) >= 4 && binary.BigEndian.Uint32(b) == 0 {
		// SPI 0 is reserved (RFC 4303 §2.1) and would read as a non-ESP marker at the peer.
		return 0, fmt.Errorf("ike: ESP datagram with SPI 0")
	}
	n, err := u.write(u.natt, b, netip.Addr{}, to)
	if err != nil {
		u.stats.sendErrors.Add(1)
		return n, err
	}
	u.stats.espOut.Add(1)
	if t := u.tap.Load(); t != nil {
		// The kernel picked the source address: the record names only the port.
		t.add(true, netip.AddrPortFrom(netip.IPv4Unspecified(), u.nattPort), to, b)
	}
	return n, nil
}

// SendESPBatch sends ESP-in-UDP datagrams (SPI first, no marker) from the NAT-T socket, b[i]
// to to[i], in as few system calls as possible: userspace.Config.SendBatch. One sendmmsg
// carries up to SendBatch datagrams, and consecutive datagrams to one peer of one length (the
// last of a run may be shorter: the segments of a TCP burst) go as one UDP GSO message
// (UDP_SEGMENT), which crosses the local stack once and is split into datagrams only at the
// device. Like sendmmsg it returns how many datagrams, from the first, were sent; when err is
// not nil, b[sent] was not (the caller drops it and may call again with the rest). The kernel
// picks the source addresses. b is not kept.
func (u *UDP) SendESPBatch(b [][]byte, to []netip.AddrPort) (sent int, err error) {
	if len(to) < len(b) {
		return 0, fmt.Errorf("ike: SendESPBatch: %d datagrams, %d addresses", len(b), len(to))
	}
	if u.closed.Load() {
		return 0, ErrClosed
	}
	sb := u.sendBatches.Get().(*sendBatch)
	defer u.sendBatches.Put(sb)
	gso := !u.noGSO.Load()
	for sent < len(b) {
		nmsg := sb.build(b[sent:], to[sent:], gso)
		if nmsg == 0 { // b[sent] cannot be sent
			u.stats.sendErrors.Add(1)
			if !validESPDst(to[sent]) {
				return sent, fmt.Errorf("%w: %s", ErrUDPAddr, to[sent])
			}
			return sent, fmt.Errorf("ike: ESP datagram with SPI 0 or empty")
		}
		k, serr := sb.send(u.natt, nmsg)
		n := 0
		for _, c := range sb.segs[:k] {
			n += c
		}
		if n > 0 {
			u.stats.espOut.Add(uint64(n))
			if t := u.tap.Load(); t != nil {
				for i := sent; i < sent+n; i++ {
					t.add(true, netip.AddrPortFrom(netip.IPv4Unspecified(), u.nattPort), to[i], b[i])
				}
			}
		}
		failedGSO := serr != nil && sb.segs[k] > 1
		sb.clear(nmsg)
		sent += n
		switch {
		case serr == nil:
		case failedGSO:
			// The kernel refused to segment (no checksum offload on the route's device, an
			// old kernel, a segment above the route's MTU): send the rest of this call one
			// datagram per message, and stop trying where segmentation is unsupported.
			gso = false
			if serr == unix.EIO || serr == unix.EOPNOTSUPP || serr == unix.ENOPROTOOPT {
				u.noGSO.Store(true)
			}
		default:
			u.stats.sendErrors.Add(1)
			return sent, fmt.Errorf("ike: send to %s: %w", to[sent], serr)
		}
	}
	return sent, nil
}

// validESPDst and validESP say whether SendESPBatch can send datagram m to dst.
func validESPDst(dst netip.AddrPort) bool { return dst.Addr().Unmap().Is4() }

func validESP(m []byte, dst netip.AddrPort) bool {
	return validESPDst(dst) && len(m) >= 4 && binary.BigEndian.Uint32(m) != 0
}

// Bounds of one UDP GSO message (Linux: UDP_MAX_SEGMENTS; the IPv4 payload after the UDP header).
const (
	gsoMaxSegments = 64
	gsoMaxBytes    = 65535 - 20 - 8
)

// gsoCmsgSpace is the control buffer of a UDP_SEGMENT message (a uint16 segment size).
var gsoCmsgSpace = unix.CmsgSpace(2)

// sendBatch is the argument of sendmmsg(2), pooled per transport: up to SendBatch messages,
// each one datagram or a GSO run of several (one iovec per datagram, so nothing is copied).
type sendBatch struct {
	hdrs  []unix.Mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet4
	cmsgs []byte
	segs  []int // datagrams per message
}

func newSendBatch(n int) *sendBatch {
	sb := &sendBatch{hdrs: make([]unix.Mmsghdr, n), iovs: make([]unix.Iovec, n),
		names: make([]unix.RawSockaddrInet4, n), cmsgs: make([]byte, n*gsoCmsgSpace), segs: make([]int, n+1)}
	for i := range n {
		h := &sb.hdrs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&sb.names[i]))
		h.Namelen = unix.SizeofSockaddrInet4
		c := (*unix.Cmsghdr)(unsafe.Pointer(&sb.cmsgs[i*gsoCmsgSpace]))
		c.Level, c.Type = unix.SOL_UDP, unix.UDP_SEGMENT
		c.SetLen(unix.CmsgLen(2))
	}
	return sb
}

// build describes the longest valid prefix of b as messages and returns how many (0 when b[0]
// is invalid). With gso, a message takes consecutive datagrams to one address while they have
// the first one's length, plus at most one shorter last one.
func (sb *sendBatch) build(b [][]byte, to []netip.AddrPort, gso bool) int {
	nmsg, iov, i := 0, 0, 0
	for i < len(b) && nmsg < len(sb.hdrs) && validESP(b[i], to[i]) {
		first, dst, size, total := iov, to[i], len(b[i]), 0
		for i < len(b) && iov < len(sb.iovs) && (iov == first || gso) {
			l := len(b[i])
			if iov > first && (to[i] != dst || l > size || iov-first == gsoMaxSegments ||
				total+l > gsoMaxBytes || !validESP(b[i], to[i])) {
				break
			}
			sb.iovs[iov].Base = &b[i][0]
			sb.iovs[iov].SetLen(l)
			total += l
			iov++
			i++
			if l < size {
				break // only the last segment may be short
			}
		}
		sa := &sb.names[nmsg]
		sa.Family = unix.AF_INET
		sa.Addr = dst.Addr().Unmap().As4()
		p := (*[2]byte)(unsafe.Pointer(&sa.Port)) // network byte order
		p[0], p[1] = byte(dst.Port()>>8), byte(dst.Port())
		h := &sb.hdrs[nmsg].Hdr
		h.Iov = &sb.iovs[first]
		h.SetIovlen(iov - first)
		h.Control, h.Controllen = nil, 0
		if iov-first > 1 {
			c := sb.cmsgs[nmsg*gsoCmsgSpace : (nmsg+1)*gsoCmsgSpace]
			*(*uint16)(unsafe.Pointer(&c[unix.CmsgLen(0)])) = uint16(size)
			h.Control = &c[0]
			h.SetControllen(len(c))
		}
		sb.segs[nmsg] = iov - first
		nmsg++
		if iov == len(sb.iovs) {
			break
		}
	}
	sb.segs[nmsg] = 0
	return nmsg
}

// clear drops the references to the caller's buffers.
func (sb *sendBatch) clear(n int) {
	clear(sb.iovs)
	for i := range n {
		sb.hdrs[i].Hdr.Iov = nil
	}
}

// send hands the first n messages to the kernel until all are sent or one fails, waiting for
// room in the socket buffer when it is full. It returns how many were sent and the error of
// the next one.
func (sb *sendBatch) send(c *net.UDPConn, n int) (int, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	sent := 0
	var serr error
	werr := rc.Write(func(fd uintptr) bool {
		for sent < n {
			k, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&sb.hdrs[sent])),
				uintptr(n-sent), unix.MSG_DONTWAIT, 0, 0)
			switch {
			case errno == unix.EAGAIN:
				return false // wait until the socket is writable
			case errno == unix.EINTR:
				continue
			case errno != 0:
				serr = errno
				return true
			}
			sent += int(k)
		}
		return true
	})
	if serr == nil && werr != nil {
		serr = werr
	}
	return sent, serr
}

func (u *UDP) write(c *net.UDPConn, b []byte, src netip.Addr, to netip.AddrPort) (int, error) {
	dst := to.Addr().Unmap()
	if !dst.Is4() {
		return 0, fmt.Errorf("%w: %s", ErrUDPAddr, to)
	}
	to = netip.AddrPortFrom(dst, to.Port())
	var oob []byte
	if src = src.Unmap(); u.pktinfo && src.Is4() && !src.IsUnspecified() {
		oob = unix.PktInfo4(&unix.Inet4Pktinfo{Spec_dst: src.As4()})
	}
	n, _, err := c.WriteMsgUDPAddrPort(b, oob, to)
	if err != nil {
		return n, fmt.Errorf("ike: send to %s: %w", to, err)
	}
	return n, nil
}

// Stats returns the transport's counters.
func (u *UDP) Stats() UDPStats {
	s := &u.stats
	return UDPStats{IKEIn: s.ikeIn.Load(), IKEOut: s.ikeOut.Load(), ESPIn: s.espIn.Load(), ESPOut: s.espOut.Load(),
		ESPRefused: s.espRefused.Load(), Keepalives: s.keepalives.Load(), Invalid: s.invalid.Load(),
		SendErrors: s.sendErrors.Load(), UnknownLocalAddrs: s.noPktinfo.Load(), Coalesced: s.coalesced.Load()}
}

// Close closes both sockets and waits for the readers to stop.
func (u *UDP) Close() error {
	if u.closed.Swap(true) {
		return ErrClosed
	}
	err := errors.Join(u.ike.Close(), u.natt.Close())
	u.wg.Wait()
	return err
}

// ---- ESP tap (for `monitor capture crypto`)

// The ESP tap keeps copies of the ESP-in-UDP datagrams the transport hands to the data plane
// and sends for it, so that a capture export can show the traffic of the tunnels next to the
// ISAKMP messages (Wireshark decrypts both with the exported keys). It is off until
// StartESPTap; while on, each datagram costs one copy under a mutex, off it costs one atomic
// load. Memory is bounded: at most the given number of datagrams and bytes of payload, the
// oldest dropped first (and counted). Only the userspace data plane sends its ESP through
// this transport; with the kernel data plane the tap sees nothing.

// Default bounds of the ESP tap.
const (
	DefaultTapPackets = 1000
	DefaultTapBytes   = 4 << 20
)

// TappedESP is one ESP-in-UDP datagram the tap recorded.
type TappedESP struct {
	Time time.Time
	Sent bool
	// Local is the router's address and port. For a sent datagram the address is unspecified
	// (0.0.0.0): the kernel chose it from the route to Remote.
	Local, Remote netip.AddrPort
	Data          []byte // the ESP packet, SPI first (no non-ESP marker); a copy
}

// TapStatus describes the ESP tap.
type TapStatus struct {
	Active               bool // recording
	Packets, Bytes       int  // held now
	Dropped              uint64
	MaxPackets, MaxBytes int
}

type espTap struct {
	mu         sync.Mutex
	active     bool
	ring       []TappedESP // oldest first from head
	head, n    int
	bytes      int
	maxBytes   int
	dropped    uint64
	maxPackets int
}

// StartESPTap starts recording ESP datagrams, emptied, keeping at most maxPackets datagrams and
// maxBytes bytes of them (values < 1 select DefaultTapPackets and DefaultTapBytes).
func (u *UDP) StartESPTap(maxPackets, maxBytes int) {
	if maxPackets < 1 {
		maxPackets = DefaultTapPackets
	}
	if maxBytes < 1 {
		maxBytes = DefaultTapBytes
	}
	u.tap.Store(&espTap{active: true, ring: make([]TappedESP, maxPackets), maxPackets: maxPackets, maxBytes: maxBytes})
}

// StopESPTap stops recording; what was recorded stays until the next StartESPTap or ClearESPTap.
func (u *UDP) StopESPTap() {
	if t := u.tap.Load(); t != nil {
		t.mu.Lock()
		t.active = false
		t.mu.Unlock()
	}
}

// ClearESPTap stops recording and frees what was recorded.
func (u *UDP) ClearESPTap() { u.tap.Store(nil) }

// ESPTap returns the recorded datagrams, oldest first, and the tap's status.
func (u *UDP) ESPTap() ([]TappedESP, TapStatus) {
	t := u.tap.Load()
	if t == nil {
		return nil, TapStatus{}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]TappedESP, 0, t.n)
	for i := 0; i < t.n; i++ {
		out = append(out, t.ring[(t.head+i)%len(t.ring)])
	}
	return out, TapStatus{Active: t.active, Packets: t.n, Bytes: t.bytes, Dropped: t.dropped,
		MaxPackets: t.maxPackets, MaxBytes: t.maxBytes}
}

func (t *espTap) add(sent bool, local, remote netip.AddrPort, b []byte) {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.active {
		return
	}
	if len(b) > t.maxBytes {
		t.dropped++
		return
	}
	for t.n > 0 && (t.n == len(t.ring) || t.bytes+len(b) > t.maxBytes) {
		old := &t.ring[t.head]
		t.bytes -= len(old.Data)
		*old = TappedESP{}
		t.head = (t.head + 1) % len(t.ring)
		t.n--
		t.dropped++
	}
	t.ring[(t.head+t.n)%len(t.ring)] = TappedESP{Time: now, Sent: sent, Local: local, Remote: remote, Data: append([]byte(nil), b...)}
	t.n++
	t.bytes += len(b)
}

// UDP returns the engine's transport when it is a *UDP (the appliance's), else nil: the
// capture commands reach the ESP tap through it.
func (e *Engine) UDP() *UDP {
	u, _ := e.opts.Transport.(*UDP)
	return u
}

// SendNATKeepalive sends one NAT-keepalive datagram (the single octet 0xFF, RFC 3948 §2.3) from
// the NAT-T socket at local to remote, keeping a NAT's mapping for the tunnel alive.
func (u *UDP) SendNATKeepalive(local, remote netip.AddrPort) error {
	if u.closed.Load() {
		return ErrClosed
	}
	_, err := u.write(u.natt, natKeepalive, local.Addr(), remote)
	if err != nil {
		u.stats.sendErrors.Add(1)
	}
	return err
}

var natKeepalive = []byte{0xff}

var _ NATKeepaliver = (*UDP)(nil)
