package shell

import (
	"fmt"
	"strings"

	"github.com/tunnelbox/tunnelbox/parser"
)

// Help strings shared by every command that starts with the same keyword: the parser requires
// commands with a common prefix to carry the same help for it.
const (
	HelpShow     = "Show running system information"
	HelpTerminal = "Set terminal line parameters"
	HelpNo       = "Negate a command or set its defaults"
	HelpDefault  = "Set a command to its defaults"
	HelpIP       = "Global IP configuration subcommands"
	HelpWrite    = "Write running configuration to memory, network, or terminal"
)

// configuredBy is the tail of %SYS-5-CONFIG_I for this session: "console" or
// "admin on vty0 (10.1.1.100)".
func (s *Session) configuredBy() string {
	if s.IsConsole() {
		if s.opts.User != "" {
			return s.opts.User + " on console"
		}
		return "console"
	}
	who := s.opts.User
	if who == "" {
		who = "vty"
	}
	by := who + " on " + strings.ReplaceAll(s.opts.Line, " ", "")
	if s.opts.Remote != "" {
		by += " (" + s.opts.Remote + ")"
	}
	return by
}

// leaveConfig returns to privileged EXEC and logs CONFIG_I.
func (s *Session) leaveConfig() {
	s.toExec()
	if !s.app.isBooting() && s.opts.Line != "boot" {
		s.app.Logf("%%SYS-5-CONFIG_I: Configured from console by %s", s.configuredBy())
	}
}

// End is `end` / Ctrl-Z: from any config depth back to privileged EXEC.
func (s *Session) End() {
	if isConfig(s.Mode()) {
		s.leaveConfig()
	}
}

func installBuiltins(a *App) error {
	g, ex, cf := a.grammar, a.modes.Exec, a.modes.Config
	exitExec := Handler(func(c *Context, _ parser.Args) error {
		c.Session.closed = true
		return ErrClosed
	})
	execCmds := []*parser.Command{
		{Syntax: "enable [(0-15)$level]", Help: []string{"Turn on privileged commands", "Enable level"},
			Priv: 0, Handler: Handler(cmdEnable)},
		{Syntax: "disable", Help: []string{"Turn off privileged commands"}, Priv: 0,
			Handler: Handler(func(c *Context, _ parser.Args) error { c.Session.priv = 1; return nil })},
		{Syntax: "exit", Help: []string{"Exit from the EXEC"}, Priv: 0, Handler: exitExec},
		{Syntax: "logout", Help: []string{"Exit from the EXEC"}, Priv: 0, Handler: exitExec},
		{Syntax: "quit", Help: []string{"Exit from the EXEC"}, Priv: 0, Handler: exitExec},
		{Syntax: "configure [terminal]$term", Help: []string{"Enter configuration mode", "Configure from the terminal"},
			Priv: 15, Handler: Handler(cmdConfigure)},
		{Syntax: "terminal length (0-512)$n",
			Help: []string{HelpTerminal, "Set number of lines on a screen", "Number of lines on screen (0 for no pausing)"},
			Priv: 1, Handler: Handler(func(c *Context, a parser.Args) error { c.Session.length = a.Int("n"); return nil })},
		{Syntax: "terminal width (0-512)$n",
			Help: []string{HelpTerminal, "Set width of the display terminal", "Number of characters on a screen line"},
			Priv: 1, Handler: Handler(func(c *Context, a parser.Args) error { c.Session.width = a.Int("n"); return nil })},
		{Syntax: "terminal monitor", Help: []string{HelpTerminal, "Copy debug output to the current terminal line"},
			Priv: 1, Handler: Handler(func(c *Context, _ parser.Args) error { c.Session.monitor.Store(true); return nil })},
		{Syntax: "terminal no monitor", Help: []string{HelpTerminal, HelpNo, "Copy debug output to the current terminal line"},
			Priv: 1, Handler: Handler(func(c *Context, _ parser.Args) error { c.Session.monitor.Store(false); return nil })},
		{Syntax: "terminal history size (0-256)$n",
			Help: []string{HelpTerminal, "Enable and control the command history function", "Set history buffer size", "Size of history buffer"},
			Priv: 1, Handler: Handler(func(c *Context, a parser.Args) error { c.Session.SetHistorySize(a.Int("n")); return nil })},
		{Syntax: "show history", Help: []string{HelpShow, "Display the session command history"}, Priv: 1,
			Handler: Handler(func(c *Context, _ parser.Args) error {
				for _, h := range c.Session.History() {
					c.Printf("  %s\n", h)
				}
				return nil
			})},
		{Syntax: "show privilege", Help: []string{HelpShow, "Show current privilege level"}, Priv: 1,
			Handler: Handler(func(c *Context, _ parser.Args) error {
				c.Printf("Current privilege level is %d\n", c.Session.priv)
				return nil
			})},
		{Syntax: "show users", Help: []string{HelpShow, "Display information about terminal lines"}, Priv: 1,
			Handler: Handler(cmdShowUsers)},
	}
	if err := g.Install(ex, execCmds...); err != nil {
		return fmt.Errorf("shell: exec builtins: %w", err)
	}
	cfgCmds := []*parser.Command{
		{Syntax: "end", Help: []string{"Exit from configure mode"}, Priv: 15,
			Handler: StayHandler(func(c *Context, _ parser.Args) error { c.Session.End(); return nil })},
		{Syntax: "exit", Help: []string{"Exit from configure mode"}, Priv: 15, Handler: StayHandler(cmdExitMode)},
		{Syntax: "do LINE$cmd", Help: []string{"To run exec commands in config mode", "Exec Command"}, Priv: 15,
			Handler: StayHandler(cmdDo)},
	}
	if err := g.Install(cf, cfgCmds...); err != nil {
		return fmt.Errorf("shell: config builtins: %w", err)
	}
	return nil
}

// installSubmodeBuiltins gives a sub-mode its own `exit`.
func installSubmodeBuiltins(g *parser.Grammar, m *parser.Mode) error {
	err := g.Install(m, &parser.Command{Syntax: "exit", Help: []string{exitHelp(m)}, Priv: 15,
		Handler: StayHandler(cmdExitMode)})
	if err != nil {
		return fmt.Errorf("shell: mode %s: %w", m.Name, err)
	}
	return nil
}

// cmdExitMode leaves one mode level; from global config it returns to EXEC.
func cmdExitMode(c *Context, _ parser.Args) error {
	s := c.Session
	if len(s.stack) > 2 {
		s.stack = s.stack[:len(s.stack)-1]
		return nil
	}
	s.leaveConfig()
	return nil
}

func cmdConfigure(c *Context, a parser.Args) error {
	if !a.Has("term") {
		ans, err := c.ReadLine("Configuring from terminal, memory, or network [terminal]? ")
		if err != nil {
			return err
		}
		ans = strings.ToLower(strings.TrimSpace(ans))
		if ans != "" && !strings.HasPrefix("terminal", ans) {
			return Msgf("?Must be \"terminal\", \"memory\" or \"network\"")
		}
	}
	c.Printf("Enter configuration commands, one per line.  End with CNTL/Z.\n")
	c.Session.push(c.App.modes.Config, nil)
	return nil
}

// cmdDo runs an EXEC command from a config mode without leaving it.
func cmdDo(c *Context, a parser.Args) error {
	rest := a.Str("cmd")
	off := strings.Index(c.line, rest)
	if off < 0 {
		off = 0
	}
	c.Session.execAt(c.Out, rest, c.caretBase+off, true)
	return nil
}

// cmdEnable raises the privilege level after checking the enable secret (ios-cli.md §1).
func cmdEnable(c *Context, a parser.Args) error {
	s := c.Session
	level := 15
	if a.Has("level") {
		level = a.Int("level")
	}
	if level <= s.priv {
		s.priv = level
		return nil
	}
	check, configured := c.App.enableChecker(level)
	if !configured {
		if s.IsConsole() {
			s.priv = level
			return nil
		}
		return Msgf("%% No password set")
	}
	for try := 0; try < 3; try++ {
		pw, err := c.ReadSecret("Password: ")
		if err != nil {
			return err
		}
		if check(pw) {
			s.priv = level
			return nil
		}
	}
	return Msgf("%% Bad secrets\n")
}

func cmdShowUsers(c *Context, _ parser.Args) error {
	c.Printf("    Line       User       Host(s)              Idle       Location\n")
	now := c.App.now()
	for _, s := range c.App.Sessions() {
		mark := " "
		if s == c.Session {
			mark = "*"
		}
		num := lineNumber(s.opts.Line)
		name := s.opts.Line
		user := s.opts.User
		idle := s.Idle(now)
		if s == c.Session {
			idle = 0
		}
		h, m, sec := int(idle.Hours()), int(idle.Minutes())%60, int(idle.Seconds())%60
		c.Printf("%s%3d %-10s %-10s %-20s %02d:%02d:%02d   %s\n", mark, num, name, user, "idle", h, m, sec, s.opts.Remote)
	}
	c.Printf("\n  Interface    User               Mode         Idle     Peer Address\n\n")
	return nil
}

func lineNumber(line string) int {
	if strings.HasPrefix(line, "con") {
		return 0
	}
	var n int
	fmt.Sscanf(strings.TrimPrefix(line, "vty "), "%d", &n)
	return n + 2 // line 1 is aux 0
}
