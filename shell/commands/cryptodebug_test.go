package commands_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tunnelbox/tunnelbox/ike"
	"github.com/tunnelbox/tunnelbox/ike/iketest"
	"github.com/tunnelbox/tunnelbox/lab"
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
