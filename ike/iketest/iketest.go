// Package iketest holds test doubles for the IKE engine: an in-memory network that carries
// datagrams between engines (with optional loss and duplication), a recording data plane, and
// helpers that build gateway configurations. Real transports and data planes have their own
// tests; these exist so that every exchange and failure path runs in one process.
package iketest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"

	"github.com/tunnelbox/tunnelbox/ike"
	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
	"github.com/tunnelbox/tunnelbox/xfrm"
)

// Net is an in-memory UDP network between engines, keyed by gateway address. It is safe for
// concurrent use.
type Net struct {
	mu      sync.Mutex
	engines map[netip.Addr]*ike.Engine
	rng     *rand.Rand
	// Loss is the probability (0..1) that a datagram is dropped; Dup that it is delivered twice.
	Loss, Dup  float64
	filter     func(from, to netip.AddrPort, msg []byte) ([]byte, bool)
	Sent       int
	Delivered  int
	keepalives map[netip.Addr]int // NAT keepalives sent, by sender
}

// NewNet returns an empty network whose loss and duplication follow seed.
func NewNet(seed uint64) *Net {
	return &Net{engines: map[netip.Addr]*ike.Engine{}, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Attach registers the engine reachable at addr.
func (n *Net) Attach(addr netip.Addr, e *ike.Engine) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.engines[addr] = e
}

// Keepalives returns how many NAT keepalives the gateway at from has sent.
func (n *Net) Keepalives(from netip.Addr) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.keepalives[from]
}

// SetFilter installs f, which sees every datagram and may drop it (return false) or change it.
func (n *Net) SetFilter(f func(from, to netip.AddrPort, msg []byte) ([]byte, bool)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.filter = f
}

// SetLoss sets the probabilities that a datagram is dropped and that it is delivered twice.
func (n *Net) SetLoss(loss, dup float64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.Loss, n.Dup = loss, dup
}

// Transport returns the Transport of the gateway at addr.
func (n *Net) Transport(addr netip.Addr) ike.Transport { return &port{n: n, addr: addr} }

type port struct {
	n    *Net
	addr netip.Addr
}

// SendNATKeepalive records a NAT keepalive (the real transport sends the octet 0xFF on 4500; a
// receiver drops it before IKE, so nothing is delivered here).
func (p *port) SendNATKeepalive(local, remote netip.AddrPort) error {
	p.n.mu.Lock()
	defer p.n.mu.Unlock()
	if p.n.keepalives == nil {
		p.n.keepalives = map[netip.Addr]int{}
	}
	if local.Port() != 4500 || remote.Port() != 4500 {
		return fmt.Errorf("iketest: NAT keepalive from %v to %v is not on the NAT-T port", local, remote)
	}
	p.n.keepalives[p.addr]++
	return nil
}

var _ ike.NATKeepaliver = (*port)(nil)

func (p *port) Send(local, remote netip.AddrPort, msg []byte) error {
	n := p.n
	n.mu.Lock()
	dst := n.engines[remote.Addr()]
	n.Sent++
	copies := 1
	if n.Loss > 0 && n.rng.Float64() < n.Loss {
		copies = 0
	} else if n.Dup > 0 && n.rng.Float64() < n.Dup {
		copies = 2
	}
	filter := n.filter
	n.mu.Unlock()
	if dst == nil {
		return fmt.Errorf("iketest: no host at %v", remote)
	}
	src := netip.AddrPortFrom(p.addr, local.Port())
	data := bytes.Clone(msg)
	if filter != nil {
		var ok bool
		if data, ok = filter(src, remote, data); !ok {
			return nil
		}
	}
	for i := 0; i < copies; i++ {
		n.mu.Lock()
		n.Delivered++
		n.mu.Unlock()
		dst.Receive(ike.Packet{Local: remote, Remote: src, Data: data})
	}
	return nil
}

// Dataplane is a recording Installer: it keeps what the engine installs and lets a test raise
// events. It is safe for concurrent use.
type Dataplane struct {
	mu       sync.Mutex
	SAs      map[xfrm.SAID]*xfrm.SA
	Policies map[xfrm.PolicyID]*xfrm.Policy
	Added    int
	Deleted  int
	events   chan xfrm.Event
	// Refuse, when set, makes AddSA fail (to test a data plane that refuses a state).
	Refuse error
	// Gaps counts deletions that left no outbound SA installed after one had been: a rekey
	// that is not make-before-break shows up here.
	Gaps int

	// hits are the per-policy counters a test records with Hit (PolicyCounters reports them).
	hits map[xfrm.PolicyID][2]uint64
	// invalid are the unknown-SPI counts a test records with InvalidFrom.
	invalid map[netip.Addr]uint64
}

// NewDataplane returns an empty recording data plane.
func NewDataplane() *Dataplane {
	return &Dataplane{SAs: map[xfrm.SAID]*xfrm.SA{}, Policies: map[xfrm.PolicyID]*xfrm.Policy{},
		events: make(chan xfrm.Event, 64)}
}

var _ ike.Installer = (*Dataplane)(nil)

func (d *Dataplane) AddSA(sa *xfrm.SA) error {
	if err := sa.Validate(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.Refuse != nil {
		return d.Refuse
	}
	if _, ok := d.SAs[sa.ID()]; ok {
		return fmt.Errorf("%w: %v", xfrm.ErrExists, sa.ID())
	}
	d.SAs[sa.ID()] = sa.Clone()
	d.Added++
	return nil
}

func (d *Dataplane) DelSA(sa *xfrm.SA) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.SAs[sa.ID()]; !ok {
		return xfrm.ErrNotFound
	}
	delete(d.SAs, sa.ID())
	d.Deleted++
	out := 0
	for _, o := range d.SAs {
		if o.Dir == xfrm.DirOut {
			out++
		}
	}
	if out == 0 {
		d.Gaps++
	}
	return nil
}

func (d *Dataplane) AddPolicy(p *xfrm.Policy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	cp := *p
	d.Policies[p.ID()] = &cp
	return nil
}

func (d *Dataplane) DelPolicy(p *xfrm.Policy) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.Policies, p.ID())
	delete(d.hits, p.ID())
	return nil
}

var (
	_ ike.PolicyCounter     = (*Dataplane)(nil)
	_ ike.InvalidSPICounter = (*Dataplane)(nil)
)

// Hit records that matched packets matched the installed policy with p's identity, noSA of
// them without an SA, as a counting data plane would (the engine's mapping of policies to ACL
// lines is what tests check with it). It fails for a policy that is not installed.
func (d *Dataplane) Hit(p *xfrm.Policy, matched, noSA uint64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	id := p.ID()
	if d.Policies[id] == nil {
		return fmt.Errorf("iketest: policy %v: %w", p, xfrm.ErrNotFound)
	}
	if d.hits == nil {
		d.hits = map[xfrm.PolicyID][2]uint64{}
	}
	h := d.hits[id]
	d.hits[id] = [2]uint64{h[0] + matched, h[1] + noSA}
	return nil
}

// PolicyCounters implements ike.PolicyCounter with the counts recorded by Hit; a policy's
// counts go with it.
func (d *Dataplane) PolicyCounters(p *xfrm.Policy) (matched, noSA uint64, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.Policies[p.ID()] == nil {
		return 0, 0, xfrm.ErrNotFound
	}
	h := d.hits[p.ID()]
	return h[0], h[1], nil
}

// InvalidFrom records n datagrams with an unknown SPI from peer.
func (d *Dataplane) InvalidFrom(peer netip.Addr, n uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.invalid == nil {
		d.invalid = map[netip.Addr]uint64{}
	}
	d.invalid[peer] += n
}

// InvalidSPI implements ike.InvalidSPICounter with the counts recorded by InvalidFrom.
func (d *Dataplane) InvalidSPI(peer netip.Addr) uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.invalid[peer]
}

func (d *Dataplane) Counters(sa *xfrm.SA) (xfrm.Counters, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.SAs[sa.ID()]; !ok {
		return xfrm.Counters{}, xfrm.ErrNotFound
	}
	return xfrm.Counters{}, nil
}

func (d *Dataplane) Events() <-chan xfrm.Event { return d.events }
func (d *Dataplane) Close() error              { return nil }

// Raise delivers a data-plane event to the engine.
func (d *Dataplane) Raise(ev xfrm.Event) { d.events <- ev }

// GapCount returns Gaps.
func (d *Dataplane) GapCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.Gaps
}

// Snapshot returns copies of the installed SAs.
func (d *Dataplane) Snapshot() []*xfrm.SA {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []*xfrm.SA
	for _, sa := range d.SAs {
		out = append(out, sa.Clone())
	}
	return out
}

// Gateway describes one side of a site-to-site tunnel for Config.
type Gateway struct {
	Addr      netip.Addr // WAN address (GigabitEthernet0/0, /24)
	Peer      netip.Addr // the other gateway
	Local     []string   // protected local networks, "10.1.1.0/24"
	Remote    []string   // remote networks; ACL line i is Local[i] -> Remote[i]
	PSK       string     // pre-shared key for Peer
	Policy    runningconfig.ISAKMPPolicy
	Transform []string // e.g. {"esp-aes", "256", "esp-sha-hmac"}
	Transport bool
	PFS       int
	Lifetime  int // IPsec SA lifetime in seconds (0: default)
	Keepalive int // crypto isakmp keepalive interval (0: none)
	NATKeep   int // crypto isakmp nat keepalive interval (0: none)
}

// Config builds the running configuration of g: interface with crypto map CMAP, policy 10,
// key, transform set TS, ACL 101 and entry CMAP 10.
func Config(g Gateway) (*runningconfig.Config, error) {
	c := runningconfig.Default()
	f := c.EnsureInterface("GigabitEthernet0/0")
	f.Address = netip.PrefixFrom(g.Addr, 24)
	f.Shutdown = false
	f.CryptoMap = "CMAP"
	k := c.EnsureCrypto()
	p, _ := k.EnsurePolicy(10)
	prio := p.Priority
	*p = g.Policy
	p.Priority = prio
	if p.Lifetime == 0 {
		p.Lifetime = runningconfig.DefaultISAKMPLifetime
	}
	if p.Group == 0 {
		p.Group = 14
	}
	if g.PSK != "" {
		k.SetKey(runningconfig.ISAKMPKey{Key: g.PSK, Addr: g.Peer})
	}
	k.NATKeepalive = g.NATKeep
	if g.Keepalive != 0 {
		k.Keepalive = &runningconfig.Keepalive{Interval: g.Keepalive, Retry: 2, Periodic: true}
	}
	ts, err := k.SetTransformSet("TS", g.Transform)
	if err != nil {
		return nil, err
	}
	ts.Transport = g.Transport
	acl, err := c.EnsureACL("101", runningconfig.ACLExtended, true)
	if err != nil {
		return nil, err
	}
	for i := range g.Local {
		l, err1 := netip.ParsePrefix(g.Local[i])
		r, err2 := netip.ParsePrefix(g.Remote[i])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("iketest: bad network %q or %q", g.Local[i], g.Remote[i])
		}
		if err := acl.Add(runningconfig.ACE{Permit: true, Proto: runningconfig.ProtoIP,
			Src: wild(l), Dst: wild(r)}); err != nil {
			return nil, err
		}
	}
	e, _ := k.EnsureMapEntry("CMAP", 10)
	e.Peers = []string{g.Peer.String()}
	e.TransformSets = []string{"TS"}
	e.MatchACL = "101"
	e.PFSGroup = g.PFS
	e.LifetimeSecs = g.Lifetime
	return c, c.Validate()
}

func wild(p netip.Prefix) runningconfig.Wildcard {
	bits := uint32(0)
	if p.Bits() < 32 {
		bits = ^uint32(0) >> p.Bits()
	}
	return runningconfig.NewWildcard(p.Addr(), bits)
}

// PolicySnapshot returns copies of the installed policies.
func (d *Dataplane) PolicySnapshot() []xfrm.Policy {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []xfrm.Policy
	for _, p := range d.Policies {
		out = append(out, *p)
	}
	return out
}
