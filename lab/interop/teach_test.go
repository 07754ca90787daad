package interop

import (
	"encoding/hex"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tunnelbox/tunnelbox/lab"
)

// teachHash is one hash formula of the teaching view: the message it belongs to, the formula's
// name and the value the router computed, and whether that value equalled the HASH payload.
type teachHash struct {
	Msg     string // "MM5", "AM2", "QM1", "INFO" ...
	Name    string // "HASH_I", "HASH_R", "HASH(1)", "HASH(2)", "HASH(3)"
	Value   []byte
	Matches bool
}

// teachView is what the test reads out of `show crypto isakmp exchange`.
type teachView struct {
	Msgs   []string          // the ladder's messages in order: "MM1", "MM2", ...
	Keys   map[string][]byte // "SKEYID", "SKEYID_d", "SKEYID_a", "SKEYID_e", "Ka"
	Hashes []teachHash
}

var (
	ladderRE  = regexp.MustCompile(`^  \|(?:-- (\S+) -+>|<-+ (\S+) --)\|`)
	keyLineRE = regexp.MustCompile(`^  \|\s+\|\s+(SKEYID|SKEYID_d|SKEYID_a|SKEYID_e|Ka)\s+= .* = ([0-9A-F]+)$`)
	formulaRE = regexp.MustCompile(`^  \|\s+\|\s+(HASH_I|HASH_R|HASH\([123]\)) = prf\(`)
	valueRE   = regexp.MustCompile(`^  \|\s+\|\s+= ([0-9A-F]+) \((matches the HASH payload|DIFFERS from the HASH payload [0-9A-F]+)\)$`)
)

// parseTeachView reads the ladder of one peer.
func parseTeachView(t *testing.T, out string) teachView {
	t.Helper()
	v := teachView{Keys: map[string][]byte{}}
	lines := strings.Split(strings.ReplaceAll(out, "\r", ""), "\n")
	cur := ""
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if m := ladderRE.FindStringSubmatch(l); m != nil {
			cur = m[1] + m[2]
			v.Msgs = append(v.Msgs, cur)
			continue
		}
		if m := keyLineRE.FindStringSubmatch(l); m != nil {
			if _, dup := v.Keys[m[1]]; dup {
				t.Fatalf("teaching view shows %s twice:\n%s", m[1], out)
			}
			v.Keys[m[1]] = mustHex(t, m[2])
			continue
		}
		if m := formulaRE.FindStringSubmatch(l); m != nil {
			if i+1 >= len(lines) {
				t.Fatalf("formula %q without a value", l)
			}
			val := valueRE.FindStringSubmatch(lines[i+1])
			if val == nil {
				t.Fatalf("formula %q: next line %q is not a value", l, lines[i+1])
			}
			v.Hashes = append(v.Hashes, teachHash{Msg: cur, Name: m[1], Value: mustHex(t, val[1]),
				Matches: strings.HasPrefix(val[2], "matches")})
			i++
		}
	}
	return v
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("hex %q: %v", s, err)
	}
	return b
}

// hash returns the hashes of the view for message msg.
func (v *teachView) hash(msg string) []teachHash {
	var out []teachHash
	for _, h := range v.Hashes {
		if h.Msg == msg {
			out = append(out, h)
		}
	}
	return out
}

// charonChunks returns the complete IKE-group dumps charon logged under label, hex-encoded.
func charonChunks(kl *lab.KeyLog, label string) []string {
	var out []string
	for _, c := range kl.Chunks {
		if c.Label == label && c.Group == "IKE" && c.Complete {
			out = append(out, hex.EncodeToString(c.Data))
		}
	}
	return out
}

// TestTeachingViewStrongSwan is issue 7 acceptance 3: against strongSwan 5.9.8 with a level-4
// key log, in both roles, Main and Aggressive Mode, with and without PFS, the teaching view
// (`show crypto isakmp exchange`) draws the whole exchange, says every hash matched its payload,
// and shows the same SKEYID, SKEYID_d/_a/_e, Ka, HASH_I, HASH_R and HASH(1..3) as charon
// computed; the capture exported with `monitor capture crypto export` opens in tshark with only
// the exported key files: Quick Mode decrypts (SA, nonce, identities visible; the HASH payloads
// equal charon's), and nothing is malformed.
func TestTeachingViewStrongSwan(t *testing.T) {
	requireLab(t)
	lab.RequireStrongSwan(t)
	lab.RequireTshark(t)
	for _, tc := range swCases {
		t.Run(tc.name, func(t *testing.T) { runTeach(t, tc) })
	}
}

func runTeach(t *testing.T, tc swCase) {
	start := time.Now()
	l, r := fourNode(t)
	charonAddrs(t, r)
	sw, err := lab.StartCharon(t, r.Gw, &lab.CharonSettings{KeyLog: true, AggressivePSK: tc.aggressive, RetransmitTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	lab.KeepArtifacts(t, sw.LogPath())
	pc := &lab.PeerConfig{
		Aggressive: tc.aggressive, LocalAddr: r.Outer, RemoteAddr: l.Outer, PSK: psk,
		IKEProposal: "aes256-sha256-modp2048", ESPProposal: "aes128-sha1",
		LocalTS: []netip.Prefix{r.LAN}, RemoteTS: []netip.Prefix{l.LAN},
		IKEReauthTime: 4 * time.Hour, ChildRekeyTime: 50 * time.Minute, ChildLifeTime: time.Hour,
	}
	if tc.pfs == 14 {
		pc.PFSGroup = "modp2048"
	}
	if err := sw.Load(pc); err != nil {
		t.Fatal(err)
	}
	gw := StartRouter(t, l.Gw, "gwL")
	gw.MustExec(t, siteConfig("gwL", l, r, tc.pfs).Lines()...)
	// The capture point records the ESP traffic from now on (ISAKMP is always traced).
	if out := gw.MustExec(t, "monitor capture crypto start"); !strings.Contains(out, "Started capture point : crypto") {
		t.Fatalf("capture start:\n%s", out)
	}

	switch {
	case tc.tbInit && tc.aggressive:
		gw.MustExec(t, "crypto map CMAP 10 initiate aggressive")
	case tc.tbInit:
		gw.MustExec(t, "crypto map CMAP 10 initiate")
	default:
		if err := sw.Initiate("net", 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sw.WaitInstalled("net", 15*time.Second); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(gw.Keys(t)) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("Tunnelbox installed %d SAs, want 2", len(gw.Keys(t)))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := hostPing(t, l.Host, r.HostAddr, 3); n != 3 {
		t.Errorf("hostL -> hostR through the tunnel: %d of 3 replies", n)
	}
	up := time.Since(start)
	stop := gw.MustExec(t, "monitor capture crypto stop")
	if !strings.Contains(stop, "Stopped capture point : crypto") || !strings.Contains(stop, "6 ESP packets") {
		t.Errorf("capture stop: %q, want 6 ESP packets (3 echoes each way)", stop)
	}

	// The teaching view, through the console.
	out := gw.MustExec(t, "show crypto isakmp exchange peer "+r.Outer.String())
	t.Logf("teaching view:\n%s", out)
	v := parseTeachView(t, out)
	p1 := []string{"MM1", "MM2", "MM3", "MM4", "MM5", "MM6"}
	if tc.aggressive {
		p1 = []string{"AM1", "AM2", "AM3"}
	}
	want := append(p1, "QM1", "QM2", "QM3")
	if got := strings.Join(v.Msgs, " "); !strings.HasPrefix(got, strings.Join(want, " ")) {
		t.Errorf("ladder %q, want it to start with %q", got, strings.Join(want, " "))
	}

	kl, err := sw.KeyLog()
	if err != nil {
		t.Fatal(err)
	}
	if len(kl.IKE) != 1 {
		t.Fatalf("charon logged %d IKE SAs, want 1", len(kl.IKE))
	}
	ik := kl.IKE[0]
	for _, k := range []struct {
		name string
		want []byte
	}{{"SKEYID", ik.SKEYID}, {"SKEYID_d", ik.SKEYIDd}, {"SKEYID_a", ik.SKEYIDa}, {"SKEYID_e", ik.SKEYIDe}, {"Ka", ik.EncKey}} {
		name, want := k.name, k.want
		got, ok := v.Keys[name]
		switch {
		case !ok:
			t.Errorf("teaching view shows no %s", name)
		case len(want) == 0:
			t.Errorf("charon logged no %s", name)
		case hex.EncodeToString(got) != hex.EncodeToString(want):
			t.Errorf("%s: teaching view %X, charon %X", name, got, want)
		default:
			t.Logf("%-8s = %X (teaching view = charon)", name, got)
		}
	}

	// Every hash of the exchange: the view computed it, found it equal to the payload, and
	// charon computed the same value (for the payload it sent or to verify the one it got).
	msgHash := map[string][2]string{"QM1": {"HASH(1)", "Hash(1)"}, "QM2": {"HASH(2)", "Hash(2)"}, "QM3": {"HASH(3)", "Hash(3)"}}
	if tc.aggressive {
		msgHash["AM2"] = [2]string{"HASH_R", "HASH_R"}
		msgHash["AM3"] = [2]string{"HASH_I", "HASH_I"}
	} else {
		msgHash["MM5"] = [2]string{"HASH_I", "HASH_I"}
		msgHash["MM6"] = [2]string{"HASH_R", "HASH_R"}
	}
	for _, msg := range want {
		names, ok := msgHash[msg]
		if !ok {
			continue
		}
		hs := v.hash(msg)
		if len(hs) != 1 || hs[0].Name != names[0] {
			t.Errorf("%s: teaching view hashes %+v, want one %s", msg, hs, names[0])
			continue
		}
		h := hs[0]
		if !h.Matches {
			t.Errorf("%s: teaching view says %s differs from the payload", msg, h.Name)
		}
		cs := charonChunks(kl, names[1])
		if len(cs) != 1 {
			t.Errorf("%s: charon logged %d %q values, want 1: %v", msg, len(cs), names[1], cs)
			continue
		}
		if cs[0] != hex.EncodeToString(h.Value) {
			t.Errorf("%s: teaching view %s = %X, charon %s = %s", msg, h.Name, h.Value, names[1], strings.ToUpper(cs[0]))
			continue
		}
		t.Logf("%s %-7s = %X (teaching view = charon %s)", msg, h.Name, h.Value, names[1])
	}

	// The export, opened by tshark with nothing but the exported key files.
	dir := t.TempDir()
	pcap := filepath.Join(dir, "exchange.pcap")
	exp := gw.MustExec(t, "monitor capture crypto export "+pcap+" peer "+r.Outer.String())
	if !strings.Contains(exp, "ISAKMP messages and 6 ESP packets to ") {
		t.Fatalf("export:\n%s", exp)
	}
	lab.KeepArtifacts(t, pcap, pcap+".ikev1_decryption_table", pcap+".esp_sa")
	args := exportedKeyArgs(t, pcap)
	checkExportedQuickMode(t, pcap, args, kl, len(want)+6)
	checkExportedESP(t, pcap, args, l, r, 3)
	t.Logf("timing: tunnel up and pinged at %v, all checks at %v", up.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// checkExportedESP asserts that tshark decrypts (and authenticates) every ESP datagram of the
// export with the exported esp_sa lines: echoes echo requests (hostL -> hostR) and as many
// replies, each inside UDP-encapsulated ESP between the gateways.
func checkExportedESP(t *testing.T, pcap string, args []string, l, r Site, echoes int) {
	t.Helper()
	pkts, err := lab.Dissect(pcap, append(args, "-Y", "esp")...)
	if err != nil {
		t.Fatal(err)
	}
	req, rep := 0, 0
	for _, p := range pkts {
		out := p.Src == l.Outer.String() && p.Dst == r.Outer.String()
		in := p.Src == r.Outer.String() && p.Dst == l.Outer.String()
		switch {
		case !p.Has("udpencap") || !p.Has("icmp") || (!out && !in):
			t.Errorf("frame %d %s > %s %v %q: not a decrypted echo inside ESP in UDP between the gateways", p.Number, p.Src, p.Dst, p.Protocols, p.Info)
		case out && strings.Contains(p.Info, "Echo (ping) request"):
			req++
		case in && strings.Contains(p.Info, "Echo (ping) reply"):
			rep++
		default:
			t.Errorf("frame %d %s > %s: unexpected inner packet %q", p.Number, p.Src, p.Dst, p.Info)
		}
	}
	good, err := lab.Dissect(pcap, append(args, "-Y", "esp.icv_good == 1")...)
	if err != nil {
		t.Fatal(err)
	}
	if len(good) != len(pkts) {
		t.Errorf("tshark verified the ICV of %d of %d ESP frames with the exported keys", len(good), len(pkts))
	}
	if req != echoes || rep != echoes {
		t.Errorf("exported ESP decrypted by tshark: %d echo requests, %d replies; want %d each", req, rep, echoes)
	} else {
		t.Logf("exported ESP: %d echo requests and %d replies decrypted and authenticated by tshark", req, rep)
	}
}

// exportedKeyArgs turns the key files written next to pcap into tshark options.
func exportedKeyArgs(t *testing.T, pcap string) []string {
	t.Helper()
	var args []string
	for _, uat := range []string{"ikev1_decryption_table", "esp_sa"} {
		b, err := os.ReadFile(pcap + "." + uat)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) != 1 && uat == "ikev1_decryption_table" || len(lines) != 2 && uat == "esp_sa" {
			t.Errorf("%s: %d lines:\n%s", uat, len(lines), b)
		}
		for _, l := range lines {
			args = append(args, "-o", "uat:"+uat+":"+l)
		}
	}
	return append(args, "-o", "esp.enable_encryption_decode:TRUE", "-o", "esp.enable_authentication_check:TRUE")
}

// checkExportedQuickMode asserts that tshark decrypts the exported Quick Mode: QM1 and QM2 show
// their SA, nonce and both identities, QM3 its hash, and every HASH payload of Quick Mode is the
// value charon logged; no frame is malformed.
func checkExportedQuickMode(t *testing.T, pcap string, args []string, kl *lab.KeyLog, minFrames int) {
	t.Helper()
	pkts, err := lab.Dissect(pcap, args...)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkts) < minFrames {
		t.Errorf("exported capture has %d frames, want >= %d", len(pkts), minFrames)
	}
	for _, p := range pkts {
		if p.Bad() {
			t.Errorf("frame %d %v %q: malformed=%v expert=%+v", p.Number, p.Protocols, p.Info, p.Malformed, p.Expert)
		}
	}
	fields := []string{"frame.number", "isakmp.exchangetype", "isakmp.messageid", "isakmp.sa.doi", "isakmp.nonce",
		"isakmp.id.type", "isakmp.hash"}
	targs := append([]string{"-r", pcap, "-n"}, args...)
	targs = append(targs, "-Y", "isakmp.exchangetype == 32", "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=;")
	for _, f := range fields {
		targs = append(targs, "-e", f)
	}
	cmd := exec.Command("tshark", targs...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, stderr.String())
	}
	var qm [][]string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line != "" {
			qm = append(qm, strings.Split(line, "\t"))
		}
	}
	if len(qm) < 3 {
		t.Fatalf("tshark found %d Quick Mode frames in the export, want 3:\n%s", len(qm), b)
	}
	for i, f := range qm[:3] {
		name := []string{"QM1", "QM2", "QM3"}[i]
		if len(f) != len(fields) {
			t.Fatalf("%s: tshark fields %q", name, f)
		}
		if i < 2 && (f[3] != "1" || f[4] == "" || strings.Count(f[5], ";") != 1) {
			t.Errorf("%s (frame %s) not decrypted by tshark: DOI %q, nonce %q, ID types %q", name, f[0], f[3], f[4], f[5])
		}
		want := charonChunks(kl, "Hash("+string(rune('1'+i))+")")
		if len(want) != 1 || strings.ReplaceAll(f[6], ":", "") != want[0] {
			t.Errorf("%s (frame %s): tshark's decrypted HASH payload %q, charon's Hash(%d) %v", name, f[0], f[6], i+1, want)
		} else {
			t.Logf("%s frame %s decrypted by tshark: DOI %s, nonce %.16s..., ID types %s, HASH = charon's", name, f[0], f[3], f[4], f[5])
		}
	}
}
