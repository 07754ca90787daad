package lab

import (
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

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
		t.Errorf("%s differs (run with -update after checking):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func labPeer() PeerConfig {
	return PeerConfig{
		LocalAddr:  netip.MustParseAddr("192.0.2.1"),
		RemoteAddr: netip.MustParseAddr("192.0.2.2"),
		PSK:        "interop \"psk\"\\",
		PFSGroup:   "modp2048",
		LocalTS:    []netip.Prefix{netip.MustParsePrefix("10.1.1.0/24")},
		RemoteTS:   []netip.Prefix{netip.MustParsePrefix("10.2.2.7/24"), netip.MustParsePrefix("10.3.3.0/24")},
	}
}

func TestRenderSwanctlConf(t *testing.T) {
	mm := labPeer()
	am := labPeer()
	am.Aggressive, am.PFSGroup, am.StartAction = true, "", "trap"
	am.LocalID, am.RemoteID = "gw-left@lab", "fqdn:gw-right"
	am.IKEProposal, am.ESPProposal = "aes128-sha1-modp1024,3des-md5-modp1024", "aes128gcm16"
	am.IKEReauthTime, am.ChildRekeyTime, am.ChildLifeTime = 8*time.Hour, 45*time.Minute, time.Hour
	am.Encap, am.DPDDelay = true, 30*time.Second
	for _, tc := range []struct {
		golden string
		cfg    PeerConfig
	}{{"swanctl-main-pfs.golden", mm}, {"swanctl-aggressive.golden", am}} {
		got, err := RenderSwanctlConf(&tc.cfg)
		if err != nil {
			t.Fatalf("%s: %v", tc.golden, err)
		}
		golden(t, tc.golden, got)
	}
}

func TestRenderSwanctlConfHub(t *testing.T) {
	s1, s2 := labPeer(), labPeer()
	s1.Conn, s1.RemoteAddr = "spoke1", netip.MustParseAddr("192.0.2.2")
	s2.Conn, s2.RemoteAddr, s2.PSK = "spoke2", netip.MustParseAddr("192.0.2.3"), "other"
	s2.RemoteTS = []netip.Prefix{netip.MustParsePrefix("10.2.2.0/24")}
	got, err := RenderSwanctlConf(&s1, &s2)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "swanctl-hub.golden", got)
	if _, err := RenderSwanctlConf(&s1, &s1); err == nil {
		t.Error("the same connection twice accepted")
	}
	if _, err := RenderSwanctlConf(); err == nil {
		t.Error("no connections accepted")
	}
}

func TestRenderSwanctlConfRejects(t *testing.T) {
	tests := map[string]func(c *PeerConfig){
		"no psk":             func(c *PeerConfig) { c.PSK = "" },
		"no local address":   func(c *PeerConfig) { c.LocalAddr = netip.Addr{} },
		"no ts":              func(c *PeerConfig) { c.RemoteTS = nil },
		"quote in id":        func(c *PeerConfig) { c.LocalID = `a"b` },
		"brace in conn":      func(c *PeerConfig) { c.Conn = "x{" },
		"space in proposal":  func(c *PeerConfig) { c.IKEProposal = "aes256 sha1" },
		"two esp proposals":  func(c *PeerConfig) { c.ESPProposal = "aes256-sha1,aes128-sha1" },
		"aggressive ikev2":   func(c *PeerConfig) { c.Aggressive, c.Version = true, 2 },
		"version 3":          func(c *PeerConfig) { c.Version = 3 },
		"start action":       func(c *PeerConfig) { c.StartAction = "route" },
		"fractional seconds": func(c *PeerConfig) { c.ChildLifeTime = 1500 * time.Millisecond },
		"negative":           func(c *PeerConfig) { c.IKERekeyTime = -time.Second },
		"rekey after life":   func(c *PeerConfig) { c.ChildRekeyTime, c.ChildLifeTime = time.Hour, time.Minute },
	}
	for name, mod := range tests {
		c := labPeer()
		mod(&c)
		if _, err := RenderSwanctlConf(&c); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !strings.HasPrefix(err.Error(), "lab: ") {
			t.Errorf("%s: error %q lacks the lab: prefix", name, err)
		}
	}
}

func TestRenderSwanctlConfNeverZeroLifetime(t *testing.T) {
	c := labPeer() // all lifetimes zero: strongSwan defaults, nothing written
	got, err := RenderSwanctlConf(&c)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"rekey_time", "reauth_time", "life_time"} {
		if strings.Contains(got, k) {
			t.Errorf("%s written for a zero duration:\n%s", k, got)
		}
	}
}

func TestRenderStrongswanConf(t *testing.T) {
	def, err := RenderStrongswanConf(nil)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "strongswan-default.golden", def)
	keylog, err := RenderStrongswanConf(&CharonSettings{KeyLog: true, AggressivePSK: true,
		RetransmitTimeout: 1500 * time.Millisecond, RetransmitTries: 5, LogLevels: map[string]int{"knl": 2, "enc": -1}})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "strongswan-keylog.golden", keylog)
	for name, s := range map[string]*CharonSettings{
		"unknown subsystem": {LogLevels: map[string]int{"xyz": 1}},
		"level 5":           {LogLevels: map[string]int{"ike": 5}},
		"plugin name":       {Plugins: []string{"vici; rm"}},
		"negative timeout":  {RetransmitTimeout: -time.Second},
	} {
		if _, err := RenderStrongswanConf(s); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
