package lab

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func TestConsoleError(t *testing.T) {
	for _, tc := range []struct{ out, want string }{
		{"R1(config)#crypto map CMAP 10 ipsec-isakmp\n% NOTE: This new crypto map will remain disabled until a peer\n" +
			"        and a valid access list have been configured.\nR1(config-crypto-map)#", ""},
		{"R1(config)#crypto isakmp polcy 10\n                     ^\n% Invalid input detected at '^' marker.\n\nR1(config)#",
			"% Invalid input detected at '^' marker."},
		{"*Mar  1 00:00:01.123: %SYS-5-CONFIG_I: Configured from console by console\nR1#", ""},
		{"R1#copy x y\n%Error opening x (No such file)\n% Bad\nR1#", "%Error opening x (No such file) % Bad"},
	} {
		if got := ConsoleError(tc.out); got != tc.want {
			t.Errorf("ConsoleError(%q) = %q, want %q", tc.out, got, tc.want)
		}
	}
}

func TestPromptHelpers(t *testing.T) {
	for s, want := range map[string]bool{"R1#": true, "R1(config-if)#": true, "Router>": true, "": false,
		"% Invalid input #": false, "Building configuration...": false} {
		if isPrompt(s) != want {
			t.Errorf("isPrompt(%q) = %v", s, !want)
		}
	}
	if p := promptOf("R1(config)#" + markPrefix + "3\n"); p != "R1(config)#" {
		t.Errorf("promptOf = %q", p)
	}
	if p := promptOf("R1(config)#show\n"); p != "" {
		t.Errorf("promptOf without a mark = %q", p)
	}
}

func TestCulprit(t *testing.T) {
	sent := []string{"crypto map CMAP 1 ipsec-isakmp", "set peer 198.18.0.2", "set pfs group99", "exit"}
	out := "RESP(config)#crypto map CMAP 1 ipsec-isakmp\n% NOTE: This new crypto map will remain disabled until a peer\n" +
		"RESP(config-crypto-map)#set peer 198.18.0.2\nRESP(config-crypto-map)#set pfs group99\n" +
		"                                 ^\n% Invalid input detected at '^' marker.\n\nRESP(config-crypto-map)#exit\nRESP(config)#"
	if got := culprit(out, sent); got != "set pfs group99" {
		t.Errorf("culprit = %q", got)
	}
	if got := culprit("% Unknown\n", sent); got != sent[0] {
		t.Errorf("culprit without echoes = %q, want the first line", got)
	}
}

// TestRouter runs the real binary in a namespace and drives its console: the first prompt,
// exchanges in exec and configuration modes, a refused line, and Stop by closing the console.
func TestRouter(t *testing.T) {
	RequireShort(t)
	RequireRoot(t)
	RequireCommands(t, "ip", "go")
	ns := NewNetns(t, "rtr")
	r := MustStartRouter(t, ns, "rtr", RouterOptions{Dataplane: "none"})
	if r.Pid <= 0 {
		t.Fatalf("pid %d", r.Pid)
	}
	out, err := r.Send()
	if err != nil || !strings.HasSuffix(out, ">") {
		t.Fatalf("Send() = %q, %v; want the exec prompt", out, err)
	}
	if err := r.Configure("hostname LAB1"); err != nil {
		t.Fatal(err)
	}
	out = r.MustExec(t, "show running-config | include hostname")
	if out != "LAB1#show running-config | include hostname\nhostname LAB1\n" {
		t.Errorf("MustExec = %q", out)
	}
	out, err = r.Send("show version | count xyz-none")
	if err != nil || !strings.HasPrefix(out, "LAB1#show version") || !strings.HasSuffix(out, "\nLAB1#") {
		t.Errorf("Send = %q, %v; want the echo first and the prompt last", out, err)
	}
	err = r.Configure("crypto isakmp polcy 10")
	var re *RouterError
	if !errors.As(err, &re) || re.Line != "crypto isakmp polcy 10" || !strings.Contains(re.Output, "% Invalid input") {
		t.Errorf("Configure of a bad line = %v", err)
	}
	// A refused line leaves the console where it was, in configuration mode.
	if out, err := r.Send(); err != nil || !strings.HasSuffix(out, "LAB1(config)#") {
		t.Errorf("after the refused line: %q, %v", out, err)
	}
	if out := r.MustExec(t, "end", "show running-config | include isakmp"); !strings.HasSuffix(out, "LAB1#show running-config | include isakmp\n") {
		t.Errorf("after the refused line: %q", out)
	}
	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.Done():
	default:
		t.Fatal("Stop returned before the router exited")
	}
	if err := r.Stop(); err != nil {
		t.Errorf("second Stop = %v", err)
	}
	if _, err := r.Send("show clock"); err == nil {
		t.Error("Send after Stop succeeded")
	}
}

func TestBuildTunnelboxOnce(t *testing.T) {
	RequireShort(t)
	RequireCommands(t, "go")
	t.Setenv(BinEnv, "")
	a, err := BuildTunnelbox(BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := BuildTunnelbox(BuildOptions{})
	if err != nil || a != b {
		t.Fatalf("second build = %q, %v; want %q again", b, err, a)
	}
	t.Setenv(BinEnv, "/payload/tunnelbox")
	if c, err := BuildTunnelbox(BuildOptions{}); err != nil || c != "/payload/tunnelbox" {
		t.Errorf("with %s set = %q, %v", BinEnv, c, err)
	}
}

func TestMain(m *testing.M) { os.Exit(RunTests(m)) }
