package parser

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestMatchAbbreviations(t *testing.T) {
	g := fixture(t)
	tests := []struct {
		mode   *Mode
		line   string
		syntax string
		words  string // normalised line
	}{
		{exec, "conf t", "configure terminal", "configure terminal"},
		{exec, "sh run", "show running-config", "show running-config"},
		{exec, "SH RUN", "show running-config", "show running-config"},
		{exec, "sh ip int br", "show ip interface brief", "show ip interface brief"},
		{exec, "  sh   ip  int   br  ", "show ip interface brief", "show ip interface brief"},
		{exec, "sh\tver", "show version", "show version"},
		{exec, "wr", "write [memory]", "write"},
		{exec, "wr mem", "write [memory]", "write memory"},
		{exec, "copy run start", "copy running-config startup-config", "copy running-config startup-config"},
		{exec, "sh cry isa sa", "show crypto isakmp sa [detail]$detail", "show crypto isakmp sa"},
		{exec, "sh cry ips sa det", "show crypto ipsec sa [peer A.B.C.D$peer|detail$detail]", "show crypto ipsec sa detail"},
		// "ip" is exact even though it prefixes "ipv6".
		{exec, "sh ip route", "show ip route", "show ip route"},
		{exec, "sh ipv route", "show ipv6 route", "show ipv6 route"},
		// "di" abbreviates dir, disable and disconnect, but "dir" is exact.
		{exec, "dir", "dir", "dir"},
		{exec, "disa", "disable", "disable"},
		{exec, "no deb cry isa", "[no] debug crypto <isakmp|ipsec>$what", "no debug crypto isakmp"},
		{exec, "no deb all", "no debug all", "no debug all"},
		{exec, "term len 0", "terminal length (0-512)$len", "terminal length 0"},
		{cfg, "int g0/0", "interface IFNAME$if", "interface GigabitEthernet0/0"},
		{cfg, "host R1", "hostname WORD$name", "hostname R1"},
		{cfg, "cry isa pol 10", "[no] crypto isakmp policy (1-10000)$prio", "crypto isakmp policy 10"},
		{cfg, "crypto isakmp policy 010", "[no] crypto isakmp policy (1-10000)$prio", "crypto isakmp policy 10"},
		{cfg, "no ip domain-lookup", "[no] ip domain-lookup", "no ip domain-lookup"},
		{cfg, "no ip domain", "[no] ip domain-lookup", "no ip domain-lookup"},
		{cfg, "acc 10 per 10.0.0.0 0.0.0.255 log", "[no] access-list <(1-99)|(1300-1999)>$number <deny|permit>$action A.B.C.D$src [A.B.C.D$wild] [log]$log", "access-list 10 permit 10.0.0.0 0.0.0.255 log"},
		{cfg, "access-list 1300 d 10.0.0.1", "[no] access-list <(1-99)|(1300-1999)>$number <deny|permit>$action A.B.C.D$src [A.B.C.D$wild] [log]$log", "access-list 1300 deny 10.0.0.1"},
		{cfIK, "enc aes 256", "[no|default] encryption <des|3des|aes [<128|192|256>$bits]>$alg", "encryption aes 256"},
		{cfIK, "def enc des", "[no|default] encryption <des|3des|aes [<128|192|256>$bits]>$alg", "default encryption des"},
		{cfIK, "enc aes 12", "[no|default] encryption <des|3des|aes [<128|192|256>$bits]>$alg", "encryption aes 128"},
		{cfIK, "gr 14", "[no|default] group <1|2|5|14|15|16|19|20|21|24>$group", "group 14"},
		{cfIK, "group 1", "[no|default] group <1|2|5|14|15|16|19|20|21|24>$group", "group 1"},
		{cfLn, "transport input ssh telnet", "[no] transport input {ssh|telnet}$proto", "transport input ssh telnet"},
		{cfLn, "tr in tel", "[no] transport input {ssh|telnet}$proto", "transport input telnet"},
	}
	for _, tt := range tests {
		t.Run(tt.mode.Name+"/"+tt.line, func(t *testing.T) {
			m, err := g.Match(tt.mode, 15, tt.line)
			if err != nil {
				t.Fatalf("Match: %v", err)
			}
			if m.Cmd.Syntax != tt.syntax {
				t.Fatalf("matched %q, want %q", m.Cmd.Syntax, tt.syntax)
			}
			if tt.words != "" && m.Args.String() != tt.words {
				t.Errorf("normalised %q, want %q", m.Args.String(), tt.words)
			}
			if m.Mode != tt.mode {
				t.Errorf("mode %s, want %s", m.Mode.Name, tt.mode.Name)
			}
		})
	}
}

func TestMatchErrors(t *testing.T) {
	g := fixture(t)
	tests := []struct {
		mode *Mode
		priv int
		line string
		kind ErrorKind
		pos  int // -1: not asserted
	}{
		// ios-cli.md §2.2 captures.
		{exec, 15, "show ip interfaces brief", ErrInvalid, len("show ip interface")}, // under the final s
		{exec, 15, "show boot", ErrInvalid, len("show ")},                            // under b
		{cfg, 15, "logging 0255.255.1", ErrInvalid, len("logging ")},                 // under 0
		{exec, 15, "show version detail", ErrInvalid, len("show version ")},          // surplus word
		{exec, 15, "show  version   detail", ErrInvalid, len("show  version   ")},    // original spacing kept
		{cfg, 15, "hostname R1 R2", ErrInvalid, len("hostname R1 ")},
		{exec, 15, "sh ip int bri x", ErrInvalid, len("sh ip int bri ")},
		{exec, 15, "show versions", ErrInvalid, len("show version")},
		{exec, 15, "terminal length 513", ErrInvalid, len("terminal length ")},
		{exec, 15, "terminal length -1", ErrInvalid, len("terminal length ")},
		{cfg, 15, "crypto isakmp policy 0", ErrInvalid, len("crypto isakmp policy ")},
		{cfg, 15, "crypto isakmp policy 10001", ErrInvalid, len("crypto isakmp policy ")},
		{cfg, 15, "access-list 100 permit 10.0.0.1", ErrInvalid, len("access-list ")},
		{cfg, 15, "access-list 10 permit 10.0.0.256", ErrInvalid, len("access-list 10 permit ")},
		{cfg, 15, "interface gi0/0/0/0", ErrInvalid, len("interface ")},
		{cfg, 15, "interface gi x", ErrInvalid, len("interface gi ")},
		{cfg, 15, "interface lo0.1", ErrInvalid, len("interface ")}, // no sub-interfaces on loopbacks
		{cfg, 15, "interface vlan 0", ErrInvalid, len("interface vlan ")},
		{cfg, 15, "interface xyz0", ErrInvalid, len("interface ")},
		{cfLn, 15, "transport input ssh telnet ssh", ErrInvalid, len("transport input ssh telnet ")},    // {} alternatives once each
		{exec, 15, "sh cry ips sa peer 1.2.3.4 detail", ErrInvalid, len("sh cry ips sa peer 1.2.3.4 ")}, // [a|b]: one only
		{cfg, 15, "ip route 10.0.0.0 255.0.0.0 gi 0/0 256", ErrInvalid, len("ip route 10.0.0.0 255.0.0.0 gi 0/0 ")},
		// Incomplete.
		{exec, 15, "sh cry ips sa pe", ErrIncomplete, -1},
		{cfg, 15, "logging", ErrIncomplete, len("logging")},
		{cfg, 15, "crypto isakmp key cisco", ErrIncomplete, -1},
		{cfIf, 15, "ip address 10.1.1.1", ErrIncomplete, -1},
		{cfg, 15, "interface gi", ErrIncomplete, -1},
		{cfg, 15, "interface", ErrIncomplete, -1},
		{exec, 15, "configure", ErrIncomplete, -1},
		{exec, 15, "show", ErrIncomplete, -1},
		// Ambiguous: the kind and the word's start.
		{exec, 15, "show i", ErrAmbiguous, len("show ")},
		{exec, 15, "di", ErrAmbiguous, 0},
		{cfg, 15, "a", ErrAmbiguous, 0},
		{cfIK, 15, "encryption aes 1", ErrAmbiguous, len("encryption aes ")}, // 128 or 192
		{cfIK, 15, "group 1x", ErrInvalid, len("group 1")},
		// EXEC implicit telnet (§2.2 item 6).
		{exec, 15, "showboot", ErrUnknown, 0},
		{exec, 15, "xyz", ErrUnknown, 0},
		{exec, 15, "xyz 23", ErrUnknown, 0},
		{exec, 1, "reload", ErrUnknown, 0},
		{exec, 1, "configure terminal", ErrInvalid, len("configure ")},
		{exec, 15, "xyz abc", ErrInvalid, len("xyz ")},
		// Privilege: invisible commands are unknown words.
		{exec, 1, "sh run", ErrInvalid, len("sh ")},
		{exec, 1, "no debug all", ErrInvalid, len("no ")},
		// Config modes never answer ErrUnknown.
		{cfg, 15, "xyz", ErrInvalid, 0},
		{cfg, 15, "show ip route", ErrInvalid, 0},
	}
	for _, tt := range tests {
		t.Run(tt.mode.Name+"/"+tt.line, func(t *testing.T) {
			m, err := g.Match(tt.mode, tt.priv, tt.line)
			if err == nil {
				t.Fatalf("matched %q, want %v", m.Cmd.Syntax, tt.kind)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
			if pe.Kind != tt.kind || (tt.pos >= 0 && pe.Pos != tt.pos) {
				t.Fatalf("got %v at %d, want %v at %d\n%s\n%s^", pe.Kind, pe.Pos, tt.kind, tt.pos, tt.line, strings.Repeat(" ", pe.Pos))
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("errors.Is(err, %v) = false", tt.kind)
			}
			if pe.Line != tt.line {
				t.Errorf("Line %q", pe.Line)
			}
		})
	}
}

func TestMatchEmpty(t *testing.T) {
	g := fixture(t)
	for _, l := range []string{"", "   ", "\t"} {
		if _, err := g.Match(exec, 15, l); !errors.Is(err, ErrEmpty) {
			t.Errorf("%q: %v, want ErrEmpty", l, err)
		}
	}
}

func TestMatchFallThrough(t *testing.T) {
	g := fixture(t)
	tests := []struct {
		mode   *Mode
		line   string
		syntax string
		owner  *Mode
	}{
		{cfIf, "ip route 0.0.0.0 0.0.0.0 10.0.0.1", "[no] ip route A.B.C.D$prefix A.B.C.D$mask <A.B.C.D$nh|IFNAME$ifnh> [(1-255)$dist]", cfg},
		{cfIf, "ip address 10.0.0.1 255.255.255.0", "[no] ip address A.B.C.D$addr A.B.C.D$mask [secondary]$secondary", cfIf},
		{cfIK, "interface Gi0/1", "interface IFNAME$if", cfg},
		{cfIK, "hostname R2", "hostname WORD$name", cfg},
		{cfIK, "exit", "exit", cfIK},
		{cfLn, "crypto map CMAP 10", "[no] crypto map WORD$map (1-65535)$seq [ipsec-isakmp]", cfg},
		// "crypto map X" is an interface command: the interface grammar wins in config-if.
		{cfIf, "crypto map CMAP", "[no|default] crypto map WORD$map", cfIf},
		{cfIf, "crypto map CMAP 10", "[no] crypto map WORD$map (1-65535)$seq [ipsec-isakmp]", cfg},
	}
	for _, tt := range tests {
		m, err := g.Match(tt.mode, 15, tt.line)
		if err != nil {
			t.Errorf("%s %q: %v", tt.mode.Name, tt.line, err)
			continue
		}
		if m.Cmd.Syntax != tt.syntax || m.Mode != tt.owner {
			t.Errorf("%s %q: matched %q in %s, want %q in %s", tt.mode.Name, tt.line, m.Cmd.Syntax, m.Mode.Name, tt.syntax, tt.owner.Name)
		}
	}
	// When every mode fails, the error is the current mode's: "shutdown" is an interface
	// command, so the caret is under the surplus word, not under "shutdown" (config's error).
	_, err := g.Match(cfIf, 15, "shutdown now")
	var pe *Error
	if !errors.As(err, &pe) || pe.Kind != ErrInvalid || pe.Pos != len("shutdown ") {
		t.Errorf("shutdown now: %v", err)
	}
	_, err = g.Match(cfIf, 15, "ip addr 1.1.1.1")
	if !errors.Is(err, ErrIncomplete) {
		t.Errorf("ip addr 1.1.1.1: %v, want incomplete from config-if", err)
	}
}

func TestArgs(t *testing.T) {
	g := fixture(t)
	m, err := g.Match(cfg, 15, "no access-list 10 permit 10.0.0.0 0.0.0.255 log")
	if err != nil {
		t.Fatal(err)
	}
	a := m.Args
	if !a.Has("no") || a.Has("default") || a.Int("number") != 10 || a.Str("action") != "permit" ||
		a.IP("src") != netip.MustParseAddr("10.0.0.0") || a.IP("wild") != netip.MustParseAddr("0.0.0.255") ||
		!a.Has("log") || a.Str("log") != "log" {
		t.Errorf("args %+v", a.All())
	}
	if a.Has("nothere") || a.Str("nothere") != "" || a.Int("nothere") != 0 || a.IP("nothere").IsValid() || a.Raw("nothere") != "" {
		t.Errorf("unbound name reported")
	}

	m, _ = g.Match(cfg, 15, "access-list 1301 deny 10.0.0.1")
	if a := m.Args; a.Has("no") || a.Has("log") || a.Has("wild") || a.Int("number") != 1301 || a.Str("action") != "deny" {
		t.Errorf("args %+v", a.All())
	}

	m, _ = g.Match(cfIf, 15, "description   Link to  R2   ")
	if got := m.Args.Str("text"); got != "Link to  R2" {
		t.Errorf("LINE = %q", got)
	}
	if got := m.Args.Raw("text"); got != "Link to  R2" {
		t.Errorf("LINE raw = %q", got)
	}

	m, _ = g.Match(cfg, 15, "int gi 0/0.10")
	if m.Args.Str("if") != "GigabitEthernet0/0.10" || m.Args.Raw("if") != "gi 0/0.10" {
		t.Errorf("ifname %q raw %q", m.Args.Str("if"), m.Args.Raw("if"))
	}

	m, _ = g.Match(cfCM, 15, "set transform-set TS1 ts2 TS3")
	if got := strings.Join(m.Args.Strs("ts"), ","); got != "TS1,ts2,TS3" {
		t.Errorf("repeated binds %q", got)
	}

	m, _ = g.Match(cfIK, 15, "default encr aes 192")
	if !m.Args.Has("default") || m.Args.Has("no") || m.Args.Str("alg") != "aes 192" || m.Args.Str("bits") != "192" {
		t.Errorf("group bind %+v", m.Args.All())
	}

	m, _ = g.Match(cfg, 15, "crypto isakmp key Secr3T address 10.0.0.2 no-xauth")
	if m.Args.Str("key") != "Secr3T" || !m.Args.Has("noxauth") || m.Args.Has("mask") {
		t.Errorf("isakmp key %+v", m.Args.All())
	}

	m, _ = g.Match(exec, 15, "ping r2.example source lo 0 repeat 0005")
	if m.Args.Str("host") != "r2.example" || m.Args.IP("host").IsValid() || m.Args.Str("src") != "Loopback0" || m.Args.Int("repeat") != 5 || m.Args.Raw("repeat") != "0005" {
		t.Errorf("ping %+v", m.Args.All())
	}
	m, _ = g.Match(exec, 15, "ping 10.0.0.1")
	if m.Args.IP("host") != netip.MustParseAddr("10.0.0.1") {
		t.Errorf("ping address %+v", m.Args.All())
	}

	// Uppercase variable names bind under their lowercased name.
	gg := New()
	if err := gg.Install(cfg, c(15, "username NAME secret LINE$secret", "Establish User Name Authentication", "User name", "Specify the secret for the user", "The secret")); err != nil {
		t.Fatal(err)
	}
	m, err = gg.Match(cfg, 15, "username Admin secret s3 cr3t")
	if err != nil || m.Args.Str("name") != "Admin" || m.Args.Str("secret") != "s3 cr3t" {
		t.Errorf("variable name: %v %+v", err, m)
	}
}

// Specific argument types rank above WORD (FRR: (22-49) beats WORD for 42).
func TestRanking(t *testing.T) {
	g := fixture(t)
	tests := []struct {
		mode *Mode
		line string
		bind string // the bind that must hold the value
	}{
		{exec, "show access-lists 101", "num"},
		{exec, "show access-lists 3000", "name"}, // out of the range: only WORD takes it
		{exec, "show access-lists MYACL", "name"},
		{cfCM, "match address 150", "num"},
		{cfCM, "match address 99", "name"},
		{cfIf, "ip access-group 10 in", "num"},
		{cfIf, "ip access-group OUTSIDE in", "name"},
		{cfg, "ip route 10.0.0.0 255.0.0.0 10.0.0.1", "nh"},
		{cfg, "ip route 10.0.0.0 255.0.0.0 tu0", "ifnh"},
	}
	// Across commands too: (22-49) beats WORD for 42 (FRR's example), WORD takes 50.
	rangeCmd, wordCmd := c(1, "test (22-49)", "Test", "Number"), c(1, "test WORD", "Test", "Word")
	gg := New()
	if err := gg.Install(exec, wordCmd, rangeCmd); err != nil {
		t.Fatal(err)
	}
	if m, err := gg.Match(exec, 1, "test 42"); err != nil || m.Cmd != rangeCmd {
		t.Errorf("test 42: %v %v", m, err)
	}
	if m, err := gg.Match(exec, 1, "test 50"); err != nil || m.Cmd != wordCmd {
		t.Errorf("test 50: %v %v", m, err)
	}
	for _, tt := range tests {
		m, err := g.Match(tt.mode, 15, tt.line)
		if err != nil {
			t.Errorf("%q: %v", tt.line, err)
			continue
		}
		if !m.Args.Has(tt.bind) {
			t.Errorf("%q: bound %+v, want %s", tt.line, m.Args.All(), tt.bind)
		}
	}
}

func TestInterfaceNames(t *testing.T) {
	tests := []struct{ in, want string }{
		{"g0/0", "GigabitEthernet0/0"},
		{"gi 0/0", "GigabitEthernet0/0"},
		{"GigabitEthernet0/0", "GigabitEthernet0/0"},
		{"GIGABITETHERNET 0/1", "GigabitEthernet0/1"},
		{"g0/0.10", "GigabitEthernet0/0.10"},
		{"gi0/00.010", "GigabitEthernet0/0.10"},
		{"fa0/1", "FastEthernet0/1"},
		{"f 1/0/2", "FastEthernet1/0/2"},
		{"e0/0", "Ethernet0/0"},
		{"eth 1", "Ethernet1"},
		{"lo0", "Loopback0"},
		{"Loopback 0", "Loopback0"},
		{"loop 100", "Loopback100"},
		{"t1", "Tunnel1"},
		{"tu 5", "Tunnel5"},
		{"te0/1", "TenGigabitEthernet0/1"},
		{"vl10", "Vlan10"},
		{"v 4094", "Vlan4094"},
		{"vi1", "Virtual-Template1"},
		{"po1", "Port-channel1"},
		{"se0/0/0", "Serial0/0/0"},
		{"nu0", "Null0"},
		{"g", ""},
		{"g0/", ""},
		{"g0//0", ""},
		{"g0/0.", ""},
		{"g0/0.0", ""},
		{"lo0.1", ""},
		{"vlan0", ""},
		{"vlan4095", ""},
		{"nu1", ""},
		{"x0", ""},
		{"0/0", ""},
		{"g 0/0 x", ""},
		{"g0/256", ""},
	}
	for _, tt := range tests {
		got, ok := CanonicalInterface(tt.in)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("CanonicalInterface(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
	g := fixture(t)
	for _, tt := range tests {
		m, err := g.Match(cfg, 15, "interface "+tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("interface %q matched as %q", tt.in, m.Args.Str("if"))
			}
			continue
		}
		if err != nil {
			t.Errorf("interface %q: %v", tt.in, err)
		} else if got := m.Args.Str("if"); got != tt.want {
			t.Errorf("interface %q = %q, want %q", tt.in, got, tt.want)
		}
	}
}
