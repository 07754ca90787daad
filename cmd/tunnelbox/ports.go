package main

import (
	"fmt"

	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
	"github.com/tunnelbox/tunnelbox/running-config/netif"
	"github.com/tunnelbox/tunnelbox/shell"
)

// ports connects the router's hardware interfaces to the Linux links of its network
// namespace (running-config/netif): every link ethN is the port GigabitEthernet0/N.
//
// At boot each link appears as its port, `shutdown` when the link is down and `no shutdown`
// when it is up; nothing is changed on a link until the configuration changes that port's
// address or shutdown state (the startup-config does, for every port it lists). From then on
// the link carries exactly the configured IPv4 addresses and follows shutdown / no shutdown.
// A GigabitEthernet interface without a link is refused, as IOS refuses a port the chassis
// lacks. `show ip interface brief` and `show interfaces` show the links' real state.
//
// Static routes (`ip route`) that resolve to a port are programmed into the namespace's main
// table, marked as this router's (netif.RouteProtocol); routes the router did not add are
// never touched. The marked routes a previous run left are removed when the ports attach.
type ports struct {
	links *netif.Links
}

// openPorts opens the namespace's links and adds their ports to the configuration (before any
// subscriber, so the links are not touched).
func openPorts(cfg *runningconfig.Manager) (*ports, error) {
	l, err := netif.Open()
	if err != nil {
		return nil, fmt.Errorf("--links: %w", err)
	}
	p := &ports{links: l}
	if err := cfg.Apply(p.addPorts); err != nil {
		l.Close()
		return nil, fmt.Errorf("--links: %w", err)
	}
	return p, nil
}

// addPorts adds every link's port that c lacks, with the link's admin state.
func (p *ports) addPorts(c *runningconfig.Config) error {
	links, err := p.links.List()
	if err != nil {
		return err
	}
	for _, k := range links {
		if c.Interface(k.IOSName) == nil {
			c.EnsureInterface(k.IOSName).Shutdown = !k.AdminUp
		}
	}
	return nil
}

// reset is the configuration a reload starts from: the defaults and the ports.
func (p *ports) reset() *runningconfig.Config {
	c := runningconfig.Default()
	if err := p.addPorts(c); err != nil {
		return runningconfig.Default()
	}
	return c
}

// attach makes configuration changes apply to the links (failures are logged on the app, as
// IOS logs what it cannot apply) and gives the show commands the links' state.
func (p *ports) attach(cfg *runningconfig.Manager, app *shell.App) {
	p.links.OnError = func(err error) { app.Logf("%%LINK-3-NETLINK: %v", err) }
	cfg.Subscribe(p.links)
	if err := p.links.SyncRoutes(cfg.Running()); err != nil {
		p.links.OnError(err)
	}
	app.SetPorts(p.state)
}

// state is the links' state by IOS name.
func (p *ports) state() (map[string]shell.PortState, error) {
	links, err := p.links.List()
	if err != nil {
		return nil, err
	}
	m := make(map[string]shell.PortState, len(links))
	for _, k := range links {
		m[k.IOSName] = shell.PortState{AdminUp: k.AdminUp, OperUp: k.OperUp, MAC: k.MAC, MTU: k.MTU}
	}
	return m, nil
}

func (p *ports) close() { p.links.Close() }
