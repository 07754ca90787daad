package sshd_test

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tunnelbox/tunnelbox/lab"
)

// TestNoUsernameRefused: a router with no username refuses every SSH login, and says why.
func TestNoUsernameRefused(t *testing.T) {
	lab.RequireCommands(t, "ssh", "sshpass")
	r := startRouter(t, "hostname R1\n")
	// LogLevel INFO (OpenSSH's default) shows the server's banner.
	args := append(r.sshArgs("admin")[:0:0], r.sshArgs("admin")...)
	for i := range args {
		if args[i] == "LogLevel=ERROR" {
			args[i] = "LogLevel=INFO"
		}
	}
	for _, pw := range []string{"", "cisco", "admin"} {
		out, err := r.sshpass(t, pw, args, "show running-config")
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() == 0 || strings.Contains(out, "hostname R1") {
			t.Errorf("password %q: err = %v, want refused\n%s", pw, err, out)
		}
		if !strings.Contains(out, "no username is configured") {
			t.Errorf("password %q: the client was not told why:\n%s", pw, out)
		}
	}
	if !strings.Contains(r.stderr.String(), "%SSH-3-NO_USERNAMES") {
		t.Errorf("no log line for the refusal:\n%s", r.stderr.String())
	}
}

// TestVTYLineConfig: `transport input` and `exec-timeout` of the vty lines govern SSH.
func TestVTYLineConfig(t *testing.T) {
	lab.RequireCommands(t, "ssh", "sshpass")

	t.Run("transport input telnet", func(t *testing.T) {
		r := startRouter(t, startupConfig+"line vty 0 4\n transport input telnet\n")
		out, err := r.sshpass(t, "s3cret", r.sshArgs("admin"), "show privilege")
		if err == nil || strings.Contains(out, "Current privilege level") {
			t.Errorf("ssh accepted on telnet-only vty lines: %v\n%s", err, out)
		}
		if !strings.Contains(r.stderr.String(), "no free vty line accepts ssh") {
			t.Errorf("no log line for the refused connection:\n%s", r.stderr.String())
		}
	})

	t.Run("exec-timeout", func(t *testing.T) {
		r := startRouter(t, startupConfig+"line vty 0 4\n exec-timeout 0 1\n transport input ssh\n")
		// An interactive session whose stdin stays open but idle: only exec-timeout ends it.
		cmd := exec.Command("sshpass", append([]string{"-p", "s3cret"}, r.sshArgs("admin", "-tt")...)...)
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		defer stdin.Close()
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Fatalf("idle session outlived exec-timeout 0 1:\n%s", out.String())
		}
		if !strings.Contains(out.String(), "R1#") {
			t.Errorf("session never reached the prompt:\n%s", out.String())
		}
		if !strings.Contains(r.stderr.String(), "closed by exec-timeout") {
			t.Errorf("no exec-timeout log line:\n%s", r.stderr.String())
		}
	})
}
