package runningconfig

import (
	"fmt"
	"net/netip"
	"testing"
)

// largeConfig builds a configuration with n interfaces (every fourth with two secondaries),
// n static routes, n/10 users and a Part, about 5n entries in all.
func largeConfig(tb testing.TB, n int) *Config {
	c := Default()
	c.Hostname = "BIG"
	secret := Secret{Type: 9, Hash: "$9$2MJBozw/9R3UsU$2lFhcKvpghcyw8deP25GOfyZaagyUOGBymkryvOdfo6"}
	for i := 0; i < n/10; i++ {
		c.Users = append(c.Users, User{Name: fmt.Sprintf("user%d", i), Privilege: 15, Secret: secret})
	}
	for i := 0; i < n; i++ {
		f := NewInterface(fmt.Sprintf("GigabitEthernet%d/%d", i/256, i%256))
		f.Description = fmt.Sprintf("port %d to site %d", i, i*7)
		a := netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 1})
		f.Address = netip.PrefixFrom(a, 30)
		f.Shutdown = i%3 == 0
		if i%4 == 0 {
			f.Secondary = []netip.Prefix{
				netip.PrefixFrom(netip.AddrFrom4([4]byte{172, 16 + byte(i>>8), byte(i), 1}), 30),
				netip.PrefixFrom(netip.AddrFrom4([4]byte{172, 16 + byte(i>>8), byte(i), 5}), 30),
			}
		}
		c.Interfaces = append(c.Interfaces, f)
	}
	for i := 0; i < n; i++ {
		c.Routes = append(c.Routes, Route{
			Prefix:  netip.PrefixFrom(netip.AddrFrom4([4]byte{192, byte(i >> 8), byte(i), 0}), 24),
			NextHop: netip.AddrFrom4([4]byte{10, 0, 0, 2}),
		})
	}
	c.SetPart("test-acl", &testPart{lines: map[Slot][]string{SlotNumberedACL: {"access-list 101 permit ip any any"}}})
	if err := c.Validate(); err != nil {
		tb.Fatal(err)
	}
	return c
}

func BenchmarkRender(b *testing.B) {
	for _, n := range []int{100, 1000, 5000} {
		c := largeConfig(b, n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			var size int
			for b.Loop() {
				size = len(Render(c))
			}
			b.ReportMetric(float64(size), "bytes/config")
		})
	}
}

func BenchmarkClone(b *testing.B) {
	for _, n := range []int{100, 1000, 5000} {
		c := largeConfig(b, n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = c.Clone()
			}
		})
	}
}

// BenchmarkApply measures one small edit on a large running configuration: clone, edit,
// validate (including the overlap check over every address), commit.
func BenchmarkApply(b *testing.B) {
	m := NewManager(largeConfig(b, 5000))
	defer m.Close()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if err := m.Apply(func(c *Config) error { c.Interfaces[0].Description = fmt.Sprint(i); return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

func TestLargeConfigRoundTrip(t *testing.T) {
	c := largeConfig(t, 5000)
	if err := c.Clone().Validate(); err != nil {
		t.Fatal(err)
	}
	if Render(c.Clone()) != Render(c) {
		t.Fatal("clone renders differently")
	}
}
