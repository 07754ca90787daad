// Package commands declares the router's CLI commands, one file per feature (FRR's *_vty.c
// rule): system.go (hostname, credentials, persistence, reload, show version/clock/running),
// interface.go (interface sub-mode, show ip interface brief, show interfaces), line.go (line
// con/vty sub-mode). Each command is declared once, with its syntax, one help string per token,
// its privilege level and its handler; configuration edits go through Manager.Apply so that a
// rejected line changes nothing.
package commands

import (
	"errors"
	"fmt"

	"github.com/tunnelbox/tunnelbox/parser"
	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
	"github.com/tunnelbox/tunnelbox/shell"
)

// Registrar installs one feature file's commands on an app.
type Registrar func(app *shell.App) error

// All lists every feature file's registrar in installation order. Feature files of other
// areas (acl, isakmp, ipsec, cryptomap, debug, clear) append theirs here.
var All = []Registrar{RegisterSystem, RegisterInterface, RegisterLine, RegisterCryptoExec}

// Register installs every command of All on app.
func Register(app *shell.App) error {
	for _, r := range All {
		if err := r(app); err != nil {
			return err
		}
	}
	return nil
}

// install adds cmds to mode m, wrapping the error with the file name.
func install(g *parser.Grammar, m *parser.Mode, what string, cmds ...*parser.Command) error {
	if err := g.Install(m, cmds...); err != nil {
		return fmt.Errorf("commands: %s: %w", what, err)
	}
	return nil
}

// apply runs an edit on the running configuration (Context.Apply) and turns the known
// validation errors into IOS messages.
func apply(c *shell.Context, edit func(cfg *runningconfig.Config) error) error {
	err := c.Apply(edit)
	if err == nil {
		return nil
	}
	var me *shell.MsgError
	var oe *runningconfig.OverlapError
	switch {
	case errors.As(err, &me):
		return err
	case errors.As(err, &oe):
		return shell.Msgf("%% %s overlaps with %s", oe.Prefix.Masked().Addr(), oe.Interface)
	}
	return err
}
