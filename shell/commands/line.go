package commands

import (
	"github.com/tunnelbox/tunnelbox/parser"
	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
	"github.com/tunnelbox/tunnelbox/shell"
)

// Help strings of the line commands.
const (
	helpLine        = "Configure a terminal line"
	helpLogin       = "Enable password checking"
	helpLoginLocal  = "Local password checking"
	helpPassword    = "Set a password"
	helpTransport   = "Define transport protocols for line"
	helpTransIn     = "Define which protocols to use when connecting to the terminal server"
	helpExecTO      = "Set the EXEC timeout"
	helpLineLogging = "Modify message logging facilities"
	helpLogSync     = "Synchronized message output"
	helpPrivLine    = "Change privilege level for line"
	helpPrivLvl     = "Assign default privilege level for line"
)

// lineRange is the state of the config-line sub-mode: the lines being configured.
type lineRange struct {
	kind        runningconfig.LineKind
	first, last int
}

// RegisterLine installs `line con 0`, `line aux 0`, `line vty A [B]` and the config-line
// sub-mode (ios-cli.md §3.2).
func RegisterLine(app *shell.App) error {
	g, ms := app.Grammar(), app.Modes()
	lm := &parser.Mode{Name: shell.ModeLine, Prompt: "(config-line)#", Header: "Line configuration commands:"}
	if err := ms.Add(g, lm); err != nil {
		return err
	}
	enter := func(c *shell.Context, a parser.Args) error {
		r := lineRange{kind: runningconfig.LineCon}
		switch {
		case a.Has("aux"):
			r.kind = runningconfig.LineAux
		case a.Has("vty"):
			r.kind = runningconfig.LineVTY
			r.first = a.Int("first")
			r.last = r.first
			if a.Has("last") {
				r.last = a.Int("last")
			}
			if r.last < r.first {
				return shell.Msgf("%%Invalid line range")
			}
		}
		if err := apply(c, func(cfg *runningconfig.Config) error {
			cfg.LineBlocks(r.kind, r.first, r.last)
			return nil
		}); err != nil {
			return err
		}
		c.Push(lm, r)
		return nil
	}
	err := install(g, ms.Config, "line config",
		&parser.Command{Syntax: "line <console$con 0|aux$aux 0|vty$vty (0-15)$first [(1-15)$last]>",
			Help: []string{helpLine, "Primary terminal line", "First Line number", "Auxiliary line", "First Line number",
				"Virtual terminal", "First Line number", "Last Line number"},
			Priv: 15, Handler: shell.Handler(enter)})
	if err != nil {
		return err
	}
	cmds := []*parser.Command{
		{Syntax: "login [local]$local", Help: []string{helpLogin, helpLoginLocal}, Priv: 15,
			Handler: lineEdit(func(l *runningconfig.Line, _ *runningconfig.Config, a parser.Args) error {
				l.Login = runningconfig.LoginLine
				if a.Has("local") {
					l.Login = runningconfig.LoginLocal
				}
				return nil
			})},
		{Syntax: "<no|default> login [local]", Help: []string{helpLogin, helpLoginLocal}, Priv: 15,
			Handler: lineEdit(func(l *runningconfig.Line, _ *runningconfig.Config, a parser.Args) error {
				l.Login = runningconfig.LoginNone
				if a.Has("default") {
					l.Login = runningconfig.NewLine(l.Kind, 0, 0).Login
				}
				return nil
			})},
		{Syntax: "password [<0|7>$type] LINE$text",
			Help: []string{helpPassword, "Specifies an UNENCRYPTED password will follow", "Specifies a HIDDEN password will follow", "The UNENCRYPTED (cleartext) line password"},
			Priv: 15,
			Handler: lineEdit(func(l *runningconfig.Line, cfg *runningconfig.Config, a parser.Args) error {
				var p runningconfig.Password
				var err error
				if t := secretType(a); t == 7 {
					p, err = runningconfig.NewPasswordTyped(7, a.Str("text"))
				} else {
					p, err = cfg.NewPassword(a.Str("text"))
				}
				if err != nil {
					return shell.Msgf("Invalid encrypted password: %s", a.Str("text"))
				}
				l.Password = p
				return nil
			})},
		{Syntax: "<no|default> password [LINE]", Help: []string{helpPassword, "The UNENCRYPTED (cleartext) line password"}, Priv: 15,
			Handler: lineEdit(func(l *runningconfig.Line, _ *runningconfig.Config, _ parser.Args) error {
				l.Password = runningconfig.Password{}
				return nil
			})},
		{Syntax: "transport input {ssh$ssh|telnet$telnet|all$all|none$none}",
			Help: []string{helpTransport, helpTransIn, "TCP/IP SSH protocol", "TCP/IP Telnet protocol", "All protocols", "No protocols"},
			Priv: 15,
			Handler: lineEdit(func(l *runningconfig.Line, _ *runningconfig.Config, a parser.Args) error {
				var t runningconfig.Transport
				if a.Has("ssh") {
					t |= runningconfig.TransportSSH
				}
				if a.Has("telnet") {
					t |= runningconfig.TransportTelnet
				}
				if a.Has("all") {
					t = runningconfig.TransportAll
				}
				if a.Has("none") {
					t = runningconfig.TransportNone
				}
				l.Transport = t
				return nil
			})},
		{Syntax: "<no|default> transport input", Help: []string{helpTransport, helpTransIn}, Priv: 15,
			Handler: lineEdit(func(l *runningconfig.Line, _ *runningconfig.Config, _ parser.Args) error {
				l.Transport = runningconfig.TransportDefault
				return nil
			})},
		{Syntax: "exec-timeout (0-35791)$min [(0-2147483)$sec]",
			Help: []string{helpExecTO, "Timeout in minutes", "Timeout in seconds"}, Priv: 15,
			Handler: lineEdit(func(l *runningconfig.Line, _ *runningconfig.Config, a parser.Args) error {
				l.ExecMinutes, l.ExecSeconds = a.Int("min"), a.Int("sec")
				return nil
			})},
		{Syntax: "<no|default> exec-timeout", Help: []string{helpExecTO}, Priv: 15,
			Handler: lineEdit(func(l *runningconfig.Line, _ *runningconfig.Config, a parser.Args) error {
				d := runningconfig.NewLine(l.Kind, 0, 0)
				l.ExecMinutes, l.ExecSeconds = d.ExecMinutes, d.ExecSeconds
				if a.Has("no") {
					l.ExecMinutes, l.ExecSeconds = 0, 0
				}
				return nil
			})},
		{Syntax: "[no|default] logging synchronous", Help: []string{helpLineLogging, helpLogSync}, Priv: 15,
			Handler: lineEdit(func(l *runningconfig.Line, _ *runningconfig.Config, a parser.Args) error {
				l.LogSync = !a.Has("no") && !a.Has("default")
				return nil
			})},
		{Syntax: "privilege level (0-15)$lvl", Help: []string{helpPrivLine, helpPrivLvl, "Default privilege level for line"}, Priv: 15,
			Handler: lineEdit(func(l *runningconfig.Line, _ *runningconfig.Config, a parser.Args) error {
				l.Privilege = a.Int("lvl")
				return nil
			})},
		{Syntax: "<no|default> privilege level", Help: []string{helpPrivLine, helpPrivLvl}, Priv: 15,
			Handler: lineEdit(func(l *runningconfig.Line, _ *runningconfig.Config, _ parser.Args) error {
				l.Privilege = 1
				return nil
			})},
	}
	return install(g, lm, "line sub-mode", cmds...)
}

// lineEdit applies f to every line block of the sub-mode's range.
func lineEdit(f func(l *runningconfig.Line, cfg *runningconfig.Config, a parser.Args) error) shell.Handler {
	return func(c *shell.Context, a parser.Args) error {
		r, ok := c.State().(lineRange)
		if !ok {
			return shell.Msgf("%% Not in line configuration mode")
		}
		return apply(c, func(cfg *runningconfig.Config) error {
			for _, l := range cfg.LineBlocks(r.kind, r.first, r.last) {
				if err := f(l, cfg, a); err != nil {
					return err
				}
			}
			return nil
		})
	}
}
