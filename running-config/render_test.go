package runningconfig

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// fullConfig exercises every system field with fixed (published) hashes so the output is stable.
func fullConfig(t testing.TB) *Config {
	c := Default()
	c.Hostname = "R1"
	c.DomainLookup = false
	c.EnableSecret = Secret{Type: 9, Hash: "$9$2MJBozw/9R3UsU$2lFhcKvpghcyw8deP25GOfyZaagyUOGBymkryvOdfo6"}
	c.EnablePassword = Password{Type: 0, Text: "cisco"}
	c.SetUser(User{Name: "admin", Privilege: 15, Secret: Secret{Type: 8, Hash: "$8$TnGX/fE4KGHOVU$pEhnEvxrvaynpi8j4f.EMHr6M.FzU8xnZnBr/tJdFWk"}})
	c.SetUser(User{Name: "oper", Privilege: 1, Secret: Secret{Type: 5, Hash: "$1$mERr$hx5rVt7rPNoS4wqbXKX7m0"}})
	c.SetUser(User{Name: "legacy", Privilege: 1, Password: Password{Type: 0, Text: "cisco"}})

	g0 := c.EnsureInterface("GigabitEthernet0/0")
	g0.Description = "WAN to R2"
	g0.Address = pfx("10.0.0.1/24")
	g0.Shutdown = false
	g0.CryptoMap = "CMAP"
	g1 := c.EnsureInterface("GigabitEthernet0/1")
	g1.Address = pfx("192.168.1.1/24")
	g1.Secondary = []netip.Prefix{pfx("192.168.2.1/24"), pfx("192.168.3.1/25")}
	g1.AccessGroupIn = "101"
	g1.AccessGroupOut = "OUTBOUND"
	g1.Shutdown = false
	c.EnsureInterface("GigabitEthernet0/2") // defaults: no ip address, shutdown
	c.EnsureInterface("GigabitEthernet0/10")
	lo := c.EnsureInterface("Loopback0")
	lo.Address = pfx("1.1.1.1/32")

	c.AddRoute(Route{Prefix: pfx("0.0.0.0/0"), NextHop: netip.MustParseAddr("10.0.0.254")})
	c.AddRoute(Route{Prefix: pfx("172.16.0.0/16"), Interface: "GigabitEthernet0/1", NextHop: netip.MustParseAddr("192.168.1.2"), Distance: 200})
	c.AddRoute(Route{Prefix: pfx("10.9.0.0/16"), Interface: "Loopback0"})

	for _, l := range c.LineBlocks(LineCon, 0, 0) {
		l.ExecMinutes, l.ExecSeconds = 0, 0
		l.LogSync = true
		l.Privilege = 15
	}
	for _, l := range c.LineBlocks(LineVTY, 0, 15) {
		l.Login = LoginLocal
		l.Transport = TransportSSH
		l.Password = Password{Type: 7, Text: "0822455D0A16"}
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("fullConfig invalid: %v", err)
	}
	return c
}

func TestRenderGolden(t *testing.T) {
	enc := fullConfig(t)
	// service password-encryption with a fixed type 7 form, as IOS would keep it once encoded.
	enc.PasswordEncryption = true
	enc.EnablePassword = Password{Type: 7, Text: "0822455D0A16"}
	enc.Users[2].Password = Password{Type: 7, Text: "05080F1C2243"}

	cases := []struct {
		name string
		text string
	}{
		{"default.golden", Render(Default())},
		{"full.golden", Render(fullConfig(t))},
		{"password-encryption.golden", Render(enc)},
		{"with-comments.golden", RenderWith(fullConfig(t), RenderOptions{
			LastChange:   time.Date(2025, 10, 25, 19, 11, 29, 0, time.UTC),
			LastChangeBy: "admin",
			NVRAMUpdated: time.Date(2025, 10, 5, 9, 1, 2, 0, time.UTC),
		})},
		{"show-startup.golden", ShowStartup(StartupText(fullConfig(t)))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { golden(t, c.name, c.text) })
	}
}

func TestRenderHeaderCountsBody(t *testing.T) {
	for _, c := range []*Config{Default(), fullConfig(t)} {
		out := Render(c)
		head, body, ok := strings.Cut(out, " bytes\n")
		if !ok || !strings.HasPrefix(head, "Building configuration...\n\nCurrent configuration : ") {
			t.Fatalf("bad header:\n%s", out)
		}
		n, err := strconv.Atoi(strings.TrimPrefix(head, "Building configuration...\n\nCurrent configuration : "))
		if err != nil || n != len(body) || body != Body(c) || body != StartupText(c) {
			t.Errorf("header says %d bytes, body has %d (err %v)", n, len(body), err)
		}
		if !strings.HasPrefix(body, "!\nversion "+IOSVersion+"\n") || !strings.HasSuffix(body, "!\nend\n") {
			t.Errorf("body framing wrong:\n%s", body)
		}
		if strings.Contains(body, "\n\n") || strings.Contains(body, " \n") {
			t.Errorf("body has an empty line or trailing space:\n%s", body)
		}
	}
}

func TestMaskConversions(t *testing.T) {
	for bits := 0; bits <= 32; bits++ {
		m := MaskString(bits)
		got, ok := MaskBits(netip.MustParseAddr(m))
		if !ok || got != bits {
			t.Errorf("MaskBits(MaskString(%d)=%s) = %d, %v", bits, m, got, ok)
		}
	}
	for _, bad := range []string{"255.0.255.0", "0.0.0.255", "255.255.254.255", "::1"} {
		a, err := netip.ParseAddr(bad)
		if err != nil {
			continue
		}
		if _, ok := MaskBits(a); ok {
			t.Errorf("MaskBits(%s) accepted a non-contiguous mask", bad)
		}
	}
}

// testPart is a Part used to pin the slot insertion points and the Part contract.
type testPart struct {
	lines map[Slot][]string
	fail  error
}

func (p *testPart) ClonePart() Part {
	n := &testPart{lines: make(map[Slot][]string, len(p.lines)), fail: p.fail}
	for k, v := range p.lines {
		n.lines[k] = append([]string(nil), v...)
	}
	return n
}

func (p *testPart) ValidatePart(*Config) error { return p.fail }

func (p *testPart) RenderSlot(s Slot, w *Writer) {
	for _, l := range p.lines[s] {
		w.Line(l)
	}
}

func TestPartSlotsInIOSOrder(t *testing.T) {
	c := fullConfig(t)
	c.SetPart("test-crypto", &testPart{lines: map[Slot][]string{
		SlotCryptoISAKMP: {"crypto isakmp policy 10", " encr aes 256"},
		SlotCryptoIPsec:  {"crypto ipsec transform-set TS esp-aes esp-sha-hmac ", " mode tunnel"},
		SlotCryptoMap:    {"crypto map CMAP 10 ipsec-isakmp ", " set peer 10.0.0.2"},
	}})
	c.SetPart("test-acl", &testPart{lines: map[Slot][]string{
		SlotNamedACL:    {"ip access-list extended OUTBOUND", " permit ip any any"},
		SlotNumberedACL: {"access-list 101 permit ip any any"},
	}})
	golden(t, "with-parts.golden", Body(c))

	body := Body(c)
	order := []string{"username legacy", "crypto isakmp policy 10", "crypto ipsec transform-set", "crypto map CMAP 10",
		"interface Loopback0", "ip route 172.16.0.0", "ip access-list extended OUTBOUND", "access-list 101", "control-plane"}
	last := -1
	for _, s := range order {
		i := strings.Index(body, s)
		if i <= last {
			t.Fatalf("%q at %d, not after the previous section (%d)", s, i, last)
		}
		last = i
	}
	if got := c.PartNames(); len(got) != 2 || got[0] != "test-acl" || got[1] != "test-crypto" {
		t.Errorf("PartNames = %v", got)
	}
	c.SetPart("test-acl", nil)
	if c.Part("test-acl") != nil || strings.Contains(Body(c), "access-list 101") {
		t.Error("SetPart(nil) did not remove the part")
	}
}

func TestRenderSmallCases(t *testing.T) {
	c := Default()
	f := c.EnsureInterface("GigabitEthernet0/0.10")
	f.Address = pfx("10.10.0.1/24")
	f.Shutdown = false
	tu := c.EnsureInterface("Tunnel1")
	tu.Description = "gre"
	c.LineBlocks(LineVTY, 5, 5)[0].ExecMinutes = 5
	body := Body(c)
	for _, want := range []string{
		"interface Tunnel1\n description gre\n no ip address\n!\n",
		"interface GigabitEthernet0/0.10\n ip address 10.10.0.1 255.255.255.0\n!\n",
		"line vty 0 4\n login\nline vty 5\n exec-timeout 5 0\n login\n!\nend\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %q in\n%s", want, body)
		}
	}
	if strings.Contains(body, "ip domain lookup") {
		t.Error("default domain lookup must not be rendered")
	}
}

func ExampleRender() {
	c := Default()
	c.Hostname = "R1"
	g := c.EnsureInterface("GigabitEthernet0/0")
	g.Address = netip.MustParsePrefix("10.0.0.1/24")
	g.Shutdown = false
	fmt.Print(Render(c))
	// Output:
	// Building configuration...
	//
	// Current configuration : 427 bytes
	// !
	// version 15.6
	// service timestamps debug datetime msec
	// service timestamps log datetime msec
	// no service password-encryption
	// !
	// hostname R1
	// !
	// boot-start-marker
	// boot-end-marker
	// !
	// no aaa new-model
	// !
	// ip cef
	// !
	// interface GigabitEthernet0/0
	//  ip address 10.0.0.1 255.255.255.0
	//  duplex auto
	//  speed auto
	// !
	// ip forward-protocol nd
	// !
	// no ip http server
	// no ip http secure-server
	// !
	// control-plane
	// !
	// line con 0
	// line aux 0
	// line vty 0 4
	//  login
	// !
	// end
}
