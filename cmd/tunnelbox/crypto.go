package main

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"sync"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/tunnelbox/tunnelbox/ike"
	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
	"github.com/tunnelbox/tunnelbox/shell"
	"github.com/tunnelbox/tunnelbox/shell/commands"
	"github.com/tunnelbox/tunnelbox/xfrm/userspace"
)

// keylogEnv names a file that receives the ESP keys of every SA pair the engine installs, one
// line per SA, the way SSLKEYLOGFILE works for TLS: for lab captures and interop tests. It is
// off unless set, and the file holds secrets.
const keylogEnv = "TUNNELBOX_KEYLOG"

// cryptoPlane is the router's IPsec machinery: the IKE engine, its UDP 500/4500 sockets and the
// data plane. It starts the way IOS turns ISAKMP on: when the running configuration first has a
// complete crypto map bound to an interface with an address (a router without crypto opens no
// socket and no TUN device). From then on every configuration change is handed to the engine.
type cryptoPlane struct {
	dataplane string // "userspace" or "none" (resolved from --dataplane)
	app       *shell.App

	mu      sync.Mutex // guards everything below
	closed  bool
	lastErr string
	udp     *ike.UDP
	dp      *userspace.Backend
	engine  *ike.Engine
	keylog  *os.File
	stopEv  func()
	evDone  chan struct{}
}

// errNoKernelBackend: --dataplane kernel until xfrm/kernel implements ike.Installer.
var errNoKernelBackend = errors.New("--dataplane kernel: this build has no kernel (netlink XFRM) data plane yet; use --dataplane userspace")

// resolveDataplane turns --dataplane into the data plane to run: auto is userspace here (the
// kernel data plane is not built yet), kernel is refused with the reason.
func resolveDataplane(flag string) (string, error) {
	switch flag {
	case "none", "userspace":
		return flag, nil
	case "kernel":
		if err := probeKernelESP(); err != nil {
			return "", fmt.Errorf("--dataplane kernel: the kernel refuses ESP states (%v); use --dataplane userspace", err)
		}
		return "", errNoKernelBackend
	case "auto":
		// A kernel that accepts ESP would get the kernel data plane once it exists; until then
		// (and on kernels without ESP, like this build machine's) the userspace one runs.
		return "userspace", nil
	}
	return "", fmt.Errorf("--dataplane %q: unknown", flag)
}

// probeKernelESP reports whether the kernel accepts an ESP state. It adds one in a throwaway
// network namespace of its own thread (which dies with the goroutine), so the router's
// namespace never sees it and nothing is left behind whatever happens.
func probeKernelESP() error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread and its namespace end with the goroutine
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("unshare: %w", err)
			return
		}
		h, err := netlink.NewHandle(unix.NETLINK_XFRM)
		if err != nil {
			errc <- fmt.Errorf("netlink: %w", err)
			return
		}
		defer h.Close()
		st := &netlink.XfrmState{
			Src: net.IPv4(127, 0, 0, 1), Dst: net.IPv4(127, 0, 0, 1), Proto: netlink.XFRM_PROTO_ESP,
			Mode: netlink.XFRM_MODE_TRANSPORT, Spi: 0x100,
			Crypt: &netlink.XfrmStateAlgo{Name: "cbc(aes)", Key: make([]byte, 16)},
			Auth:  &netlink.XfrmStateAlgo{Name: "hmac(sha1)", Key: make([]byte, 20), TruncateLen: 96},
		}
		err = h.XfrmStateAdd(st)
		if err == nil {
			h.XfrmStateDel(st)
		}
		errc <- err
	}()
	return <-errc
}

// newCryptoPlane subscribes the crypto machinery to the configuration manager and starts it at
// once if the running configuration already binds a crypto map (a startup-config did).
func newCryptoPlane(r *router, dataplaneFlag string) (*cryptoPlane, error) {
	dp, err := resolveDataplane(dataplaneFlag)
	if err != nil {
		return nil, err
	}
	c := &cryptoPlane{dataplane: dp, app: r.app}
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
	udp, err := ike.ListenUDP(netip.Addr{})
	if err != nil {
		return err
	}
	opts := ike.Options{Transport: udp}
	var dp *userspace.Backend
	if c.dataplane == "userspace" {
		dp, err = userspace.New(userspace.Config{Send: udp.SendESP})
		if err != nil {
			udp.Close()
			return err
		}
		opts.Installer = dp
		opts.ForceNATT = true // no raw ESP socket: both ends must encapsulate in UDP 4500
	}
	e := ike.New(opts)
	h := ike.UDPHandlers{IKE: e.Receive}
	if dp != nil {
		h.ESP = dp.HandleESPInUDP
	}
	udp.Serve(h)
	e.Start(cfg)
	c.udp, c.dp, c.engine = udp, dp, e
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
