package commands_test

import (
	"crypto/ed25519"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tunnelbox/tunnelbox/ike"
	"github.com/tunnelbox/tunnelbox/ike/iketest"
	"github.com/tunnelbox/tunnelbox/lab"
	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
	"github.com/tunnelbox/tunnelbox/shell/sshd"
)

// debugCase is one negotiation watched with debug crypto isakmp/ipsec on both routers.
type debugCase struct {
	name  string
	setup func(g1, g2 *iketest.Gateway)
	wait  func(r *rig)
}

var debugCases = []debugCase{
	{"success", func(g1, g2 *iketest.Gateway) {}, func(r *rig) { r.waitPairs(1, 0) }},
	{"wrong-psk", func(g1, g2 *iketest.Gateway) { g2.PSK = "other-key" },
		func(r *rig) { r.waitFail("R2", ike.ReasonAuthFailed) }},
	{"policy", func(g1, g2 *iketest.Gateway) { g2.Policy.KeyBits = 128 },
		func(r *rig) { r.waitFail("R2", ike.ReasonNoPolicy) }},
	{"transform-set", func(g1, g2 *iketest.Gateway) { g2.Transform = []string{"esp-3des", "esp-sha-hmac"} },
		func(r *rig) { r.waitFail("R1", ike.ReasonPeerRefused) }},
	{"pfs-group", func(g1, g2 *iketest.Gateway) { g2.PFS = 14 },
		func(r *rig) { r.waitFail("R1", ike.ReasonPeerRefused) }},
	{"proxy-ids", func(g1, g2 *iketest.Gateway) { g2.Local = []string{"10.2.3.0/24"} },
		func(r *rig) { r.waitFail("R1", ike.ReasonPeerRefused) }},
}

// TestDebugCrypto records `debug crypto isakmp` and `debug crypto ipsec` on both consoles for a
// successful Main Mode + Quick Mode and for each failure of the spec's table, and checks that
// debug output reaches a vty only with terminal monitor, and only for the debugs turned on.
func TestDebugCrypto(t *testing.T) {
	for _, tc := range debugCases {
		t.Run(tc.name, func(t *testing.T) {
			g1, g2 := defaultGateways()
			tc.setup(&g1, &g2)
			r := newRig(t, g1, g2)
			c1 := newTerm(r.r1.app, "con 0")
			c2 := newTerm(r.r2.app, "con 0")
			quiet := newTerm(r.r1.app, "vty 0")
			mon := newTerm(r.r1.app, "vty 1")
			defer func() { c1.s.Close(); c2.s.Close(); quiet.s.Close(); mon.s.Close() }()
			c1.run("show debugging", "debug crypto isakmp", "debug crypto ipsec", "show debugging")
			c2.run("debug crypto isakmp", "show debugging") // R2: ISAKMP only
			mon.run("terminal monitor")
			quietBefore, monBefore := quiet.b.Len(), mon.b.Len()

			if err := r.r1.e.Initiate("CMAP", 10, false); err != nil {
				t.Fatal(err)
			}
			tc.wait(r)
			r.settle()
			consoleBefore := c1.b.Len()
			c1.drain()
			c2.drain()
			quiet.drain()
			mon.drain()
			c1.run("undebug all", "show debugging")
			c2.run("no debug all", "show debugging")

			debug1 := c1.b.String()[consoleBefore:]
			if got := quiet.b.String()[quietBefore:]; got != "" {
				t.Errorf("a vty without terminal monitor received:\n%s", got)
			}
			if got := mon.b.String()[monBefore:]; !strings.HasPrefix(debug1, got) || got == "" {
				t.Errorf("the monitor vty received something else than the console:\n%s", got)
			}
			if !strings.Contains(debug1, "IPSEC(") && tc.name == "success" {
				t.Errorf("debug crypto ipsec is on but printed nothing")
			}
			if strings.Contains(c2.b.String(), "IPSEC(") {
				t.Errorf("R2 printed debug crypto ipsec lines without debug crypto ipsec")
			}
			golden(t, "cryptoops/debug-"+tc.name+".txt", c1.b.String()+"\n"+c2.b.String())
		})
	}
}

// TestCaptureExportTshark exports a real exchange with monitor capture crypto export and opens
// it with tshark and the exported key files: Quick Mode must come out decrypted.
func TestCaptureExportTshark(t *testing.T) {
	lab.RequireCommands(t, "tshark")
	g1, g2 := defaultGateways()
	r := newRig(t, g1, g2)
	r.upTunnel()
	r.settle()
	dir := t.TempDir()
	path := filepath.Join(dir, "ike.pcap")
	c := newTerm(r.r1.app, "con 0")
	defer c.s.Close()
	c.run("monitor capture crypto export " + path)
	if !strings.Contains(c.b.String(), "Exported 9 ISAKMP messages") {
		t.Fatalf("export:\n%s", c.b.String())
	}
	args := []string{"-r", path, "-n"}
	for _, uat := range []string{"ikev1_decryption_table", "esp_sa"} {
		b, err := os.ReadFile(path + "." + uat)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			args = append(args, "-o", "uat:"+uat+":"+l)
		}
	}
	// QM1 is frame 7: decrypted, it shows its SA, nonce and identities.
	args = append(args, "-Y", "frame.number == 7", "-T", "fields", "-e", "isakmp.exchangetype", "-e", "isakmp.nonce",
		"-e", "isakmp.id.type", "-e", "isakmp.sa.doi")
	cmd := exec.Command("tshark", args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, stderr.String())
	}
	f := strings.Split(strings.TrimSpace(string(out)), "\t")
	if len(f) < 4 || f[0] != "32" || f[1] == "" || f[2] == "" || f[3] == "" {
		t.Fatalf("QM1 not decrypted by tshark (exchange type, nonce, ID type, DOI): %q", out)
	}
}

// TestNetmikoShowCrypto runs every crypto show command through netmiko's send_command over the
// router's SSH server and compares each output with what the console prints.
func TestNetmikoShowCrypto(t *testing.T) {
	lab.RequireCommands(t, "/usr/bin/python3")
	if err := exec.Command("/usr/bin/python3", "-c", "import netmiko").Run(); err != nil {
		lab.Unavailable(t, "needs python3-netmiko (lab/install-deps.sh installs it)")
	}
	g1, g2 := defaultGateways()
	r := newRig(t, g1, g2)
	r.upTunnel()
	r.settle()
	const pw = "s3cret"
	sec, err := runningconfig.HashSecret(pw, 5)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.r1.mgr.Apply(func(c *runningconfig.Config) error {
		c.Users = append(c.Users, runningconfig.User{Name: "admin", Privilege: 15, Secret: sec})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	srv, err := sshd.New(sshd.Config{HostKey: make([]byte, ed25519.SeedSize), Accounts: sshd.ConfigAccounts(r.r1.mgr.Running),
		Shell: sshd.AppShell(r.r1.app), FailDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	script, err := filepath.Abs(filepath.Join("testdata", "netmiko_show.py"))
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	cmds := showCommands[:len(showCommands)-1] // the teaching view is not an IOS command netmiko knows
	cmd := exec.Command("/usr/bin/python3", append([]string{script, "127.0.0.1", port, "admin", pw}, cmds...)...)
	cmd.Dir = t.TempDir()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("netmiko: %v\n%s", err, stderr.String())
	}
	var got map[string]string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("netmiko output: %v\n%s", err, out)
	}
	con := newTerm(r.r1.app, "con 0")
	defer con.s.Close()
	for _, c := range cmds {
		want := normalise(con.s.RunLine(c))
		if g := normalise(got[c]); g != want {
			t.Errorf("%s: netmiko got\n%s\nconsole printed\n%s", c, g, want)
		}
	}
}

// normalise removes what differs between a terminal and netmiko without changing the text:
// CRs, trailing spaces, and blank lines at the start and end.
func normalise(s string) string {
	s = strings.ReplaceAll(s, "\r", "")
	return strings.Trim(trimLines(s), "\n")
}

// TestLoggingSyslogAndBuffer configures the logging buffer and a syslog host from the CLI,
// brings the tunnel up, and checks the %CRYPTO-5-SESSION_STATUS message in the buffer (show
// logging) and as an RFC 3164 datagram at the host, and the logging lines of the
// running-config.
func TestLoggingSyslogAndBuffer(t *testing.T) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	_, port, _ := net.SplitHostPort(pc.LocalAddr().String())
	g1, g2 := defaultGateways()
	r := newRig(t, g1, g2)
	con := newTerm(r.r1.app, "con 0")
	defer con.s.Close()
	con.run("configure terminal", "logging buffered 8192 informational", "logging host 127.0.0.1 transport udp port "+port,
		"logging trap notifications", "end")
	if err := r.r1.e.Initiate("CMAP", 10, false); err != nil {
		t.Fatal(err)
	}
	r.waitPairs(1, 0)
	r.settle()
	buf := make([]byte, 2048)
	pc.SetReadDeadline(time.Now().Add(20 * time.Second)) // hang guard only
	var got []string
	for len(got) < 2 {
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatalf("syslog host received %q, then: %v", got, err)
		}
		got = append(got, string(buf[:n]))
	}
	want := []string{
		"<189>1: *Nov 27 17:25:01.123: %SYS-5-CONFIG_I: Configured from console by console",
		"<189>2: *Nov 27 17:25:01.123: %CRYPTO-5-SESSION_STATUS: Crypto tunnel is UP  .  Peer 192.0.2.2:500       Id: 192.0.2.2",
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("syslog datagram %d = %q, want %q", i+1, got[i], want[i])
		}
	}
	con.run("show logging", "show running-config | include ^logging")
	// The syslog port is the test's free port: the only value that varies.
	golden(t, "cryptoops/logging.txt", strings.ReplaceAll(con.b.String(), "port "+port, "port 5514"))
}
