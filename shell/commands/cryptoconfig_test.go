package commands_test

import (
	"flag"
	"fmt"
	"math/rand"
	"strings"
	"syscall"
	"testing"
	"time"

	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
	"github.com/tunnelbox/tunnelbox/shell"
	"github.com/tunnelbox/tunnelbox/shell/shelltest"
)

// The -update flag rewrites the golden transcripts. Another test file of the package may
// declare it first; then that declaration is used.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the expected transcripts in testdata")
	}
}

func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

var cryptoClock = time.Date(2026, time.March, 1, 0, 5, 12, 123e6, time.UTC)

// cryptoApp builds a router with every command, a store in a temp dir and a pinned clock.
func cryptoApp(tb testing.TB) *shell.App {
	tb.Helper()
	return shelltest.NewApp(tb, shelltest.Options{Store: true, Now: func() time.Time { return cryptoClock },
		Boot: cryptoClock.Add(-time.Hour), Version: "15.6(3)TB1"})
}

// typeLines feeds input to a console session and returns the transcript.
func typeLines(tb testing.TB, app *shell.App, input string) string {
	tb.Helper()
	return shelltest.Transcript(tb, app, input)
}

// TestCryptoTranscripts replays testdata/crypto/*.txt byte for byte (trailing spaces and TABs
// included: the crypto layouts of ios-cli.md depend on them).
func TestCryptoTranscripts(t *testing.T) {
	shelltest.GoldenTranscripts(t, "testdata/crypto/*.txt", cryptoApp, true, updating())
}

// lineDiff shows the first differing line with its invisible characters quoted.
var lineDiff = shelltest.LineDiff

// genCryptoConfig types a random but seeded crypto configuration: policies, keys, global
// settings, transform sets, numbered and named ACLs of every form, crypto map entries, and
// bindings. It returns the config-mode lines.
func genCryptoConfig(seed int64, maps, acls, sets int) string {
	r := rand.New(rand.NewSource(seed))
	var b strings.Builder
	pick := func(s ...string) string { return s[r.Intn(len(s))] }
	ip := func() string { return fmt.Sprintf("%d.%d.%d.%d", 1+r.Intn(223), r.Intn(256), r.Intn(256), r.Intn(256)) }
	addr := func() string {
		switch r.Intn(4) {
		case 0:
			return "any"
		case 1:
			return "host " + ip()
		case 2:
			return ip() + " 0.0.0.255"
		}
		return ip() + " " + pick("0.0.255.255", "0.0.0.3", "0.255.0.255", "255.255.255.255", "0.0.0.0")
	}
	port := func(proto string) string {
		names := map[string][]string{"tcp": {"www", "bgp", "22", "443", "telnet", "ftp-data"}, "udp": {"isakmp", "non500-isakmp", "ntp", "53", "5060"}}[proto]
		switch r.Intn(4) {
		case 0:
			return ""
		case 1:
			return " range " + pick("1", "100") + " " + pick("1000", "65535")
		}
		return " " + pick("eq", "neq", "lt", "gt") + " " + pick(names...)
	}
	rule := func() string {
		act := pick("permit", "deny")
		switch r.Intn(5) {
		case 0, 1:
			p := pick("tcp", "udp")
			s := act + " " + p + " " + addr() + port(p) + " " + addr() + port(p)
			if p == "tcp" && r.Intn(3) == 0 {
				s += " established"
			}
			return s + pick("", "", " log", " log-input")
		case 2:
			return act + " icmp " + addr() + " " + addr() + pick("", " echo", " echo-reply", " 3 4", " 8", " unreachable", " 11 0")
		}
		return act + " " + pick("ip", "esp", "ahp", "gre", "41", "50", "6", "ospf", "pim") + " " + addr() + " " + addr() + pick("", " log")
	}
	fmt.Fprintf(&b, "hostname GEN%d\n", seed)
	for i := 0; i < 1+r.Intn(4); i++ {
		fmt.Fprintf(&b, "crypto isakmp policy %d\n", 10*(i+1))
		fmt.Fprintf(&b, " encryption %s\n hash %s\n authentication %s\n group %d\n lifetime %d\n",
			pick("des", "3des", "aes", "aes 192", "aes 256"), pick("md5", "sha", "sha256", "sha384", "sha512"),
			pick("pre-share", "rsa-sig", "rsa-encr"), runningconfig.DHGroups[r.Intn(len(runningconfig.DHGroups))], 60+r.Intn(86341))
	}
	for i := 0; i < 1+r.Intn(5); i++ {
		switch r.Intn(3) {
		case 0:
			fmt.Fprintf(&b, "crypto isakmp key k%d address %s\n", i, ip())
		case 1:
			fmt.Fprintf(&b, "crypto isakmp key k%d address %s 255.255.0.0 no-xauth\n", i, ip())
		default:
			fmt.Fprintf(&b, "crypto isakmp key k%d hostname peer%d.example\n", i, i)
		}
	}
	b.WriteString(pick("", "crypto isakmp keepalive 10\n", "crypto isakmp keepalive 30 5 periodic\n"))
	b.WriteString(pick("", "crypto isakmp nat keepalive 20\n"))
	b.WriteString(pick("", "crypto isakmp identity hostname\n"))
	b.WriteString(pick("", "crypto isakmp aggressive-mode disable\n"))
	b.WriteString(pick("", "crypto ipsec security-association lifetime seconds 1800\n"))
	b.WriteString(pick("", "crypto ipsec security-association lifetime kilobytes 10000\n"))
	b.WriteString(pick("", "crypto ipsec df-bit clear\n", "crypto ipsec df-bit set\n"))
	b.WriteString(pick("", "crypto ipsec security-association replay window-size 1024\n"))
	for i := 0; i < sets; i++ {
		fmt.Fprintf(&b, "crypto ipsec transform-set TS%d %s\n", i, pick("esp-aes esp-sha-hmac", "esp-aes 256 esp-sha256-hmac",
			"esp-gcm 256", "esp-3des esp-md5-hmac", "ah-sha-hmac esp-aes 192 esp-sha-hmac", "esp-null esp-sha512-hmac comp-lzs", "ah-md5-hmac"))
		b.WriteString(pick(" mode tunnel\n", " mode transport\n", ""))
	}
	// The same rule twice in a list is refused (as IOS does), so rules are unique per list.
	seen := map[string]bool{}
	fresh := func(list string, gen func() string) string {
		for {
			if s := gen(); !seen[list+"|"+s] {
				seen[list+"|"+s] = true
				return s
			}
		}
	}
	stdRule := func() string {
		return pick("permit", "deny") + " " + pick("any", "host "+ip(), ip(), ip()+" 0.0.0.255") + pick("", " log")
	}
	for i := 0; i < acls; i++ {
		switch r.Intn(4) {
		case 0:
			n := fmt.Sprint(atoi(pick("100", "2000")) + i%100)
			fmt.Fprintf(&b, "access-list %s remark acl %d\n", n, i)
			for j := 0; j < 1+r.Intn(3); j++ {
				fmt.Fprintf(&b, "access-list %s %s\n", n, fresh(n, rule))
			}
		case 1:
			n := fmt.Sprint(1 + i%99)
			fmt.Fprintf(&b, "access-list %s %s\n", n, fresh(n, stdRule))
		case 2:
			fmt.Fprintf(&b, "ip access-list standard STD%d\n remark standard %d\n %s\n", i, i, stdRule())
		default:
			n := fmt.Sprintf("EXT%d", i)
			fmt.Fprintf(&b, "ip access-list extended %s\n", n)
			for j := 0; j < 1+r.Intn(3); j++ {
				fmt.Fprintf(&b, " %s\n", fresh(n, rule))
			}
		}
	}
	for i := 0; i < maps; i++ {
		name := fmt.Sprintf("MAP%d", i%7)
		fmt.Fprintf(&b, "crypto map %s %d ipsec-isakmp\n", name, 1+i)
		if r.Intn(3) == 0 {
			fmt.Fprintf(&b, " description site %d link\n", i)
		}
		for j := 0; j < r.Intn(3); j++ {
			fmt.Fprintf(&b, " set peer %s\n", ip())
		}
		if sets > 0 && r.Intn(5) != 0 {
			b.WriteString(" set transform-set")
			for j := 0; j < 1+r.Intn(3); j++ {
				fmt.Fprintf(&b, " TS%d", (i+j)%sets)
			}
			b.WriteString("\n")
		}
		b.WriteString(pick("", " set pfs\n", " set pfs group14\n", " set pfs group24\n"))
		b.WriteString(pick("", " set security-association lifetime seconds 900\n"))
		b.WriteString(pick("", " set security-association lifetime kilobytes 5000\n", " set security-association lifetime kilobytes disable\n"))
		b.WriteString(pick("", " set security-association level per-host\n"))
		b.WriteString(pick("", " set security-association idle-time 600\n"))
		b.WriteString(pick("", fmt.Sprintf(" match address %d\n", 100+r.Intn(100)), fmt.Sprintf(" match address EXT%d\n", r.Intn(acls+1))))
		b.WriteString(pick("", " reverse-route\n", " reverse-route static\n"))
	}
	for i := 0; i < 3; i++ {
		fmt.Fprintf(&b, "interface GigabitEthernet0/%d\n ip address 10.9.%d.1 255.255.255.0\n crypto map MAP%d\n", i, i, i)
	}
	return b.String()
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = 10*n + int(c-'0')
	}
	return n
}

// TestCryptoRoundTrip: for generated configurations, the text typed is accepted without a
// single error, its rendering replayed on a fresh router renders identically, and write
// memory + reload gives the same running-config.
func TestCryptoRoundTrip(t *testing.T) {
	for seed := int64(1); seed <= 12; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			text := genCryptoConfig(seed, 25, 30, 6)
			app := cryptoApp(t)
			if errs := app.Replay(text); len(errs) != 0 {
				t.Fatalf("typed config refused: %v", errs[0])
			}
			want := runningconfig.StartupText(app.Config().Running())

			fresh := cryptoApp(t)
			if errs := fresh.Replay(want); len(errs) != 0 {
				t.Fatalf("rendered config refused: %v", errs[0])
			}
			if got := runningconfig.StartupText(fresh.Config().Running()); got != want {
				t.Fatalf("render -> replay -> render differs:\n%s", lineDiff(got, want))
			}

			out := typeLines(t, app, "enable\nwrite memory\n")
			if !strings.Contains(out, "[OK]") {
				t.Fatalf("write memory: %s", out)
			}
			errs, err := app.Reload()
			if err != nil || len(errs) != 0 {
				t.Fatalf("reload: %v %v", err, errs)
			}
			if got := runningconfig.StartupText(app.Config().Running()); got != want {
				t.Fatalf("write memory + reload differs:\n%s", lineDiff(got, want))
			}
		})
	}
}

// benchConfig is the large configuration of the benchmark: n crypto map entries, n ACLs and
// n/25 transform sets (5,000 / 5,000 / 200 at n = 5,000).
func benchConfig(n int) string { return genCryptoConfig(42, n, n, n/25) }

// cpuTime is the process's user+system CPU time: the machine is shared, so wall time alone
// overstates the cost when other work competes for the cores.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchCryptoLoad(b *testing.B, n int) {
	text := benchConfig(n)
	lines := strings.Count(text, "\n")
	var cpu time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		app := cryptoApp(b)
		b.StartTimer()
		c0 := cpuTime()
		if errs := app.Replay(text); len(errs) != 0 {
			b.Fatalf("replay: %v", errs[0])
		}
		cpu += cpuTime() - c0
	}
	b.ReportMetric(float64(lines), "lines")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
}

func benchCryptoRender(b *testing.B, n int) {
	app := cryptoApp(b)
	if errs := app.Replay(benchConfig(n)); len(errs) != 0 {
		b.Fatalf("replay: %v", errs[0])
	}
	cfg := app.Config().Running()
	b.ResetTimer()
	var size int
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		size = len(runningconfig.Render(cfg))
	}
	b.ReportMetric(float64((cpuTime()-c0).Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(size), "bytes")
}

// BenchmarkCryptoLoad500/5000 replay a generated startup-config with 500 / 5,000 crypto map
// entries, as many ACLs and 20 / 200 transform sets; the ratio of their ns/op is the growth.
func BenchmarkCryptoLoad500(b *testing.B)    { benchCryptoLoad(b, 500) }
func BenchmarkCryptoLoad5000(b *testing.B)   { benchCryptoLoad(b, 5000) }
func BenchmarkCryptoRender500(b *testing.B)  { benchCryptoRender(b, 500) }
func BenchmarkCryptoRender5000(b *testing.B) { benchCryptoRender(b, 5000) }

// misuseBase is the configuration every misuse case starts from.
const misuseBase = `crypto isakmp policy 10
 encr aes 256
 authentication pre-share
 group 14
crypto isakmp key cisco123 address 203.0.113.2
crypto ipsec transform-set TS esp-aes esp-sha-hmac
 mode tunnel
access-list 10 permit 10.9.9.0 0.0.0.255
access-list 101 permit ip 10.1.1.0 0.0.0.255 10.2.2.0 0.0.0.255
ip access-list extended VPN
 permit ip 10.1.1.0 0.0.0.255 10.3.3.0 0.0.0.255
crypto map CMAP 10 ipsec-isakmp
 set peer 203.0.113.2
 set transform-set TS
 match address 101
interface GigabitEthernet0/0
 ip address 203.0.113.1 255.255.255.0
 crypto map CMAP
`

// TestCryptoMisuseChangesNothing types each wrong line of the scope on a configured router and
// checks that IOS's answer is printed and the running configuration is byte for byte the same.
func TestCryptoMisuseChangesNothing(t *testing.T) {
	cases := []struct{ mode, line, want string }{
		{"crypto map CMAP 10", "set transform-set TS NOPE", `ERROR: transform set with tag "NOPE" does not exist.`},
		{"crypto map CMAP 10", "set pfs group3", "% Invalid input"},
		{"crypto map CMAP 10", "set security-association lifetime seconds 119", "% Invalid input"},
		{"crypto map CMAP 10", "set security-association lifetime kilobytes 4294967296", "% Invalid input"},
		{"crypto map CMAP 10", "match address 10", "% Access list 10 is a standard list"},
		{"crypto map CMAP 10", "no set peer 198.51.100.9", "% Peer 198.51.100.9 is not configured"},
		{"crypto map CMAP 10", "set transform-set TS TS TS TS TS TS TS", "% Invalid input"},
		{"", "crypto map CMAP 0", "% Invalid input"},
		{"", "no crypto map CMAP 99", "% Crypto map CMAP 99 does not exist"},
		{"", "crypto ipsec transform-set BAD esp-aes esp-3des", "% Invalid transform set: more than one ESP encryption"},
		{"", "crypto ipsec transform-set BAD esp-gcm esp-sha-hmac", "% Invalid transform set: esp-gcm cannot be combined"},
		{"", "crypto ipsec transform-set TS esp-gmac esp-md5-hmac", "% Invalid transform set: esp-gmac cannot be combined"},
		{"", "crypto ipsec transform-set BAD comp-lzs", "% Invalid transform set: no ESP or AH transform"},
		{"", "crypto ipsec transform-set BAD esp-aes 512", "% Invalid input"},
		{"", "no crypto ipsec transform-set TS", "% Transform set TS is in use by crypto map CMAP 10"},
		{"", "crypto ipsec security-association lifetime seconds 2592001", "% Invalid input"},
		{"", "crypto isakmp policy 10001", "% Invalid input"},
		{"crypto isakmp policy 10", "group 3", "% Invalid input"},
		{"crypto isakmp policy 10", "lifetime 59", "% Invalid input"},
		{"", "crypto isakmp key cisco", "% Incomplete command."},
		{"", "crypto isakmp key " + strings.Repeat("k", 129) + " address 198.51.100.1", "% Pre-shared key too long"},
		{"", "crypto isakmp key cisco address 198.51.100.1 255.0.255.0", "% Invalid mask"},
		{"", "no crypto isakmp key wrong address 203.0.113.2", "% No matching pre-shared key"},
		{"", "crypto isakmp keepalive 9", "% Invalid input"},
		{"", "access-list 101 permit ip 10.1.1.0 0.0.0.255 10.2.2.0 0.0.0.255", "% Access rule can't be configured at higher sequence num as it is part of the existing rule at sequence num 10"},
		{"", "access-list 101 permit tcp any any eq 70000", "% Invalid input"},
		{"", "access-list 101 permit tcp any range 200 100 any", "% Invalid port range"},
		{"", "access-list 101 permit udp any any eq www", "% Invalid input"},
		{"", "access-list 100 permit esp any any eq 500", "% Invalid input"},
		{"", "access-list 10 permit ip any any", "% Invalid input"},
		{"", "ip access-list standard VPN", "% Access-list type conflicts with prior definition"},
		{"", "ip access-list standard 150", "% Invalid access list name."},
		{"", "ip access-list extended 1abc", "% Invalid access list name."},
		{"ip access-list extended VPN", "10 permit ip any any", "% Duplicate sequence number"},
		{"ip access-list extended VPN", "20 permit ip 10.1.1.0 0.0.0.255 10.3.3.0 0.0.0.255", "% Access rule can't be configured"},
		{"ip access-list extended VPN", "remark " + strings.Repeat("r", 101), "% Remark too long"},
		{"interface GigabitEthernet0/0", "no crypto map OTHER", "% Crypto map OTHER is not applied"},
	}
	for _, c := range cases {
		t.Run(c.line, func(t *testing.T) {
			app := cryptoApp(t)
			if errs := app.Replay(misuseBase); len(errs) != 0 {
				t.Fatal(errs[0])
			}
			in := "enable\nconfigure terminal\n"
			if c.mode != "" {
				in += c.mode + "\n"
			}
			before := runningconfig.StartupText(app.Config().Running())
			out := typeLines(t, app, in+c.line+"\n")
			if !strings.Contains(out, c.want) {
				t.Errorf("output lacks %q:\n%s", c.want, out)
			}
			if after := runningconfig.StartupText(app.Config().Running()); after != before {
				t.Errorf("the rejected line changed the configuration:\n%s", lineDiff(after, before))
			}
		})
	}
}
