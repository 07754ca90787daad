package runningconfig

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
)

// PartLogging is the name under which the message-logging configuration is stored on a Config.
const PartLogging = "logging"

// Syslog severities as IOS names them (RFC 5424 §6.2.1 numbering: 0 most severe).
const (
	SevEmergencies = iota
	SevAlerts
	SevCritical
	SevErrors
	SevWarnings
	SevNotifications
	SevInformational
	SevDebugging
)

// SeverityNames are the IOS keywords of the severities, indexed by level.
var SeverityNames = [...]string{"emergencies", "alerts", "critical", "errors", "warnings",
	"notifications", "informational", "debugging"}

// ParseSeverity parses an IOS severity keyword or its number.
func ParseSeverity(s string) (int, bool) {
	if i := slices.Index(SeverityNames[:], s); i >= 0 {
		return i, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < SevEmergencies || n > SevDebugging {
		return 0, false
	}
	return n, true
}

// Logging defaults (IOS 15): the buffer is on with 4096 bytes at level debugging, the
// syslog trap level is informational, syslog goes to UDP 514.
const (
	DefaultLogBufferSize = 4096
	MinLogBufferSize     = 4096
	MaxLogBufferSize     = 2147483647
	DefaultBufferedLevel = SevDebugging
	DefaultTrapLevel     = SevInformational
	DefaultSyslogPort    = 514
)

// LogHost is one `logging host A [transport udp port N]` line.
type LogHost struct {
	Addr netip.Addr
	Port uint16 // 0: DefaultSyslogPort
}

// UDPPort is the port messages go to.
func (h LogHost) UDPPort() uint16 {
	if h.Port == 0 {
		return DefaultSyslogPort
	}
	return h.Port
}

// Logging is the message-logging configuration (`logging buffered`, `logging trap`,
// `logging host`). The zero value is the IOS default. Use Config.EnsureLogging to edit it.
type Logging struct {
	BufferedOff   bool // `no logging buffered`
	BufferedSize  int  // bytes; 0: DefaultLogBufferSize
	BufferedLevel *int // nil: DefaultBufferedLevel
	TrapLevel     *int // `logging trap LEVEL`; nil: DefaultTrapLevel
	Hosts         []LogHost
}

// Logging returns the logging part, or nil when everything is at its default.
func (c *Config) Logging() *Logging {
	p, _ := c.Part(PartLogging).(*Logging)
	return p
}

// EnsureLogging returns the logging part for editing, creating it. Only for configurations
// being edited.
func (c *Config) EnsureLogging() *Logging {
	if l := c.Logging(); l != nil {
		return l
	}
	l := &Logging{}
	c.SetPart(PartLogging, l)
	return l
}

// BufferSize is the buffer size in effect.
func (l *Logging) BufferSize() int {
	if l == nil || l.BufferedSize == 0 {
		return DefaultLogBufferSize
	}
	return l.BufferedSize
}

// BufferLevel is the most verbose severity the buffer keeps; -1 when buffering is off.
func (l *Logging) BufferLevel() int {
	switch {
	case l == nil:
		return DefaultBufferedLevel
	case l.BufferedOff:
		return -1
	case l.BufferedLevel != nil:
		return *l.BufferedLevel
	}
	return DefaultBufferedLevel
}

// Trap is the most verbose severity sent to syslog hosts.
func (l *Logging) Trap() int {
	if l == nil || l.TrapLevel == nil {
		return DefaultTrapLevel
	}
	return *l.TrapLevel
}

// SetHost adds a syslog host or changes its port.
func (l *Logging) SetHost(h LogHost) {
	for i := range l.Hosts {
		if l.Hosts[i].Addr == h.Addr {
			l.Hosts[i] = h
			return
		}
	}
	l.Hosts = append(l.Hosts, h)
}

// DeleteHost removes a syslog host; it reports whether it was configured.
func (l *Logging) DeleteHost(a netip.Addr) bool {
	n := len(l.Hosts)
	l.Hosts = slices.DeleteFunc(l.Hosts, func(h LogHost) bool { return h.Addr == a })
	return len(l.Hosts) != n
}

// ClonePart implements Part.
func (l *Logging) ClonePart() Part {
	n := *l
	if l.BufferedLevel != nil {
		v := *l.BufferedLevel
		n.BufferedLevel = &v
	}
	if l.TrapLevel != nil {
		v := *l.TrapLevel
		n.TrapLevel = &v
	}
	n.Hosts = slices.Clone(l.Hosts)
	return &n
}

// ValidatePart implements Part: sizes and levels in their IOS ranges, syslog hosts unicast
// IPv4 addresses configured once.
func (l *Logging) ValidatePart(_ *Config) error {
	if l.BufferedSize != 0 && (l.BufferedSize < MinLogBufferSize || l.BufferedSize > MaxLogBufferSize) {
		return fmt.Errorf("%w: logging buffered %d", ErrInvalidValue, l.BufferedSize)
	}
	for _, p := range []*int{l.BufferedLevel, l.TrapLevel} {
		if p != nil && (*p < SevEmergencies || *p > SevDebugging) {
			return fmt.Errorf("%w: logging level %d", ErrInvalidValue, *p)
		}
	}
	seen := map[netip.Addr]bool{}
	for _, h := range l.Hosts {
		if !h.Addr.Is4() || h.Addr.IsUnspecified() || h.Addr.IsMulticast() || h.Addr == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
			return fmt.Errorf("%w: logging host %v", ErrInvalidValue, h.Addr)
		}
		if seen[h.Addr] {
			return fmt.Errorf("%w: logging host %v", ErrDuplicate, h.Addr)
		}
		seen[h.Addr] = true
	}
	return nil
}

// BufferedLine is the `logging buffered` line as IOS renders it, "" at the default.
func (l *Logging) BufferedLine() string {
	if l.BufferedOff {
		return "no logging buffered"
	}
	s := ""
	if l.BufferedSize != 0 && l.BufferedSize != DefaultLogBufferSize {
		s += " " + strconv.Itoa(l.BufferedSize)
	}
	if l.BufferedLevel != nil && *l.BufferedLevel != DefaultBufferedLevel {
		s += " " + SeverityNames[*l.BufferedLevel]
	}
	if s == "" {
		return ""
	}
	return "logging buffered" + s
}

// RenderSlot implements Part: `logging buffered` right after the boot markers (SlotAfterBoot),
// `logging trap` and `logging host` after the named access lists, as IOS orders them.
func (l *Logging) RenderSlot(s Slot, w *Writer) {
	switch s {
	case SlotAfterBoot:
		if b := l.BufferedLine(); b != "" {
			w.Line(b)
		}
	case SlotNamedACL:
		if l.TrapLevel != nil && *l.TrapLevel != DefaultTrapLevel {
			w.Line("logging trap " + SeverityNames[*l.TrapLevel])
		}
		for _, h := range l.Hosts {
			if h.Port != 0 && h.Port != DefaultSyslogPort {
				w.Linef("logging host %v transport udp port %d", h.Addr, h.Port)
			} else {
				w.Linef("logging host %v", h.Addr)
			}
		}
	}
}

var _ Part = (*Logging)(nil)
