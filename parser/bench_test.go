package parser

import (
	"fmt"
	"testing"
)

type modeLine struct {
	m    *Mode
	line string
}

// startupConfig builds an n-line configuration in the shape of a large crypto router's
// startup-config, each line with the mode it is replayed in.
func startupConfig(n int) []modeLine {
	var out []modeLine
	add := func(m *Mode, f string, a ...any) { out = append(out, modeLine{m, fmt.Sprintf(f, a...)}) }
	for i := 0; len(out) < n; i++ {
		x, y := i/250%250, i%250
		add(cfg, "interface GigabitEthernet0/%d.%d", i%4, i+1)
		add(cfIf, " description link to spoke %d (site %d)", i, x)
		add(cfIf, " ip address 10.%d.%d.1 255.255.255.252", x, y)
		add(cfIf, " crypto map CMAP")
		add(cfIf, " no shutdown")
		add(cfg, "access-list %d permit 10.%d.%d.0 0.0.0.255 log", 1+i%99, x, y)
		add(cfg, "crypto isakmp policy %d", 1+i%10000)
		add(cfIK, " encr aes 256")
		add(cfIK, " hash sha256")
		add(cfIK, " authentication pre-share")
		add(cfIK, " group 14")
		add(cfIK, " lifetime 28800")
		add(cfg, "crypto isakmp key Key%d address 172.16.%d.%d", i, x, y)
		add(cfg, "crypto map CMAP %d ipsec-isakmp", 1+i%65535)
		add(cfCM, " set peer 172.16.%d.%d", x, y)
		add(cfCM, " set transform-set TS1 TS2")
		add(cfCM, " match address VPN-%d", i)
		add(cfg, "ip route 10.%d.%d.0 255.255.255.0 Tunnel%d 10", x, y, i)
		add(cfg, "hostname R%d", i)
		add(cfLn, "transport input ssh")
	}
	return out[:n]
}

// BenchmarkReplayStartupConfig replays a 20,000-line startup-config through Match, as boot does.
func BenchmarkReplayStartupConfig(b *testing.B) {
	g := fixture(b)
	lines := startupConfig(20000)
	for _, ml := range lines {
		if _, err := g.Match(ml.m, 15, ml.line); err != nil {
			b.Fatalf("%s %q: %v", ml.m.Name, ml.line, err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, ml := range lines {
			g.Match(ml.m, 15, ml.line)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(lines)), "ns/line")
}

func BenchmarkMatchLine(b *testing.B) {
	g := fixture(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		g.Match(cfg, 15, "access-list 10 permit 10.0.0.0 0.0.0.255 log")
	}
}

func BenchmarkMatchError(b *testing.B) {
	g := fixture(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		g.Match(exec, 15, "show ip interfaces brief")
	}
}

func BenchmarkHelp(b *testing.B) {
	g := fixture(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		g.Help(cfg, 15, "")
	}
}

// BenchmarkInstall installs 300 [no]-commands in one mode, the worst case of the shared-prefix
// help check (every pair shares the leading "no").
func BenchmarkInstall(b *testing.B) {
	var cmds []*Command
	for i := 0; i < 300; i++ {
		cmds = append(cmds, c(15, fmt.Sprintf("[no] feature%d <a|b|c> [detail (1-100)]", i/3),
			fmt.Sprintf("Feature %d", i/3), "A", "B", "C", "Detail", "Value"))
		cmds[i].Syntax += fmt.Sprintf(" v%d", i%3)
		cmds[i].Help = append(cmds[i].Help, "Variant")
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		g := New()
		if err := g.Install(cfg, cmds...); err != nil {
			b.Fatal(err)
		}
	}
}
