package main

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tunnelbox/tunnelbox/ike"
	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
	"github.com/tunnelbox/tunnelbox/shell"
	"github.com/tunnelbox/tunnelbox/shell/commands"
	"github.com/tunnelbox/tunnelbox/xfrm/kernel"
	"github.com/tunnelbox/tunnelbox/xfrm/userspace"
)

// keylogEnv names a file that receives the ESP keys of every SA pair the engine installs, one
// line per SA, the way SSLKEYLOGFILE works for TLS: for lab captures and interop tests. It is
// off unless set, and the file holds secrets.
const keylogEnv = "TUNNELBOX_KEYLOG"

// Test hooks. They exist only for the lab tests that drive the real binary (lab/vm, lab/interop)
// and are no product feature: a router started with one of them says so on its console when
// ISAKMP starts (%CRYPTO-4-TESTHOOK), and neither shows in the configuration.
const (
	// testSecondEnv (a Go duration, e.g. "50ms") sets how long one configured second lasts for
	// the IKE engine (ike.Options.Second): SA lifetimes, rekeys and DPD intervals run that much
	// faster, so that rekeys under `crypto map ... set security-association lifetime seconds
	// 120` (the IOS minimum) happen in seconds. The kernel's own hard limit stays in real
	// seconds and so never comes first.
	testSecondEnv = "TUNNELBOX_TEST_SECOND"
	// testCorruptKeysEnv ("1") flips a bit of every inbound ESP integrity key the engine hands
	// to the data plane (ike.Options.TestCorruptKeys), so that tests can show the data plane
	// counting authentication failures in `show crypto ipsec sa`.
	testCorruptKeysEnv = "TUNNELBOX_TEST_CORRUPT_KEYS"
)

// testHooks reads the test hooks from the environment into opts and returns the console lines
// that announce them.
func testHooks(opts *ike.Options, getenv func(string) string) ([]string, error) {
	var notes []string
	if v := getenv(testSecondEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%s=%q: want a positive duration such as 50ms", testSecondEnv, v)
		}
		opts.Second = d
		notes = append(notes, fmt.Sprintf("%s=%v: one configured second lasts %v (test only)", testSecondEnv, v, d))
	}
	switch v := getenv(testCorruptKeysEnv); v {
	case "", "0":
	case "1":
		opts.TestCorruptKeys = true
		notes = append(notes, testCorruptKeysEnv+"=1: inbound ESP integrity keys are corrupted (test only)")
	default:
		return nil, fmt.Errorf("%s=%q: want 1 or 0", testCorruptKeysEnv, v)
	}
	return notes, nil
}

// cryptoPlane is the router's IPsec machinery: the IKE engine, its UDP 500/4500 sockets and the
// data plane. It starts the way IOS turns ISAKMP on: when the running configuration first has a
// complete crypto map bound to an interface with an address (a router without crypto opens no
// socket and no TUN device). From then on every configuration change is handed to the engine.
type cryptoPlane struct {
	dataplane string // "kernel", "userspace" or "none" (resolved from --dataplane)
	why       string // why auto chose what it chose ("" unless --dataplane auto)
	app       *shell.App

	mu      sync.Mutex // guards everything below
	closed  bool
	lastErr string
	udp     *ike.UDP
	dp      ike.Installer // *kernel.Backend or *userspace.Backend; nil with --dataplane none
	engine  *ike.Engine
	keylog  *os.File
	stopEv  func()
	evDone  chan struct{}
}

// resolveDataplane turns --dataplane into the data plane to run. kernel (netlink XFRM) needs a
// kernel that accepts ESP states and is refused with the probe's reason otherwise; auto takes
// the kernel when the probe succeeds and the userspace data plane (TUN, ESP in UDP 4500)
// otherwise, e.g. on a kernel built without ESP. why tells what auto saw.
func resolveDataplane(flag string, probe func() error) (dp, why string, err error) {
	switch flag {
	case "none", "userspace":
		return flag, "", nil
	case "kernel":
		if err := probe(); err != nil {
			return "", "", fmt.Errorf("--dataplane kernel: the kernel refuses ESP states (%v); use --dataplane userspace", err)
		}
		return "kernel", "", nil
	case "auto":
		if err := probe(); err != nil {
			return "userspace", fmt.Sprintf("auto: the kernel refuses ESP states (%v)", err), nil
		}
		return "kernel", "auto: the kernel accepts ESP states", nil
	}
	return "", "", fmt.Errorf("--dataplane %q: unknown", flag)
}

// probeKernelESP reports whether the kernel accepts an ESP state (kernel.Probe). It probes in a
// throwaway network namespace of its own thread (which dies with the goroutine), so the
// router's namespace never sees the state and nothing is left behind whatever happens.
func probeKernelESP() error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread and its namespace end with the goroutine
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("unshare: %w", err)
			return
		}
		errc <- kernel.Probe("") // the calling thread's namespace: the throwaway one
	}()
	return <-errc
}

// newCryptoPlane subscribes the crypto machinery to the configuration manager and starts it at
// once if the running configuration already binds a crypto map (a startup-config did).
func newCryptoPlane(r *router, dataplaneFlag string) (*cryptoPlane, error) {
	dp, why, err := resolveDataplane(dataplaneFlag, probeKernelESP)
	if err != nil {
		return nil, err
	}
	c := &cryptoPlane{dataplane: dp, why: why, app: r.app}
	r.cfg.Subscribe(c)
	c.apply(r.cfg.Running())
	return c, nil
}

// Validate implements runningconfig.Subscriber: the engine accepts any configuration.
func (c *cryptoPlane) Validate(_, _ *runningconfig.Config) error { return nil }

// Commit implements runningconfig.Subscriber.
func (c *cryptoPlane) Commit(_, n *runningconfig.Config) { c.apply(n) }

func (c *cryptoPlane) apply(cfg *runningconfig.Config) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if c.engine != nil {
		c.engine.SetConfig(cfg)
		return
	}
	if len(cfg.ActiveMapEntries()) == 0 {
		return
	}
	if err := c.startLocked(cfg); err != nil {
		// Logged once per distinct cause; the next configuration change tries again.
		if msg := err.Error(); msg != c.lastErr {
			c.lastErr = msg
			c.app.Logf("%%CRYPTO-3-IKMP_INIT: ISAKMP could not start: %s", msg)
		}
	}
}

// startLocked opens the sockets, the data plane and the engine. Called with mu held.
func (c *cryptoPlane) startLocked(cfg *runningconfig.Config) error {
	opts := ike.Options{}
	notes, err := testHooks(&opts, os.Getenv)
	if err != nil {
		return err
	}
	udp, err := listenIKE(c.dataplane == "kernel")
	if err != nil {
		return err
	}
	opts.Transport = udp
	h := ike.UDPHandlers{}
	switch c.dataplane {
	case "userspace":
		dp, err := userspace.New(userspace.Config{Send: udp.SendESP, SendBatch: udp.SendESPBatch})
		if err != nil {
			udp.Close()
			return err
		}
		c.dp = dp
		h.ESP = dp.HandleESPInUDP
		opts.ForceNATT = true // no raw ESP socket: both ends must encapsulate in UDP 4500
	case "kernel":
		// The kernel carries ESP (plain, or in UDP 4500 behind a NAT: the port 4500 socket
		// hands it to the kernel's states) and reports ACQUIRE and EXPIRE.
		dp, err := kernel.New(kernel.Options{})
		if err != nil {
			udp.Close()
			return err
		}
		c.dp = dp
	}
	if c.dp != nil {
		opts.Installer = c.dp
	}
	e := ike.New(opts)
	h.IKE = e.Receive
	udp.Serve(h)
	e.Start(cfg)
	c.udp, c.engine = udp, e
	if c.dataplane != "none" {
		line := "IPsec data plane: " + map[string]string{"kernel": "kernel (netlink XFRM)", "userspace": "userspace (TUN, ESP in UDP 4500)"}[c.dataplane]
		if c.why != "" {
			line += "; " + c.why
		}
		c.app.Logf("%%CRYPTO-6-DATAPLANE: %s", line)
	}
	for _, n := range notes {
		c.app.Logf("%%CRYPTO-4-TESTHOOK: %s", n)
	}
	if path := os.Getenv(keylogEnv); path != "" {
		if err := c.startKeylog(path); err != nil {
			c.app.Logf("%%CRYPTO-4-KEYLOG: %s: %v", keylogEnv, err)
		}
	}
	c.app.SetEngine(e)
	// `show access-lists` counts crypto ACL matches: the engine maps the data plane's
	// per-policy counts to the lines its policies came from.
	commands.SetACLCounter(c.app, e)
	return nil
}

// listenIKE binds UDP 500 and 4500 on every address of the router's namespace. For the kernel
// data plane the 4500 socket gets UDP_ENCAP_ESPINUDP first (kernel.EnableUDPEncap), so that the
// kernel takes the ESP in UDP it receives (RFC 3948) and passes only IKE (with its non-ESP
// marker) and keepalives up to the engine.
func listenIKE(kernelESP bool) (*ike.UDP, error) {
	if !kernelESP {
		return ike.ListenUDP(netip.Addr{})
	}
	any4 := netip.IPv4Unspecified()
	ikeConn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(any4, ike.PortIKE)))
	if err != nil {
		return nil, fmt.Errorf("listen on UDP %d: %w", ike.PortIKE, err)
	}
	natt, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(any4, ike.PortNATT)))
	if err != nil {
		ikeConn.Close()
		return nil, fmt.Errorf("listen on UDP %d: %w", ike.PortNATT, err)
	}
	u, err := func() (*ike.UDP, error) {
		if err := kernel.EnableUDPEncap(natt); err != nil {
			return nil, err
		}
		return ike.NewUDP(ikeConn, natt)
	}()
	if err != nil {
		ikeConn.Close()
		natt.Close()
		return nil, err
	}
	return u, nil
}

// startKeylog appends a line per installed SA to path (see keylogEnv).
func (c *cryptoPlane) startKeylog(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	ch, stop := c.engine.Subscribe()
	c.keylog, c.stopEv, c.evDone = f, stop, make(chan struct{})
	e := c.engine
	go func() {
		defer close(c.evDone)
		logged := map[uint32]bool{}
		for ev := range ch {
			if ev.Kind != ike.EvPhase2Up {
				continue
			}
			for _, ci := range e.Status().IPsec {
				if logged[ci.SPIIn] {
					continue
				}
				logged[ci.SPIIn] = true
				f.WriteString(keylogLines(&ci.ChildSA))
			}
		}
	}()
	return nil
}

// keylogLines renders one SA pair for the key log:
//
//	ESP spi=0xSPI src=A dst=B dir=in|out transform=esp-256-aes,esp-sha-hmac enckey=HEX authkey=HEX
//
// The encryption key of AES-GCM includes its 4-octet salt (the kernel's rfc4106 form).
func keylogLines(ch *ike.ChildSA) string {
	var b strings.Builder
	ts := strings.Join(ch.Transform.ShowTransforms(), ",")
	fmt.Fprintf(&b, "ESP spi=0x%08x src=%s dst=%s dir=in transform=%s enckey=%x authkey=%x\n",
		ch.SPIIn, ch.Remote.Addr(), ch.Local.Addr(), ts, ch.KeysIn.Enc, ch.KeysIn.Auth)
	fmt.Fprintf(&b, "ESP spi=0x%08x src=%s dst=%s dir=out transform=%s enckey=%x authkey=%x\n",
		ch.SPIOut, ch.Local.Addr(), ch.Remote.Addr(), ts, ch.KeysOut.Enc, ch.KeysOut.Auth)
	return b.String()
}

// Close stops the engine (it sends deletes to its peers and removes its SAs and policies), then
// the data plane (TUN device and routes) and the sockets.
func (c *cryptoPlane) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.closed = true
	if c.engine == nil {
		return
	}
	c.app.SetEngine(nil)
	commands.SetACLCounter(c.app, nil)
	if c.stopEv != nil {
		c.stopEv()
	}
	c.engine.Close()
	if c.evDone != nil {
		<-c.evDone
		c.keylog.Close()
	}
	if c.dp != nil {
		c.dp.Close()
	}
	c.udp.Close()
}
