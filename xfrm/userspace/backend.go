package userspace

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tunnelbox/tunnelbox/xfrm"
	"github.com/tunnelbox/tunnelbox/xfrm/esp"
)

// Defaults for Config.
const (
	DefaultTUNName         = "tbx0"
	DefaultMTU             = 1400
	DefaultAcquireInterval = time.Second
	maxPacket              = 65535
)

// Errors of the backend (besides the xfrm sentinels it wraps).
var (
	// ErrNoEncap: the SA is plain ESP, which needs a raw socket this backend does not have.
	ErrNoEncap = errors.New("userspace: only UDP-encapsulated ESP is supported (plain ESP needs a raw socket)")
	// ErrRouteLoop: a protected prefix contains the tunnel peer.
	ErrRouteLoop = errors.New("userspace: protected prefix contains the tunnel peer")
	// ErrNoSA: an inbound datagram carries an SPI with no SA.
	ErrNoSA = errors.New("userspace: no SA for SPI")
	// ErrPolicy: a decapsulated packet is outside the inbound policies of its SA.
	ErrPolicy = errors.New("userspace: packet outside the SA's inbound policy")
	// ErrPeer: an ESP datagram came from an address other than its SA's source.
	ErrPeer = errors.New("userspace: ESP from an unexpected peer")
)

// Config configures a Backend.
type Config struct {
	TUNName string // interface name; DefaultTUNName when empty
	MTU     int    // TUN MTU; DefaultMTU when 0

	// Send transmits one ESP-in-UDP datagram (the ESP packet, SPI first, no marker) to the
	// peer, from the NAT-T socket the IKE engine owns: normally (*net.UDPConn).WriteToUDPAddrPort.
	// It must be safe for concurrent use and must not keep b after returning. Required.
	Send func(b []byte, to netip.AddrPort) (int, error)

	// SendBatch, when set, transmits several datagrams at once (b[i] to to[i]) and is used
	// instead of Send for the packets the outbound reader takes from the TUN device in one
	// wakeup: normally (*ike.UDP).SendESPBatch, one sendmmsg per batch. It returns how many
	// datagrams, from the first, were sent; with an error, b[sent] was not (it is dropped and
	// counted, and the call is repeated with the rest). Same rules as Send otherwise. Optional.
	SendBatch func(b [][]byte, to []netip.AddrPort) (sent int, err error)

	// AcquireInterval is the minimum gap between two Acquire events for one policy;
	// DefaultAcquireInterval when 0.
	AcquireInterval time.Duration

	// Now is the clock for acquire rate limiting; time.Now when nil.
	Now func() time.Time
}

// device is the TUN device as the packet paths see it.
type device interface {
	io.ReadWriteCloser
}

// batchReader is a device that can hand over several packets per wakeup.
type batchReader interface {
	// ReadBatch waits for a packet, reads it into bufs[0], then reads without waiting as many
	// more as are queued, up to len(bufs); sizes[i] is the length of packet i. It returns how
	// many it read (at least one unless err is not nil).
	ReadBatch(bufs [][]byte, sizes []int) (int, error)
}

// TUNBatch is the most packets the outbound reader takes from the TUN device per wakeup (and
// so hands to Config.SendBatch at once). TCP through the tunnel arrives in bursts of segments
// of one GSO packet, which the TUN device splits: a batch turns a burst's many wakeups and
// system calls into a few.
const TUNBatch = 32

// routes manages the kernel routes towards the TUN device.
type routes interface {
	add(p netip.Prefix) error
	del(p netip.Prefix) error
	close() error
}

type saEntry struct {
	sa     *xfrm.SA // the installed copy (keys kept for nothing else: cleared after esp.New)
	st     *esp.State
	timers []*time.Timer
	other  atomic.Uint64 // drops the backend adds to the SA's ErrOther (peer, policy, TUN)
	order  uint64
	soft   atomic.Bool // a soft expiry was reported (by a timer or by the State)
	hard   atomic.Bool // a hard expiry was reported
}

type policyEntry struct {
	p       xfrm.Policy
	order   uint64
	last    atomic.Int64  // unix nanoseconds of the last Acquire
	matched atomic.Uint64 // TUN packets this policy was the first outbound match for
	noSA    atomic.Uint64 // of those, dropped for want of an SA (an Acquire was due)
}

// Backend is the userspace data plane. Create it with New; it implements ike.Installer.
type Backend struct {
	cfg    Config
	dev    device
	rt     routes // nil: no route management (tests without a kernel)
	events *eventQueue
	bufs   sync.Pool // *[]byte of maxPacket octets for inbound plaintext
	wg     sync.WaitGroup

	mu       sync.RWMutex // guards the tables below
	closed   bool
	order    uint64
	policies []*policyEntry                 // by Priority, then insertion order
	byID     map[xfrm.PolicyID]*policyEntry // the same policies by identity
	in       map[uint32]*saEntry            // inbound SAs by SPI
	out      map[uint32][]*saEntry          // outbound SAs by Reqid, oldest first
	sas      map[xfrm.SAID]*saEntry         // every SA
	routeRef map[netip.Prefix]int           // routes in use, by how many policies
	noSA     atomic.Uint64                  // inbound datagrams with an unknown SPI
	noPolicy atomic.Uint64                  // TUN packets no policy protects

	// peerNoSA counts unknown-SPI datagrams per sender, for the peers of installed SAs and
	// policies only (so spoofed sources cannot grow it). Entries are added under mu and never
	// removed: the map is bounded by the peers ever configured, and a count outlives the SAs
	// (the classic unknown SPI is a peer still using an SA this side deleted).
	peerNoSA map[netip.Addr]*atomic.Uint64
}

// newBackend wires a Backend over dev and rt and starts the TUN reader.
func newBackend(cfg Config, dev device, rt routes) (*Backend, error) {
	if cfg.Send == nil {
		return nil, errors.New("userspace: Config.Send is required")
	}
	if cfg.AcquireInterval == 0 {
		cfg.AcquireInterval = DefaultAcquireInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	b := &Backend{
		cfg: cfg, dev: dev, rt: rt, events: newEventQueue(),
		in: map[uint32]*saEntry{}, out: map[uint32][]*saEntry{}, sas: map[xfrm.SAID]*saEntry{},
		routeRef: map[netip.Prefix]int{}, peerNoSA: map[netip.Addr]*atomic.Uint64{},
		byID: map[xfrm.PolicyID]*policyEntry{},
	}
	b.bufs.New = func() any { p := make([]byte, 0, maxPacket); return &p }
	b.wg.Add(1)
	go b.readTUN()
	return b, nil
}

// Events returns the channel of acquire and expire events; it is closed by Close.
func (b *Backend) Events() <-chan xfrm.Event { return b.events.out }

// AddSA installs an SA. Errors wrap xfrm.ErrInvalidSA, xfrm.ErrExists, ErrNoEncap or
// xfrm.ErrClosed.
func (b *Backend) AddSA(sa *xfrm.SA) error {
	if err := sa.Validate(); err != nil {
		return fmt.Errorf("userspace: %w", err)
	}
	if sa.Encap == nil {
		return ErrNoEncap
	}
	c := sa.Clone()
	id := c.ID()
	e := &saEntry{sa: c}
	st, err := esp.New(c, esp.Options{OnExpire: func(hard bool, cause xfrm.ExpireCause) {
		b.expire(id, e, hard, cause)
	}})
	if err != nil {
		return fmt.Errorf("userspace: %w", err)
	}
	e.st = st
	clear(c.EncKey) // the State holds the expanded keys; the copy keeps no secrets
	clear(c.Salt)
	clear(c.AuthKey)
	c.EncKey, c.Salt, c.AuthKey = nil, nil, nil

	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.closed:
		return xfrm.ErrClosed
	case b.sas[id] != nil:
		return fmt.Errorf("userspace: SA %s: %w", id, xfrm.ErrExists)
	case c.Dir == xfrm.DirIn && b.in[c.SPI] != nil:
		return fmt.Errorf("userspace: inbound SPI 0x%08x: %w", c.SPI, xfrm.ErrExists)
	}
	b.order++
	e.order = b.order
	b.sas[id] = e
	if c.Dir == xfrm.DirIn {
		b.in[c.SPI] = e
		b.trackPeerLocked(c.Src)
	} else {
		b.out[c.Reqid] = append(b.out[c.Reqid], e)
	}
	if s := c.Lifetime.SoftSeconds; s > 0 {
		e.timers = append(e.timers, time.AfterFunc(time.Duration(s)*time.Second, func() {
			b.expire(id, e, false, xfrm.ExpireTime)
		}))
	}
	if s := c.Lifetime.HardSeconds; s > 0 {
		e.timers = append(e.timers, time.AfterFunc(time.Duration(s)*time.Second, func() {
			b.expire(id, e, true, xfrm.ExpireTime)
		}))
	}
	return nil
}

// DelSA removes the SA with sa's identity (Dst, SPI, Proto). Errors wrap xfrm.ErrNotFound (also
// after a hard expiry removed it) or xfrm.ErrClosed.
func (b *Backend) DelSA(sa *xfrm.SA) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return xfrm.ErrClosed
	}
	e := b.sas[sa.ID()]
	if e == nil {
		return fmt.Errorf("userspace: SA %s: %w", sa.ID(), xfrm.ErrNotFound)
	}
	b.removeLocked(e)
	return nil
}

// removeLocked unlinks e from every table and stops its timers. Called with mu held.
func (b *Backend) removeLocked(e *saEntry) {
	for _, t := range e.timers {
		t.Stop()
	}
	e.st.Expire()
	delete(b.sas, e.sa.ID())
	if e.sa.Dir == xfrm.DirIn {
		if b.in[e.sa.SPI] == e {
			delete(b.in, e.sa.SPI)
		}
		return
	}
	l := slices.DeleteFunc(b.out[e.sa.Reqid], func(x *saEntry) bool { return x == e })
	if len(l) == 0 {
		delete(b.out, e.sa.Reqid)
	} else {
		b.out[e.sa.Reqid] = l
	}
}

// expire reports a soft or hard expiry of the SA e (still installed under id); a hard expiry
// removes it, as the kernel does. It runs on timer goroutines and, for byte and packet limits,
// on the packet paths (outside the State's lock, inside a read lock of mu: hence the goroutine).
func (b *Backend) expire(id xfrm.SAID, e *saEntry, hard bool, cause xfrm.ExpireCause) {
	if !hard {
		if e.soft.Swap(true) || e.hard.Load() {
			return
		}
		b.events.push(xfrm.Event{Kind: xfrm.EventExpireSoft, SA: e.sa.Clone(), Cause: cause})
		return
	}
	if e.hard.Swap(true) {
		return
	}
	e.st.Expire()
	// Remove first, then report, so a consumer that reacts to the event finds the SA gone.
	go func() {
		b.mu.Lock()
		if b.sas[id] == e {
			b.removeLocked(e)
		}
		b.mu.Unlock()
		b.events.push(xfrm.Event{Kind: xfrm.EventExpireHard, SA: e.sa.Clone(), Cause: cause})
	}()
}

// AddPolicy installs a policy (and, for an outbound tunnel-mode protecting policy, the route of
// its destination prefix to the TUN device). Errors wrap xfrm.ErrInvalidPolicy, xfrm.ErrExists,
// ErrRouteLoop, a netlink error or xfrm.ErrClosed.
func (b *Backend) AddPolicy(p *xfrm.Policy) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("userspace: %w", err)
	}
	routed := routedPrefix(p)
	if routed.IsValid() && routed.Contains(p.Tmpl.Dst) {
		return fmt.Errorf("%w: %s contains %s", ErrRouteLoop, routed, p.Tmpl.Dst)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return xfrm.ErrClosed
	}
	id := p.ID()
	if b.byID[id] != nil {
		return fmt.Errorf("userspace: policy %s: %w", p, xfrm.ErrExists)
	}
	if routed.IsValid() {
		if b.routeRef[routed] == 0 && b.rt != nil {
			if err := b.rt.add(routed); err != nil {
				return fmt.Errorf("userspace: route %s: %w", routed, err)
			}
		}
		b.routeRef[routed]++
	}
	b.trackPeerLocked(p.Tmpl.Dst)
	b.order++
	e := &policyEntry{p: *p, order: b.order}
	i, _ := slices.BinarySearchFunc(b.policies, e, policyOrder)
	b.policies = slices.Insert(b.policies, i, e)
	b.byID[id] = e
	return nil
}

// policyOrder is the order of Backend.policies: Priority, then insertion order (unique).
func policyOrder(x, t *policyEntry) int {
	switch {
	case x.p.Priority != t.p.Priority:
		if x.p.Priority < t.p.Priority {
			return -1
		}
		return 1
	case x.order < t.order:
		return -1
	case x.order > t.order:
		return 1
	}
	return 0
}

// routedPrefix is the prefix an outbound protecting tunnel policy sends into the TUN device.
func routedPrefix(p *xfrm.Policy) netip.Prefix {
	if p.Dir != xfrm.DirOut || p.Action != xfrm.ActionProtect || p.Tmpl.Mode != xfrm.ModeTunnel {
		return netip.Prefix{}
	}
	return p.Dst.Masked()
}

// DelPolicy removes the policy with p's identity (selector and direction).
func (b *Backend) DelPolicy(p *xfrm.Policy) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return xfrm.ErrClosed
	}
	id := p.ID()
	old := b.byID[id]
	if old == nil {
		return fmt.Errorf("userspace: policy %s: %w", p, xfrm.ErrNotFound)
	}
	i, found := slices.BinarySearchFunc(b.policies, old, policyOrder)
	if !found { // the two tables disagree: a bug, but never remove the wrong policy
		return fmt.Errorf("userspace: policy %s: not in the ordered table: %w", p, xfrm.ErrNotFound)
	}
	delete(b.byID, id)
	b.policies = slices.Delete(b.policies, i, i+1)
	if r := routedPrefix(&old.p); r.IsValid() {
		b.routeRef[r]--
		if b.routeRef[r] == 0 {
			delete(b.routeRef, r)
			if b.rt != nil {
				if err := b.rt.del(r); err != nil {
					return fmt.Errorf("userspace: route %s: %w", r, err)
				}
			}
		}
	}
	return nil
}

// Counters returns the counters of the SA with sa's identity.
func (b *Backend) Counters(sa *xfrm.SA) (xfrm.Counters, error) {
	b.mu.RLock()
	e := b.sas[sa.ID()]
	b.mu.RUnlock()
	if e == nil {
		return xfrm.Counters{}, fmt.Errorf("userspace: SA %s: %w", sa.ID(), xfrm.ErrNotFound)
	}
	c := e.st.Counters()
	c.ErrOther += e.other.Load()
	return c, nil
}

// trackPeerLocked starts counting unknown-SPI datagrams from peer. Called with mu held.
func (b *Backend) trackPeerLocked(peer netip.Addr) {
	if !peer.IsValid() {
		return
	}
	peer = peer.Unmap()
	if b.peerNoSA[peer] == nil {
		b.peerNoSA[peer] = new(atomic.Uint64)
	}
}

// PolicyCounters returns the counters of the policy with p's identity (selector and
// direction): matched is the TUN packets for which it was the first matching outbound policy
// (protected, or dropped), noSA how many of those were dropped because no SA existed yet (the
// packets that raise Acquires while IKE negotiates: IOS "#pkts no sa (send)"). Inbound and
// forward policies count nothing. Errors wrap xfrm.ErrNotFound.
func (b *Backend) PolicyCounters(p *xfrm.Policy) (matched, noSA uint64, err error) {
	id := p.ID()
	b.mu.RLock()
	defer b.mu.RUnlock()
	if x := b.byID[id]; x != nil {
		return x.matched.Load(), x.noSA.Load(), nil
	}
	return 0, 0, fmt.Errorf("userspace: policy %s: %w", p, xfrm.ErrNotFound)
}

// InvalidSPI returns how many ESP datagrams from peer carried an SPI with no inbound SA
// (IOS "#pkts invalid sa (rcv)", %CRYPTO-4-RECVD_PKT_INV_SPI). Only the peers of SAs and
// policies installed so far are counted one by one; Drops has the total.
func (b *Backend) InvalidSPI(peer netip.Addr) uint64 {
	b.mu.RLock()
	c := b.peerNoSA[peer.Unmap()]
	b.mu.RUnlock()
	if c == nil {
		return 0
	}
	return c.Load()
}

// Drops returns the datagrams and packets dropped before any SA was found: inbound ESP with an
// unknown SPI (or too short to carry one), and TUN packets that no outbound policy protects
// (no match, Discard, Bypass, or not IP).
func (b *Backend) Drops() (noSA, noPolicy uint64) { return b.noSA.Load(), b.noPolicy.Load() }

// Close removes the routes, closes the TUN device and stops the event stream. Installed SAs and
// policies are dropped with it.
func (b *Backend) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return xfrm.ErrClosed
	}
	b.closed = true
	for _, e := range b.sas {
		b.removeLocked(e)
	}
	var errs []error
	if b.rt != nil {
		for r := range b.routeRef {
			errs = append(errs, b.rt.del(r))
		}
		errs = append(errs, b.rt.close())
	}
	b.routeRef = map[netip.Prefix]int{}
	b.policies = nil
	clear(b.byID)
	b.mu.Unlock()
	errs = append(errs, b.dev.Close())
	b.wg.Wait()
	b.events.close()
	return errors.Join(errs...)
}

// readTUN is the outbound path: one goroutine, one set of buffers, up to TUNBatch packets per
// wakeup of the TUN device.
func (b *Backend) readTUN() {
	defer b.wg.Done()
	br, ok := b.dev.(batchReader)
	if !ok {
		br = singleReader{b.dev}
	}
	bufs := make([][]byte, TUNBatch)
	for i := range bufs {
		bufs[i] = make([]byte, maxPacket)
	}
	sizes := make([]int, TUNBatch)
	pkts := make([][]byte, TUNBatch)
	tx := newTxBatch(TUNBatch)
	for {
		n, err := br.ReadBatch(bufs, sizes)
		if err != nil {
			if errors.Is(err, os.ErrClosed) || errors.Is(err, io.EOF) {
				return
			}
			b.mu.RLock()
			closed := b.closed
			b.mu.RUnlock()
			if closed {
				return
			}
			time.Sleep(10 * time.Millisecond) // a transient device error: do not spin
			continue
		}
		for i := range n {
			pkts[i] = bufs[i][:sizes[i]]
		}
		b.outboundBatch(pkts[:n], tx)
	}
}

// singleReader reads one packet per ReadBatch from a device that cannot do more.
type singleReader struct{ io.Reader }

func (r singleReader) ReadBatch(bufs [][]byte, sizes []int) (int, error) {
	n, err := r.Read(bufs[0])
	if err != nil {
		return 0, err
	}
	sizes[0] = n
	return 1, nil
}

// txBatch collects the ESP datagrams sealed from one batch of TUN packets: each in its own
// output buffer, with its destination and SA (to count a failed send), until transmit.
type txBatch struct {
	out  [][]byte // one sealing buffer per slot, maxPacket+esp.MaxOverhead capacity
	pkts [][]byte // sealed datagrams
	to   []netip.AddrPort
	sas  []*saEntry
}

func newTxBatch(n int) *txBatch {
	tx := &txBatch{out: make([][]byte, n), pkts: make([][]byte, 0, n), to: make([]netip.AddrPort, 0, n),
		sas: make([]*saEntry, 0, n)}
	for i := range tx.out {
		tx.out[i] = make([]byte, 0, maxPacket+esp.MaxOverhead)
	}
	return tx
}

func (tx *txBatch) reset() {
	clear(tx.sas) // do not keep removed SAs alive
	tx.pkts, tx.to, tx.sas = tx.pkts[:0], tx.to[:0], tx.sas[:0]
}

// outboundBatch protects the packets read from the TUN device in one wakeup (or drops them),
// under one read lock of the tables, then transmits the datagrams.
func (b *Backend) outboundBatch(pkts [][]byte, tx *txBatch) {
	tx.reset()
	b.mu.RLock()
	for _, p := range pkts {
		b.protect(p, tx)
	}
	b.mu.RUnlock()
	b.transmit(tx)
	tx.reset()
}

// protect seals one packet read from the TUN device into the next slot of tx, or drops it.
// Called with mu read-held.
func (b *Backend) protect(pkt []byte, tx *txBatch) {
	f, ok := parseFlow(pkt)
	if !ok {
		b.noPolicy.Add(1)
		return
	}
	var pol *policyEntry
	for _, x := range b.policies {
		if x.p.Dir == xfrm.DirOut && x.p.Matches(f) {
			pol = x
			break
		}
	}
	if pol != nil {
		pol.matched.Add(1)
	}
	if pol == nil || pol.p.Action != xfrm.ActionProtect {
		// No policy, discard, or bypass (a cleartext packet that reached the TUN cannot be sent
		// in clear from here): drop.
		b.noPolicy.Add(1)
		return
	}
	e := b.outboundSA(&pol.p)
	if e == nil {
		pol.noSA.Add(1)
		b.acquire(pol, f)
		return
	}
	sa := e.sa
	payload, nh := pkt, byte(4)
	if pkt[0]>>4 == 6 {
		nh = 41
	}
	if sa.Mode == xfrm.ModeTransport {
		// IPv4 only, and never a fragment: transport mode protects whole upper-layer
		// datagrams (RFC 4303 §3.3.1, fragments must be reassembled first).
		if pkt[0]>>4 != 4 || binary.BigEndian.Uint16(pkt[6:])&0x3fff != 0 {
			e.other.Add(1)
			return
		}
		payload, nh = pkt[int(pkt[0]&0x0f)*4:binary.BigEndian.Uint16(pkt[2:])], f.Proto
	}
	i := len(tx.pkts)
	sealed, err := e.st.Seal(tx.out[i][:0], payload, nh)
	if err != nil {
		return // counted by the State
	}
	tx.pkts = append(tx.pkts, sealed)
	tx.to = append(tx.to, netip.AddrPortFrom(sa.Dst, sa.Encap.DstPort))
	tx.sas = append(tx.sas, e)
}

// transmit sends the sealed datagrams of tx: with Config.SendBatch when there is one (a
// datagram it fails to send is counted on its SA and skipped), else one Send each.
func (b *Backend) transmit(tx *txBatch) {
	if b.cfg.SendBatch == nil {
		for i, p := range tx.pkts {
			if _, err := b.cfg.Send(p, tx.to[i]); err != nil {
				tx.sas[i].other.Add(1)
			}
		}
		return
	}
	for done := 0; done < len(tx.pkts); {
		n, err := b.cfg.SendBatch(tx.pkts[done:], tx.to[done:])
		n = max(0, min(n, len(tx.pkts)-done))
		done += n
		if err == nil && n > 0 {
			continue
		}
		if done < len(tx.pkts) { // the datagram that failed (or a sender that made no progress)
			tx.sas[done].other.Add(1)
			done++
		}
	}
}

// outboundSA picks the newest live outbound SA for the policy's Reqid (and peer, when the
// template names one): make-before-break rekeying moves traffic to the new SA at once.
// Called with mu read-held.
func (b *Backend) outboundSA(p *xfrm.Policy) *saEntry {
	l := b.out[p.Tmpl.Reqid]
	for i := len(l) - 1; i >= 0; i-- {
		if !p.Tmpl.Dst.IsValid() || l[i].sa.Dst == p.Tmpl.Dst {
			return l[i]
		}
	}
	return nil
}

// acquire raises an Acquire event for the policy unless one was raised within AcquireInterval.
func (b *Backend) acquire(pol *policyEntry, f xfrm.Flow) {
	now := b.cfg.Now().UnixNano()
	last := pol.last.Load()
	if last != 0 && now-last < int64(b.cfg.AcquireInterval) {
		return
	}
	if !pol.last.CompareAndSwap(last, now) {
		return // another packet raised it just now
	}
	p := pol.p
	b.events.push(xfrm.Event{Kind: xfrm.EventAcquire, Policy: &p, Flow: f})
}

// HandleESPInUDP is the inbound path: the IKE engine calls it for every datagram on its NAT-T
// socket that xfrm.Classify4500 reports as ESP, with the sender's address. It decapsulates,
// checks the inner packet against the SA's inbound policies and writes it to the TUN device.
// b is not kept after return. The error says why a datagram was dropped (it is also counted);
// callers normally only log it at debug level.
func (b *Backend) HandleESPInUDP(pkt []byte, from netip.AddrPort) error {
	if len(pkt) < esp.HeaderLen {
		b.noSA.Add(1)
		return esp.ErrMalformed
	}
	spi := uint32(pkt[0])<<24 | uint32(pkt[1])<<16 | uint32(pkt[2])<<8 | uint32(pkt[3])
	b.mu.RLock()
	defer b.mu.RUnlock()
	e := b.in[spi]
	if e == nil {
		b.noSA.Add(1)
		if c := b.peerNoSA[from.Addr().Unmap()]; c != nil {
			c.Add(1)
		}
		return fmt.Errorf("%w 0x%08x", ErrNoSA, spi)
	}
	if from.Addr().Unmap() != e.sa.Src.Unmap() {
		e.other.Add(1)
		return fmt.Errorf("%w: %s for SA from %s", ErrPeer, from.Addr(), e.sa.Src)
	}
	bp := b.bufs.Get().(*[]byte)
	defer b.bufs.Put(bp)
	buf := (*bp)[:0]
	if e.sa.Mode == xfrm.ModeTransport {
		buf = buf[:ipv4MinHeader] // room for the rebuilt header
	}
	plain, nh, err := e.st.Open(buf, pkt)
	if err != nil {
		return err
	}
	if e.sa.Mode == xfrm.ModeTransport {
		if !e.sa.Src.Is4() {
			e.other.Add(1)
			return ErrPolicy
		}
		appendIPv4(plain[:0], e.sa.Src, e.sa.Dst, nh, len(plain)-ipv4MinHeader)
	}
	f, ok := parseFlow(plain)
	if !ok || (e.sa.Mode == xfrm.ModeTunnel && (nh == 4) != (plain[0]>>4 == 4)) {
		e.other.Add(1)
		return ErrPolicy
	}
	if !b.inboundAllowed(e.sa, f) {
		e.other.Add(1)
		return fmt.Errorf("%w: %s", ErrPolicy, f)
	}
	if _, err := b.dev.Write(plain); err != nil {
		e.other.Add(1)
		return fmt.Errorf("userspace: TUN write: %w", err)
	}
	return nil
}

// inboundAllowed reports whether an inbound protecting policy with the SA's Reqid covers f
// (RFC 4301 §5.2: the packet must match the SA's selectors). Called with mu read-held.
func (b *Backend) inboundAllowed(sa *xfrm.SA, f xfrm.Flow) bool {
	for _, x := range b.policies {
		if x.p.Dir == xfrm.DirIn && x.p.Action == xfrm.ActionProtect &&
			x.p.Tmpl.Reqid == sa.Reqid && x.p.Matches(f) {
			return true
		}
	}
	return false
}
