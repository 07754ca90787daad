package commands

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/tunnelbox/tunnelbox/parser"
	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
	"github.com/tunnelbox/tunnelbox/shell"
)

// Help strings of the interface sub-mode.
const (
	helpInterface   = "Select an interface to configure"
	helpIfIP        = "Interface Internet Protocol config commands"
	helpIfAddress   = "Set the IP address of an interface"
	helpIfAddr      = "IP address"
	helpIfMask      = "IP subnet mask"
	helpIfSecondary = "Make this IP address a secondary address"
	helpDescription = "Interface specific description"
	helpDescLine    = "Up to 240 characters describing this interface"
	helpShutdown    = "Shutdown the selected interface"
)

// RegisterInterface installs `interface NAME` and its sub-mode, and the interface show
// commands (ios-cli.md §3.2, §4.10).
func RegisterInterface(app *shell.App) error {
	g, ms := app.Grammar(), app.Modes()
	ifMode := &parser.Mode{Name: shell.ModeInterface, Prompt: "(config-if)#", Header: "Interface configuration commands:"}
	if err := ms.Add(g, ifMode); err != nil {
		return err
	}
	enter := func(c *shell.Context, a parser.Args) error {
		name := a.Str("if")
		if err := apply(c, func(cfg *runningconfig.Config) error { cfg.EnsureInterface(name); return nil }); err != nil {
			return err
		}
		c.Push(ifMode, name)
		return nil
	}
	cfgCmds := []*parser.Command{
		{Syntax: "interface IFNAME$if", Help: []string{helpInterface, "Interface name"}, Priv: 15, Handler: shell.Handler(enter)},
		{Syntax: "<no|default> interface IFNAME$if", Help: []string{helpInterface, "Interface name"}, Priv: 15, Handler: shell.Handler(noInterface)},
	}
	if err := install(g, ms.Config, "interface config", cfgCmds...); err != nil {
		return err
	}
	ifCmds := []*parser.Command{
		{Syntax: "description LINE$text", Help: []string{helpDescription, helpDescLine}, Priv: 15, Handler: shell.Handler(ifDescription)},
		{Syntax: "<no|default> description [LINE]", Help: []string{helpDescription, helpDescLine}, Priv: 15, Handler: shell.Handler(ifDescription)},
		{Syntax: "ip address A.B.C.D$addr A.B.C.D$mask [secondary]$sec",
			Help: []string{helpIfIP, helpIfAddress, helpIfAddr, helpIfMask, helpIfSecondary}, Priv: 15, Handler: shell.Handler(ifAddress)},
		{Syntax: "<no|default> ip address [A.B.C.D$addr A.B.C.D$mask [secondary]$sec]",
			Help: []string{helpIfIP, helpIfAddress, helpIfAddr, helpIfMask, helpIfSecondary}, Priv: 15, Handler: shell.Handler(ifAddress)},
		{Syntax: "[no|default] shutdown", Help: []string{helpShutdown}, Priv: 15, Handler: shell.Handler(ifShutdown)},
		// Fixed platform defaults rendered for every physical port (see fixedDefaults).
		{Syntax: "duplex auto", Help: []string{"Configure duplex operation.", "Enable AUTO duplex configuration"}, Priv: 15, Handler: shell.Handler(noChange)},
		{Syntax: "speed auto", Help: []string{"Configure speed operation.", "Enable AUTO speed configuration"}, Priv: 15, Handler: shell.Handler(noChange)},
	}
	if err := install(g, ifMode, "interface sub-mode", ifCmds...); err != nil {
		return err
	}
	execCmds := []*parser.Command{
		{Syntax: "show ip interface brief", Help: []string{shell.HelpShow, "IP information", "IP interface status and configuration", "Brief summary of IP status and configuration"},
			Priv: 1, Handler: shell.Handler(showIPIntBrief)},
		{Syntax: "show running-config interface IFNAME$if", Help: []string{shell.HelpShow, helpRunning, "Show interface configuration", "Interface name"},
			Priv: 15, Handler: shell.Handler(showRunningInterface)},
		{Syntax: "show interfaces [IFNAME$if]", Help: []string{shell.HelpShow, "Interface status and configuration", "Interface name"},
			Priv: 1, Handler: shell.Handler(showInterfaces)},
	}
	return install(g, ms.Exec, "interface show", execCmds...)
}

// current is the interface the sub-mode edits.
func current(c *shell.Context) string {
	n, _ := c.State().(string)
	return n
}

// editIf applies f to the current interface.
func editIf(c *shell.Context, f func(cfg *runningconfig.Config, i *runningconfig.Interface) error) error {
	name := current(c)
	return apply(c, func(cfg *runningconfig.Config) error { return f(cfg, cfg.EnsureInterface(name)) })
}

func noInterface(c *shell.Context, a parser.Args) error {
	name := a.Str("if")
	if runningconfig.IsPhysical(name) {
		// IOS cannot remove hardware; `default interface` resets it.
		return apply(c, func(cfg *runningconfig.Config) error {
			*cfg.EnsureInterface(name) = runningconfig.NewInterface(name)
			return nil
		})
	}
	return apply(c, func(cfg *runningconfig.Config) error { cfg.DeleteInterface(name); return nil })
}

func ifDescription(c *shell.Context, a parser.Args) error {
	text := a.Raw("text")
	if a.Has("no") || a.Has("default") {
		text = ""
	}
	if len(text) > 240 {
		text = text[:240]
	}
	return editIf(c, func(_ *runningconfig.Config, i *runningconfig.Interface) error { i.Description = text; return nil })
}

// ifPrefix validates `ip address A M` the IOS way.
func ifPrefix(a parser.Args) (netip.Prefix, error) {
	addr, mask := a.IP("addr"), a.IP("mask")
	m := mask.As4()
	bits, ok := maskBits(m)
	if !ok || bits == 0 {
		return netip.Prefix{}, shell.Msgf("Bad mask 0x%02X%02X%02X%02X for address %s", m[0], m[1], m[2], m[3], addr)
	}
	p := netip.PrefixFrom(addr, bits)
	if bits < 31 {
		host := addr.As4()
		var zero, ones = true, true
		for i := 0; i < 4; i++ {
			hm := ^m[i]
			if host[i]&hm != 0 {
				zero = false
			}
			if host[i]&hm != hm {
				ones = false
			}
		}
		if zero || ones {
			return netip.Prefix{}, shell.Msgf("Bad mask /%d for address %s", bits, addr)
		}
	}
	return p, nil
}

func ifAddress(c *shell.Context, a parser.Args) error {
	neg := a.Has("no") || a.Has("default")
	if neg && !a.Has("addr") {
		return editIf(c, func(_ *runningconfig.Config, i *runningconfig.Interface) error {
			i.Address, i.Secondary = netip.Prefix{}, nil
			return nil
		})
	}
	p, err := ifPrefix(a)
	if err != nil {
		return err
	}
	sec := a.Has("sec")
	return editIf(c, func(_ *runningconfig.Config, i *runningconfig.Interface) error {
		switch {
		case neg && sec:
			out := i.Secondary[:0]
			found := false
			for _, s := range i.Secondary {
				if s == p {
					found = true
					continue
				}
				out = append(out, s)
			}
			if !found {
				return shell.Msgf("Error: Address %s not found", p.Addr())
			}
			i.Secondary = out
		case neg:
			if i.Address != p {
				return shell.Msgf("Invalid address")
			}
			if len(i.Secondary) > 0 {
				return shell.Msgf("Must delete secondary before deleting primary")
			}
			i.Address = netip.Prefix{}
		case sec:
			// A saved configuration lists secondaries before the primary, so a secondary
			// without a primary is accepted.
			for _, s := range i.Secondary {
				if s == p {
					return nil
				}
			}
			i.Secondary = append(i.Secondary, p)
		default:
			i.Address = p
		}
		return nil
	})
}

func ifShutdown(c *shell.Context, a parser.Args) error {
	down := !a.Has("no")
	if a.Has("default") {
		down = runningconfig.IsPhysical(current(c))
	}
	name := current(c)
	var was bool
	err := editIf(c, func(_ *runningconfig.Config, i *runningconfig.Interface) error {
		was = i.Shutdown
		i.Shutdown = down
		return nil
	})
	if err != nil || was == down {
		return err
	}
	if down {
		c.Log("%%LINK-5-CHANGED: Interface %s, changed state to administratively down", name)
		c.Log("%%LINEPROTO-5-UPDOWN: Line protocol on Interface %s, changed state to down", name)
	} else {
		c.Log("%%LINK-3-UPDOWN: Interface %s, changed state to up", name)
		c.Log("%%LINEPROTO-5-UPDOWN: Line protocol on Interface %s, changed state to up", name)
	}
	return nil
}

// ifStatus is the Status / Protocol pair of an interface: the real state of a hardware port
// the platform reports (ports), the configured state otherwise.
func ifStatus(i *runningconfig.Interface, ports map[string]shell.PortState) (status, proto string) {
	if p, ok := ports[i.Name]; ok {
		return p.Status(), p.Protocol()
	}
	if i.Shutdown {
		return "administratively down", "down"
	}
	return "up", "up"
}

// ports reads the platform's port state; a failure is reported and the configured state shown.
func ports(c *shell.Context) map[string]shell.PortState {
	p, err := c.App.Ports()
	if err != nil {
		c.Printf("%% %v\n", err)
		return nil
	}
	return p
}

// ciscoMAC writes a MAC address the IOS way: 0050.56a1.0b2c.
func ciscoMAC(m net.HardwareAddr) string {
	if len(m) != 6 {
		return ""
	}
	return fmt.Sprintf("%02x%02x.%02x%02x.%02x%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

func showIPIntBrief(c *shell.Context, _ parser.Args) error {
	cfg := c.Config.Running()
	boot := c.App.BootConfig()
	pst := ports(c)
	c.Printf("%-27s%-16s%-4s%-7s%-22s%s\n", "Interface", "IP-Address", "OK?", "Method", "Status", "Protocol")
	for k := range cfg.Interfaces {
		i := &cfg.Interfaces[k]
		addr, method := "unassigned", "unset"
		if i.Address.IsValid() {
			addr, method = i.Address.Addr().String(), "manual"
			if boot != nil {
				if b := boot.Interface(i.Name); b != nil && b.Address == i.Address {
					method = "NVRAM"
				}
			}
		}
		st, pr := ifStatus(i, pst)
		c.Printf("%-27s%-16s%-4s%-7s%-22s%s\n", i.Name, addr, "YES", method, st, pr)
	}
	return nil
}

func showInterfaces(c *shell.Context, a parser.Args) error {
	cfg := c.Config.Running()
	want := a.Str("if")
	pst := ports(c)
	found := false
	for k := range cfg.Interfaces {
		i := &cfg.Interfaces[k]
		if want != "" && i.Name != want {
			continue
		}
		found = true
		st, pr := ifStatus(i, pst)
		c.Printf("%s is %s, line protocol is %s\n", i.Name, st, pr)
		port, real := pst[i.Name]
		hw := "iGbE"
		switch {
		case strings.HasPrefix(i.Name, "Loopback"):
			hw = "Loopback"
		case strings.HasPrefix(i.Name, "Tunnel"):
			hw = "Tunnel"
		}
		if mac := ciscoMAC(port.MAC); real && mac != "" {
			c.Printf("  Hardware is %s, address is %s (bia %s)\n", hw, mac, mac)
		} else {
			c.Printf("  Hardware is %s\n", hw)
		}
		if i.Description != "" {
			c.Printf("  Description: %s\n", i.Description)
		}
		if i.Address.IsValid() {
			c.Printf("  Internet address is %s\n", i.Address)
		}
		mtu, bw := 1500, 1000000
		if hw == "Loopback" {
			mtu, bw = 1514, 8000000
		} else if hw == "Tunnel" {
			mtu, bw = 17916, 100
		}
		if real && port.MTU > 0 {
			mtu = port.MTU
		}
		c.Printf("  MTU %d bytes, BW %d Kbit/sec, DLY 10 usec,\n", mtu, bw)
		c.Printf("     reliability 255/255, txload 1/255, rxload 1/255\n")
	}
	if want != "" && !found {
		return shell.Msgf("%s", fmt.Sprintf("%% Interface %s not found", want))
	}
	return nil
}

// showRunningInterface prints one interface block of the running configuration with the
// show header, its byte count and `end` (ios-cli.md §4.11).
func showRunningInterface(c *shell.Context, a parser.Args) error {
	name := a.Str("if")
	body := runningconfig.Body(c.Config.Running())
	var block []string
	in := false
	for _, l := range strings.Split(body, "\n") {
		switch {
		case l == "interface "+name:
			in = true
			block = append(block, l)
		case in && strings.HasPrefix(l, " "):
			block = append(block, l)
		case in:
			in = false
		}
	}
	if len(block) == 0 {
		return c.InvalidInput(strings.LastIndex(c.Line(), a.Raw("if")))
	}
	text := "!\n" + strings.Join(block, "\n") + "\nend\n"
	c.Printf("%s%s", runningconfig.Header(text), text)
	return nil
}
