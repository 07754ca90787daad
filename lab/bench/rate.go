package bench

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tunnelbox/tunnelbox/lab"
)

// Implementations compared.
const (
	StrongSwan = "strongSwan"
	Tunnelbox  = "Tunnelbox"
)

// Initiators: the load generators of the setup-rate runs.
const (
	// InitCharon is one strongSwan charon with N connections, all initiated over vici.
	InitCharon = "charon"
	// InitEngines is N Tunnelbox IKE engines in one process, each on its own source address
	// (EngineInitiatorAddr), negotiation only (see LoadGen).
	InitEngines = "engines"
)

// Initiators lists the load generators in report order.
var Initiators = [...]string{InitCharon, InitEngines}

// Responders lists the responders in report order.
var Responders = [...]string{StrongSwan, Tunnelbox}

// RateOptions parameterises one setup-rate run.
type RateOptions struct {
	N         int           // tunnels, 500
	Timeout   time.Duration // for all N to come up, 180 s
	Initiator string        // InitCharon (when empty) or InitEngines
	// Pace is the engine initiator's initiations per second; 0 initiates all N at once (the
	// charon initiator always does).
	Pace float64
	// Pin runs the initiator on CPU 0 and the responder on CPU 1 (taskset), so the two do not
	// compete for one core and the responder has exactly one, whichever implementation it is.
	Pin          bool
	TunnelboxBin string // the binary, for a Tunnelbox responder
}

// RateResult is one setup-rate run of one initiator against one responder.
type RateResult struct {
	Initiator    string
	Responder    string
	N            int
	Established  int           // CHILD SAs (IPsec SA pairs) the initiator saw established
	ResponderUp  int           // tunnels the responder reports up afterwards
	Elapsed      time.Duration // first initiation to the N-th established CHILD SA (initiator's clock)
	ResponderCPU time.Duration // utime+stime of the responder process over the run
	InitiatorCPU time.Duration
	OtherCPU     time.Duration // the rest of the machine meanwhile (other users' jobs, ip, ...)
	Retransmits  int           // initiator retransmissions
	Failures     int           // initiator failure lines
	// RespUDPDrops and InitUDPDrops are the datagrams each namespace's UDP layer dropped for a
	// full socket receive buffer or a bad checksum during the run (RcvbufErrors + InErrors):
	// a burst of N Main Mode requests can overflow a small buffer, costing a retransmission.
	RespUDPDrops, InitUDPDrops uint64
}

// Rate is tunnels per second.
func (r RateResult) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Established) / r.Elapsed.Seconds()
}

// CPUPerTunnel is the responder's CPU time per established tunnel.
func (r RateResult) CPUPerTunnel() time.Duration {
	if r.Established == 0 {
		return 0
	}
	return r.ResponderCPU / time.Duration(r.Established)
}

// PerCore is the setup rate one fully used responder core would sustain at the measured CPU
// cost: 1 / CPUPerTunnel.
func (r RateResult) PerCore() float64 {
	if c := r.CPUPerTunnel(); c > 0 {
		return 1 / c.Seconds()
	}
	return 0
}

// InitCPUPerTunnel is the initiator's CPU time per established tunnel.
func (r RateResult) InitCPUPerTunnel() time.Duration {
	if r.Established == 0 {
		return 0
	}
	return r.InitiatorCPU / time.Duration(r.Established)
}

// settle is how long the harness waits after the initiator's last CHILD SA before it reads the
// CPU counters: the responder installs its SAs when Quick Mode message 3 arrives, just after
// the initiator logged the tunnel.
const settle = 300 * time.Millisecond

// rateInitiator is a started load generator: Go starts the initiations (the clock starts when
// it is called), Wait returns the initiator's view of the run.
type rateInitiator struct {
	pid  int
	Go   func() error
	Wait func(t0, deadline time.Time) (rateCounts, error)
}

type rateCounts struct {
	established, retransmits, failures int
	elapsed                            time.Duration
}

// RunSetupRate runs one setup-rate measurement of o.Initiator against responder (StrongSwan or
// Tunnelbox) in two fresh namespaces joined by a veth. It returns the figures; with
// ErrIncomplete when fewer than N tunnels came up before the timeout.
func RunSetupRate(t testing.TB, responder string, o RateOptions) (RateResult, error) {
	t.Helper()
	if o.N == 0 {
		o.N = 500
	}
	if o.Timeout == 0 {
		o.Timeout = 180 * time.Second
	}
	if o.Initiator == "" {
		o.Initiator = InitCharon
	}
	res := RateResult{Initiator: o.Initiator, Responder: responder, N: o.N}
	if o.Initiator != InitCharon && o.Initiator != InitEngines {
		return res, fmt.Errorf("bench: unknown initiator %q", o.Initiator)
	}
	engines := o.Initiator == InitEngines
	if engines && (o.N < 1 || o.N >= maxRateConns) {
		return res, fmt.Errorf("bench: %d engines (1..%d)", o.N, maxRateConns-1)
	}
	cpuI, cpuR := "", ""
	if o.Pin {
		cpuI, cpuR = "0", "1"
	}
	nsI := lab.NewNetns(t, "rateI")
	nsR := lab.NewNetns(t, "rateR")
	if err := lab.Veth(nsI, "out0", nsR, "eth0"); err != nil {
		return res, err
	}
	if err := nsI.AddAddr("out0", netip.PrefixFrom(RateInitiatorAddr, 24)); err != nil {
		return res, err
	}
	if engines {
		// Every engine's source address on lo; the responder routes them via out0's address.
		if err := addLoopbackAddrs(nsI, o.N, EngineInitiatorAddr); err != nil {
			return res, err
		}
	} else {
		// kernel-libipsec installs a CHILD SA only with a local address inside its local traffic
		// selector: each /32 goes on lo.
		if err := addLoopbacks(nsI, o.N, true); err != nil {
			return res, err
		}
	}

	var respPid int
	var confirm func() (int, error)
	switch responder {
	case StrongSwan:
		if err := nsR.AddAddr("eth0", netip.PrefixFrom(RateResponderAddr, 24)); err != nil {
			return res, err
		}
		if err := addLoopbacks(nsR, o.N, false); err != nil {
			return res, err
		}
		c, err := StartBenchCharon(t, nsR, RateCharonConf(false), cpuR)
		if err != nil {
			return res, err
		}
		conf := RateResponderConf()
		if engines {
			conf = RateResponderConfFrom("%any")
		}
		if _, err := c.Swanctl("--load-all", "swanctl.conf", conf); err != nil {
			return res, err
		}
		respPid = c.Proc.Pid
		confirm = func() (int, error) {
			n, err := c.Counts(time.Now())
			return n.ChildUp, err
		}
	case Tunnelbox:
		if o.TunnelboxBin == "" {
			return res, fmt.Errorf("bench: no tunnelbox binary")
		}
		r, err := lab.StartRouter(t, nsR, nsR.Role, lab.RouterOptions{Binary: o.TunnelboxBin, Dataplane: "userspace", CPUs: cpuR})
		if err != nil {
			return res, err
		}
		if engines {
			err = r.ConfigureBatch(RateTunnelboxEnginesConf(o.N), 100)
		} else {
			err = r.Configure(RateTunnelboxConf()...)
		}
		if err != nil {
			return res, err
		}
		if err := checkAddr(nsR, "eth0", netip.PrefixFrom(RateResponderAddr, 24)); err != nil {
			return res, err
		}
		respPid = r.Pid
		confirm = func() (int, error) { return isakmpUp(r) }
	default:
		return res, fmt.Errorf("bench: unknown responder %q", responder)
	}
	if engines {
		if err := nsR.AddRoute(EngineInitiatorNet, RateInitiatorAddr); err != nil {
			return res, err
		}
	}
	// The responder must answer on its outer address before the clock starts (for Tunnelbox
	// this also proves the CLI's `ip address` reached the Linux link).
	if err := waitPing(nsI, RateResponderAddr, 10*time.Second); err != nil {
		return res, fmt.Errorf("bench: %s responder unreachable at %s: %w", responder, RateResponderAddr, err)
	}

	var ini *rateInitiator
	var err error
	if engines {
		ini, err = startEngineInitiator(t, nsI, cpuI, o)
	} else {
		ini, err = startCharonInitiator(t, nsI, cpuI, o)
	}
	if err != nil {
		return res, err
	}
	r0, err := ProcCPU(respPid)
	if err != nil {
		return res, err
	}
	i0, err := ProcCPU(ini.pid)
	if err != nil {
		return res, err
	}
	s0, err := SystemBusy()
	if err != nil {
		return res, err
	}
	uR0, err := NetnsUDP(nsR)
	if err != nil {
		return res, err
	}
	uI0, err := NetnsUDP(nsI)
	if err != nil {
		return res, err
	}
	stopProfile := startProfile(t, respPid, "rate-"+o.Initiator+"-"+responder)
	defer stopProfile()
	t0 := time.Now()
	if err := ini.Go(); err != nil {
		return res, err
	}
	counts, werr := ini.Wait(t0, t0.Add(o.Timeout))
	if werr != nil && !errors.Is(werr, ErrIncomplete) {
		return res, werr
	}
	time.Sleep(settle)
	r1, err := ProcCPU(respPid)
	if err != nil {
		return res, fmt.Errorf("bench: %s responder gone: %w", responder, err)
	}
	i1, _ := ProcCPU(ini.pid)
	s1, _ := SystemBusy()
	if uR1, err := NetnsUDP(nsR); err == nil {
		res.RespUDPDrops = uR1.RcvbufErrors + uR1.InErrors - uR0.RcvbufErrors - uR0.InErrors
	}
	if uI1, err := NetnsUDP(nsI); err == nil {
		res.InitUDPDrops = uI1.RcvbufErrors + uI1.InErrors - uI0.RcvbufErrors - uI0.InErrors
	}
	res.Established = counts.established
	res.Retransmits, res.Failures = counts.retransmits, counts.failures
	res.Elapsed = counts.elapsed
	res.ResponderCPU, res.InitiatorCPU = r1-r0, i1-i0
	res.OtherCPU = max(0, (s1-s0)-res.ResponderCPU-res.InitiatorCPU)
	if res.ResponderUp, err = confirm(); err != nil {
		return res, err
	}
	if res.Established < o.N {
		return res, fmt.Errorf("%w: %s initiator, %s responder: %d of %d tunnels in %v", ErrIncomplete,
			o.Initiator, responder, res.Established, o.N, o.Timeout)
	}
	return res, nil
}

// startCharonInitiator starts the strongSwan initiator with its N connections loaded (before
// the clock starts); Go initiates all N at once over vici, and Wait follows its log.
func startCharonInitiator(t testing.TB, ns *lab.Netns, cpus string, o RateOptions) (*rateInitiator, error) {
	initConf, err := RateInitiatorConf(o.N, "none")
	if err != nil {
		return nil, err
	}
	c, err := StartBenchCharon(t, ns, RateCharonConf(true), cpus)
	if err != nil {
		return nil, err
	}
	if _, err := c.Swanctl("--load-all", "swanctl.conf", initConf); err != nil {
		return nil, err
	}
	return &rateInitiator{
		pid: c.Proc.Pid,
		Go:  func() error { return c.InitiateAll(o.N) },
		Wait: func(t0, deadline time.Time) (rateCounts, error) {
			for {
				counts, err := c.Counts(t0)
				if err != nil {
					return rateCounts{}, err
				}
				rc := rateCounts{established: counts.ChildUp, retransmits: counts.Retransmits,
					failures: counts.Failures, elapsed: counts.LastChild.Sub(t0)}
				if counts.ChildUp >= o.N || time.Now().After(deadline) {
					if counts.ChildUp == 0 {
						rc.elapsed = 0
					}
					return rc, nil
				}
				if done, werr := c.Proc.Exited(); done {
					return rc, fmt.Errorf("bench: initiator charon exited: %v", werr)
				}
				time.Sleep(50 * time.Millisecond)
			}
		},
	}, nil
}

// startEngineInitiator starts the engine load generator (a process of its own, see LoadGen)
// with its N engines bound and configured; Go starts the initiations, Wait reads its result.
func startEngineInitiator(t testing.TB, ns *lab.Netns, cpus string, o RateOptions) (*rateInitiator, error) {
	p, err := StartLoadGen(t, ns, cpus, LoadGenOptions{N: o.N, Responder: RateResponderAddr, Rate: o.Pace, Timeout: o.Timeout})
	if err != nil {
		return nil, err
	}
	return &rateInitiator{
		pid: p.Pid,
		Go:  p.Go,
		Wait: func(_, deadline time.Time) (rateCounts, error) {
			lr, err := p.Result(time.Until(deadline) + 30*time.Second)
			return rateCounts{established: lr.Established, retransmits: lr.Retransmits, failures: lr.Failures,
				elapsed: lr.Elapsed}, err
		},
	}, nil
}

// addLoopbackAddrs puts addr(1)..addr(n) on lo as /32s, in one `ip -batch`.
func addLoopbackAddrs(ns *lab.Netns, n int, addr func(int) netip.Addr) error {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "addr add %s/32 dev lo\n", addr(i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), lab.CommandTimeout)
	defer cancel()
	cmd := ns.Command(ctx, "ip", "-batch", "-")
	cmd.Stdin = strings.NewReader(b.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		return &lab.CommandError{Netns: ns.Name, Args: []string{"ip", "-batch", "-"}, Output: lab.Tail(string(out), 5), Err: err}
	}
	return nil
}

// addLoopbacks puts the first n tunnel addresses of one side (10.1.x.y, or 10.2.x.y when
// !initiator) on lo as /32s, in one `ip -batch`.
func addLoopbacks(ns *lab.Netns, n int, initiator bool) error {
	return addLoopbackAddrs(ns, n, func(i int) netip.Addr {
		l, r := RateAddrs(i)
		if initiator {
			return l
		}
		return r
	})
}

// checkAddr verifies that the router put p on its link dev: its ports follow `ip address`
// through netlink, and Configure returns after the console accepted the lines, so the address
// is there by then.
func checkAddr(ns *lab.Netns, dev string, p netip.Prefix) error {
	out, err := ns.Run("ip", "-o", "-4", "addr", "show", "dev", dev)
	if err != nil {
		return err
	}
	if !strings.Contains(out, " "+p.String()+" ") {
		return fmt.Errorf("bench: the router did not put %s on %s in %s: %s", p, dev, ns.Name, strings.TrimSpace(out))
	}
	return nil
}

// waitPing pings dst from ns until it answers or d passes.
func waitPing(ns *lab.Netns, dst netip.Addr, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		_, err := ns.Run("ping", "-c", "1", "-W", "1", "-q", dst.String())
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// isakmpUp counts the router's phase-1 SAs in state QM_IDLE in `show crypto isakmp sa`.
func isakmpUp(r *lab.Router) (int, error) {
	out, err := r.Send("show crypto isakmp sa")
	if err != nil {
		return 0, err
	}
	if msg := lab.ConsoleError(out); msg != "" {
		return 0, &lab.RouterError{Router: r.Name, Line: "show crypto isakmp sa", Output: msg}
	}
	return CountQMIdle(out), nil
}

// CountQMIdle counts the rows of `show crypto isakmp sa` output in state QM_IDLE (an
// established phase 1).
func CountQMIdle(out string) int {
	n := 0
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= 3 && f[2] == "QM_IDLE" {
			n++
		}
	}
	return n
}
