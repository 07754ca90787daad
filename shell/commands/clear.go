package commands

import (
	"github.com/tunnelbox/tunnelbox/parser"
	"github.com/tunnelbox/tunnelbox/shell"
)

// Help strings of the crypto clear commands.
const (
	helpClearCrypto  = "Clear crypto"
	helpClearSA      = "Clear all crypto SAs"
	helpClearSAPeer  = "Clear all crypto SAs for a given crypto peer"
	helpClearSAMap   = "Clear all crypto SAs for a given crypto map"
	helpClearISAKMP  = "Flush the ISAKMP database"
	helpClearConnID  = "connection id of SA"
	helpClearSession = "Clear crypto session"
)

// RegisterClear installs the crypto clear commands (ios-cli.md §6): they print nothing, tell
// the peers with delete notifications, remove the state, and the next matching packet (or
// `crypto map ... initiate`) negotiates again.
func RegisterClear(app *shell.App) error {
	g, ms := app.Grammar(), app.Modes()
	cmds := []*parser.Command{
		{Syntax: "clear crypto sa", Help: []string{helpClear, helpClearCrypto, helpClearSA}, Priv: 15,
			Handler: shell.Handler(clearSA)},
		{Syntax: "clear crypto sa peer A.B.C.D$peer", Help: []string{helpClear, helpClearCrypto, helpClearSA, helpClearSAPeer, "IP address of crypto peer"},
			Priv: 15, Handler: shell.Handler(clearSA)},
		{Syntax: "clear crypto sa map WORD$map", Help: []string{helpClear, helpClearCrypto, helpClearSA, helpClearSAMap, "Crypto map tag"},
			Priv: 15, Handler: shell.Handler(clearSA)},
		{Syntax: "clear crypto isakmp [(1-32766)$connid]", Help: []string{helpClear, helpClearCrypto, helpClearISAKMP, helpClearConnID},
			Priv: 15, Handler: shell.Handler(clearISAKMP)},
		{Syntax: "clear crypto session", Help: []string{helpClear, helpClearCrypto, helpClearSession}, Priv: 15,
			Handler: shell.Handler(func(c *shell.Context, _ parser.Args) error {
				if e := c.App.Engine(); e != nil {
					return e.ClearAll()
				}
				return nil
			})},
	}
	return install(g, ms.Exec, "clear crypto", cmds...)
}

// clearSA is `clear crypto sa [peer A | map NAME]`: the IPsec SAs go, the ISAKMP SAs stay.
func clearSA(c *shell.Context, a parser.Args) error {
	e := c.App.Engine()
	if e == nil {
		return nil
	}
	return e.ClearIPsec(a.IP("peer"), a.Str("map"))
}

// clearISAKMP is `clear crypto isakmp [CONN-ID]`; an unknown conn-id is silently ignored, as
// on IOS.
func clearISAKMP(c *shell.Context, a parser.Args) error {
	e := c.App.Engine()
	if e == nil {
		return nil
	}
	id := 0
	if a.Has("connid") {
		id = a.Int("connid")
	}
	e.ClearISAKMP(id)
	return nil
}
