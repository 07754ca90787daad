package sshd_test

import (
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tunnelbox/tunnelbox/lab"
)

// TestOpenSSH runs OpenSSH's ssh (under sshpass) against the real binary: exec of
// `show running-config`, wrong passwords, and keyboard-interactive login.
func TestOpenSSH(t *testing.T) {
	lab.RequireCommands(t, "ssh", "sshpass")
	r := startRouter(t, startupConfig)

	out, err := r.sshpass(t, "s3cret", r.sshArgs("admin"), "show running-config")
	if err != nil {
		t.Fatalf("ssh admin 'show running-config': %v\n%s", err, out)
	}
	for _, want := range []string{"hostname R1", "username admin privilege 15 secret ", "\nend"} {
		if !strings.Contains(out, want) {
			t.Errorf("show running-config over ssh lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "s3cret") {
		t.Errorf("running-config shows the clear-text secret:\n%s", out)
	}

	// keyboard-interactive only (what scrapli's OpenSSH transport often ends up using).
	kbd := r.sshArgs("admin", "-o", "PreferredAuthentications=keyboard-interactive")
	if out, err := r.sshpass(t, "s3cret", kbd, "show privilege"); err != nil ||
		!strings.Contains(out, "Current privilege level is 15") {
		t.Errorf("keyboard-interactive login: %v\n%s", err, out)
	}

	for _, tc := range []struct{ name, user, pw string }{
		{"wrong password", "admin", "s3cret!"},
		{"unknown user", "root", "s3cret"},
		{"empty password", "admin", ""},
	} {
		out, err := r.sshpass(t, tc.pw, r.sshArgs(tc.user), "show running-config")
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() == 0 {
			t.Errorf("%s: ssh err = %v, want a non-zero exit\n%s", tc.name, err, out)
		}
		if strings.Contains(out, "hostname R1") {
			t.Errorf("%s: got the configuration:\n%s", tc.name, out)
		}
	}

	// A failing command gives a non-zero exit status with the IOS message.
	out, err = r.sshpass(t, "s3cret", r.sshArgs("admin"), "show bogus-thing")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 || !strings.Contains(out, "% Invalid input detected at '^' marker.") {
		t.Errorf("ssh 'show bogus-thing': err = %v, want exit status 1 and the caret error\n%s", err, out)
	}
}

// TestPrivilegeOne checks that a level-1 user lands at `R1>` and cannot run privileged
// commands, over exec and over an interactive session.
func TestPrivilegeOne(t *testing.T) {
	lab.RequireCommands(t, "ssh", "sshpass")
	r := startRouter(t, startupConfig)

	out, err := r.sshpass(t, "op1", r.sshArgs("op"), "show privilege")
	if err != nil || !strings.Contains(out, "Current privilege level is 1") {
		t.Errorf("op 'show privilege': %v\n%s", err, out)
	}
	out, _ = r.sshpass(t, "op1", r.sshArgs("op"), "show running-config")
	if strings.Contains(out, "hostname R1") || !strings.Contains(out, "%") {
		t.Errorf("level-1 user ran show running-config:\n%s", out)
	}

	// Interactive, with a pty: the prompt is R1>; `enable` without an enable secret on a
	// vty is refused, and `configure terminal` is not a level-1 command.
	args := r.sshArgs("op", "-tt")
	cmd := exec.Command("sshpass", append([]string{"-p", "op1"}, args...)...)
	cmd.Stdin = strings.NewReader("enable\rconfigure terminal\rshow privilege\rexit\r")
	b, err := cmd.CombinedOutput()
	out = string(b)
	if err != nil {
		t.Errorf("interactive op session: %v\n%s", err, out)
	}
	for _, want := range []string{"R1>", "% No password set", "Current privilege level is 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("interactive op session lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "R1#") || strings.Contains(out, "R1(config)#") {
		t.Errorf("level-1 user reached a privileged prompt:\n%s", out)
	}
}

// TestNetmiko drives the router with Debian's python3-netmiko (cisco_ios driver): session
// preparation, send_command, send_config_set, and the result in show running-config.
func TestNetmiko(t *testing.T) {
	lab.RequireCommands(t, "/usr/bin/python3")
	if err := exec.Command("/usr/bin/python3", "-c", "import netmiko").Run(); err != nil {
		lab.Unavailable(t, "needs python3-netmiko (lab/install-deps.sh installs it)")
	}
	r := startRouter(t, startupConfig)
	script, err := filepath.Abs(filepath.Join("testdata", "netmiko_session.py"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/usr/bin/python3", script, "127.0.0.1", r.port, "admin", "s3cret")
	cmd.Dir = t.TempDir()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("netmiko: %v\n%s", err, stderr.String())
	}
	var res struct {
		Prompt        string `json:"prompt"`
		ShowVersion   string `json:"show_version"`
		ConfigOutput  string `json:"config_output"`
		NewPrompt     string `json:"new_prompt"`
		RunningConfig string `json:"running_config"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("netmiko output: %v\n%s", err, out)
	}
	if res.Prompt != "R1#" || res.NewPrompt != "R2#" {
		t.Errorf("prompts %q then %q, want R1# then R2#", res.Prompt, res.NewPrompt)
	}
	if !strings.Contains(res.ShowVersion, "uptime is") {
		t.Errorf("show version via netmiko:\n%s", res.ShowVersion)
	}
	for _, bad := range []string{"% Invalid", "% Incomplete", "% Ambiguous", "% Unknown"} {
		if strings.Contains(res.ConfigOutput, bad) {
			t.Errorf("send_config_set output has %q:\n%s", bad, res.ConfigOutput)
		}
	}
	for _, want := range []string{"hostname R2", "interface Loopback0", " description set by netmiko",
		" ip address 10.9.9.9 255.255.255.255"} {
		if !strings.Contains(res.RunningConfig, want) {
			t.Errorf("running-config after netmiko lacks %q:\n%s", want, res.RunningConfig)
		}
	}
}

// tmuxSession is an interactive OpenSSH session running inside a private tmux server.
type tmuxSession struct {
	t    *testing.T
	sock string
}

func (s *tmuxSession) tmux(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", s.sock}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// screen is the visible pane plus scrollback, trailing blanks trimmed per line.
func (s *tmuxSession) screen() string {
	s.t.Helper()
	lines := strings.Split(s.tmux("capture-pane", "-p", "-t", "r1", "-S", "-200"), "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " ")
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n")
}

// lastLine is the bottom non-empty line of the pane, where the cursor line is.
func (s *tmuxSession) lastLine() string {
	sc := s.screen()
	return sc[strings.LastIndex(sc, "\n")+1:]
}

// waitFor polls the pane until ok accepts it; the deadline only bounds a failing test.
func (s *tmuxSession) waitFor(what string, ok func(screen string) bool) string {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		sc := s.screen()
		if ok(sc) {
			return sc
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("waiting for %s; pane:\n%s", what, sc)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *tmuxSession) waitLast(want string) {
	s.t.Helper()
	s.waitFor("last line "+want, func(string) bool { return s.lastLine() == want })
}

func (s *tmuxSession) keys(k ...string) { s.tmux(append([]string{"send-keys", "-t", "r1"}, k...)...) }
func (s *tmuxSession) text(x string)    { s.tmux("send-keys", "-t", "r1", "-l", x) }

// TestTmuxInteractive types at an interactive OpenSSH session inside tmux and reads the
// screen: Tab completion, `?` help, history recall, and the --More-- pager.
func TestTmuxInteractive(t *testing.T) {
	lab.RequireCommands(t, "ssh", "sshpass", "tmux")
	r := startRouter(t, startupConfig+"interface Loopback1\n description one\ninterface Loopback2\n description two\n")
	s := &tmuxSession{t: t, sock: filepath.Join(t.TempDir(), "tmux.sock")}
	ssh := "exec sshpass -p s3cret " + strings.Join(r.sshArgs("admin"), " ")
	s.tmux("-f", "/dev/null", "new-session", "-d", "-s", "r1", "-x", "100", "-y", "40", ssh)
	t.Cleanup(func() { exec.Command("tmux", "-S", s.sock, "kill-server").Run() })

	s.waitLast("R1#")

	// Tab completes the unique keyword and appends a space.
	s.text("sh ru")
	s.keys("Tab")
	s.waitLast("R1#sh running-config")
	if sc := s.screen(); !strings.HasSuffix(sc, "R1#sh running-config") {
		t.Fatalf("after Tab: %q", sc[max(0, len(sc)-60):])
	}
	s.keys("C-u")
	s.waitLast("R1#")

	// `?` lists the keywords at once and gives the line back for editing.
	s.text("show ?")
	sc := s.waitFor("show ? help", func(sc string) bool { return strings.HasSuffix(sc, "R1#show") })
	for _, want := range []string{"  running-config", "  version", "  privilege"} {
		if !strings.Contains(sc, want) {
			t.Errorf("show ? lacks %q:\n%s", want, sc)
		}
	}
	s.keys("C-u")
	s.waitLast("R1#")

	// terminal length 10: a long output stops at --More-- after 9 lines; q ends it.
	s.text("terminal length 10")
	s.keys("Enter")
	s.waitLast("R1#")
	s.text("show running-config")
	s.keys("Enter")
	sc = s.waitFor("--More--", func(sc string) bool { return strings.Contains(sc, "--More--") })
	page := sc[strings.LastIndex(sc, "R1#show running-config")+len("R1#show running-config\n"):]
	if n := strings.Count(page, "\n"); n != 9 {
		t.Errorf("first page has %d lines before --More--, want 9:\n%s", n, page)
	}
	s.keys("q")
	s.waitLast("R1#")
	if sc := s.screen(); strings.Contains(sc, "\nend") {
		t.Errorf("output continued after q at --More--:\n%s", sc)
	}

	// Up recalls the previous command of this mode's history.
	s.keys("Up")
	s.waitLast("R1#show running-config")
	s.keys("Up")
	s.waitLast("R1#terminal length 10")
	s.keys("C-u")
	s.text("exit")
	s.keys("Enter")
	// exit ends the SSH session, so ssh and with it the tmux session end.
	deadline := time.Now().Add(30 * time.Second)
	for exec.Command("tmux", "-S", s.sock, "has-session", "-t", "r1").Run() == nil {
		if time.Now().After(deadline) {
			t.Fatalf("session still open after exit:\n%s", s.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
