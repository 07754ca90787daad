package runningconfig

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestCompareIfNames(t *testing.T) {
	want := []string{
		"Loopback0", "Loopback1", "Loopback10",
		"Tunnel0", "Tunnel6",
		"Virtual-Template1",
		"GigabitEthernet0/0", "GigabitEthernet0/0.10", "GigabitEthernet0/0.200", "GigabitEthernet0/1",
		"GigabitEthernet0/2", "GigabitEthernet0/10", "GigabitEthernet1/0",
	}
	got := slices.Clone(want)
	slices.Reverse(got)
	slices.SortFunc(got, CompareIfNames)
	if !slices.Equal(got, want) {
		t.Errorf("sorted = %v\nwant     %v", got, want)
	}
	for _, n := range want {
		if !ValidIfName(n) {
			t.Errorf("ValidIfName(%q) = false", n)
		}
	}
	for _, bad := range []string{"", "Gi", "0/1", "GigabitEthernet0/", "GigabitEthernet0//1", "GigabitEthernet0/1.", "Gig abit0/1", "GigabitEthernet00/1", "GigabitEthernet-1"} {
		if ValidIfName(bad) {
			t.Errorf("ValidIfName(%q) = true", bad)
		}
	}
	if !IsPhysical("GigabitEthernet0/3") || IsPhysical("Loopback0") || IsPhysical("Tunnel1") {
		t.Error("IsPhysical wrong")
	}
}

func TestInterfaceHelpers(t *testing.T) {
	c := Default()
	for _, n := range []string{"GigabitEthernet0/10", "Loopback0", "GigabitEthernet0/2", "Tunnel1", "GigabitEthernet0/2"} {
		c.EnsureInterface(n)
	}
	var names []string
	for _, f := range c.Interfaces {
		names = append(names, f.Name)
	}
	if want := []string{"Loopback0", "Tunnel1", "GigabitEthernet0/2", "GigabitEthernet0/10"}; !slices.Equal(names, want) {
		t.Fatalf("interfaces %v, want %v", names, want)
	}
	if !c.Interface("GigabitEthernet0/2").Shutdown || c.Interface("Loopback0").Shutdown {
		t.Error("default shutdown state wrong: physical ports start shut, loopbacks up")
	}
	if c.Interface("GigabitEthernet0/3") != nil || !c.DeleteInterface("Tunnel1") || c.DeleteInterface("Tunnel1") {
		t.Error("Interface/DeleteInterface wrong")
	}
}

func TestRouteHelpers(t *testing.T) {
	c := Default()
	nh := netip.MustParseAddr("10.0.0.254")
	c.AddRoute(Route{Prefix: pfx("10.1.0.0/16"), NextHop: nh})
	c.AddRoute(Route{Prefix: pfx("0.0.0.0/0"), NextHop: nh})
	c.AddRoute(Route{Prefix: pfx("10.1.0.0/24"), NextHop: nh})
	c.AddRoute(Route{Prefix: pfx("10.1.0.0/16"), NextHop: nh, Distance: 250}) // replaces
	if len(c.Routes) != 3 || c.Routes[0].Prefix.Bits() != 0 || c.Routes[1].Distance != 250 || c.Routes[2].Prefix.Bits() != 24 {
		t.Fatalf("routes = %+v", c.Routes)
	}
	if !c.DeleteRoute(Route{Prefix: pfx("10.1.0.0/16"), NextHop: nh}) || len(c.Routes) != 2 {
		t.Fatal("DeleteRoute ignored distance-free key")
	}
}

func TestUserHelpers(t *testing.T) {
	c := Default()
	c.SetUser(NewUser("b"))
	c.SetUser(NewUser("a"))
	u := NewUser("b")
	u.Privilege = 15
	c.SetUser(u)
	if len(c.Users) != 2 || c.Users[0].Name != "b" || c.Users[0].Privilege != 15 {
		t.Fatalf("users = %+v (IOS keeps configuration order)", c.Users)
	}
	if !c.DeleteUser("b") || c.User("b") != nil || c.DeleteUser("b") {
		t.Fatal("DeleteUser wrong")
	}
}

func lineShape(c *Config) string {
	var s []string
	for _, l := range c.Lines {
		s = append(s, fmt.Sprintf("%s %d-%d/%d", l.Kind, l.First, l.Last, l.ExecMinutes))
	}
	return strings.Join(s, " ")
}

func TestLineBlocks(t *testing.T) {
	cases := []struct {
		name        string
		first, last int
		wantBlocks  int
		want        string
	}{
		{"whole default block", 0, 4, 1, "con 0-0/10 aux 0-0/10 vty 0-4/1"},
		{"inside the block", 2, 3, 1, "con 0-0/10 aux 0-0/10 vty 0-1/10 vty 2-3/1 vty 4-4/10"},
		{"across existing and new", 3, 7, 2, "con 0-0/10 aux 0-0/10 vty 0-2/10 vty 3-4/1 vty 5-7/1"},
		{"all vty", 0, 15, 2, "con 0-0/10 aux 0-0/10 vty 0-4/1 vty 5-15/1"},
		{"single new", 9, 9, 1, "con 0-0/10 aux 0-0/10 vty 0-4/10 vty 9-9/1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			blocks := c.LineBlocks(LineVTY, tc.first, tc.last)
			if len(blocks) != tc.wantBlocks {
				t.Fatalf("%d blocks, want %d", len(blocks), tc.wantBlocks)
			}
			for _, b := range blocks {
				b.ExecMinutes = 1
			}
			if got := lineShape(c); got != tc.want {
				t.Errorf("lines = %s\nwant    %s", got, tc.want)
			}
			if err := c.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		edit func(c *Config)
		want error
	}{
		{"ok", func(c *Config) {}, nil},
		{"hostname digit", func(c *Config) { c.Hostname = "1R" }, ErrInvalidHostname},
		{"hostname underscore", func(c *Config) { c.Hostname = "R_1" }, ErrInvalidHostname},
		{"hostname trailing hyphen", func(c *Config) { c.Hostname = "R-" }, ErrInvalidHostname},
		{"hostname long", func(c *Config) { c.Hostname = "R" + strings.Repeat("x", 63) }, ErrInvalidHostname},
		{"hostname empty", func(c *Config) { c.Hostname = "" }, ErrInvalidHostname},
		{"bad enable secret", func(c *Config) { c.EnableSecret = Secret{Type: 9, Hash: "$9$x$y"} }, ErrBadSecret},
		{"bad enable password 7", func(c *Config) { c.EnablePassword = Password{Type: 7, Text: "0"} }, ErrBadType7},
		{"duplicate user", func(c *Config) { c.Users = []User{NewUser("a"), NewUser("a")} }, ErrDuplicate},
		{"user privilege", func(c *Config) { u := NewUser("a"); u.Privilege = 16; c.SetUser(u) }, ErrInvalidValue},
		{"user secret and password", func(c *Config) {
			u := NewUser("a")
			u.Secret = Secret{Type: 5, Hash: "$1$mERr$hx5rVt7rPNoS4wqbXKX7m0"}
			u.Password = Password{Text: "x"}
			c.SetUser(u)
		}, ErrInvalidValue},
		{"interfaces unsorted", func(c *Config) {
			c.Interfaces = []Interface{NewInterface("GigabitEthernet0/1"), NewInterface("GigabitEthernet0/0")}
		}, ErrUnsorted},
		{"interface duplicate", func(c *Config) {
			c.Interfaces = []Interface{NewInterface("GigabitEthernet0/1"), NewInterface("GigabitEthernet0/1")}
		}, ErrDuplicate},
		{"interface bad name", func(c *Config) { c.Interfaces = []Interface{NewInterface("eth0")} }, ErrInvalidValue},
		{"description long", func(c *Config) { c.EnsureInterface("Loopback0").Description = strings.Repeat("d", 241) }, ErrInvalidValue},
		{"network address", func(c *Config) { c.EnsureInterface("Loopback0").Address = pfx("10.0.0.0/24") }, ErrInvalidValue},
		{"secondary without primary", func(c *Config) {
			c.EnsureInterface("Loopback0").Secondary = []netip.Prefix{pfx("10.0.0.1/24")}
		}, ErrInvalidValue},
		{"route host bits", func(c *Config) {
			c.Routes = []Route{{Prefix: netip.PrefixFrom(netip.MustParseAddr("10.0.0.1"), 24), NextHop: netip.MustParseAddr("1.1.1.1")}}
		}, ErrInvalidValue},
		{"route no target", func(c *Config) { c.AddRoute(Route{Prefix: pfx("10.0.0.0/8")}) }, ErrInvalidValue},
		{"route distance", func(c *Config) {
			c.AddRoute(Route{Prefix: pfx("10.0.0.0/8"), NextHop: netip.MustParseAddr("1.1.1.1"), Distance: 256})
		}, ErrInvalidValue},
		{"line privilege", func(c *Config) { c.Lines[0].Privilege = 16 }, ErrInvalidValue},
		{"line vty 16", func(c *Config) { c.Lines[2].Last = 16 }, ErrInvalidValue},
		{"line overlap", func(c *Config) { c.Lines = append(c.Lines, NewLine(LineVTY, 4, 6)) }, ErrUnsorted},
		{"part refuses", func(c *Config) { c.SetPart("x", &testPart{fail: ErrInvalidValue}) }, ErrInvalidValue},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.edit(c)
			err := c.Validate()
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Validate() = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestValidateOverlap(t *testing.T) {
	c := Default()
	c.EnsureInterface("GigabitEthernet0/0").Address = pfx("10.0.0.1/24")
	c.EnsureInterface("GigabitEthernet0/1").Address = pfx("10.0.0.129/25")
	var oe *OverlapError
	err := c.Validate()
	if !errors.As(err, &oe) || oe.Interface != "GigabitEthernet0/0" {
		t.Fatalf("Validate() = %v, want OverlapError with GigabitEthernet0/0", err)
	}
	if got := err.Error(); got != "running-config: 10.0.0.128 overlaps with GigabitEthernet0/0" {
		t.Errorf("message %q", got)
	}
}

func TestValidateOverlapTable(t *testing.T) {
	type addr struct{ ifn, p string }
	cases := []struct {
		name  string
		addrs []addr
		want  string // "" = valid
	}{
		{"disjoint neighbours", []addr{{"GigabitEthernet0/0", "10.0.0.1/25"}, {"GigabitEthernet0/1", "10.0.0.129/25"}, {"Loopback0", "10.0.1.1/32"}}, ""},
		{"wide first", []addr{{"GigabitEthernet0/0", "10.1.0.1/16"}, {"GigabitEthernet0/1", "10.1.5.1/24"}}, "10.1.5.0 overlaps with GigabitEthernet0/0"},
		{"wide later", []addr{{"GigabitEthernet0/0", "10.1.5.1/24"}, {"GigabitEthernet0/1", "10.1.0.1/16"}}, "10.1.0.0 overlaps with GigabitEthernet0/0"},
		{"same subnet", []addr{{"Loopback0", "192.168.1.1/24"}, {"GigabitEthernet0/3", "192.168.1.2/24"}}, "192.168.1.0 overlaps with Loopback0"},
		{"inside a gap of a nest", []addr{{"Loopback0", "10.0.0.1/8"}, {"Loopback1", "11.0.0.1/24"}, {"Loopback2", "11.0.1.1/24"}}, ""},
		{"secondary overlaps", []addr{{"GigabitEthernet0/0", "10.0.0.1/24"}, {"GigabitEthernet0/1", "10.9.0.1/24"}, {"GigabitEthernet0/1", "10.0.0.9/30"}}, "10.0.0.8 overlaps with GigabitEthernet0/0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			for _, a := range tc.addrs {
				f := c.EnsureInterface(a.ifn)
				if f.Address.IsValid() {
					f.Secondary = append(f.Secondary, pfx(a.p))
				} else {
					f.Address = pfx(a.p)
				}
			}
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate() = %v", err)
			case tc.want != "" && (err == nil || err.Error() != "running-config: "+tc.want):
				t.Errorf("Validate() = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestSetPasswordEncryption(t *testing.T) {
	c := fullConfig(t)
	c.Lines[0].Password = Password{Text: "conpass"}
	if err := c.SetPasswordEncryption(true); err != nil {
		t.Fatal(err)
	}
	check := func(what string, p Password, plain string) {
		t.Helper()
		if p.Type != 7 || !p.Verify(plain) {
			t.Errorf("%s = %+v, want type 7 of %q", what, p, plain)
		}
	}
	check("enable password", c.EnablePassword, "cisco")
	check("username legacy", c.User("legacy").Password, "cisco")
	check("line con 0", c.Lines[0].Password, "conpass")
	if c.User("admin").Password != (Password{}) {
		t.Error("a user with a secret gained a password")
	}
	before := c.EnablePassword
	if err := c.SetPasswordEncryption(false); err != nil || c.EnablePassword != before || c.PasswordEncryption {
		t.Error("turning encryption off must keep encoded passwords as they are")
	}
	p, _ := c.NewPassword("x")
	if p.Type != 0 {
		t.Errorf("NewPassword with encryption off = %+v", p)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(Body(c), " password 7 ") {
		t.Error("line password not rendered as type 7")
	}
}

func TestCloneIsDeep(t *testing.T) {
	orig := fullConfig(t)
	orig.SetPart("test-crypto", &testPart{lines: map[Slot][]string{SlotCryptoISAKMP: {"crypto isakmp policy 10"}}})
	want := Body(orig)
	snapshot := orig.Clone()
	if !reflect.DeepEqual(orig, snapshot) {
		t.Fatal("clone differs from original")
	}
	c := orig.Clone()
	c.Hostname = "R9"
	c.Interface("GigabitEthernet0/1").Secondary[0] = pfx("172.31.0.1/24")
	c.Interfaces[0].Description = "x"
	c.Users[0].Privilege = 3
	c.Routes[0].Distance = 9
	c.Lines[0].Privilege = 2
	c.Part("test-crypto").(*testPart).lines[SlotCryptoISAKMP][0] = "changed"
	c.SetPart("test-acl", &testPart{})
	c.EnsureInterface("Tunnel9")
	if got := Body(orig); got != want || !reflect.DeepEqual(orig, snapshot) {
		t.Errorf("editing a clone changed the original:\n%s", got)
	}
	if (*Config)(nil).Clone() != nil {
		t.Error("nil Clone")
	}
}
