package ike

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tunnelbox/tunnelbox/ike/isakmp"
	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
	"github.com/tunnelbox/tunnelbox/xfrm"
)

// Ports of IKE (RFC 2409) and of IKE/ESP after NAT traversal (RFC 3947).
const (
	PortIKE  = 500
	PortNATT = 4500
)

// Implementation constants (defaults of Options).
const (
	DefaultRetransmit      = 2 * time.Second // first retransmission; doubled each time
	DefaultMaxRetransmits  = 5
	DefaultHalfOpenPerPeer = 1024 // one address may open many (strongSwan: one IKE SA per identity)
	DefaultHalfOpenTotal   = 8192 // at the cap the oldest half-open SA gives way to the new one
	DefaultHalfOpenTimeout = 30 * time.Second
	// RekeyMargin is how long before an IPsec SA's hard lifetime the initiator rekeys it
	// (IOS rekeys at about 90% of the lifetime; the margin is at least 10% and at most 5 min).
	maxRekeyMargin = 5 * time.Minute
)

// ErrClosed is returned by the engine's methods after Close.
var ErrClosed = errors.New("ike: engine closed")

// Transport sends ISAKMP messages. Send adds the non-ESP marker itself when local's port is
// PortNATT. Received datagrams are handed to Engine.Receive.
type Transport interface {
	Send(local, remote netip.AddrPort, msg []byte) error
}

// NATKeepaliver is implemented by transports that can send NAT-keepalive datagrams (RFC 3948
// §2.3: one octet 0xFF on the NAT-T port, without the non-ESP marker). The engine sends them
// while it is behind a NAT and `crypto isakmp nat keepalive` is configured.
type NATKeepaliver interface {
	SendNATKeepalive(local, remote netip.AddrPort) error
}

// Installer is the data-plane seam: it installs the SAs and policies Quick Mode negotiates and
// reports traffic that needs an SA (acquire) and lifetimes reached (expire). xfrm/userspace and
// xfrm/kernel implement it.
type Installer interface {
	AddSA(sa *xfrm.SA) error
	DelSA(sa *xfrm.SA) error
	AddPolicy(p *xfrm.Policy) error
	DelPolicy(p *xfrm.Policy) error
	Counters(sa *xfrm.SA) (xfrm.Counters, error)
	Events() <-chan xfrm.Event
	Close() error
}

// Packet is one received ISAKMP datagram (the non-ESP marker of port 4500 already removed).
type Packet struct {
	Local, Remote netip.AddrPort
	Data          []byte
}

// Options configure an Engine. Zero values select the defaults.
type Options struct {
	Transport Transport
	Installer Installer // nil: negotiation only, no data plane
	Rand      io.Reader // crypto/rand.Reader
	Now       func() time.Time

	Retransmit      time.Duration
	MaxRetransmits  int
	HalfOpenPerPeer int
	HalfOpenTotal   int
	HalfOpenTimeout time.Duration

	// ForceNATT makes the engine announce a NAT in front of itself (a NAT-D that cannot match),
	// so that both ends float to port 4500 and use UDP-encapsulated ESP. The userspace data plane
	// needs it: it has no raw ESP socket (strongSwan's kernel-libipsec does the same).
	ForceNATT bool

	// SetCommitBit makes the initiator set the commit bit in QM1 (for labs and tests; IOS and
	// strongSwan never set it by default).
	SetCommitBit bool

	// Second is how long one configured second lasts: lifetimes and DPD intervals are counted
	// in it. Zero means time.Second; tests shrink it to run lifetimes of minutes in moments.
	Second time.Duration

	// TestCorruptKeys flips a bit of every inbound ESP key handed to the data plane. It exists
	// only so that tests can prove the data plane counts authentication failures.
	TestCorruptKeys bool
}

// Engine is one router's IKEv1 engine. Create it with New, start it with Start.
type Engine struct {
	opts Options

	quietISAKMP atomic.Bool // SetDebug: nobody reads the debug lines
	quietIPsec  atomic.Bool

	ops  chan func()
	quit chan struct{}
	done chan struct{}
	once sync.Once

	// Everything below belongs to the loop goroutine.
	cfg       *runningconfig.Config
	active    []runningconfig.ResolvedEntry // activeEntries' cache, valid while activeFor == cfg
	activeFor *runningconfig.Config
	sas       map[isakmp.Cookie]*isakmpSA // by initiator cookie
	children  []*ChildSA
	spis      map[uint32]bool // inbound SPIs in use
	connID    int
	childID   int
	reqid     uint32
	trap      trapState              // reqids and trap policies (trap.go)
	history   map[netip.Addr][]Event // last exchanges per peer, for the teaching views
	subs      map[int]chan Event
	subID     int
	lastFail  map[netip.Addr]Event
	policies  map[xfrm.PolicyID]*policyRef
	ctr       counterState // policy counts kept for ACL lines and flows (counters.go)
}

// policyRef counts the child SAs that need one installed policy.
type policyRef struct {
	p    xfrm.Policy
	refs int
}

// New returns an engine; call Start to run it.
func New(opts Options) *Engine {
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Retransmit == 0 {
		opts.Retransmit = DefaultRetransmit
	}
	if opts.MaxRetransmits == 0 {
		opts.MaxRetransmits = DefaultMaxRetransmits
	}
	if opts.HalfOpenPerPeer == 0 {
		opts.HalfOpenPerPeer = DefaultHalfOpenPerPeer
	}
	if opts.HalfOpenTotal == 0 {
		opts.HalfOpenTotal = DefaultHalfOpenTotal
	}
	if opts.Second == 0 {
		opts.Second = time.Second
	}
	if opts.HalfOpenTimeout == 0 {
		opts.HalfOpenTimeout = DefaultHalfOpenTimeout
	}
	return &Engine{
		opts:     opts,
		ops:      make(chan func(), 4096),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
		cfg:      runningconfig.Default(),
		sas:      make(map[isakmp.Cookie]*isakmpSA),
		spis:     make(map[uint32]bool),
		connID:   1000,
		childID:  2000,
		history:  make(map[netip.Addr][]Event),
		subs:     make(map[int]chan Event),
		lastFail: make(map[netip.Addr]Event),
		policies: make(map[xfrm.PolicyID]*policyRef),
	}
}

// Start runs the engine's loop with the configuration cfg.
func (e *Engine) Start(cfg *runningconfig.Config) {
	if cfg != nil {
		e.cfg = cfg
	}
	var dp <-chan xfrm.Event
	if e.opts.Installer != nil {
		dp = e.opts.Installer.Events()
	}
	e.postWait(e.syncTraps)
	go e.run(dp)
}

func (e *Engine) run(dp <-chan xfrm.Event) {
	defer close(e.done)
	// The loop keeps its OS thread so that its CPU time can be measured (LoopCPU).
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for {
		select {
		case f := <-e.ops:
			f()
		case ev, ok := <-dp:
			if !ok {
				dp = nil
				continue
			}
			e.dataplaneEvent(ev)
		case <-e.quit:
			e.shutdown()
			return
		}
	}
}

// Close deletes every SA (sending delete notifications), removes what was installed in the
// data plane and stops the loop.
func (e *Engine) Close() error {
	e.once.Do(func() { close(e.quit) })
	<-e.done
	return nil
}

// post queues f on the loop without waiting. It reports false when the queue is full (a flood:
// the datagram is dropped) or the engine is closed.
func (e *Engine) post(f func()) bool {
	select {
	case <-e.quit:
		return false
	default:
	}
	select {
	case e.ops <- f:
		return true
	default:
		return false
	}
}

// postWait queues f, waiting for room (timers and internal events must not be lost).
func (e *Engine) postWait(f func()) {
	select {
	case e.ops <- f:
	case <-e.quit:
	}
}

// do runs f on the loop and waits for it to finish.
func (e *Engine) do(f func()) error {
	ch := make(chan struct{})
	select {
	case e.ops <- func() { f(); close(ch) }:
	case <-e.quit:
		return ErrClosed
	}
	select {
	case <-ch:
		return nil
	case <-e.done:
		return ErrClosed
	}
}

// Receive hands a received datagram to the engine. It never blocks: when the engine is
// overloaded the datagram is dropped, as a router drops under a flood.
func (e *Engine) Receive(p Packet) {
	data := append([]byte(nil), p.Data...)
	e.post(func() { e.handlePacket(p.Local, p.Remote, data) })
}

// ReceiveWait is Receive that waits until the engine has handled the datagram (for transports
// that want back-pressure, and for fuzzing and benchmarks).
func (e *Engine) ReceiveWait(p Packet) error {
	data := append([]byte(nil), p.Data...)
	return e.do(func() { e.handlePacket(p.Local, p.Remote, data) })
}

// SetConfig hands the engine a new running-configuration snapshot. Entries that disappeared
// stop being negotiable; established SAs stay until they expire or are cleared, as on IOS.
func (e *Engine) SetConfig(c *runningconfig.Config) {
	e.postWait(func() { e.cfg = c; e.syncTraps() })
}

// Validate implements runningconfig.Subscriber's check: the engine accepts any configuration.
func (e *Engine) Validate(_, _ *runningconfig.Config) error { return nil }

// Commit implements runningconfig.Subscriber: the new configuration applies at once.
func (e *Engine) Commit(_, n *runningconfig.Config) { e.SetConfig(n) }

// Subscribe returns a channel of engine events and a function that ends the subscription.
// A subscriber that does not keep up loses events rather than stalling the engine.
func (e *Engine) Subscribe() (<-chan Event, func()) {
	ch := make(chan Event, 4096)
	var id int
	if e.do(func() { e.subID++; id = e.subID; e.subs[id] = ch }) != nil {
		close(ch)
		return ch, func() {}
	}
	return ch, func() {
		e.do(func() {
			if _, ok := e.subs[id]; ok {
				delete(e.subs, id)
				close(ch)
			}
		})
	}
}

const historyLen = 64

// emit sends ev to every subscriber and keeps it in the peer's history (debug lines excepted:
// the history holds packets, state changes and outcomes, so that a few exchanges fit).
func (e *Engine) emit(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = e.opts.Now()
	}
	if ev.Peer.IsValid() && ev.Kind != EvIPsecDebug && ev.Kind != EvDebug {
		h := append(e.history[ev.Peer], ev)
		if len(h) > historyLen {
			h = h[len(h)-historyLen:]
		}
		e.history[ev.Peer] = h
	}
	if ev.Kind == EvFailure {
		e.lastFail[ev.Peer] = ev
	}
	for _, ch := range e.subs {
		select {
		case ch <- ev:
		default:
		}
	}
}

// SetDebug says whether anyone reads the `debug crypto isakmp` and `debug crypto ipsec` lines
// (on by default). Off, the engine does not even format them: only the %CRYPTO messages among
// them, failures, state changes and packet traces are still produced.
func (e *Engine) SetDebug(isakmp, ipsec bool) {
	e.quietISAKMP.Store(!isakmp)
	e.quietIPsec.Store(!ipsec)
}

func (e *Engine) debugf(connID int, peer netip.Addr, format string, args ...any) {
	if len(e.subs) == 0 && !peer.IsValid() {
		return
	}
	if e.quietISAKMP.Load() && !strings.HasPrefix(format, "%%CRYPTO") {
		return
	}
	e.emit(Event{Kind: EvDebug, ConnID: connID, Peer: peer, Text: fmt.Sprintf(format, args...)})
}

func (e *Engine) ipsecDebugf(peer netip.Addr, format string, args ...any) {
	if len(e.subs) == 0 || e.quietIPsec.Load() {
		return
	}
	e.emit(Event{Kind: EvIPsecDebug, Peer: peer, Text: fmt.Sprintf(format, args...)})
}

func (e *Engine) fail(connID int, peer netip.Addr, r Reason, detail string) {
	e.emit(Event{Kind: EvFailure, ConnID: connID, Peer: peer, Reason: r, Detail: detail,
		Text: r.String()})
}

// secs converts configured seconds into a duration (see Options.Second).
func (e *Engine) secs(n uint64) time.Duration { return time.Duration(n) * e.opts.Second }

// after runs f on the loop once d has passed.
func (e *Engine) after(d time.Duration, f func()) *time.Timer {
	return time.AfterFunc(d, func() { e.postWait(f) })
}

func (e *Engine) random(n int) []byte {
	b := make([]byte, n)
	if _, err := io.ReadFull(e.opts.Rand, b); err != nil {
		panic("ike: random source failed: " + err.Error())
	}
	return b
}

func (e *Engine) newCookie() isakmp.Cookie {
	for {
		var c isakmp.Cookie
		copy(c[:], e.random(8))
		if !c.IsZero() && e.sas[c] == nil {
			return c
		}
	}
}

// newSPI allocates an unused inbound SPI (values below 256 are reserved, RFC 4303 §2.1).
func (e *Engine) newSPI() uint32 {
	for {
		b := e.random(4)
		spi := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		if spi >= 256 && !e.spis[spi] {
			e.spis[spi] = true
			return spi
		}
	}
}

func (e *Engine) send(local, remote netip.AddrPort, msg []byte) {
	if e.opts.Transport == nil {
		return
	}
	if err := e.opts.Transport.Send(local, remote, msg); err != nil {
		e.debugf(0, remote.Addr(), "ISAKMP: send to %v failed: %v", remote, err)
	}
}

func (e *Engine) shutdown() {
	for _, sa := range e.sortedSAs() {
		if sa.established() {
			e.sendDeleteAll(sa)
		}
		e.deleteSA(sa, ReasonDeleted, false)
	}
	// The pairs go from the data plane too (their deletes were sent above), then the traps.
	for _, c := range slices.Clone(e.children) {
		e.removeChild(c, ReasonDeleted, false)
	}
	e.clearTraps()
	for _, ch := range e.subs {
		close(ch)
	}
	e.subs = map[int]chan Event{}
}

// oldestHalfOpen returns the oldest responder SA still in phase 1, or nil.
func (e *Engine) oldestHalfOpen() *isakmpSA {
	var old *isakmpSA
	for _, sa := range e.sas {
		if sa.role == responder && !sa.established() && !sa.dead && (old == nil || sa.created.Before(old.created)) {
			old = sa
		}
	}
	return old
}

// halfOpen counts the half-open (not yet established) ISAKMP SAs, for one peer and in all.
func (e *Engine) halfOpen(peer netip.Addr) (forPeer, total int) {
	for _, sa := range e.sas {
		if !sa.established() && !sa.dead {
			total++
			if sa.remote.Addr() == peer {
				forPeer++
			}
		}
	}
	return forPeer, total
}

// activeEntries returns the complete, bound crypto map entries of the current configuration,
// resolved once per configuration snapshot (Quick Mode looks them up for every proposal, and a
// hub may have thousands).
func (e *Engine) activeEntries() []runningconfig.ResolvedEntry {
	if e.activeFor != e.cfg {
		e.active = e.cfg.ActiveMapEntries()
		e.activeFor = e.cfg
	}
	return e.active
}
