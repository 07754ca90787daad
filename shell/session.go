package shell

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tunnelbox/tunnelbox/parser"
)

// Terminal defaults (ios-cli.md §2.5, §2.7).
const (
	DefaultLength      = 24
	DefaultWidth       = 80
	DefaultHistorySize = 10
	maxHistorySize     = 256
)

// SessionOptions describes who is on a session and where.
type SessionOptions struct {
	User      string // authenticated user; "" on the console
	Privilege int    // starting privilege level: 1 (">") or 15 ("#"); 0 means 1
	Line      string // "con 0" or "vty N"; "" means "con 0"
	Remote    string // remote address of a vty ("10.1.1.100"); "" on the console
	Width     int    // terminal width; 0 means 80
	Length    int    // terminal length (rows); 0 means no paging; negative means 24
	NoPTY     bool   // SSH shell without a pty: no echo, no line editing (ios-cli ecosystem A3)
}

// frame is one level of the mode stack.
type frame struct {
	mode  *parser.Mode
	state any
}

// Session is one CLI session: its mode stack, privilege, terminal settings, history and pending
// asynchronous messages. A session runs one command at a time; it is driven by a single
// goroutine (Serve, RunTranscript or RunLine) and is not safe for concurrent driving. Log
// delivery (Deliver) may be called from any goroutine.
type Session struct {
	app  *App
	opts SessionOptions
	id   int
	born time.Time

	priv  int
	stack []frame

	length, width int
	monitor       atomic.Bool // `terminal monitor`; read by Logf from other goroutines
	histSize      int
	hist          map[string][]string // by mode group: "exec", "config"

	in          lineInput // where handlers read answers (passwords, confirmations, pager keys)
	rawTerminal bool      // the front end is a character terminal (Serve), not a transcript
	closed      bool

	msgMu   sync.Mutex // protects pending and notify
	pending []string
	notify  chan struct{}

	lastActive atomic.Int64 // unix nanoseconds of the last command; read by `show users` elsewhere
	batch      *batch       // startup replay: edits go to a private copy (see App.Replay)
}

// lineInput is the interactive side of a front end.
type lineInput interface {
	// readLine prints prompt (to the terminal), reads one line; echo off for secrets.
	readLine(prompt string, echo bool) (string, error)
	// readKey reads one keypress (pager).
	readKey() (byte, error)
}

// NewSession creates a session on the app. The console is "con 0"; SSH sessions pass
// "vty N" (see (*App).NextVty). The session is registered for `show users` and log delivery
// until it ends.
func (a *App) NewSession(opts SessionOptions) *Session {
	if opts.Line == "" {
		opts.Line = "con 0"
	}
	if opts.Privilege <= 0 {
		opts.Privilege = 1
	}
	if opts.Width <= 0 {
		opts.Width = DefaultWidth
	}
	if opts.Length < 0 {
		opts.Length = DefaultLength
	}
	s := &Session{
		app:      a,
		opts:     opts,
		born:     a.now(),
		priv:     opts.Privilege,
		stack:    []frame{{mode: a.modes.Exec}},
		length:   opts.Length,
		width:    opts.Width,
		histSize: DefaultHistorySize,
		hist:     map[string][]string{},
		notify:   make(chan struct{}, 1),
	}
	s.lastActive.Store(s.born.UnixNano())
	s.monitor.Store(s.IsConsole())
	a.addSession(s)
	return s
}

// Close unregisters the session.
func (s *Session) Close() {
	s.closed = true
	s.app.removeSession(s)
}

// IsConsole reports whether the session is on the console line.
func (s *Session) IsConsole() bool { return strings.HasPrefix(s.opts.Line, "con") }

// Options returns the options the session was created with.
func (s *Session) Options() SessionOptions { return s.opts }

// Privilege is the current privilege level (0-15).
func (s *Session) Privilege() int { return s.priv }

// SetPrivilege changes the privilege level (enable, disable).
func (s *Session) SetPrivilege(p int) { s.priv = p }

// Mode is the current mode.
func (s *Session) Mode() *parser.Mode { return s.stack[len(s.stack)-1].mode }

// ModeState is the state attached to the current sub-mode by Push (the interface name, the
// ISAKMP policy number...), nil in EXEC and global config.
func (s *Session) ModeState() any { return s.stack[len(s.stack)-1].state }

// Closed reports whether the session was ended by exit/logout.
func (s *Session) Closed() bool { return s.closed }

// TerminalLength and TerminalWidth are the `terminal length|width` settings.
func (s *Session) TerminalLength() int { return s.length }

// TerminalWidth is the `terminal width` setting.
func (s *Session) TerminalWidth() int { return s.width }

// SetTerminalSize applies a window change (SSH window-change); length 0 keeps paging off.
func (s *Session) SetTerminalSize(width, length int) {
	if width > 0 {
		s.width = width
	}
	if length >= 0 {
		s.length = length
	}
}

// Monitor reports whether log messages are shown on this session (`terminal monitor`; always
// on the console).
func (s *Session) Monitor() bool { return s.monitor.Load() || s.IsConsole() }

// Idle is how long the session has been without a command at time now.
func (s *Session) Idle(now time.Time) time.Duration {
	return now.Sub(time.Unix(0, s.lastActive.Load()))
}

// Prompt renders the current prompt: "R1>", "R1#", "R1(config-if)#".
func (s *Session) Prompt() string {
	host := s.app.Hostname()
	m := s.Mode()
	if m.Name == ModeExec {
		if s.priv > 1 {
			return host + "#"
		}
		return host + ">"
	}
	return host + m.Prompt
}

// push enters a sub-mode.
func (s *Session) push(m *parser.Mode, state any) {
	s.stack = append(s.stack, frame{mode: m, state: state})
}

// popTo unwinds the stack until the top is m (fall-through to an ancestor).
func (s *Session) popTo(m *parser.Mode) {
	for len(s.stack) > 1 && s.Mode() != m {
		s.stack = s.stack[:len(s.stack)-1]
	}
}

// toExec leaves every config mode.
func (s *Session) toExec() { s.stack = s.stack[:1] }

// group is the history group of the current mode.
func (s *Session) group() string {
	if isConfig(s.Mode()) {
		return modeGroupConfi
	}
	return modeGroupExec
}

// addHistory records a line in the current mode group's history.
func (s *Session) addHistory(line string) {
	if s.histSize == 0 || strings.TrimSpace(line) == "" {
		return
	}
	g := s.group()
	h := append(s.hist[g], line)
	if len(h) > s.histSize {
		h = h[len(h)-s.histSize:]
	}
	s.hist[g] = h
}

// History returns the current mode group's history, oldest first.
func (s *Session) History() []string { return append([]string(nil), s.hist[s.group()]...) }

// SetHistorySize applies `terminal history size N`.
func (s *Session) SetHistorySize(n int) {
	if n < 0 {
		n = 0
	}
	if n > maxHistorySize {
		n = maxHistorySize
	}
	s.histSize = n
	for g, h := range s.hist {
		if len(h) > n {
			s.hist[g] = h[len(h)-n:]
		}
	}
}

// HistorySize is the `terminal history size` setting.
func (s *Session) HistorySize() int { return s.histSize }

// Deliver queues an asynchronous message (a log line) for this session. It is printed before
// the next prompt, or at once while the session waits at a prompt.
func (s *Session) Deliver(msg string) {
	s.msgMu.Lock()
	s.pending = append(s.pending, msg)
	s.msgMu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// takePending returns and clears the queued messages.
func (s *Session) takePending() []string {
	s.msgMu.Lock()
	defer s.msgMu.Unlock()
	p := s.pending
	s.pending = nil
	return p
}

// flushPending prints the queued messages, one per line.
func (s *Session) flushPending(w io.Writer) {
	for _, m := range s.takePending() {
		fmt.Fprintf(w, "%s\n", m)
	}
}

// RunLine executes one command line without a pager or interactive input (SSH exec requests,
// scripts) and returns everything it printed, including queued log messages.
func (s *Session) RunLine(line string) string {
	var b bytes.Buffer
	saveIn, saveLen := s.in, s.length
	s.in, s.length = nil, 0
	s.Exec(&b, line)
	s.in, s.length = saveIn, saveLen
	s.flushPending(&b)
	return b.String()
}
