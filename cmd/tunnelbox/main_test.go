package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/tunnelbox/tunnelbox/lab"
)

func TestMain(m *testing.M) { os.Exit(lab.RunTests(m)) }

// buildBinary returns the real tunnelbox binary, built once per test process.
func buildBinary(t *testing.T) string {
	t.Helper()
	return lab.TunnelboxBinary(t, lab.BuildOptions{})
}

// runPiped runs the binary with stdin from a string and returns stdout, stderr, exit code.
func runPiped(t *testing.T, bin, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func TestBinaryPersistsAcrossRestarts(t *testing.T) {
	bin := buildBinary(t)
	db := filepath.Join(t.TempDir(), "r1.db")

	out, stderr, code := runPiped(t, bin,
		"enable\nconf t\nhostname R1\nusername admin privilege 15 secret s3cret\nend\nwrite memory\n",
		"--db", db, "--ssh", "")
	if code != 0 {
		t.Fatalf("first run exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	for _, want := range []string{"Router>enable\n", "Router(config)#hostname R1\n", "R1(config)#username admin privilege 15 secret s3cret\n",
		"R1#write memory\nBuilding configuration...\n[OK]\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("first run output lacks %q:\n%s", want, out)
		}
	}

	out, stderr, code = runPiped(t, bin, "enable\nshow startup-config\n", "--db", db, "--ssh", "")
	if code != 0 {
		t.Fatalf("second run exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	if !strings.HasPrefix(out, "R1>enable\n") {
		t.Errorf("second run does not start as R1:\n%s", out)
	}
	for _, want := range []string{"\nhostname R1\n", "\nusername admin privilege 15 secret 9 $9$", "\nend\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("show startup-config lacks %q:\n%s", want, out)
		}
	}
	if stderr != "" {
		t.Errorf("replay of a saved config reported errors:\n%s", stderr)
	}
}

func TestBinarySecondInstanceFails(t *testing.T) {
	bin := buildBinary(t)
	db := filepath.Join(t.TempDir(), "r.db")

	first := exec.Command(bin, "--db", db, "--ssh", "")
	stdin, err := first.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := first.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer first.Process.Kill()
	// The first prompt means the store is open and the config replayed.
	br := bufio.NewReader(stdout)
	prompt := make([]byte, len("Router>"))
	if _, err := io.ReadFull(br, prompt); err != nil || string(prompt) != "Router>" {
		t.Fatalf("first instance prompt %q, %v", prompt, err)
	}

	out, stderr, code := runPiped(t, bin, "show version\n", "--db", db, "--ssh", "")
	if code != 1 {
		t.Errorf("second instance exit %d, want 1; stdout:\n%s", code, out)
	}
	if !strings.Contains(stderr, db+" is in use by another tunnelbox") {
		t.Errorf("second instance message %q lacks the in-use explanation", stderr)
	}
	if out != "" {
		t.Errorf("second instance printed a console: %q", out)
	}

	// SIGTERM shuts the first one down cleanly.
	if err := first.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, br)
	if err := first.Wait(); err != nil {
		t.Errorf("first instance after SIGTERM: %v", err)
	}
	stdin.Close()
}

func TestBinarySeedsFromStartupFile(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	seed := filepath.Join(dir, "seed.cfg")
	text := "!\nhostname Seed\n!\ninterface GigabitEthernet0/0\n ip address 10.9.9.1 255.255.255.0\n no shutdown\n bogus line here\n!\nip route 0.0.0.0 0.0.0.0 10.9.9.254\nend\n"
	if err := os.WriteFile(seed, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "s.db")
	// Ports in the configuration only: this runs in the host's namespace, whose eth0 must not
	// get the seed's address (TestPortsInNetns covers the links).
	out, stderr, code := runPiped(t, bin, "show ip interface brief\n", "--db", db, "--ssh", "", "--startup-config", seed, "--links=false")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.HasPrefix(out, "Seed>show ip interface brief\n") ||
		!strings.Contains(out, "GigabitEthernet0/0         10.9.9.1        YES NVRAM  up                    up") {
		t.Errorf("seeded config not applied:\n%s", out)
	}
	if !strings.Contains(stderr, "%PARSER-4-BADCFG: startup-config line 7: bogus line here") {
		t.Errorf("bad startup line not reported:\n%s", stderr)
	}
	// The store is seeded once: a different file is ignored on the next boot.
	if err := os.WriteFile(seed, []byte("hostname Other\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, _ = runPiped(t, bin, "", "--db", db, "--ssh", "", "--startup-config", seed, "--links=false")
	if !strings.HasPrefix(out, "Seed>") {
		t.Errorf("store reseeded from the file: %q", out)
	}
}

func TestFlags(t *testing.T) {
	var errb bytes.Buffer
	if _, err := parseFlags([]string{"--help"}, &errb); err == nil {
		t.Fatal("--help did not stop")
	}
	for _, f := range []string{"--db", "--ssh", "--startup-config", "--console", "--dataplane", "auto|kernel|userspace|none", "--links"} {
		if !strings.Contains(errb.String(), strings.TrimPrefix(f, "-")) {
			t.Errorf("--help does not document %s:\n%s", f, errb.String())
		}
	}
	tests := []struct {
		args []string
		ok   bool
	}{
		{[]string{"--dataplane", "kernel"}, true},
		{[]string{"--dataplane", "userspace", "--console=false", "--ssh", ""}, true},
		{[]string{"--dataplane", "fast"}, false},
		{[]string{"extra"}, false},
	}
	for _, tt := range tests {
		_, err := parseFlags(tt.args, io.Discard)
		if (err == nil) != tt.ok {
			t.Errorf("parseFlags(%q) error = %v, want ok=%v", tt.args, err, tt.ok)
		}
	}
	o, err := parseFlags(nil, io.Discard)
	if err != nil || o.db != "tunnelbox.db" || o.ssh != "127.0.0.1:2222" || !o.console || o.dataplane != "auto" || !o.links {
		t.Errorf("defaults = %+v, %v", o, err)
	}
}
