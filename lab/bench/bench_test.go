package bench

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tunnelbox/tunnelbox/lab"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

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
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update after checking):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestParseProcStat(t *testing.T) {
	tests := []struct {
		name, in string
		want     time.Duration
		err      bool
	}{
		{"charon", "4242 (charon) S 1 4242 4242 0 -1 4194560 5000 0 0 0 1234 567 0 0 20 0 17 0 100 0 0", 18010 * time.Millisecond, false},
		{"comm with spaces and parens", "7 (a) b (c)) R 1 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0", 70 * time.Millisecond, false},
		{"zero", "1 (init) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0", 0, false},
		{"no comm", "4242 charon S 1 4242", 0, true},
		{"short", "4242 (charon) S 1 2 3", 0, true},
		{"bad number", "1 (x) S 0 1 1 0 -1 0 0 0 0 0 1x 0 0 0", 0, true},
		{"negative", "1 (x) S 0 1 1 0 -1 0 0 0 0 0 -1 0 0 0", 0, true},
		{"empty", "", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseProcStat(tc.in)
			if tc.err {
				var pe *ParseError
				if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), "bench: ") {
					t.Fatalf("err = %v, want a *ParseError with the bench: prefix", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("= %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestProcCPUOwnProcess(t *testing.T) {
	before, err := ProcCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Burn until the kernel's tick accounting moves (it counts in 10 ms units).
	x := 0
	var after time.Duration
	for after <= before {
		for i := 0; i < 1e6; i++ {
			x += i
		}
		if after, err = ProcCPU(os.Getpid()); err != nil {
			t.Fatal(err)
		}
	}
	if after%(10*time.Millisecond) != 0 {
		t.Errorf("CPU time %v is not a whole number of USER_HZ ticks", after)
	}
	_ = x
	if _, err := ProcCPU(1 << 30); err == nil {
		t.Error("ProcCPU of a PID that cannot exist succeeded")
	}
}

func TestParseSystemStat(t *testing.T) {
	in := "cpu  100 5 50 9000 40 3 2 1 0 0\ncpu0 50 2 25 4500 20 1 1 0 0 0\nintr 1 2 3\n"
	got, err := ParseSystemStat(in)
	// user+nice+system+irq+softirq+steal = 100+5+50+3+2+1 = 161 ticks; idle and iowait left out.
	if err != nil || got != 1610*time.Millisecond {
		t.Fatalf("= %v, %v; want 1.61s", got, err)
	}
	for _, bad := range []string{"", "cpu0 1 2 3 4 5 6 7 8\n", "cpu 1 2 3\n", "cpu 1 2 x 4 5 6 7 8\n"} {
		if _, err := ParseSystemStat(bad); err == nil {
			t.Errorf("ParseSystemStat(%q) succeeded", bad)
		}
	}
	if _, err := SystemBusy(); err != nil {
		t.Errorf("SystemBusy on this machine: %v", err)
	}
}

func TestParseIperf3(t *testing.T) {
	b, err := os.ReadFile("testdata/iperf3-tcp.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseIperf3(b)
	if err != nil {
		t.Fatal(err)
	}
	if r.ReceivedBps != 5169074352.99426 || r.SentBps != 5440711177.227453 || r.Retransmits != 2 ||
		r.Duration != time.Duration(1.037201*float64(time.Second)) {
		t.Errorf("summary %+v", r)
	}
	if got := fmt.Sprintf("%.1f", r.ReceivedMbps()); got != "5169.1" {
		t.Errorf("ReceivedMbps = %s", got)
	}
	b, err = os.ReadFile("testdata/iperf3-refused.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseIperf3(b); err == nil || !strings.Contains(err.Error(), "Connection refused") {
		t.Errorf("iperf3's own error not reported: %v", err)
	}
	for _, bad := range []string{"", "{", "[]", `{"end":{}}`, `{"end":{"sum_sent":{"bits_per_second":1},"sum_received":{"seconds":0,"bits_per_second":1}}}`,
		`{"end":{"sum_sent":{"bits_per_second":-1},"sum_received":{"seconds":1,"bits_per_second":1}}}`} {
		if _, err := ParseIperf3([]byte(bad)); err == nil {
			t.Errorf("ParseIperf3(%q) succeeded", bad)
		}
	}
}

func TestParseCharonLog(t *testing.T) {
	ref := time.Date(2026, 3, 1, 23, 59, 58, 0, time.Local)
	log := strings.Join([]string{
		"23:59:58.100 09[IKE] sending retransmit 1 of request message ID 0, seq 1",
		"23:59:59.010 12[IKE] IKE_SA b1[1] established between 192.0.2.1[b1.left.lab]...192.0.2.2[192.0.2.2]",
		"23:59:59.020 12[IKE] CHILD_SA b1{1} established with SPIs c1a2b3c4_i c5d6e7f8_o and TS 10.1.0.2/32 === 10.2.0.2/32",
		"00:00:00.250 05[IKE] IKE_SA b2[2] established between 192.0.2.1[b2.left.lab]...192.0.2.2[192.0.2.2]",
		"00:00:00.300 05[IKE] CHILD_SA b2{2} established with SPIs c1a2b3c5_i c5d6e7f9_o and TS 10.1.0.3/32 === 10.2.0.3/32",
		"00:00:09.080 05[IKE] CHILD_SA b3{3} established with SPIs c1a2b3c6_i c5d6e7fa_o and TS 10.1.0.4/32 === 10.2.0.4/32",
		"00:00:01.000 07[IKE] giving up after 5 retransmits",
		"00:00:01.001 07[IKE] establishing IKE_SA failed, peer not responding",
		"",
	}, "\n")
	c, err := ParseCharonLog(strings.NewReader(log), ref)
	if err != nil {
		t.Fatal(err)
	}
	want := LogCounts{IKEUp: 2, ChildUp: 3, Retransmits: 1, Failures: 2,
		LastChild: time.Date(2026, 3, 2, 0, 0, 9, 80e6, time.Local)} // 09 and 080 are decimal
	if !c.LastChild.Equal(want.LastChild) {
		t.Errorf("LastChild = %v, want %v (after midnight)", c.LastChild, want.LastChild)
	}
	c.LastChild = want.LastChild
	if c != want {
		t.Errorf("counts %+v, want %+v", c, want)
	}
	if _, err := ParseCharonLog(strings.NewReader("CHILD_SA b1{1} established without time\n"), ref); err == nil {
		t.Error("a CHILD_SA line without a timestamp was accepted")
	}
}

func TestRateAddrs(t *testing.T) {
	for _, tc := range []struct {
		i    int
		l, r string
	}{{1, "10.1.0.2", "10.2.0.2"}, {249, "10.1.0.250", "10.2.0.250"}, {250, "10.1.1.1", "10.2.1.1"}, {500, "10.1.2.1", "10.2.2.1"}} {
		l, r := RateAddrs(tc.i)
		if l.String() != tc.l || r.String() != tc.r {
			t.Errorf("RateAddrs(%d) = %v, %v; want %s, %s", tc.i, l, r, tc.l, tc.r)
		}
	}
	// Every tunnel of the largest run has its own pair.
	seen := map[string]bool{}
	for i := 1; i < maxRateConns; i++ {
		l, _ := RateAddrs(i)
		if seen[l.String()] {
			t.Fatalf("RateAddrs(%d) repeats %v", i, l)
		}
		seen[l.String()] = true
	}
}

func TestConfigs(t *testing.T) {
	ini, err := RateInitiatorConf(2, "start")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "rate-initiator-swanctl.conf.golden", ini)
	golden(t, "rate-responder-swanctl.conf.golden", RateResponderConf())
	golden(t, "rate-responder-any-swanctl.conf.golden", RateResponderConfFrom("%any"))
	golden(t, "rate-initiator-strongswan.conf.golden", RateCharonConf(true))
	golden(t, "rate-responder-strongswan.conf.golden", RateCharonConf(false))
	golden(t, "rate-tunnelbox.txt.golden", strings.Join(RateTunnelboxConf(), "\n")+"\n")
	l := lab.Site{LAN: mustPrefix("10.1.1.0/24"), OuterNet: mustPrefix("192.0.2.0/24"),
		Outer: mustAddr("192.0.2.1"), Inner: mustAddr("10.1.1.1")}
	r := lab.Site{LAN: mustPrefix("10.2.2.0/24"), OuterNet: mustPrefix("192.0.2.0/24"),
		Outer: mustAddr("192.0.2.2"), Inner: mustAddr("10.2.2.1")}
	golden(t, "gateway-left.txt.golden", strings.Join(GatewayConf(l, r, Suites[0].Transform), "\n")+"\n")
	for _, bad := range []struct {
		n     int
		start string
	}{{0, "start"}, {maxRateConns, "start"}, {1, "trap"}} {
		if _, err := RateInitiatorConf(bad.n, bad.start); err == nil {
			t.Errorf("RateInitiatorConf(%d, %q) succeeded", bad.n, bad.start)
		}
	}
}

// TestSwanctlConfsLoad feeds the generated swanctl.conf files to a real charon, so a typo in
// a keyword fails here and not after minutes of benchmark.
func TestSwanctlConfsLoad(t *testing.T) {
	lab.RequireShort(t)
	lab.RequireStrongSwan(t)
	ns := lab.NewNetns(t, "confload")
	c, err := StartBenchCharon(t, ns, RateCharonConf(false), "")
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Swanctl("--load-all", "responder.conf", RateResponderConf())
	if err != nil || !strings.Contains(out, "successfully loaded 1 connections, 0 unloaded") {
		t.Fatalf("responder config: %v\n%s", err, out)
	}
	// The engine initiator's responder replaces it (same name).
	out, err = c.Swanctl("--load-all", "responder-any.conf", RateResponderConfFrom("%any"))
	if err != nil || !strings.Contains(out, "successfully loaded 1 connections, 0 unloaded") {
		t.Fatalf("responder config for any initiator: %v\n%s", err, out)
	}
	ini, err := RateInitiatorConf(3, "none")
	if err != nil {
		t.Fatal(err)
	}
	out, err = c.Swanctl("--load-all", "initiator.conf", ini)
	if err != nil || !strings.Contains(out, "successfully loaded 3 connections") {
		t.Fatalf("initiator config: %v\n%s", err, out)
	}
}

func TestCountQMIdle(t *testing.T) {
	sa := `IPv4 Crypto ISAKMP SA
dst             src             state          conn-id status
192.0.2.2       192.0.2.1       QM_IDLE           1001 ACTIVE
192.0.2.2       192.0.2.1       MM_KEY_EXCH       1002 ACTIVE
192.0.2.2       192.0.2.1       QM_IDLE           1003 ACTIVE

IPv6 Crypto ISAKMP SA
`
	if n := CountQMIdle(sa); n != 2 {
		t.Errorf("CountQMIdle = %d, want 2", n)
	}
}

func TestParseSNMP(t *testing.T) {
	in := "Ip: Forwarding DefaultTTL\nIp: 1 64\n" +
		"Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors\n" +
		"Udp: 1500 2 7 1490 5 0 0 0 0\n" +
		"UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors\n" +
		"UdpLite: 0 0 0 0 0 0 0 0 0\n"
	got, err := ParseSNMP(in)
	if err != nil || got != (UDPStats{InDatagrams: 1500, RcvbufErrors: 5, InErrors: 7}) {
		t.Fatalf("= %+v, %v", got, err)
	}
	for _, bad := range []string{"", "Udp: InDatagrams\n", "Udp: InDatagrams InErrors RcvbufErrors\nUdp: 1 2\n",
		"Udp: InDatagrams InErrors RcvbufErrors\nUdp: 1 x 3\n", "Udp: InDatagrams NoPorts\nUdp: 1 2\n"} {
		if _, err := ParseSNMP(bad); err == nil {
			t.Errorf("ParseSNMP(%q) succeeded", bad)
		}
	}
}

func TestReport(t *testing.T) {
	swan := RateResult{Responder: StrongSwan, N: 500, Established: 500, Elapsed: 5740 * time.Millisecond,
		ResponderCPU: 5200 * time.Millisecond, InitiatorCPU: 5900 * time.Millisecond, OtherCPU: 300 * time.Millisecond, Retransmits: 3,
		RespUDPDrops: 12, InitUDPDrops: 1}
	tbx := RateResult{Responder: Tunnelbox, N: 500, Established: 500, Elapsed: 5000 * time.Millisecond,
		ResponderCPU: 1400 * time.Millisecond, InitiatorCPU: 4900 * time.Millisecond}
	var rep Report
	sw := &rep.Rate[0][0]
	sw.Add(RateResult{}, errors.New("first round failed"))
	sw.Add(swan, nil)
	slower := swan
	slower.Elapsed *= 2
	sw.Add(slower, nil)
	sw.Add(RateResult{}, ErrIncomplete)
	rep.Rate[0][1].Add(tbx, nil)
	// Two complete runs: the median is the lower of the two, the failures are forgotten.
	if len(sw.Runs) != 2 || sw.Median().Elapsed != slower.Elapsed || sw.Err != nil {
		t.Fatalf("median bookkeeping: %+v", *sw)
	}
	faster := swan
	faster.Elapsed /= 2
	sw.Add(faster, nil)
	if m := sw.Median(); m.Elapsed != swan.Elapsed {
		t.Fatalf("median of 3 = %v, want the middle run %v", m.Elapsed, swan.Elapsed)
	}
	if sw.Runs[0].Elapsed != swan.Elapsed {
		t.Fatal("Median reordered the runs")
	}
	// The engine initiator against both responders.
	eswan, etbx := swan, tbx
	eswan.Initiator, etbx.Initiator = InitEngines, InitEngines
	eswan.Elapsed, eswan.InitiatorCPU = 4900*time.Millisecond, 1250*time.Millisecond
	etbx.Elapsed, etbx.ResponderCPU, etbx.InitiatorCPU = 1300*time.Millisecond, 1200*time.Millisecond, 1250*time.Millisecond
	rep.Rate[1][0].Add(eswan, nil)
	rep.Rate[1][1].Add(etbx, nil)
	tp := func(impl string, mbps float64, l, r time.Duration) *ThroughputResult {
		return &ThroughputResult{Impl: impl, Iperf3Result: Iperf3Result{ReceivedBps: mbps * 1e6, Duration: 10 * time.Second, Retransmits: 7},
			GwCPU: [2]time.Duration{l, r}, UDPDrops: 20, TUNDrops: 3}
	}
	rep.Throughput = []ThroughputRow{
		{Suite: "aes128-gcm", Swan: tp(StrongSwan, 187, 8*time.Second, 9*time.Second), Tbx: tp(Tunnelbox, 412.5, 7*time.Second, 7500*time.Millisecond)},
		{Suite: "aes256-sha1", Swan: tp(StrongSwan, 166, 8*time.Second, 9*time.Second), TbErr: errors.New("bench: no ping through the Tunnelbox tunnel")},
	}
	rep.Notes = []string{"machine: 2 CPUs"}
	golden(t, "report.txt.golden", rep.Render())

	var failed Report
	failed.Rate[1][1].Add(RateResult{}, &lab.RouterError{Router: "rateR", Line: "crypto map CMAP 10 ipsec-isakmp", Output: "% Invalid input"})
	if s := failed.Render(); !strings.Contains(s, `setup rate, engines initiator, Tunnelbox responder: lab: router rateR refused "crypto map CMAP 10 ipsec-isakmp": % Invalid input`) {
		t.Errorf("failure not reported:\n%s", s)
	}
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func mustAddr(s string) netip.Addr     { return netip.MustParseAddr(s) }
