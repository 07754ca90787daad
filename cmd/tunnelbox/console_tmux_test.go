package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tunnelbox/tunnelbox/lab"
)

// tmuxConsole is the real binary's console in a tmux pane (a real terminal: readline, raw
// mode, the pager reading single keys), on a tmux server of its own.
type tmuxConsole struct {
	t      *testing.T
	socket string
}

func (c *tmuxConsole) tmux(args ...string) (string, error) {
	out, err := exec.Command("tmux", append([]string{"-L", c.socket, "-f", "/dev/null"}, args...)...).CombinedOutput()
	return string(out), err
}

// keys sends tmux key names (Enter, Tab, Up, C-a, Space ...) or, with literal, text.
func (c *tmuxConsole) keys(literal bool, keys ...string) {
	c.t.Helper()
	args := []string{"send-keys", "-t", "tb"}
	if literal {
		args = append(args, "-l")
	}
	if out, err := c.tmux(append(args, keys...)...); err != nil {
		c.t.Fatalf("tmux send-keys %q: %v\n%s", keys, err, out)
	}
}

func (c *tmuxConsole) screen() string {
	out, _ := c.tmux("capture-pane", "-p", "-t", "tb")
	return out
}

// lastLine is the screen's last non-empty line (where the cursor is).
func lastLine(screen string) string {
	lines := strings.Split(strings.TrimRight(screen, "\n "), "\n")
	return strings.TrimRight(lines[len(lines)-1], " ")
}

// wait polls the screen until ok holds (the deadline only bounds a hung test).
func (c *tmuxConsole) wait(what string, ok func(screen string) bool) string {
	c.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		s := c.screen()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s; the screen is:\n%s", what, s)
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// waitLast waits until the cursor line is exactly want.
func (c *tmuxConsole) waitLast(want string) string {
	c.t.Helper()
	return c.wait(fmt.Sprintf("the cursor line never became %q", want), func(s string) bool { return lastLine(s) == want })
}

// TestConsoleInTmux drives the console of the real binary in a tmux pane: Tab completion, `?`
// in the middle of a line, history with Up, Ctrl-A/Ctrl-E/Ctrl-U editing, the --More-- pager
// with space, Enter and q typed ahead in one burst (no key lost or misrouted), enable's
// Password:, and exit ending the process.
func TestConsoleInTmux(t *testing.T) {
	lab.RequireShort(t)
	lab.RequireCommands(t, "tmux")
	bin := buildBinary(t)
	dir := t.TempDir()
	c := &tmuxConsole{t: t, socket: fmt.Sprintf("tb-console-%d", os.Getpid())}
	exitFile := filepath.Join(dir, "exit-status")
	shellCmd := fmt.Sprintf("%s --ssh '' --links=false --dataplane none --db %s; echo $? > %s; sleep 30",
		bin, filepath.Join(dir, "c.db"), exitFile)
	if out, err := c.tmux("new-session", "-d", "-s", "tb", "-x", "100", "-y", "40", shellCmd); err != nil {
		lab.Unavailable(t, fmt.Sprintf("tmux new-session: %v %s", err, out))
	}
	t.Cleanup(func() { c.tmux("kill-server") })

	c.waitLast("Router>")
	// Tab respells the abbreviation.
	c.keys(true, "en")
	c.keys(false, "Tab")
	c.waitLast("Router>enable")
	c.keys(false, "Enter")
	c.waitLast("Router#")
	c.keys(true, "sh")
	c.keys(false, "Tab")
	c.waitLast("Router#show")
	// ? at once in the middle of a line: the listing, then the prompt and the input again.
	c.keys(true, "ver?")
	s := c.waitLast("Router#show ver")
	if !strings.Contains(s, "Router#show ver?\n") || !strings.Contains(s, "version") {
		t.Fatalf("no word help for `show ver?`:\n%s", s)
	}
	c.keys(false, "Enter")
	c.wait("show version did not run", func(s string) bool { return strings.Contains(s, "uptime is") && lastLine(s) == "Router#" })
	// History: Up recalls the last line; Ctrl-A, Ctrl-E and Ctrl-U edit it.
	c.keys(false, "Up")
	c.waitLast("Router#show ver")
	c.keys(false, "C-u")
	c.waitLast("Router#")
	c.keys(true, "how privilege")
	c.keys(false, "C-a")
	c.keys(true, "s")
	c.keys(false, "C-e")
	c.keys(true, "X")
	c.waitLast("Router#show privilegeX")
	c.keys(false, "BSpace", "Enter")
	c.wait("show privilege did not run", func(s string) bool {
		return strings.Contains(s, "Current privilege level is 15") && lastLine(s) == "Router#"
	})
	// The pager: the command and its keys typed in one burst; space shows a page, Enter a
	// line, q stops, and none of them reaches the next prompt.
	c.keys(true, "terminal length 6")
	c.keys(false, "Enter")
	c.waitLast("Router#")
	c.keys(false, "C-l")
	c.keys(true, "show running-config")
	c.keys(false, "Enter", "Space", "Enter", "q")
	s = c.waitLast("Router#")
	if !strings.Contains(s, "Building configuration...") || strings.Contains(s, "--More--") {
		t.Fatalf("pager screen:\n%s", s)
	}
	// 5 lines, then a page of 5, then one line: 11 lines of the configuration, no more.
	body := s[strings.Index(s, "Router#show running-config\n")+len("Router#show running-config\n"):]
	if n := strings.Count(strings.TrimSuffix(body, lastLine(s)+"\n"), "\n"); n != 11 {
		t.Errorf("%d lines shown by space and Enter, want 11:\n%s", n, s)
	}
	c.keys(true, "show privilege")
	c.keys(false, "Enter")
	c.wait("a key went astray after the pager", func(s string) bool {
		return strings.Contains(s, "Router#show privilege\nCurrent privilege level is 15")
	})
	// enable's Password: takes the keys typed ahead between two readline lines, unechoed.
	c.keys(true, "configure terminal")
	c.keys(false, "Enter")
	c.keys(true, "enable secret s3cret")
	c.keys(false, "Enter", "C-z")
	c.waitLast("Router#")
	c.keys(true, "disable")
	c.keys(false, "Enter")
	c.waitLast("Router>")
	c.keys(true, "enable")
	c.keys(false, "Enter")
	c.keys(true, "s3cret")
	c.keys(false, "Enter")
	s = c.waitLast("Router#")
	if !strings.Contains(s, "Router>enable\nPassword:") || strings.Contains(s, "Password: s3cret") {
		t.Fatalf("enable with a secret:\n%s", s)
	}
	if !strings.Contains(s, "Router(config)#^Z") {
		t.Errorf("Ctrl-Z not shown as ^Z:\n%s", s)
	}
	// exit ends the process with status 0.
	c.keys(true, "exit")
	c.keys(false, "Enter")
	deadline := time.Now().Add(15 * time.Second)
	for {
		b, err := os.ReadFile(exitFile)
		if err == nil && strings.TrimSpace(string(b)) != "" {
			if st := strings.TrimSpace(string(b)); st != "0" {
				t.Fatalf("tunnelbox exited with status %s", st)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tunnelbox did not exit after exit; the screen is:\n%s", c.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
