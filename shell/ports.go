package shell

import (
	"net"
	"sync"
)

// PortState is the state of a hardware port as the platform sees it (cmd/tunnelbox: the Linux
// link behind a GigabitEthernet interface).
type PortState struct {
	AdminUp bool // the link is up (`no shutdown` applied)
	OperUp  bool // carrier and operational state up
	MAC     net.HardwareAddr
	MTU     int
}

// Status is the IOS interface status column: "up", "down" or "administratively down".
func (p PortState) Status() string {
	switch {
	case !p.AdminUp:
		return "administratively down"
	case p.OperUp:
		return "up"
	}
	return "down"
}

// Protocol is the IOS line protocol column: "up" or "down".
func (p PortState) Protocol() string {
	if p.AdminUp && p.OperUp {
		return "up"
	}
	return "down"
}

// portSlot holds the platform's port state source.
type portSlot struct {
	mu sync.Mutex
	f  func() (map[string]PortState, error)
}

// SetPorts attaches the platform's ports: f returns the state of every hardware port by full
// IOS name, read at the time of the call. `show ip interface brief` and `show interfaces` then
// report the real state of those ports instead of the configured one. nil detaches.
func (a *App) SetPorts(f func() (map[string]PortState, error)) {
	a.ports.mu.Lock()
	a.ports.f = f
	a.ports.mu.Unlock()
}

// Ports returns the state of the platform's hardware ports by IOS name; nil and no error when
// no platform is attached (the router's ports exist in the configuration only).
func (a *App) Ports() (map[string]PortState, error) {
	a.ports.mu.Lock()
	f := a.ports.f
	a.ports.mu.Unlock()
	if f == nil {
		return nil, nil
	}
	return f()
}
