package commands

import (
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/tunnelbox/tunnelbox/parser"
	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
	"github.com/tunnelbox/tunnelbox/shell"
)

// Help strings shared by several commands of this file.
const (
	helpEnable     = "Modify enable password parameters"
	helpUsername   = "Establish User Name Authentication"
	helpUserName   = "User name"
	helpPrivilege  = "Set user privilege level"
	helpPrivLevel  = "User privilege level"
	helpService    = "Modify use of network based services"
	helpRunning    = "Current operating configuration"
	helpStartup    = "Contents of startup configuration"
	helpCopy       = "Copy from one file to another, or to the terminal"
	helpErase      = "Erase a filesystem"
	helpIPRoute    = "Establish static routes"
	helpRoutePref  = "Destination prefix"
	helpRouteMask  = "Destination prefix mask"
	helpRouteHop   = "Forwarding router's address"
	helpRouteIf    = "Interface to forward through"
	helpRouteDist  = "Distance metric for this route"
	helpDomain     = "Enable IP Domain Name System hostname translation"
	helpDomainLook = "Enable IP Domain Name System hostname translation"
)

// RegisterSystem installs the system commands (ios-cli.md §3.1, §3.2, §4.11, §4.12, §6).
func RegisterSystem(app *shell.App) error {
	g, ms := app.Grammar(), app.Modes()
	execCmds := []*parser.Command{
		{Syntax: "show version", Help: []string{shell.HelpShow, "System hardware and software status"}, Priv: 1, Handler: shell.Handler(showVersion)},
		{Syntax: "show clock", Help: []string{shell.HelpShow, "Display the system clock"}, Priv: 1, Handler: shell.Handler(showClock)},
		{Syntax: "show running-config", Help: []string{shell.HelpShow, helpRunning}, Priv: 15, Handler: shell.Handler(showRunning)},
		{Syntax: "show startup-config", Help: []string{shell.HelpShow, helpStartup}, Priv: 15, Handler: shell.Handler(showStartup)},
		{Syntax: "write [memory]", Help: []string{shell.HelpWrite, "Write to NV memory"}, Priv: 15, Handler: shell.Handler(writeMemory)},
		{Syntax: "write erase", Help: []string{shell.HelpWrite, "Erase NV memory"}, Priv: 15, Handler: shell.Handler(eraseStartup)},
		{Syntax: "copy running-config startup-config", Help: []string{helpCopy, "Copy from current system configuration", "Copy to startup configuration"},
			Priv: 15, Handler: shell.Handler(copyRunStart)},
		{Syntax: "erase startup-config", Help: []string{helpErase, "Erase contents of configuration memory"}, Priv: 15, Handler: shell.Handler(eraseStartup)},
		{Syntax: "show archive", Help: []string{shell.HelpShow, "Archive functions"}, Priv: 15, Handler: shell.Handler(showArchive)},
		{Syntax: "reload", Help: []string{"Halt and perform a cold restart"}, Priv: 15, Handler: shell.Handler(reload)},
	}
	if err := install(g, ms.Exec, "system exec", execCmds...); err != nil {
		return err
	}
	cfgCmds := []*parser.Command{
		{Syntax: "hostname WORD$name", Help: []string{"Set system's network name", "This system's network name"}, Priv: 15, Handler: shell.Handler(setHostname)},
		{Syntax: "<no|default> hostname [WORD]", Help: []string{"Set system's network name", "This system's network name"}, Priv: 15, Handler: shell.Handler(noHostname)},

		{Syntax: "enable secret [<0|5|8|9>$type] LINE$text",
			Help: []string{helpEnable, "Assign the privileged level secret (MAX of 25 characters)",
				"Specifies an UNENCRYPTED password will follow", "Specifies a MD5 HASHED secret will follow",
				"Specifies a PBKDF2 HASHED secret will follow", "Specifies a SCRYPT HASHED secret will follow",
				"The UNENCRYPTED (cleartext) 'enable' secret"},
			Priv: 15, Handler: shell.Handler(enableSecret)},
		{Syntax: "<no|default> enable secret [LINE]", Help: []string{helpEnable, "Assign the privileged level secret (MAX of 25 characters)", "The UNENCRYPTED (cleartext) 'enable' secret"},
			Priv: 15, Handler: shell.Handler(noEnableSecret)},
		{Syntax: "enable password [<0|7>$type] LINE$text",
			Help: []string{helpEnable, "Assign the privileged level password (MAX of 25 characters)",
				"Specifies an UNENCRYPTED password will follow", "Specifies a HIDDEN password will follow",
				"The UNENCRYPTED (cleartext) 'enable' password"},
			Priv: 15, Handler: shell.Handler(enablePassword)},
		{Syntax: "<no|default> enable password [LINE]", Help: []string{helpEnable, "Assign the privileged level password (MAX of 25 characters)", "The UNENCRYPTED (cleartext) 'enable' password"},
			Priv: 15, Handler: shell.Handler(noEnablePassword)},

		{Syntax: "username WORD$name [privilege (0-15)$priv] secret [<0|5|8|9>$type] LINE$text",
			Help: []string{helpUsername, helpUserName, helpPrivilege, helpPrivLevel, "Specify the secret for the user",
				"Specifies an UNENCRYPTED secret will follow", "Specifies a MD5 HASHED secret will follow",
				"Specifies a PBKDF2 HASHED secret will follow", "Specifies a SCRYPT HASHED secret will follow",
				"The UNENCRYPTED (cleartext) user secret"},
			Priv: 15, Handler: userHandler(true)},
		{Syntax: "username WORD$name [privilege (0-15)$priv] password [<0|7>$type] LINE$text",
			Help: []string{helpUsername, helpUserName, helpPrivilege, helpPrivLevel, "Specify the password for the user",
				"Specifies an UNENCRYPTED password will follow", "Specifies a HIDDEN password will follow",
				"The UNENCRYPTED (cleartext) user password"},
			Priv: 15, Handler: userHandler(false)},
		{Syntax: "<no|default> username WORD$name", Help: []string{helpUsername, helpUserName}, Priv: 15, Handler: shell.Handler(noUsername)},

		{Syntax: "[no|default] service password-encryption", Help: []string{helpService, "Encrypt system passwords"}, Priv: 15, Handler: shell.Handler(servicePasswordEncryption)},
		{Syntax: "[no|default] ip domain-lookup", Help: []string{shell.HelpIP, helpDomain}, Priv: 15, Handler: shell.Handler(domainLookup)},
		{Syntax: "[no|default] ip domain lookup", Help: []string{shell.HelpIP, "IP DNS Resolver", helpDomainLook}, Priv: 15, Handler: shell.Handler(domainLookup)},

		{Syntax: "ip route A.B.C.D$prefix A.B.C.D$mask <A.B.C.D$hop|IFNAME$if [A.B.C.D$hop]> [(1-255)$dist]",
			Help: []string{shell.HelpIP, helpIPRoute, helpRoutePref, helpRouteMask, helpRouteHop, helpRouteIf, helpRouteHop, helpRouteDist},
			Priv: 15, Handler: shell.Handler(ipRoute)},
		{Syntax: "<no|default> ip route A.B.C.D$prefix A.B.C.D$mask <A.B.C.D$hop|IFNAME$if [A.B.C.D$hop]> [(1-255)$dist]",
			Help: []string{shell.HelpIP, helpIPRoute, helpRoutePref, helpRouteMask, helpRouteHop, helpRouteIf, helpRouteHop, helpRouteDist},
			Priv: 15, Handler: shell.Handler(ipRoute)},
	}
	if err := install(g, ms.Config, "system config", cfgCmds...); err != nil {
		return err
	}
	return install(g, ms.Config, "fixed defaults", fixedDefaults()...)
}

// noChange is the handler of a fixed default: the line is valid and the model already holds it.
func noChange(*shell.Context, parser.Args) error { return nil }

// fixedDefaults declares the lines every rendered configuration carries as fixed platform
// defaults (`service timestamps ...`, `ip cef`, `no ip http server`, ...). The model has no
// setting behind them: they are accepted, so that a saved configuration replays and a pasted
// IOS configuration does not fail on them, and they change nothing. Their other forms
// (`no ip cef`, `ip http server`) are not declared and are rejected with the caret.
func fixedDefaults() []*parser.Command {
	same := shell.Handler(noChange)
	return []*parser.Command{
		{Syntax: "service timestamps <debug|log> datetime msec",
			Help: []string{helpService, "Timestamp debug/log messages", "Timestamp debug messages", "Timestamp log messages",
				"Timestamp with date and time", "Include milliseconds in timestamp"}, Priv: 15, Handler: same},
		{Syntax: "boot-start-marker", Help: []string{"Boot Start Marker"}, Priv: 15, Handler: same},
		{Syntax: "boot-end-marker", Help: []string{"Boot End Marker"}, Priv: 15, Handler: same},
		{Syntax: "no aaa new-model", Help: []string{"Authentication, Authorization and Accounting.", "Enable NEW access control commands and functions.(Disables OLD commands.)"}, Priv: 15, Handler: same},
		{Syntax: "ip cef", Help: []string{shell.HelpIP, "Cisco Express Forwarding"}, Priv: 15, Handler: same},
		{Syntax: "ip forward-protocol nd", Help: []string{shell.HelpIP, "Controls forwarding of physical and directed IP broadcasts", "Sun's Network Disk protocol"}, Priv: 15, Handler: same},
		{Syntax: "no ip http <server|secure-server>", Help: []string{shell.HelpIP, "HTTP server configuration", "Enable HTTP server", "Enable HTTP secure server"}, Priv: 15, Handler: same},
		{Syntax: "control-plane", Help: []string{"Configure control plane services"}, Priv: 15, Handler: same},
	}
}

// ---- config handlers

// validHostname applies the rules of ios-cli.md §3.2 with IOS's messages.
func validHostname(n string) error {
	if len(n) > 63 {
		return shell.Msgf("%% Hostname too long; must be at most 63 characters")
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return shell.Msgf("%% Hostname contains one or more illegal characters.")
		}
	}
	if c := n[0]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return shell.Msgf("%% Hostname must start with a letter")
	}
	return nil
}

func setHostname(c *shell.Context, a parser.Args) error {
	n := a.Str("name")
	if err := validHostname(n); err != nil {
		return err
	}
	return apply(c, func(cfg *runningconfig.Config) error { cfg.Hostname = n; return nil })
}

func noHostname(c *shell.Context, _ parser.Args) error {
	return apply(c, func(cfg *runningconfig.Config) error { cfg.Hostname = runningconfig.DefaultHostname; return nil })
}

// secretType reads the optional encryption-type keyword (0 when absent).
func secretType(a parser.Args) int {
	if !a.Has("type") {
		return 0
	}
	var n int
	fmt.Sscanf(a.Str("type"), "%d", &n)
	return n
}

// secretError turns a runningconfig secret error into the IOS message.
func secretError(typ int, err error) error {
	return shell.Msgf("ERROR: The secret you entered is not a valid encrypted secret.\nTo enter an UNENCRYPTED secret, do not specify type %d encryption.\n\nWhen you properly enter an UNENCRYPTED secret, it will be encrypted.", typ)
}

func enableSecret(c *shell.Context, a parser.Args) error {
	typ := secretType(a)
	sec, err := runningconfig.NewSecret(typ, a.Str("text"))
	if err != nil {
		return secretError(typ, err)
	}
	return apply(c, func(cfg *runningconfig.Config) error { cfg.EnableSecret = sec; return nil })
}

func noEnableSecret(c *shell.Context, _ parser.Args) error {
	return apply(c, func(cfg *runningconfig.Config) error { cfg.EnableSecret = runningconfig.Secret{}; return nil })
}

func enablePassword(c *shell.Context, a parser.Args) error {
	typ := secretType(a)
	text := a.Str("text")
	return apply(c, func(cfg *runningconfig.Config) error {
		var p runningconfig.Password
		var err error
		if typ == 0 {
			p, err = cfg.NewPassword(text)
		} else {
			p, err = runningconfig.NewPasswordTyped(typ, text)
		}
		if err != nil {
			return shell.Msgf("Invalid encrypted password: %s", text)
		}
		cfg.EnablePassword = p
		return nil
	})
}

func noEnablePassword(c *shell.Context, _ parser.Args) error {
	return apply(c, func(cfg *runningconfig.Config) error { cfg.EnablePassword = runningconfig.Password{}; return nil })
}

// userHandler handles `username NAME [privilege N] secret|password ...`.
func userHandler(isSecret bool) shell.Handler {
	return func(c *shell.Context, a parser.Args) error { return username(c, a, isSecret) }
}

func username(c *shell.Context, a parser.Args, isSecret bool) error {
	name := a.Str("name")
	typ := secretType(a)
	text := a.Str("text")
	var sec runningconfig.Secret
	if isSecret {
		var err error
		// Hash outside the owner goroutine: scrypt takes tens of milliseconds.
		if sec, err = runningconfig.NewSecret(typ, text); err != nil {
			return secretError(typ, err)
		}
	}
	return apply(c, func(cfg *runningconfig.Config) error {
		u := runningconfig.NewUser(name)
		if old := cfg.User(name); old != nil {
			u.Privilege = old.Privilege
		}
		if a.Has("priv") {
			u.Privilege = a.Int("priv")
		}
		if isSecret {
			u.Secret = sec
		} else {
			var p runningconfig.Password
			var err error
			if typ == 0 {
				p, err = cfg.NewPassword(text)
			} else {
				p, err = runningconfig.NewPasswordTyped(typ, text)
			}
			if err != nil {
				return shell.Msgf("Invalid encrypted password: %s", text)
			}
			u.Password = p
		}
		cfg.SetUser(u)
		return nil
	})
}

func noUsername(c *shell.Context, a parser.Args) error {
	name := a.Str("name")
	return apply(c, func(cfg *runningconfig.Config) error { cfg.DeleteUser(name); return nil })
}

func servicePasswordEncryption(c *shell.Context, a parser.Args) error {
	on := !a.Has("no") && !a.Has("default")
	return apply(c, func(cfg *runningconfig.Config) error { return cfg.SetPasswordEncryption(on) })
}

func domainLookup(c *shell.Context, a parser.Args) error {
	on := !a.Has("no")
	return apply(c, func(cfg *runningconfig.Config) error { cfg.DomainLookup = on; return nil })
}

// maskBits checks that m is a contiguous netmask and returns its length.
func maskBits(m [4]byte) (int, bool) {
	v := uint32(m[0])<<24 | uint32(m[1])<<16 | uint32(m[2])<<8 | uint32(m[3])
	n := 0
	for n < 32 && v&(1<<(31-n)) != 0 {
		n++
	}
	if n < 32 && v<<n != 0 {
		return 0, false
	}
	return n, true
}

func ipRoute(c *shell.Context, a parser.Args) error {
	bits, ok := maskBits(a.IP("mask").As4())
	if !ok {
		return shell.Msgf("%%Inconsistent address and mask")
	}
	addr := a.IP("prefix")
	pfx, err := addr.Prefix(bits)
	if err != nil || pfx.Addr() != addr {
		return shell.Msgf("%%Inconsistent address and mask")
	}
	r := runningconfig.Route{Prefix: pfx, Interface: a.Str("if"), NextHop: a.IP("hop"), Distance: a.Int("dist")}
	if a.Has("no") || a.Has("default") {
		return apply(c, func(cfg *runningconfig.Config) error {
			if !cfg.DeleteRoute(r) {
				return shell.Msgf("%%No matching route to delete")
			}
			return nil
		})
	}
	return apply(c, func(cfg *runningconfig.Config) error { cfg.AddRoute(r); return nil })
}

// ---- exec handlers

// Uptime renders a duration in the `show version` grammar: "1 day, 16 hours, 42 minutes"
// (zero units omitted, singular without s).
func Uptime(d time.Duration) string {
	mins := int64(d / time.Minute)
	units := []struct {
		n    int64
		name string
	}{{525600, "year"}, {10080, "week"}, {1440, "day"}, {60, "hour"}, {1, "minute"}}
	var parts []string
	for _, u := range units {
		v := mins / u.n
		mins -= v * u.n
		if v == 0 {
			continue
		}
		s := fmt.Sprintf("%d %s", v, u.name)
		if v != 1 {
			s += "s"
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "0 minutes"
	}
	return strings.Join(parts, ", ")
}

func showVersion(c *shell.Context, _ parser.Args) error {
	app := c.App
	ver := app.Version()
	if ver == "" {
		ver = "15.6(3)TB1"
	}
	cfg := c.Config.Running()
	nIf := 0
	for _, i := range cfg.Interfaces {
		if runningconfig.IsPhysical(i.Name) {
			nIf++
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	host := app.Hostname()
	c.Printf("Tunnelbox Software (TUNNELBOX-%s), Version %s, RELEASE SOFTWARE (tb1)\n", strings.ToUpper(runtime.GOARCH), ver)
	c.Printf("Technical Support: https://github.com/tunnelbox/tunnelbox\n")
	c.Printf("Copyright (c) 2026 by the Tunnelbox authors.\n")
	c.Printf("Compiled with %s\n\n\n", runtime.Version())
	c.Printf("ROM: Bootstrap program is Tunnelbox\n\n")
	c.Printf("%s uptime is %s\n", host, Uptime(app.Now().Sub(app.Boot())))
	c.Printf("System returned to ROM by reload\n")
	c.Printf("System image file is \"flash0:/tunnelbox-%s\"\n", runtime.GOARCH)
	c.Printf("Last reload reason: Unknown reason\n\n\n\n")
	c.Printf("This product contains cryptographic features (IKEv1, ESP). Use of them may be subject\n")
	c.Printf("to the import, export and use laws of your country.\n\n")
	c.Printf("Tunnelbox (%s) processor (revision 1.0) with %dK/0K bytes of memory.\n", runtime.GOARCH, ms.Sys/1024)
	c.Printf("Processor board ID TB%014d\n", 1)
	c.Printf("%d Gigabit Ethernet interfaces\n", nIf)
	c.Printf("256K bytes of non-volatile configuration memory.\n\n")
	c.Printf("Configuration register is 0x2102\n")
	return nil
}

func showClock(c *shell.Context, _ parser.Args) error {
	t := c.App.Now().UTC()
	c.Printf("*%s UTC %s\n", t.Format("15:04:05.000"), t.Format("Mon Jan 2 2006"))
	return nil
}

// RunningText is the `show running-config` output for cfg.
func RunningText(cfg *runningconfig.Config) string {
	return runningconfig.Render(cfg)
}

func showRunning(c *shell.Context, _ parser.Args) error {
	c.Printf("%s", RunningText(c.Config.Running()))
	return nil
}

func showStartup(c *shell.Context, _ parser.Args) error {
	if c.Store == nil {
		c.Printf("startup-config is not present\n")
		return nil
	}
	text, ok, err := c.Store.Startup()
	if err != nil {
		return shell.Msgf("%%Error opening nvram:startup-config (%s)", shortErr(err))
	}
	if !ok {
		c.Printf("startup-config is not present\n")
		return nil
	}
	c.Printf("Using %d out of %d bytes\n%s", len(text), runningconfig.NVRAMSize, text)
	return nil
}

func shortErr(err error) string {
	t := err.Error()
	if i := strings.LastIndex(t, ": "); i >= 0 {
		return t[i+2:]
	}
	return t
}

// save writes the running configuration to the startup-config; `[OK]` only after the store
// committed (ios ecosystem B4).
func save(c *shell.Context) error {
	c.Printf("Building configuration...\n")
	if c.Store == nil {
		return shell.Msgf("%%Error writing nvram:startup-config (no store)")
	}
	if err := c.Store.SaveStartup(runningconfig.StartupText(c.Config.Running())); err != nil {
		return shell.Msgf("%%Error writing nvram:startup-config (%s)", shortErr(err))
	}
	c.Printf("[OK]\n")
	return nil
}

func writeMemory(c *shell.Context, _ parser.Args) error { return save(c) }

func copyRunStart(c *shell.Context, _ parser.Args) error {
	ans, err := c.ReadLine("Destination filename [startup-config]? ")
	if err != nil && err != shell.ErrNoInput {
		return err
	}
	if a := strings.TrimSpace(ans); a != "" && a != "startup-config" && a != "nvram:startup-config" {
		return shell.Msgf("%%Error opening nvram:%s (Permission denied)", a)
	}
	return save(c)
}

func eraseStartup(c *shell.Context, _ parser.Args) error {
	ok, err := c.Confirm("Erasing the nvram filesystem will remove all configuration files! Continue? [confirm]")
	if err != nil {
		return err
	}
	if !ok {
		return nil
	}
	if c.Store == nil {
		return shell.Msgf("%%Error erasing nvram: (no store)")
	}
	if err := c.Store.EraseStartup(); err != nil {
		return shell.Msgf("%%Error erasing nvram: (%s)", shortErr(err))
	}
	c.Printf("[OK]\nErase of nvram: complete\n")
	c.Log("%%SYS-7-NV_BLOCK_INIT: Initialized the geometry of nvram")
	return nil
}

func reload(c *shell.Context, _ parser.Args) error {
	if c.Store != nil {
		saved, ok, err := c.Store.Startup()
		if err != nil {
			return shell.Msgf("%%Error opening nvram:startup-config (%s)", shortErr(err))
		}
		if !ok || saved != runningconfig.StartupText(c.Config.Running()) {
			for {
				ans, err := c.ReadLine("System configuration has been modified. Save? [yes/no]: ")
				if err != nil {
					return err
				}
				ans = strings.ToLower(strings.TrimSpace(ans))
				if ans != "" && strings.HasPrefix("yes", ans) {
					if err := save(c); err != nil {
						return err
					}
					break
				}
				if ans != "" && strings.HasPrefix("no", ans) {
					break
				}
				c.Printf("%% Please answer 'yes' or 'no'.\n")
			}
		}
	}
	ok, err := c.Confirm("Proceed with reload? [confirm]")
	if err != nil {
		return err
	}
	if !ok {
		return nil
	}
	c.Log("%%SYS-5-RELOAD: Reload requested by %s. Reload Reason: Reload Command.", reloadedBy(c.Session))
	errs, err := c.App.Reload()
	if err != nil {
		return shell.Msgf("%% Reload failed: %s", shortErr(err))
	}
	for _, e := range errs {
		c.Log("%%PARSER-4-BADCFG: Unexpected end of configuration file or invalid line %d: %s", e.LineNo, e.Line)
	}
	c.Session.SetPrivilege(c.Session.Options().Privilege)
	return nil
}

func reloadedBy(s *shell.Session) string {
	o := s.Options()
	if s.IsConsole() {
		return "console"
	}
	if o.User != "" {
		return o.User + " on " + strings.ReplaceAll(o.Line, " ", "")
	}
	return strings.ReplaceAll(o.Line, " ", "")
}

// showArchive lists the saved revisions of the startup-config kept in the store (every write
// memory adds one), in the shape of IOS `show archive`.
func showArchive(c *shell.Context, _ parser.Args) error {
	if c.Store == nil {
		return shell.Msgf("%%Archive feature not enabled")
	}
	revs, err := c.Store.Archive()
	if err != nil {
		return shell.Msgf("%%Error reading the archive (%s)", shortErr(err))
	}
	next := uint64(1)
	if n := len(revs); n > 0 {
		next = revs[n-1].Seq + 1
	}
	c.Printf("The maximum archive configurations allowed is %d.\n", runningconfig.ArchiveRevisions)
	c.Printf("The next archive file will be named nvram:archive-%d\n", next)
	c.Printf(" Archive #  Name\n")
	for i, r := range revs {
		mark := ""
		if i == len(revs)-1 {
			mark = " <- Most Recent"
		}
		c.Printf("   %-8d nvram:archive-%d (%d bytes, saved %s)%s\n", i+1, r.Seq, len(r.Text),
			r.Saved.UTC().Format("Jan 2 2006 15:04:05 UTC"), mark)
	}
	return nil
}
