package netif

import "testing"

func TestNameMapping(t *testing.T) {
	for _, c := range []struct{ linux, ios string }{
		{"eth0", "GigabitEthernet0/0"},
		{"eth7", "GigabitEthernet0/7"},
		{"eth12", "GigabitEthernet0/12"},
	} {
		if got, ok := IOSName(c.linux); !ok || got != c.ios {
			t.Errorf("IOSName(%q) = %q, %v", c.linux, got, ok)
		}
		if got, ok := LinuxName(c.ios); !ok || got != c.linux {
			t.Errorf("LinuxName(%q) = %q, %v", c.ios, got, ok)
		}
	}
	for _, bad := range []string{"lo", "eth", "eth01", "eth-1", "eth1.10", "ethx", "veth0", "eth99999999999", "eth 1"} {
		if got, ok := IOSName(bad); ok {
			t.Errorf("IOSName(%q) = %q", bad, got)
		}
	}
	for _, bad := range []string{"Loopback0", "GigabitEthernet0/1.10", "GigabitEthernet1/0", "GigabitEthernet0/", "GigabitEthernet0/01", "Tunnel0"} {
		if got, ok := LinuxName(bad); ok {
			t.Errorf("LinuxName(%q) = %q", bad, got)
		}
	}
}

func TestStatusColumns(t *testing.T) {
	for _, c := range []struct {
		k             Link
		status, proto string
	}{
		{Link{AdminUp: false, OperUp: false}, "administratively down", "down"},
		{Link{AdminUp: true, OperUp: false}, "down", "down"},
		{Link{AdminUp: true, OperUp: true}, "up", "up"},
	} {
		if c.k.Status() != c.status || c.k.Protocol() != c.proto {
			t.Errorf("%+v: %q/%q, want %q/%q", c.k, c.k.Status(), c.k.Protocol(), c.status, c.proto)
		}
	}
}
