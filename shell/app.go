package shell

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tunnelbox/tunnelbox/parser"
	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
)

// DefaultHostname is the prompt name of an unconfigured router.
const DefaultHostname = "Router"

// Options configure an App.
type Options struct {
	Config *runningconfig.Manager // required: the running configuration
	Store  *runningconfig.Store   // startup-config storage; nil disables write/erase/reload
	Now    func() time.Time       // clock; nil means time.Now (tests pin it)
	Boot   time.Time              // when the router started (show version uptime); zero = Now()
	// Reset returns the configuration a reload starts from before the startup-config is
	// replayed; nil keeps runningconfig's defaults via a fresh *Config.
	Reset func() *runningconfig.Config
	// Version strings for show version.
	Version string
}

// App is one router's CLI: the grammar and its modes, the configuration manager and store,
// the sessions, and the log bus that delivers asynchronous messages to them. It is safe for
// concurrent use by many sessions.
type App struct {
	grammar *parser.Grammar
	modes   *Modes
	cfg     *runningconfig.Manager
	store   *runningconfig.Store
	now     func() time.Time
	boot    time.Time
	reset   func() *runningconfig.Config
	version string

	mu       sync.Mutex // protects sessions, nextVty, booting, logSink
	sessions []*Session
	booting  bool      // replaying startup-config: the CONFIG_I message is not sent
	logSink  io.Writer // where log lines also go (boot log, service mode); may be nil

	reloadHooks []func() // run after a reload replaced the configuration

	bootMu  sync.Mutex            // protects bootCfg and boot after start-up
	bootCfg *runningconfig.Config // the configuration as the last Replay left it

	eng   engineSlot // the IKE engine the crypto commands act on (engine.go)
	ports portSlot   // the platform's hardware ports (ports.go)
	logs  logState   // buffer, counters and syslog sockets (logging.go)
}

// NewApp builds the app with its built-in commands (enable, disable, exit, end, configure,
// do, terminal, show history/privilege/users). Feature command files register the rest on
// Grammar() and Modes().
func NewApp(o Options) (*App, error) {
	if o.Config == nil {
		return nil, fmt.Errorf("shell: Options.Config is required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Boot.IsZero() {
		o.Boot = o.Now()
	}
	a := &App{
		grammar: parser.New(),
		cfg:     o.Config,
		store:   o.Store,
		now:     o.Now,
		boot:    o.Boot,
		reset:   o.Reset,
		version: o.Version,
	}
	a.modes = newModes()
	if err := installBuiltins(a); err != nil {
		return nil, err
	}
	return a, nil
}

// Grammar is the command grammar feature files install into.
func (a *App) Grammar() *parser.Grammar { return a.grammar }

// Modes is the mode registry.
func (a *App) Modes() *Modes { return a.modes }

// Config is the running-config manager.
func (a *App) Config() *runningconfig.Manager { return a.cfg }

// Store is the startup-config store (nil when none).
func (a *App) Store() *runningconfig.Store { return a.store }

// Now is the app's clock.
func (a *App) Now() time.Time { return a.now() }

// Boot is the time the router started (or was last reloaded).
func (a *App) Boot() time.Time {
	a.bootMu.Lock()
	defer a.bootMu.Unlock()
	return a.boot
}

// Version is the software version string given in Options.
func (a *App) Version() string { return a.version }

// Hostname is the configured hostname, "Router" when unset.
func (a *App) Hostname() string {
	if c := a.cfg.Running(); c != nil && c.Hostname != "" {
		return c.Hostname
	}
	return DefaultHostname
}

// SetLogSink makes every log line also go to w (with a newline), e.g. stderr when the router
// runs without a console.
func (a *App) SetLogSink(w io.Writer) {
	a.mu.Lock()
	a.logSink = w
	a.mu.Unlock()
}

// OnReload registers f to run after reload replaced the running configuration.
func (a *App) OnReload(f func()) { a.reloadHooks = append(a.reloadHooks, f) }

// LogTime formats t the way `service timestamps log datetime msec` does, with the leading "*"
// of a clock that is not NTP-synchronised: "*Mar  1 00:05:12.123".
func LogTime(t time.Time) string {
	return "*" + t.Format("Jan _2 15:04:05.000")
}

// Logf sends a syslog-style message ("%SYS-5-CONFIG_I: Configured from console by console")
// through the logging system (LogAt): the console, vtys with terminal monitor, the logging
// buffer and the syslog hosts.
func (a *App) Logf(format string, args ...any) {
	a.LogAt(a.now(), fmt.Sprintf(format, args...))
}

func (a *App) addSession(s *Session) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sessions = append(a.sessions, s)
}

func (a *App) removeSession(s *Session) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, x := range a.sessions {
		if x == s {
			a.sessions = append(a.sessions[:i], a.sessions[i+1:]...)
			return
		}
	}
}

// Sessions lists the live sessions (console first, then vtys in order).
func (a *App) Sessions() []*Session {
	a.mu.Lock()
	list := append([]*Session(nil), a.sessions...)
	a.mu.Unlock()
	sort.SliceStable(list, func(i, j int) bool { return lineOrder(list[i].opts.Line) < lineOrder(list[j].opts.Line) })
	return list
}

func lineOrder(l string) int {
	if strings.HasPrefix(l, "con") {
		return -1
	}
	n, _ := strconv.Atoi(strings.TrimPrefix(l, "vty "))
	return n
}

// NextVty returns the first free vty line name ("vty 0", "vty 1", ...) for a new SSH session.
func (a *App) NextVty() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	used := map[string]bool{}
	for _, s := range a.sessions {
		used[s.opts.Line] = true
	}
	for i := 0; ; i++ {
		l := "vty " + strconv.Itoa(i)
		if !used[l] {
			return l
		}
	}
}

// ReplayError is one startup-config line that did not apply.
type ReplayError struct {
	LineNo int
	Line   string
	Output string // what the shell printed for it (caret error, % message)
}

func (e *ReplayError) Error() string {
	return fmt.Sprintf("shell: startup-config line %d %q: %s", e.LineNo, e.Line, strings.TrimSpace(e.Output))
}

// Replay applies IOS configuration text as if typed in global configuration mode on a
// session nobody sees, the way a router boots from startup-config: every line is tried, an
// invalid one is reported and skipped. Comment ("!") lines, `end`, `version`, and the
// `Building configuration...` header are skipped. It returns the lines that failed.
//
// Replay first rebuilds the configuration on a private copy and commits it with one
// Manager.Apply, which keeps boot linear in the size of the configuration (a per-line Apply
// clones and validates the whole configuration each time). If any edit is rejected, or the
// final commit fails validation, it starts again from the configuration it began with and
// applies the text line by line, so that exactly the bad lines are skipped.
func (a *App) Replay(text string) []*ReplayError {
	a.mu.Lock()
	a.booting = true
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.booting = false
		a.mu.Unlock()
	}()
	b := &batch{cfg: a.cfg.Running().Clone()}
	errs := a.replay(text, b)
	if !b.failed {
		err := a.cfg.Apply(func(c *runningconfig.Config) error {
			*c = *b.cfg
			return nil
		})
		if err == nil {
			for _, m := range b.logs {
				a.Logf("%s", m)
			}
			a.setBootConfig()
			return errs
		}
	}
	errs = a.replay(text, nil)
	a.setBootConfig()
	return errs
}

// batch is a configuration being rebuilt by Replay outside the Manager.
type batch struct {
	cfg    *runningconfig.Config
	failed bool     // an edit returned an error: the copy may be half-edited
	logs   []string // log messages held until the batch commits
}

// errBatchFailed stops a batch after its first rejected edit.
var errBatchFailed = errors.New("shell: replay batch abandoned")

func (b *batch) apply(edit func(*runningconfig.Config) error) error {
	if b.failed {
		return errBatchFailed
	}
	if err := edit(b.cfg); err != nil {
		b.failed = true
		return err
	}
	return nil
}

func (a *App) setBootConfig() {
	a.bootMu.Lock()
	a.bootCfg = a.cfg.Running()
	a.bootMu.Unlock()
}

// replay runs text through a hidden session; with b non-nil, edits go to b.
func (a *App) replay(text string, b *batch) []*ReplayError {
	s := &Session{
		app: a, opts: SessionOptions{Line: "boot"}, priv: 15,
		stack:    []frame{{mode: a.modes.Exec}, {mode: a.modes.Config}},
		histSize: 0, hist: map[string][]string{}, notify: make(chan struct{}, 1),
		batch: b,
	}
	var errs []*ReplayError
	var out strings.Builder
	run := func(n int, t string) {
		out.Reset()
		s.execAt(&out, t, 0, false)
		if !isConfig(s.Mode()) { // `end` or `exit` in the text
			s.stack = []frame{{mode: a.modes.Exec}, {mode: a.modes.Config}}
		}
		if o := out.String(); isFailure(o) {
			errs = append(errs, &ReplayError{LineNo: n, Line: t, Output: o})
		}
	}
	// IOS writes secondary addresses before the primary one, but an interface may only hold
	// secondaries once it has a primary: they are applied when their block ends.
	type held struct {
		n int
		t string
	}
	var secondaries []held
	// A saved interface block has no `no shutdown` line: an interface whose block does not
	// say `shutdown` is up after boot, whatever the default of a new interface is.
	ifBlock, shut := 0, false
	endBlock := func() {
		for _, h := range secondaries {
			run(h.n, h.t)
		}
		secondaries = secondaries[:0]
		if ifBlock > 0 && !shut && s.Mode().Name == ModeInterface {
			run(ifBlock, "no shutdown")
		}
		ifBlock, shut = 0, false
		if len(s.stack) > 2 {
			s.stack = s.stack[:2]
		}
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r")
		t := strings.TrimSpace(line)
		if skipReplayLine(t) {
			continue
		}
		// A top-level line leaves any sub-mode first, exactly as the indentation says; an
		// indented line stays in the sub-mode the previous line entered.
		if !strings.HasPrefix(line, " ") {
			endBlock()
		} else if s.Mode().Name == ModeInterface && strings.HasSuffix(t, " secondary") &&
			strings.HasPrefix(t, "ip address ") {
			secondaries = append(secondaries, held{n, t})
			continue
		}
		run(n, t)
		switch {
		case !strings.HasPrefix(line, " ") && s.Mode().Name == ModeInterface:
			ifBlock = n
		case ifBlock > 0 && t == "shutdown":
			shut = true
		}
	}
	endBlock()
	return errs
}

// BootConfig is the configuration as the last startup replay left it (nil before any); `show
// ip interface brief` reports addresses that still match it with method NVRAM.
func (a *App) BootConfig() *runningconfig.Config {
	a.bootMu.Lock()
	defer a.bootMu.Unlock()
	return a.bootCfg
}

func skipReplayLine(t string) bool {
	switch {
	case t == "", strings.HasPrefix(t, "!"), t == "end",
		strings.HasPrefix(t, "Building configuration"),
		strings.HasPrefix(t, "Current configuration"),
		strings.HasPrefix(t, "Using ") && strings.Contains(t, " out of "),
		strings.HasPrefix(t, "version "):
		return true
	}
	return false
}

// isFailure reports whether replay output is an error (IOS errors start with "%" or are a
// caret line).
func isFailure(out string) bool {
	for _, l := range strings.Split(out, "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "%") && !strings.HasPrefix(t, "%LINK") && !strings.HasPrefix(t, "%LINEPROTO") ||
			t == "^" {
			return true
		}
	}
	return false
}

// Reload restarts the router in-process: the running configuration is replaced by a fresh one
// with the startup-config replayed into it, the uptime restarts, and sessions are kept. It
// returns the lines of the startup-config that failed.
func (a *App) Reload() ([]*ReplayError, error) {
	fresh := runningconfig.Default()
	if a.reset != nil {
		fresh = a.reset()
	}
	if err := a.cfg.Apply(func(c *runningconfig.Config) error {
		*c = *fresh.Clone()
		return nil
	}); err != nil {
		return nil, fmt.Errorf("shell: reload: %w", err)
	}
	var errs []*ReplayError
	if a.store != nil {
		text, ok, err := a.store.Startup()
		if err != nil {
			return nil, fmt.Errorf("shell: reload: %w", err)
		}
		if ok {
			errs = a.Replay(text)
		}
	}
	a.bootMu.Lock()
	a.boot = a.now()
	a.bootMu.Unlock()
	for _, f := range a.reloadHooks {
		f()
	}
	return errs, nil
}

func (a *App) isBooting() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.booting
}

// enableChecker returns the check for `enable` to the given level and whether a secret or
// password is configured: the enable secret wins over the enable password, as in IOS.
func (a *App) enableChecker(level int) (func(string) bool, bool) {
	c := a.cfg.Running()
	switch {
	case c == nil:
		return nil, false
	case !c.EnableSecret.IsZero():
		s := c.EnableSecret
		return func(p string) bool { return runningconfig.Verify(s, p) }, true
	case !c.EnablePassword.IsZero():
		return c.EnablePassword.Verify, true
	}
	return nil, false
}
