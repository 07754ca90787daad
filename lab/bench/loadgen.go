package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/tunnelbox/tunnelbox/ike"
	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
)

// The engine load generator: N Tunnelbox IKE engines in one process, engine i bound to its own
// address EngineInitiatorAddr(i) (UDP 500 and 4500 on that address), each configured with one
// crypto map entry towards the responder. Engines negotiate only (no Installer): the initiator
// spends its CPU on IKE alone, which is what a load generator should do.

// engineMap is the crypto map name and sequence of every load-generator engine.
const (
	engineMap = "CMAP"
	engineSeq = 10
)

// EngineInitiatorNet holds the load generator's source addresses (the RFC 2544 benchmarking
// range): the responder routes it to the initiator's outer address.
var EngineInitiatorNet = netip.MustParsePrefix("198.18.0.0/15")

// EngineInitiatorAddr returns the source address of engine i (1-based): 198.18.x.y with
// x = i/250 and y = i%250+1, as RateAddrs numbers the proxies.
func EngineInitiatorAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{198, 18, byte(i / 250), byte(i%250 + 1)})
}

// EngineConfig returns the running configuration of engine i: GigabitEthernet0/0 with its
// address and crypto map CMAP, ISAKMP policy 10 (aes 256, sha256, pre-share, group 14), the
// key for the responder, transform set TS (esp-aes 256 esp-sha-hmac), ACL 101 with the tunnel's
// /32 proxies (RateAddrs(i)) and entry CMAP 10 to the responder with PFS group 14: what an
// operator would type on a spoke.
func EngineConfig(i int, responder netip.Addr) (*runningconfig.Config, error) {
	if i < 1 || i >= maxRateConns {
		return nil, fmt.Errorf("bench: engine %d (1..%d)", i, maxRateConns-1)
	}
	c := runningconfig.Default()
	c.Hostname = fmt.Sprintf("spoke%d", i)
	f := c.EnsureInterface("GigabitEthernet0/0")
	f.Address = netip.PrefixFrom(EngineInitiatorAddr(i), 32)
	f.Shutdown = false
	f.CryptoMap = engineMap
	k := c.EnsureCrypto()
	p, _ := k.EnsurePolicy(10)
	p.Encryption, p.KeyBits, p.Hash, p.Auth, p.Group = runningconfig.EncrAES, 256, runningconfig.HashSHA256, runningconfig.AuthPreShare, 14
	k.SetKey(runningconfig.ISAKMPKey{Key: RatePSK, Addr: responder})
	if _, err := k.SetTransformSet("TS", []string{"esp-aes", "256", "esp-sha-hmac"}); err != nil {
		return nil, err
	}
	acl, err := c.EnsureACL("101", runningconfig.ACLExtended, true)
	if err != nil {
		return nil, err
	}
	l, r := RateAddrs(i)
	if err := acl.Add(runningconfig.ACE{Permit: true, Proto: runningconfig.ProtoIP,
		Src: runningconfig.HostAddr(l), Dst: runningconfig.HostAddr(r)}); err != nil {
		return nil, err
	}
	e, _ := k.EnsureMapEntry(engineMap, engineSeq)
	e.Peers = []string{responder.String()}
	e.TransformSets = []string{"TS"}
	e.MatchACL = "101"
	e.PFSGroup = 14
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// LoadGenOptions parameterise the engine load generator.
type LoadGenOptions struct {
	N         int           `json:"n"`         // engines, one tunnel each
	Responder netip.Addr    `json:"responder"` // the responder's outer address
	Rate      float64       `json:"rate"`      // initiations per second; 0: all at once
	Timeout   time.Duration `json:"timeout"`   // for all N to finish
}

// LoadResult is what the load generator saw.
type LoadResult struct {
	Established int           `json:"established"` // EvPhase2Up events (one per engine at most)
	Failures    int           `json:"failures"`    // EvFailure events
	Retransmits int           `json:"retransmits"` // phase-1 and phase-2 retransmissions
	Elapsed     time.Duration `json:"elapsed"`     // first initiation to the last EvPhase2Up
	Confirmed   int           `json:"confirmed"`   // engines whose Status shows an IPsec SA pair afterwards
}

// LoadGen is N running engines, one per source address. The addresses must exist in the
// calling thread's network namespace.
type LoadGen struct {
	o       LoadGenOptions
	engines []*ike.Engine
	udps    []*ike.UDP
	stops   []func()
	events  chan loadEvent
	wg      sync.WaitGroup
}

type loadEvent struct {
	kind ike.EventKind // EvPhase2Up, EvFailure, or EvDebug for a retransmission
	at   time.Time
}

// NewLoadGen binds and starts o.N engines. Close stops them.
func NewLoadGen(o LoadGenOptions) (*LoadGen, error) {
	if o.N < 1 || o.N >= maxRateConns {
		return nil, fmt.Errorf("bench: load generator of %d engines (1..%d)", o.N, maxRateConns-1)
	}
	if !o.Responder.Is4() {
		return nil, fmt.Errorf("bench: load generator responder %v is not IPv4", o.Responder)
	}
	g := &LoadGen{o: o, events: make(chan loadEvent, 4*o.N)}
	for i := 1; i <= o.N; i++ {
		cfg, err := EngineConfig(i, o.Responder)
		if err != nil {
			g.Close()
			return nil, err
		}
		u, err := ike.ListenUDP(EngineInitiatorAddr(i))
		if err != nil {
			g.Close()
			return nil, fmt.Errorf("bench: engine %d: %w", i, err)
		}
		e := ike.New(ike.Options{Transport: u})
		g.udps = append(g.udps, u)
		g.engines = append(g.engines, e)
		e.Start(cfg)
		u.Serve(ike.UDPHandlers{IKE: e.Receive})
		ch, stop := e.Subscribe()
		g.stops = append(g.stops, stop)
		g.wg.Add(1)
		go g.watch(ch)
	}
	return g, nil
}

// watch forwards one engine's outcomes (and retransmissions) to the collector.
func (g *LoadGen) watch(ch <-chan ike.Event) {
	defer g.wg.Done()
	for ev := range ch {
		switch {
		case ev.Kind == ike.EvPhase2Up, ev.Kind == ike.EvFailure:
		case ev.Kind == ike.EvDebug && strings.Contains(ev.Text, "retransmitting"):
		default:
			continue
		}
		g.events <- loadEvent{kind: ev.Kind, at: ev.Time}
	}
}

// Run initiates every engine's entry (all at once, or o.Rate per second) and waits until each
// engine's tunnel is up or has failed, or o.Timeout passes. With an incomplete run it returns
// the partial result and ErrIncomplete.
func (g *LoadGen) Run() (LoadResult, error) {
	var res LoadResult
	timeout := g.o.Timeout
	if timeout <= 0 {
		timeout = 180 * time.Second
	}
	t0 := time.Now()
	initErr := make(chan error, 1)
	go func() {
		for i, e := range g.engines {
			if g.o.Rate > 0 {
				time.Sleep(time.Until(t0.Add(time.Duration(float64(i) / g.o.Rate * float64(time.Second)))))
			}
			if err := e.Initiate(engineMap, engineSeq, false); err != nil {
				initErr <- fmt.Errorf("bench: engine %d: %w", i+1, err)
				return
			}
		}
		initErr <- nil
	}()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for res.Established+res.Failures < len(g.engines) {
		select {
		case ev := <-g.events:
			switch ev.kind {
			case ike.EvPhase2Up:
				res.Established++
				if d := ev.at.Sub(t0); d > res.Elapsed {
					res.Elapsed = d
				}
			case ike.EvFailure:
				res.Failures++
			default:
				res.Retransmits++
			}
		case err := <-initErr:
			if err != nil {
				return res, err
			}
		case <-deadline.C:
			res.Confirmed = g.confirmed()
			return res, fmt.Errorf("%w: load generator: %d of %d tunnels, %d failures in %v", ErrIncomplete,
				res.Established, len(g.engines), res.Failures, timeout)
		}
	}
	res.Confirmed = g.confirmed()
	if res.Established < len(g.engines) {
		return res, fmt.Errorf("%w: load generator: %d of %d tunnels, %d failures", ErrIncomplete,
			res.Established, len(g.engines), res.Failures)
	}
	return res, nil
}

// confirmed counts the engines whose status shows an IPsec SA pair, a check on the event
// count (a subscriber that falls behind loses events).
func (g *LoadGen) confirmed() int {
	n := 0
	for _, e := range g.engines {
		if len(e.Status().IPsec) > 0 {
			n++
		}
	}
	return n
}

// Close stops the engines (their SAs are deleted, the responder told) and closes the sockets.
func (g *LoadGen) Close() error {
	for _, s := range g.stops {
		s()
	}
	var wg sync.WaitGroup
	for _, e := range g.engines {
		wg.Add(1)
		go func() { defer wg.Done(); e.Close() }()
	}
	wg.Wait()
	var first error
	for _, u := range g.udps {
		if err := u.Close(); err != nil && first == nil {
			first = err
		}
	}
	// Unblock watchers that wait to hand over an event nobody reads any more.
	go func() {
		for range g.events {
		}
	}()
	g.wg.Wait()
	close(g.events)
	return first
}

// The load generator runs as a process of its own (the test binary re-executed with
// LoadGenEnv set to the JSON options), so that it can be pinned to a CPU and measured
// like the charon initiator. It talks over stdin and stdout, one line each way per step:
//
//	-> "ready N"          engines bound and started
//	<- "go"               initiate now
//	-> "result {json}"    a LoadResult (partial when the run failed), then
//	-> "ok" or "error MESSAGE"
//	<- end of input       close the engines and exit
const LoadGenEnv = "TUNNELBOX_BENCH_LOADGEN"

// ServeLoadGen is the load generator process's body (see LoadGenEnv).
func ServeLoadGen(opts string, in io.Reader, out io.Writer) error {
	var o LoadGenOptions
	if err := json.Unmarshal([]byte(opts), &o); err != nil {
		return fmt.Errorf("bench: load generator options: %w", err)
	}
	g, err := NewLoadGen(o)
	if err != nil {
		fmt.Fprintf(out, "error %s\n", oneLine(err))
		return err
	}
	defer g.Close()
	fmt.Fprintf(out, "ready %d\n", o.N)
	sc := bufio.NewScanner(in)
	if !sc.Scan() || sc.Text() != "go" {
		return fmt.Errorf("bench: load generator: no go on stdin")
	}
	res, rerr := g.Run()
	b, _ := json.Marshal(res)
	fmt.Fprintf(out, "result %s\n", b)
	if rerr != nil {
		fmt.Fprintf(out, "error %s\n", oneLine(rerr))
	} else {
		fmt.Fprintln(out, "ok")
	}
	for sc.Scan() {
	}
	return rerr
}
