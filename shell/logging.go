package shell

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
)

// The logging levels of the console and of monitor terminals (IOS defaults; not configurable
// here): every message, debug included.
const (
	ConsoleLevel = runningconfig.SevDebugging
	MonitorLevel = runningconfig.SevDebugging
)

// syslogFacility is local7, the facility IOS uses by default (`logging facility local7`).
const syslogFacility = 23

// logState is the router's logging system: the message buffer (`logging buffered`), the
// counters of `show logging`, and the UDP sockets to the syslog hosts.
type logState struct {
	mu       sync.Mutex // protects everything below
	buf      []string   // buffered messages, oldest first
	bufBytes int
	console  int // messages logged to the console
	monitor  int // messages logged to at least one monitor terminal
	buffered int // messages logged to the buffer
	trap     int // messages at or above the trap level
	hosts    map[runningconfig.LogHost]*syslogConn
}

type syslogConn struct {
	conn    net.Conn
	sent    int
	dropped int
}

// LogStats is what `show logging` reports about the logging system.
type LogStats struct {
	Console, Monitor, Buffered, Trap int
	BufferSize                       int // bytes (the configured size)
	BufferLevel                      int // -1 when buffering is off
	TrapLevel                        int
	Hosts                            []HostStats
	Buffer                           []string // the buffered messages, oldest first
}

// HostStats is one syslog host of `show logging`.
type HostStats struct {
	Host          runningconfig.LogHost
	Sent, Dropped int
}

// Severity returns the severity of a message: N of a "%FACILITY-N-MNEMONIC: text" message,
// debugging (7) for anything else (debug output).
func Severity(text string) int {
	if !strings.HasPrefix(text, "%") {
		return runningconfig.SevDebugging
	}
	parts := strings.SplitN(text[1:], "-", 3)
	if len(parts) == 3 && len(parts[1]) == 1 && parts[1][0] >= '0' && parts[1][0] <= '7' {
		return int(parts[1][0] - '0')
	}
	return runningconfig.SevDebugging
}

// LogAt sends one message (a "%FACILITY-SEV-MNEMONIC: text" log line, or a debug line) that
// happened at t through the logging system, as IOS does with `service timestamps ... datetime
// msec`: "*Mar  1 00:05:12.123: text" goes to the console, to vtys with `terminal monitor`, to
// the buffer at or above the buffered level, and to the syslog hosts at or above the trap
// level (RFC 3164 style, "<PRI>N: " before the timestamped text). A message of several lines
// keeps its continuation lines as they are.
func (a *App) LogAt(t time.Time, text string) {
	sev := Severity(text)
	msg := LogTime(t) + ": " + text
	settings := (*runningconfig.Logging)(nil)
	if c := a.cfg.Running(); c != nil {
		settings = c.Logging()
	}

	a.mu.Lock()
	list := append([]*Session(nil), a.sessions...)
	sink := a.logSink
	a.mu.Unlock()
	toMonitor := false
	for _, s := range list {
		switch {
		case s.IsConsole():
			if sev <= ConsoleLevel {
				s.Deliver(msg)
			}
		case s.Monitor():
			if sev <= MonitorLevel {
				s.Deliver(msg)
				toMonitor = true
			}
		}
	}
	if sink != nil {
		fmt.Fprintln(sink, msg)
	}

	ls := &a.logs
	ls.mu.Lock()
	if sev <= ConsoleLevel {
		ls.console++
	}
	if toMonitor {
		ls.monitor++
	}
	if lvl := settings.BufferLevel(); lvl >= 0 && sev <= lvl {
		ls.buffered++
		ls.buf = append(ls.buf, msg)
		ls.bufBytes += len(msg) + 1
		for max := settings.BufferSize(); ls.bufBytes > max && len(ls.buf) > 0; {
			ls.bufBytes -= len(ls.buf[0]) + 1
			ls.buf = ls.buf[1:]
		}
	}
	var send []*syslogConn
	var pkt []byte
	ls.syncHosts(settings)
	if sev <= settings.Trap() {
		ls.trap++
		if settings != nil && len(settings.Hosts) > 0 {
			pkt = []byte("<" + strconv.Itoa(syslogFacility*8+sev) + ">" + strconv.Itoa(ls.trap) + ": " + msg)
			for _, h := range settings.Hosts {
				if c := ls.hosts[h]; c != nil {
					send = append(send, c)
				}
			}
		}
	}
	ls.mu.Unlock()
	for _, c := range send {
		_, err := c.conn.Write(pkt)
		ls.mu.Lock()
		if err != nil {
			c.dropped++
		} else {
			c.sent++
		}
		ls.mu.Unlock()
	}
}

// syncHosts opens a UDP socket for every configured syslog host and closes those of hosts
// that were removed. Called with ls.mu held.
func (ls *logState) syncHosts(settings *runningconfig.Logging) {
	want := map[runningconfig.LogHost]bool{}
	if settings != nil {
		for _, h := range settings.Hosts {
			want[h] = true
		}
	}
	for h, c := range ls.hosts {
		if !want[h] {
			c.conn.Close()
			delete(ls.hosts, h)
		}
	}
	for h := range want {
		if ls.hosts[h] != nil {
			continue
		}
		conn, err := net.Dial("udp", netip.AddrPortFrom(h.Addr, h.UDPPort()).String())
		if err != nil {
			continue // no route: counted as nothing sent, tried again with the next message
		}
		if ls.hosts == nil {
			ls.hosts = map[runningconfig.LogHost]*syslogConn{}
		}
		ls.hosts[h] = &syslogConn{conn: conn}
	}
}

// LogStats returns the counters, settings and buffer contents for `show logging`.
func (a *App) LogStats() LogStats {
	settings := (*runningconfig.Logging)(nil)
	if c := a.cfg.Running(); c != nil {
		settings = c.Logging()
	}
	ls := &a.logs
	ls.mu.Lock()
	defer ls.mu.Unlock()
	st := LogStats{Console: ls.console, Monitor: ls.monitor, Buffered: ls.buffered, Trap: ls.trap,
		BufferSize: settings.BufferSize(), BufferLevel: settings.BufferLevel(), TrapLevel: settings.Trap(),
		Buffer: append([]string(nil), ls.buf...)}
	if settings != nil {
		for _, h := range settings.Hosts {
			hs := HostStats{Host: h}
			if c := ls.hosts[h]; c != nil {
				hs.Sent, hs.Dropped = c.sent, c.dropped
			}
			st.Hosts = append(st.Hosts, hs)
		}
	}
	return st
}

// ClearLogBuffer empties the logging buffer (`clear logging`).
func (a *App) ClearLogBuffer() {
	a.logs.mu.Lock()
	a.logs.buf, a.logs.bufBytes = nil, 0
	a.logs.mu.Unlock()
}
