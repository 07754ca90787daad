package commands

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/tunnelbox/tunnelbox/ike"
	"github.com/tunnelbox/tunnelbox/parser"
	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
	"github.com/tunnelbox/tunnelbox/shell"
)

// Help strings of the debug and logging commands (IOS 15 wording).
const (
	helpDebug       = "Debugging functions (see also 'undebug')"
	helpUndebug     = "Disable debugging functions (see also 'debug')"
	helpDebugCrypto = "Cryptographic subsystem"
	helpDebugISAKMP = "ISAKMP Key Management"
	helpDebugIPsec  = "IPSEC processing"
	helpDebugAll    = "Enable all debugging"
	helpLogging     = "Modify message logging facilities"
	helpShowLogging = "Show the contents of logging buffers"
	helpClear       = "Reset functions"
)

// severityHelp is the `?` text of each severity keyword, in level order.
var severityHelp = [...]string{"System is unusable                (severity=0)",
	"Immediate action needed           (severity=1)", "Critical conditions               (severity=2)",
	"Error conditions                  (severity=3)", "Warning conditions                (severity=4)",
	"Normal but significant conditions (severity=5)", "Informational messages            (severity=6)",
	"Debugging messages                (severity=7)"}

func init() {
	All = append(All, RegisterDebug, RegisterShowCrypto, RegisterClear, RegisterTeach)
}

// cryptoLog is one router's crypto debugging state: which debugs are on, and the pump that
// turns engine events into debug lines and %CRYPTO log messages.
type cryptoLog struct {
	app *shell.App

	mu     sync.Mutex // protects the fields below
	isakmp bool       // debug crypto isakmp
	ipsec  bool       // debug crypto ipsec
	pump   *eventPump // the pump of the current engine

	up map[netip.Addr]int // established ISAKMP SAs per peer (SESSION_STATUS up/down); pump only
}

// eventPump reads one engine's event stream.
type eventPump struct {
	e       *ike.Engine
	ch      <-chan ike.Event
	syncReq chan chan struct{}
	done    chan struct{}
}

var cryptoLogs sync.Map // *shell.App -> *cryptoLog

func cryptoLogFor(app *shell.App) *cryptoLog {
	if v, ok := cryptoLogs.Load(app); ok {
		return v.(*cryptoLog)
	}
	v, _ := cryptoLogs.LoadOrStore(app, &cryptoLog{app: app, up: map[netip.Addr]int{}})
	return v.(*cryptoLog)
}

// start subscribes to e and runs its pump.
func (l *cryptoLog) start(e *ike.Engine) {
	ch, _ := e.Subscribe() // ends when the engine closes
	p := &eventPump{e: e, ch: ch, syncReq: make(chan chan struct{}), done: make(chan struct{})}
	l.mu.Lock()
	l.pump = p
	e.SetDebug(l.isakmp, l.ipsec) // the engine formats debug lines only while a debug is on
	l.mu.Unlock()
	go l.run(p)
}

func (l *cryptoLog) run(p *eventPump) {
	defer close(p.done)
	for {
		select {
		case ev, ok := <-p.ch:
			if !ok {
				return
			}
			l.handle(p.e, ev)
		case ack := <-p.syncReq:
			for n := len(p.ch); n > 0; n-- {
				ev, ok := <-p.ch
				if !ok {
					close(ack)
					return
				}
				l.handle(p.e, ev)
			}
			close(ack)
		}
	}
}

// handle prints one engine event the IOS way: debug lines only while their debug is on,
// %CRYPTO messages always, and the session up/down messages.
func (l *cryptoLog) handle(e *ike.Engine, ev ike.Event) {
	l.mu.Lock()
	isakmp, ipsec := l.isakmp, l.ipsec
	l.mu.Unlock()
	switch ev.Kind {
	case ike.EvDebug:
		if strings.HasPrefix(ev.Text, "%CRYPTO-") || isakmp {
			text := ev.Text
			if strings.Contains(text, "New State = ") {
				text += "\n" // IOS follows every state transition with an empty line (ios-cli.md §5.1)
			}
			l.app.LogAt(ev.Time, text)
		}
	case ike.EvIPsecDebug:
		if ipsec {
			l.app.LogAt(ev.Time, ev.Text)
		}
	case ike.EvPhase1Up:
		l.up[ev.Peer]++
		if l.up[ev.Peer] == 1 {
			port := uint16(ike.PortIKE)
			for _, p := range e.Status().ISAKMP {
				if p.ConnID == ev.ConnID {
					port = p.Remote.Port()
				}
			}
			l.app.LogAt(ev.Time, fmt.Sprintf("%%CRYPTO-5-SESSION_STATUS: Crypto tunnel is UP  .  Peer %v:%d       Id: %v",
				ev.Peer, port, ev.Peer))
		}
	case ike.EvPhase1Down:
		if l.up[ev.Peer] > 0 {
			l.up[ev.Peer]--
			if l.up[ev.Peer] == 0 {
				delete(l.up, ev.Peer)
				l.app.LogAt(ev.Time, fmt.Sprintf("%%CRYPTO-5-SESSION_STATUS: Crypto tunnel is DOWN. Peer %v:500       Id: %v",
					ev.Peer, ev.Peer))
			}
		}
	}
}

// FlushCryptoEvents waits until every engine event emitted so far has been printed (debug
// lines and %CRYPTO messages delivered to the sessions and the logging buffer). The show
// commands of the logging system call it so that they are up to date; tests call it before
// they compare a transcript.
func FlushCryptoEvents(app *shell.App) {
	l := cryptoLogFor(app)
	l.mu.Lock()
	p := l.pump
	l.mu.Unlock()
	if p == nil {
		return
	}
	// A round trip through the engine's loop: every event emitted before it is in p.ch.
	p.e.Status()
	ack := make(chan struct{})
	select {
	case p.syncReq <- ack:
	case <-p.done:
		return
	}
	select {
	case <-ack:
	case <-p.done:
	}
}

// RegisterDebug installs debug/undebug, show debugging, the logging configuration commands and
// show logging (ios-cli.md §2.7, §2.8, §4.13, §5; ecosystem.md IOS syslog).
func RegisterDebug(app *shell.App) error {
	g, ms := app.Grammar(), app.Modes()
	l := cryptoLogFor(app)
	app.OnEngine(l.start)
	debugOn := func(isakmp, ipsec bool, on bool) shell.Handler {
		return func(c *shell.Context, _ parser.Args) error {
			FlushCryptoEvents(c.App)
			l.mu.Lock()
			defer l.mu.Unlock()
			state := "off"
			if on {
				state = "on"
			}
			if isakmp {
				l.isakmp = on
				c.Printf("Crypto ISAKMP debugging is %s\n", state)
			}
			if ipsec {
				l.ipsec = on
				c.Printf("Crypto IPSEC debugging is %s\n", state)
			}
			if e := c.App.Engine(); e != nil {
				e.SetDebug(l.isakmp, l.ipsec)
			}
			return nil
		}
	}
	allOff := shell.Handler(func(c *shell.Context, _ parser.Args) error {
		FlushCryptoEvents(c.App)
		l.mu.Lock()
		l.isakmp, l.ipsec = false, false
		if e := c.App.Engine(); e != nil {
			e.SetDebug(false, false)
		}
		l.mu.Unlock()
		c.Printf("All possible debugging has been turned off\n")
		return nil
	})
	execCmds := []*parser.Command{
		{Syntax: "debug crypto isakmp", Help: []string{helpDebug, helpDebugCrypto, helpDebugISAKMP}, Priv: 15,
			Handler: debugOn(true, false, true)},
		{Syntax: "debug crypto ipsec", Help: []string{helpDebug, helpDebugCrypto, helpDebugIPsec}, Priv: 15,
			Handler: debugOn(false, true, true)},
		{Syntax: "no debug crypto isakmp", Help: []string{helpDebug, helpDebugCrypto, helpDebugISAKMP}, Priv: 15,
			Handler: debugOn(true, false, false)},
		{Syntax: "no debug crypto ipsec", Help: []string{helpDebug, helpDebugCrypto, helpDebugIPsec}, Priv: 15,
			Handler: debugOn(false, true, false)},
		{Syntax: "no debug all", Help: []string{helpDebug, helpDebugAll}, Priv: 15, Handler: allOff},
		{Syntax: "undebug crypto isakmp", Help: []string{helpUndebug, helpDebugCrypto, helpDebugISAKMP}, Priv: 15,
			Handler: debugOn(true, false, false)},
		{Syntax: "undebug crypto ipsec", Help: []string{helpUndebug, helpDebugCrypto, helpDebugIPsec}, Priv: 15,
			Handler: debugOn(false, true, false)},
		{Syntax: "undebug all", Help: []string{helpUndebug, helpDebugAll}, Priv: 15, Handler: allOff},
		{Syntax: "show debugging", Help: []string{shell.HelpShow, "State of each debugging option"}, Priv: 1,
			Handler: shell.Handler(func(c *shell.Context, _ parser.Args) error {
				l.mu.Lock()
				isakmp, ipsec := l.isakmp, l.ipsec
				l.mu.Unlock()
				if !isakmp && !ipsec {
					return nil
				}
				c.Printf("Cryptographic Subsystem:\n")
				if isakmp {
					c.Printf("  Crypto ISAKMP debugging is on\n")
				}
				if ipsec {
					c.Printf("  Crypto IPSEC debugging is on\n")
				}
				return nil
			})},
		{Syntax: "show logging", Help: []string{shell.HelpShow, helpShowLogging}, Priv: 1, Handler: shell.Handler(showLogging)},
		{Syntax: "clear logging", Help: []string{helpClear, "Clear logging buffer"}, Priv: 15,
			Handler: shell.Handler(func(c *shell.Context, _ parser.Args) error {
				ok, err := c.Confirm("Clear logging buffer [confirm]")
				if err != nil && err != shell.ErrNoInput {
					return err
				}
				if ok || err == shell.ErrNoInput {
					c.App.ClearLogBuffer()
				}
				return nil
			})},
	}
	if err := install(g, ms.Exec, "debug exec", execCmds...); err != nil {
		return err
	}

	sevWords := strings.Join(runningconfig.SeverityNames[:], "|")
	sevHelp := severityHelp[:]
	cfgCmds := []*parser.Command{
		{Syntax: "logging buffered [(4096-2147483647)$size] [<" + sevWords + ">$level]",
			Help: append([]string{helpLogging, "Set buffered logging parameters", "Logging buffer size"}, sevHelp...),
			Priv: 15, Handler: shell.Handler(loggingBuffered)},
		{Syntax: "no logging buffered", Help: []string{helpLogging, "Set buffered logging parameters"},
			Priv: 15, Handler: shell.Handler(func(c *shell.Context, _ parser.Args) error {
				return apply(c, func(cfg *runningconfig.Config) error {
					lg := cfg.EnsureLogging()
					lg.BufferedOff, lg.BufferedSize, lg.BufferedLevel = true, 0, nil
					return nil
				})
			})},
		{Syntax: "default logging buffered", Help: []string{helpLogging, "Set buffered logging parameters"},
			Priv: 15, Handler: shell.Handler(func(c *shell.Context, _ parser.Args) error {
				return apply(c, func(cfg *runningconfig.Config) error {
					lg := cfg.EnsureLogging()
					lg.BufferedOff, lg.BufferedSize, lg.BufferedLevel = false, 0, nil
					return nil
				})
			})},
		{Syntax: "logging trap <" + sevWords + ">$level",
			Help: append([]string{helpLogging, "Set syslog server logging level"}, sevHelp...),
			Priv: 15, Handler: shell.Handler(func(c *shell.Context, a parser.Args) error {
				lvl, _ := runningconfig.ParseSeverity(a.Str("level"))
				return apply(c, func(cfg *runningconfig.Config) error {
					cfg.EnsureLogging().TrapLevel = &lvl
					return nil
				})
			})},
		{Syntax: "no logging trap", Help: []string{helpLogging, "Set syslog server logging level"},
			Priv: 15, Handler: shell.Handler(func(c *shell.Context, _ parser.Args) error {
				return apply(c, func(cfg *runningconfig.Config) error {
					cfg.EnsureLogging().TrapLevel = nil
					return nil
				})
			})},
		{Syntax: "logging host A.B.C.D$addr [transport udp port (1-65535)$port]",
			Help: []string{helpLogging, "Set syslog server IP address and parameters", "IP address of the syslog server",
				"Specify the transport protocol (default=UDP)", "UDP transport protocol", "Specify the UDP port number (default=514)",
				"Port number"},
			Priv: 15, Handler: shell.Handler(func(c *shell.Context, a parser.Args) error {
				h := runningconfig.LogHost{Addr: a.IP("addr")}
				if a.Has("port") {
					h.Port = uint16(a.Int("port"))
				}
				return apply(c, func(cfg *runningconfig.Config) error {
					cfg.EnsureLogging().SetHost(h)
					return nil
				})
			})},
		{Syntax: "no logging host A.B.C.D$addr",
			Help: []string{helpLogging, "Set syslog server IP address and parameters", "IP address of the syslog server"},
			Priv: 15, Handler: shell.Handler(func(c *shell.Context, a parser.Args) error {
				return apply(c, func(cfg *runningconfig.Config) error {
					if lg := cfg.Logging(); lg != nil {
						lg.DeleteHost(a.IP("addr"))
					}
					return nil
				})
			})},
	}
	return install(g, ms.Config, "logging config", cfgCmds...)
}

func loggingBuffered(c *shell.Context, a parser.Args) error {
	var lvl *int
	if a.Has("level") {
		v, _ := runningconfig.ParseSeverity(a.Str("level"))
		lvl = &v
	}
	size := 0
	if a.Has("size") {
		size = a.Int("size")
	}
	return apply(c, func(cfg *runningconfig.Config) error {
		lg := cfg.EnsureLogging()
		lg.BufferedOff = false
		if size != 0 {
			lg.BufferedSize = size
		}
		if lvl != nil {
			lg.BufferedLevel = lvl
		}
		return nil
	})
}

// showLogging prints `show logging` in the IOS 15 layout.
func showLogging(c *shell.Context, _ parser.Args) error {
	FlushCryptoEvents(c.App)
	st := c.App.LogStats()
	sev := func(n int) string { return runningconfig.SeverityNames[n] }
	c.Printf("Syslog logging: enabled (0 messages dropped, 0 messages rate-limited, 0 flushes, 0 overruns, xml disabled, filtering disabled)\n\n")
	c.Printf("No Active Message Discriminator.\n\n\n\nNo Inactive Message Discriminator.\n\n\n")
	c.Printf("    Console logging: level %s, %d messages logged, xml disabled,\n                     filtering disabled\n",
		sev(shell.ConsoleLevel), st.Console)
	c.Printf("    Monitor logging: level %s, %d messages logged, xml disabled,\n                     filtering disabled\n",
		sev(shell.MonitorLevel), st.Monitor)
	if st.BufferLevel < 0 {
		c.Printf("    Buffer logging:  disabled, xml disabled,\n                    filtering disabled\n")
	} else {
		c.Printf("    Buffer logging:  level %s, %d messages logged, xml disabled,\n                    filtering disabled\n",
			sev(st.BufferLevel), st.Buffered)
	}
	c.Printf("    Exception Logging: size (4096 bytes)\n    Count and timestamp logging messages: disabled\n    Persistent logging: disabled\n\n")
	c.Printf("No active filter modules.\n\n")
	c.Printf("    Trap logging: level %s, %d message lines logged\n", sev(st.TrapLevel), st.Trap)
	for _, h := range st.Hosts {
		c.Printf("        Logging to %v  (udp port %d, audit disabled,\n              link up),\n", h.Host.Addr, h.Host.UDPPort())
		c.Printf("              %d message lines logged, \n              0 message lines rate-limited, \n", h.Sent)
		c.Printf("              %d message lines dropped-by-MD, \n              xml disabled, sequence number disabled\n", h.Dropped)
		c.Printf("              filtering disabled\n")
	}
	c.Printf("        Logging Source-Interface:       VRF Name:\n")
	if st.BufferLevel >= 0 {
		c.Printf("\nLog Buffer (%d bytes):\n\n", st.BufferSize)
		for _, m := range st.Buffer {
			c.Printf("%s\n", m)
		}
	}
	return nil
}

// uptime formats a duration the way IOS session and SA uptimes are printed: hh:mm:ss below a
// day, then 1d02h, then 7w0d.
func uptime(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int(d / time.Second)
	switch {
	case s < 86400:
		return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
	case s < 7*86400:
		return fmt.Sprintf("%dd%02dh", s/86400, s/3600%24)
	}
	return fmt.Sprintf("%dw%dd", s/(7*86400), s/86400%7)
}
