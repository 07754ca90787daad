package shell_test

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/tunnelbox/tunnelbox/lab"
	"github.com/tunnelbox/tunnelbox/shell"
)

// syncBuffer is an output buffer the test reads while Serve writes.
type syncBuffer = lab.SyncBuffer

// term is a scripted terminal: keys go in through a pipe, output is collected.
type term struct {
	t   *testing.T
	in  *io.PipeWriter
	out *syncBuffer
	off int // output already consumed by expect
	rw  io.ReadWriter
}

func newTerm(t *testing.T) *term {
	r, w := io.Pipe()
	out := &syncBuffer{}
	return &term{t: t, in: w, out: out, rw: struct {
		io.Reader
		io.Writer
	}{r, out}}
}

func (tm *term) send(keys string) {
	tm.t.Helper()
	if _, err := io.WriteString(tm.in, keys); err != nil {
		tm.t.Fatal(err)
	}
}

// expect waits until the output after the last match contains want. The deadline only bounds
// a hung test; nothing here measures speed.
func (tm *term) expect(want string) {
	tm.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := tm.out.String()
		if i := strings.Index(s[tm.off:], want); i >= 0 {
			tm.off += i + len(want)
			return
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("output never contained %q; after offset %d it is:\n%q\nbefore: %q", want, tm.off, s[tm.off:], s[max(0, tm.off-600):tm.off])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestServeLineEditor(t *testing.T) {
	app := newTestApp(t)
	s := app.NewSession(shell.SessionOptions{Line: "vty 0", User: "admin", Remote: "192.0.2.9", Privilege: 15})
	defer s.Close()
	tm := newTerm(t)
	done := make(chan error, 1)
	go func() { done <- s.Serve(tm.rw, 80, 0, nil) }()

	tm.expect("Router#")
	// Tab completes a unique keyword and appends a space.
	tm.send("sh\t")
	tm.expect("show ")
	// ? acts at once: the listing, then the prompt and the input again.
	tm.send("?")
	tm.expect("?\r\n")
	tm.expect("  version         System hardware and software status\r\n")
	tm.expect("\r\nRouter#show ")
	tm.send("ver\r")
	tm.expect("Router uptime is 1 day, 2 hours, 3 minutes\r\n")
	// Editing keys: Ctrl-A, Ctrl-K, Ctrl-E, backspace, Ctrl-W, left arrow.
	tm.send("xshow privilege\x01\x04\r")
	tm.expect("Current privilege level is 15\r\n")
	tm.send("show foo\x17privilege\r")
	tm.expect("Current privilege level is 15\r\n")
	tm.send("show privilegX\x7fe\x1b[D\x1b[C\r")
	tm.expect("Current privilege level is 15\r\n")
	// Ctrl-Z leaves config mode and logs CONFIG_I with the vty user (shown on a vty only
	// with terminal monitor).
	tm.send("terminal monitor\r")
	tm.expect("Router#")
	tm.send("conf t\r")
	tm.expect("Router(config)#")
	tm.send("interface loopback 7\r")
	tm.expect("Router(config-if)#")
	tm.send("\x1a")
	tm.expect("^Z\r\n")
	tm.expect("%SYS-5-CONFIG_I: Configured from console by admin on vty0 (192.0.2.9)")
	tm.expect("Router#")
	// Up arrow recalls the last EXEC command.
	tm.send("\x1b[A")
	tm.expect("conf t")
	tm.send("\x15terminal length 4\r")
	tm.expect("Router#")
	tm.send("show running-config\r")
	tm.expect(" --More-- ")
	tm.send(" ")
	tm.expect("\b\b\b\b\b\b\b\b\b\b          \b\b\b\b\b\b\b\b\b\b")
	tm.expect(" --More-- ")
	tm.send("q")
	tm.expect("Router#")
	tm.send("exit\r")
	if err := <-done; err != nil {
		t.Fatalf("Serve returned %v after exit", err)
	}
	if s.Closed() != true {
		t.Fatal("session not closed after exit")
	}
}

func TestServeEndOfInput(t *testing.T) {
	app := newTestApp(t)
	s := app.NewSession(shell.SessionOptions{Line: "vty 1"})
	defer s.Close()
	tm := newTerm(t)
	done := make(chan error, 1)
	go func() { done <- s.Serve(tm.rw, 0, 0, nil) }()
	tm.expect("Router>")
	tm.in.Close()
	if err := <-done; err != io.EOF {
		t.Fatalf("Serve = %v, want io.EOF when the channel closes", err)
	}
}

func TestRunLine(t *testing.T) {
	app := newTestApp(t)
	s := app.NewSession(shell.SessionOptions{Line: "vty 2", Privilege: 15, Length: -1})
	defer s.Close()
	out := s.RunLine("show running-config | include ^hostname")
	if out != "hostname Router\n" {
		t.Fatalf("RunLine = %q", out)
	}
	// No pager on an exec channel even with a terminal length set.
	if out := s.RunLine("show running-config"); strings.Contains(out, "--More--") || !strings.HasSuffix(out, "end\n") {
		t.Fatalf("RunLine paged or truncated: %q", out)
	}
	if out := s.RunLine("show ip interfaces brief"); !strings.Contains(out, "% Invalid input detected at '^' marker.") {
		t.Fatalf("RunLine error = %q", out)
	}
}

func TestEnableOnVty(t *testing.T) {
	app := newTestApp(t)
	s := app.NewSession(shell.SessionOptions{Line: "vty 0", User: "op"})
	defer s.Close()
	if out := s.RunLine("enable"); out != "% No password set\n" || !shell.Failed(out) {
		t.Fatalf("enable on a vty without a secret = %q", out)
	}
	if s.Privilege() != 1 {
		t.Fatalf("privilege %d after refused enable", s.Privilege())
	}
	con := app.NewSession(shell.SessionOptions{Line: "con 0"})
	defer con.Close()
	if out := con.RunLine("enable"); out != "" || con.Privilege() != 15 {
		t.Fatalf("console enable without a secret = %q, privilege %d", out, con.Privilege())
	}
	if out := con.RunLine("show users"); !strings.Contains(out, "*  0 con 0") || !strings.Contains(out, "   2 vty 0      op") {
		t.Errorf("show users:\n%s", out)
	}
	con.RunLine("configure terminal")
	con.RunLine("enable secret 0 topsecret")
	con.RunLine("end")
	// A secret is configured but an exec channel cannot prompt for it.
	if out := s.RunLine("enable"); !shell.Failed(out) || s.Privilege() != 1 {
		t.Fatalf("enable without input = %q, privilege %d", out, s.Privilege())
	}
	var out bytes.Buffer
	if err := s.RunTranscript(strings.NewReader("enable\ntopsecret\nshow privilege\n"), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Password: \nRouter#show privilege\nCurrent privilege level is 15\n") {
		t.Errorf("enable with the secret:\n%s", out.String())
	}
	if strings.Contains(out.String(), "topsecret") {
		t.Error("the secret was echoed")
	}
	if shell.Failed("Building configuration...\n[OK]\n") {
		t.Error("Failed on success output")
	}
}

func TestServeNoPTYAndWindowChange(t *testing.T) {
	app := newTestApp(t)
	s := app.NewSession(shell.SessionOptions{Line: "vty 4", Privilege: 15, NoPTY: true})
	defer s.Close()
	var out syncBuffer
	rw := struct {
		io.Reader
		io.Writer
	}{strings.NewReader("show privilege\r\nexit\n"), &out}
	if err := s.Serve(rw, 0, 0, nil); err != nil {
		t.Fatal(err)
	}
	// Without a pty the client shows what it typed: prompts and output only, no echo.
	if got, want := out.String(), "Router#Current privilege level is 15\r\nRouter#"; got != want {
		t.Fatalf("no-pty output %q, want %q", got, want)
	}

	s2 := app.NewSession(shell.SessionOptions{Line: "vty 5", Privilege: 15, Length: -1})
	defer s2.Close()
	tm := newTerm(t)
	winch := make(chan [2]int, 1)
	done := make(chan error, 1)
	go func() { done <- s2.Serve(tm.rw, 100, 30, winch) }()
	tm.expect("Router#")
	if s2.TerminalLength() != 30 || s2.TerminalWidth() != 100 {
		t.Fatalf("size %dx%d, want 100x30", s2.TerminalWidth(), s2.TerminalLength())
	}
	winch <- [2]int{132, 3}
	tm.send("show running-config\r")
	tm.expect("Building configuration...\r\n\r\n --More-- ")
	tm.send("q")
	tm.expect("Router#")
	if s2.TerminalWidth() != 132 {
		t.Fatalf("width %d after window change", s2.TerminalWidth())
	}
	tm.send("terminal length 0\r")
	tm.expect("Router#")
	winch <- [2]int{80, 10}
	tm.send("show running-config\r")
	tm.expect("\r\nend\r\nRouter#")
	if strings.Contains(tm.out.String()[tm.off-200:], "--More--") {
		t.Fatal("a window change turned paging back on after terminal length 0")
	}
	tm.send("logout\r")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
