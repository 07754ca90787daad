package kernel

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/tunnelbox/tunnelbox/xfrm"
)

// Options configure a Backend. The zero value programs the caller's network namespace.
type Options struct {
	// Netns is the path of the network namespace to program (/run/netns/NAME,
	// /proc/PID/ns/net); "" is the namespace of the calling thread.
	Netns string
	// EventBuffer is the capacity of the Events channel (default 64).
	EventBuffer int
	// Timeout bounds each netlink request (default 10 s).
	Timeout time.Duration
}

// Backend is the kernel XFRM data plane of one network namespace.
type Backend struct {
	h      *netlink.Handle   // NETLINK_XFRM: policies, state get/delete
	sa     *nl.SocketHandle  // NETLINK_XFRM with extended acks: state add
	mon    *nl.NetlinkSocket // XFRMNLGRP_ACQUIRE | XFRMNLGRP_EXPIRE
	events chan xfrm.Event
	quit   chan struct{}
	done   chan struct{}

	mu       sync.Mutex
	closed   bool
	sas      map[xfrm.SAID]*xfrm.SA // keys removed
	policies map[xfrm.PolicyID]*xfrm.Policy
	bypass   map[bypassKey]int // reference counts
	dropped  uint64            // event messages the reader could not decode
}

// New opens the netlink sockets in the namespace and starts the event reader.
func New(o Options) (*Backend, error) {
	if o.EventBuffer <= 0 {
		o.EventBuffer = 64
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	ns := netns.None()
	if o.Netns != "" {
		var err error
		if ns, err = netns.GetFromPath(o.Netns); err != nil {
			return nil, fmt.Errorf("kernel: network namespace %s: %w", o.Netns, err)
		}
		defer ns.Close()
	}
	b := &Backend{events: make(chan xfrm.Event, o.EventBuffer), quit: make(chan struct{}), done: make(chan struct{}),
		sas: map[xfrm.SAID]*xfrm.SA{}, policies: map[xfrm.PolicyID]*xfrm.Policy{}, bypass: map[bypassKey]int{}}
	var err error
	if b.h, err = netlink.NewHandleAt(ns, unix.NETLINK_XFRM); err != nil {
		return nil, fmt.Errorf("kernel: netlink XFRM socket: %w", err)
	}
	if err := b.h.SetSocketTimeout(o.Timeout); err != nil {
		b.h.Close()
		return nil, fmt.Errorf("kernel: netlink XFRM socket: %w", err)
	}
	s, err := openSocket(ns, o.Timeout)
	if err != nil {
		b.h.Close()
		return nil, err
	}
	b.sa = &nl.SocketHandle{Socket: s}
	if b.mon, err = nl.SubscribeAt(ns, netns.None(), unix.NETLINK_XFRM, nl.XFRMNLGRP_ACQUIRE, nl.XFRMNLGRP_EXPIRE); err != nil {
		b.h.Close()
		s.Close()
		return nil, fmt.Errorf("kernel: joining the XFRM acquire and expire groups: %w", err)
	}
	// A short receive timeout lets the reader notice Close: closing a netlink socket does not
	// wake a blocked recvfrom.
	tv := unix.NsecToTimeval((200 * time.Millisecond).Nanoseconds())
	if err := b.mon.SetReceiveTimeout(&tv); err != nil {
		b.h.Close()
		s.Close()
		b.mon.Close()
		return nil, fmt.Errorf("kernel: XFRM monitor socket: %w", err)
	}
	go b.read()
	return b, nil
}

// openSocket opens a NETLINK_XFRM socket in ns that reports the kernel's extended ack messages.
func openSocket(ns netns.NsHandle, timeout time.Duration) (*nl.NetlinkSocket, error) {
	s, err := nl.GetNetlinkSocketAt(ns, netns.None(), unix.NETLINK_XFRM)
	if err != nil {
		return nil, fmt.Errorf("kernel: netlink XFRM socket: %w", err)
	}
	tv := unix.NsecToTimeval(timeout.Nanoseconds())
	if err := errors.Join(s.SetSendTimeout(&tv), s.SetReceiveTimeout(&tv), s.SetExtAck(true)); err != nil {
		s.Close()
		return nil, fmt.Errorf("kernel: netlink XFRM socket: %w", err)
	}
	return s, nil
}

// Events returns the channel of acquire and expire events. It is closed by Close.
func (b *Backend) Events() <-chan xfrm.Event { return b.events }

// AddSA installs sa as a kernel state. Errors wrap xfrm.ErrInvalidSA, xfrm.ErrExists,
// xfrm.ErrClosed, or are an *Error from the kernel (ErrNoESP, ErrNoAlgorithm, ...).
func (b *Backend) AddSA(sa *xfrm.SA) error {
	if err := sa.Validate(); err != nil {
		return fmt.Errorf("kernel: %w", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return xfrm.ErrClosed
	}
	id := sa.ID()
	if _, ok := b.sas[id]; ok {
		return fmt.Errorf("kernel: add SA %v: %w", id, xfrm.ErrExists)
	}
	if err := addState(b.sa, sa); err != nil {
		return err
	}
	c := sa.Clone()
	c.EncKey, c.Salt, c.AuthKey = nil, nil, nil
	b.sas[id] = c
	return nil
}

func addState(s *nl.SocketHandle, sa *xfrm.SA) error {
	req := stateRequest(sa)
	req.Sockets = map[int]*nl.SocketHandle{unix.NETLINK_XFRM: s}
	_, err := req.Execute(unix.NETLINK_XFRM, 0)
	return kernelError("add SA", saString(sa), err)
}

func stateID(sa *xfrm.SA) *netlink.XfrmState {
	return &netlink.XfrmState{Dst: ipOf(sa.Dst), Src: ipOf(sa.Src), Proto: netlink.XFRM_PROTO_ESP, Spi: int(sa.SPI)}
}

// DelSA removes the state with sa's identity. After a hard expiry the kernel has removed it
// already: the error then wraps xfrm.ErrNotFound.
func (b *Backend) DelSA(sa *xfrm.SA) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return xfrm.ErrClosed
	}
	id := sa.ID()
	own, ok := b.sas[id]
	if !ok {
		return fmt.Errorf("kernel: delete SA %v: %w", id, xfrm.ErrNotFound)
	}
	delete(b.sas, id)
	return kernelError("delete SA", saString(sa), b.h.XfrmStateDel(stateID(own)))
}

// Counters returns the kernel's statistics of the state with sa's identity.
func (b *Backend) Counters(sa *xfrm.SA) (xfrm.Counters, error) {
	b.mu.Lock()
	own, ok := b.sas[sa.ID()]
	closed := b.closed
	b.mu.Unlock()
	switch {
	case closed:
		return xfrm.Counters{}, xfrm.ErrClosed
	case !ok:
		return xfrm.Counters{}, fmt.Errorf("kernel: counters of SA %v: %w", sa.ID(), xfrm.ErrNotFound)
	}
	st, err := b.h.XfrmStateGet(stateID(own))
	if err != nil {
		return xfrm.Counters{}, kernelError("get SA", saString(sa), err)
	}
	return statsToCounters(st.Statistics, own.Dir), nil
}

// State returns the kernel's view of an SA this backend added: the state as listed by the
// kernel (algorithms, keys, lifetimes, replay window, statistics), for tests and `show`
// commands that print the kernel's side.
func (b *Backend) State(sa *xfrm.SA) (*netlink.XfrmState, error) {
	b.mu.Lock()
	own, ok := b.sas[sa.ID()]
	b.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("kernel: SA %v: %w", sa.ID(), xfrm.ErrNotFound)
	}
	st, err := b.h.XfrmStateGet(stateID(own))
	return st, kernelError("get SA", saString(sa), err)
}

// AddPolicy installs p as a kernel policy, with the IKE bypass policies its gateways need.
func (b *Backend) AddPolicy(p *xfrm.Policy) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("kernel: %w", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return xfrm.ErrClosed
	}
	id := p.ID()
	if _, ok := b.policies[id]; ok {
		return fmt.Errorf("kernel: add policy %v: %w", p, xfrm.ErrExists)
	}
	keys := bypassKeys(p)
	for i, k := range keys {
		if err := b.refBypass(k); err != nil {
			for _, k := range keys[:i] {
				b.unrefBypass(k)
			}
			return err
		}
	}
	np := policyOf(p)
	if err := b.h.XfrmPolicyAdd(np); err != nil {
		for _, k := range keys {
			b.unrefBypass(k)
		}
		return kernelError("add policy", p.String(), err)
	}
	cp := *p
	b.policies[id] = &cp
	return nil
}

// DelPolicy removes the policy with p's identity (and bypass policies no longer needed).
func (b *Backend) DelPolicy(p *xfrm.Policy) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return xfrm.ErrClosed
	}
	own, ok := b.policies[p.ID()]
	if !ok {
		return fmt.Errorf("kernel: delete policy %v: %w", p, xfrm.ErrNotFound)
	}
	return b.delPolicyLocked(own)
}

func (b *Backend) delPolicyLocked(p *xfrm.Policy) error {
	delete(b.policies, p.ID())
	err := kernelError("delete policy", p.String(), b.h.XfrmPolicyDel(policyOf(p)))
	for _, k := range bypassKeys(p) {
		err = errors.Join(err, b.unrefBypass(k))
	}
	return err
}

// bypassKeys returns the bypass sets p needs: the out policy's gateways send IKE to each other,
// in and fwd policies name the peer first (the fwd direction needs none: IKE ends here).
func bypassKeys(p *xfrm.Policy) []bypassKey {
	src, dst, ok := gatewayPair(p)
	if !ok {
		return nil
	}
	switch p.Dir {
	case xfrm.DirOut:
		return []bypassKey{{dir: xfrm.DirOut, src: src, dst: dst}}
	case xfrm.DirIn:
		return []bypassKey{{dir: xfrm.DirIn, src: src, dst: dst}}
	}
	return nil
}

func (b *Backend) refBypass(k bypassKey) error {
	if b.bypass[k] > 0 {
		b.bypass[k]++
		return nil
	}
	pols := bypassPolicies(k)
	for i, np := range pols {
		err := b.h.XfrmPolicyAdd(np)
		if errors.Is(err, syscall.EEXIST) {
			// Someone else's identical bypass (a second backend, a leftover): refresh it so
			// that ours is the one in place, then own it.
			err = b.h.XfrmPolicyUpdate(np)
		}
		if err != nil {
			for _, np := range pols[:i] {
				b.h.XfrmPolicyDel(np)
			}
			return kernelError("add IKE bypass policy", policyString(np), err)
		}
	}
	b.bypass[k] = 1
	return nil
}

func (b *Backend) unrefBypass(k bypassKey) error {
	if b.bypass[k]--; b.bypass[k] > 0 {
		return nil
	}
	delete(b.bypass, k)
	var err error
	for _, np := range bypassPolicies(k) {
		if e := b.h.XfrmPolicyDel(np); e != nil && !errors.Is(e, syscall.ENOENT) {
			err = errors.Join(err, kernelError("delete IKE bypass policy", policyString(np), e))
		}
	}
	return err
}

// Close removes every state and policy this backend added, stops the event reader and closes
// the Events channel.
func (b *Backend) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return xfrm.ErrClosed
	}
	var err error
	for id, sa := range b.sas {
		delete(b.sas, id)
		if e := b.h.XfrmStateDel(stateID(sa)); e != nil && !errors.Is(e, syscall.ESRCH) && !errors.Is(e, syscall.ENOENT) {
			err = errors.Join(err, kernelError("delete SA", saString(sa), e))
		}
	}
	for _, p := range b.policies {
		if e := b.delPolicyLocked(p); e != nil && !errors.Is(e, xfrm.ErrNotFound) {
			err = errors.Join(err, e)
		}
	}
	b.closed = true
	b.mu.Unlock()
	close(b.quit)
	<-b.done
	b.mon.Close()
	b.sa.Close()
	b.h.Close()
	return err
}

// read turns the kernel's multicast messages into events until Close.
func (b *Backend) read() {
	defer close(b.done)
	defer close(b.events)
	for {
		select {
		case <-b.quit:
			return
		default:
		}
		msgs, from, err := b.mon.Receive()
		if err != nil {
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) || errors.Is(err, unix.ENOBUFS) {
				// Timeout (check quit), signal, or the socket buffer overflowed: messages
				// lost to an overflow cannot be recovered; acquires repeat, expiries are
				// backed by the engine's own lifetime timers.
				continue
			}
			select {
			case <-b.quit:
			default:
				b.mu.Lock()
				b.dropped++
				b.mu.Unlock()
				time.Sleep(50 * time.Millisecond)
				continue
			}
			return
		}
		if from.Pid != nl.PidKernel {
			continue
		}
		for _, m := range msgs {
			ev, ok := b.event(m.Header.Type, m.Data)
			if !ok {
				continue
			}
			select {
			case b.events <- ev:
			case <-b.quit:
				return
			}
		}
	}
}

// event decodes one multicast message into an event about this backend's policies or SAs.
func (b *Backend) event(typ uint16, data []byte) (xfrm.Event, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch typ {
	case nl.XFRM_MSG_ACQUIRE:
		a, err := parseAcquire(data)
		if err != nil {
			b.dropped++
			return xfrm.Event{}, false
		}
		p, ok := b.policies[a.policy]
		if !ok {
			return xfrm.Event{}, false // another daemon's policy
		}
		cp := *p
		return xfrm.Event{Kind: xfrm.EventAcquire, Policy: &cp, Flow: a.flow}, true
	case nl.XFRM_MSG_EXPIRE:
		e, err := parseExpire(data)
		if err != nil {
			b.dropped++
			return xfrm.Event{}, false
		}
		sa, ok := b.sas[e.id]
		if !ok {
			return xfrm.Event{}, false
		}
		cp := sa.Clone()
		ev := xfrm.Event{Kind: xfrm.EventExpireSoft, SA: cp, Cause: e.cause}
		if e.hard {
			ev.Kind = xfrm.EventExpireHard
			delete(b.sas, e.id) // the kernel has removed the state
		}
		return ev, true
	}
	return xfrm.Event{}, false
}

// Dropped returns how many event messages could not be read or decoded.
func (b *Backend) Dropped() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.dropped
}

// Probe reports whether ESP states can be installed in the namespace at path ("" = the
// caller's): it adds an AES-CBC/HMAC-SHA-256 tunnel state between two TEST-NET-2 addresses
// (RFC 5737) under a free SPI and removes it again. A nil error means the kernel data plane
// works; otherwise the error says why (ErrNoESP, ErrNoAlgorithm, permission, ...).
func Probe(path string) error {
	ns := netns.None()
	if path != "" {
		var err error
		if ns, err = netns.GetFromPath(path); err != nil {
			return fmt.Errorf("kernel: network namespace %s: %w", path, err)
		}
		defer ns.Close()
	}
	s, err := openSocket(ns, 5*time.Second)
	if err != nil {
		return err
	}
	sh := &nl.SocketHandle{Socket: s}
	defer sh.Close()
	sa := &xfrm.SA{Src: netip.MustParseAddr("198.51.100.1"), Dst: netip.MustParseAddr("198.51.100.2"),
		Proto: xfrm.ProtoESP, Mode: xfrm.ModeTunnel, Dir: xfrm.DirIn, Enc: xfrm.EncAESCBC, EncKey: make([]byte, 16),
		Auth: xfrm.AuthHMACSHA256, AuthKey: make([]byte, 32)}
	for spi := uint32(0xfffffe00); spi != 0; spi++ {
		sa.SPI = spi
		err := addState(sh, sa)
		if errors.Is(err, xfrm.ErrExists) {
			continue
		}
		if err != nil {
			return err
		}
		req := nl.NewNetlinkRequest(nl.XFRM_MSG_DELSA, unix.NLM_F_ACK)
		m := &nl.XfrmUsersaId{Family: unix.AF_INET, Proto: unix.IPPROTO_ESP, Spi: nl.Swap32(spi)}
		setXfrmAddr(&m.Daddr, sa.Dst)
		req.AddData(m)
		req.Sockets = map[int]*nl.SocketHandle{unix.NETLINK_XFRM: sh}
		_, err = req.Execute(unix.NETLINK_XFRM, 0)
		return kernelError("delete SA", saString(sa), err)
	}
	return fmt.Errorf("kernel: probe: no free SPI")
}
