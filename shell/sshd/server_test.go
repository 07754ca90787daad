package sshd

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// testSecret is the only password the fake accounts accept; no log line may contain it.
const testSecret = "s3cret-Pa55"

// fakeAccounts is a test double for the running configuration.
type fakeAccounts struct {
	mu     sync.Mutex
	users  map[string]int // user -> privilege; all use testSecret
	lines  []Line
	logins int

	authTimeout time.Duration
}

func (f *fakeAccounts) Login(_ int, user string, pw []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logins++
	if len(f.users) == 0 {
		return 0, ErrNoUsers
	}
	p, ok := f.users[user]
	if !ok || string(pw) != testSecret {
		return 0, ErrBadCredentials
	}
	return p, nil
}

func (f *fakeAccounts) Policy() Policy {
	f.mu.Lock()
	defer f.mu.Unlock()
	return Policy{HasUsers: len(f.users) > 0, Lines: append([]Line(nil), f.lines...), AuthTimeout: f.authTimeout}
}

func (f *fakeAccounts) loginCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.logins
}

// fakeShell answers each input line with what it knows about the session, so tests can see
// what the server handed over. "quit" ends an interactive session.
type fakeShell struct {
	ended chan error // receives how each Interactive call ended
}

func (f *fakeShell) describe(t *Terminal) string {
	term, w, h := t.Size()
	return fmt.Sprintf("user=%s priv=%d line=%d pty=%v term=%s size=%dx%d", t.User, t.Privilege, t.Line, t.PTY, term, w, h)
}

func (f *fakeShell) Interactive(ctx context.Context, t *Terminal) error {
	err := f.loop(ctx, t)
	if f.ended != nil {
		f.ended <- err
	}
	return err
}

func (f *fakeShell) loop(ctx context.Context, t *Terminal) error {
	fmt.Fprintf(t, "hello %s\n", f.describe(t))
	sc := bufio.NewScanner(t)
	for sc.Scan() {
		switch line := strings.TrimSpace(sc.Text()); line {
		case "quit":
			return nil
		case "resized?":
			select {
			case <-t.Resized():
				fmt.Fprintf(t, "resized %s\n", f.describe(t))
			case <-ctx.Done():
				return ctx.Err()
			}
		default:
			fmt.Fprintf(t, "got %q %s\n", line, f.describe(t))
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return io.EOF
}

func (f *fakeShell) Exec(ctx context.Context, t *Terminal, line string) int {
	if line == "fail" {
		fmt.Fprintf(t, "%% Invalid input\n")
		return 1
	}
	fmt.Fprintf(t, "ran %q %s\n", line, f.describe(t))
	return 0
}

// logSink collects the server's log lines.
type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (l *logSink) log(m string) {
	l.mu.Lock()
	l.lines = append(l.lines, m)
	l.mu.Unlock()
}

func (l *logSink) all() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

type harness struct {
	srv   *Server
	addr  string
	acc   *fakeAccounts
	shell *fakeShell
	logs  *logSink
	serve chan error
}

func vtys(n int) []Line {
	var l []Line
	for i := 0; i < n; i++ {
		l = append(l, Line{Number: i, SSH: true})
	}
	return l
}

func newHarness(t *testing.T, acc *fakeAccounts) *harness {
	t.Helper()
	seed := make([]byte, ed25519.SeedSize)
	h := &harness{acc: acc, shell: &fakeShell{ended: make(chan error, 8)}, logs: &logSink{}, serve: make(chan error, 1)}
	srv, err := New(Config{HostKey: seed, Accounts: acc, Shell: h.shell, Log: h.logs.log, FailDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.linger = 50 * time.Millisecond
	h.srv, h.addr = srv, ln.Addr().String()
	go func() { h.serve <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-h.serve; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
		if strings.Contains(h.logs.all(), testSecret) {
			t.Errorf("a log line contains the password:\n%s", h.logs.all())
		}
	})
	return h
}

func clientConfig(user, pw string) *ssh.ClientConfig {
	return &ssh.ClientConfig{
		User:            user,
		Auth:            []ssh.AuthMethod{ssh.Password(pw)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
		Timeout:         10 * time.Second,
	}
}

func (h *harness) dial(t *testing.T, cfg *ssh.ClientConfig) (*ssh.Client, error) {
	t.Helper()
	c, err := ssh.Dial("tcp", h.addr, cfg)
	if err == nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, err
}

func (h *harness) login(t *testing.T, user string) *ssh.Client {
	t.Helper()
	c, err := h.dial(t, clientConfig(user, testSecret))
	if err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	return c
}

func TestExec(t *testing.T) {
	h := newHarness(t, &fakeAccounts{users: map[string]int{"admin": 15, "op": 1}, lines: vtys(5)})
	tests := []struct {
		user, cmd, want string
		status          int
	}{
		{"admin", "show running-config", `ran "show running-config" user=admin priv=15 line=0 pty=false term= size=80x24`, 0}, // first connection: vty 0
		{"op", "show version", `ran "show version" user=op priv=1 line=`, 0},
		{"admin", "fail", "% Invalid input", 1},
	}
	for _, tt := range tests {
		t.Run(tt.user+" "+tt.cmd, func(t *testing.T) {
			c := h.login(t, tt.user)
			s, err := c.NewSession()
			if err != nil {
				t.Fatal(err)
			}
			out, err := s.Output(tt.cmd)
			status := 0
			var ee *ssh.ExitError
			if errors.As(err, &ee) {
				status = ee.ExitStatus()
			} else if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(out), tt.want) || status != tt.status {
				t.Errorf("output %q status %d, want %q status %d", out, status, tt.want, tt.status)
			}
		})
	}
}

func TestAuthFailures(t *testing.T) {
	h := newHarness(t, &fakeAccounts{users: map[string]int{"admin": 15}, lines: vtys(5)})
	// A client that keeps offering wrong passwords is cut off after 3 tries.
	tries := 0
	cfg := clientConfig("admin", "")
	cfg.Auth = []ssh.AuthMethod{ssh.RetryableAuthMethod(ssh.PasswordCallback(func() (string, error) {
		tries++
		return "wrong", nil
	}), 10)}
	if _, err := h.dial(t, cfg); err == nil {
		t.Fatal("login with a wrong password succeeded")
	}
	if tries != DefaultAuthRetries || h.acc.loginCount() != DefaultAuthRetries {
		t.Errorf("client tried %d times, server checked %d, want %d", tries, h.acc.loginCount(), DefaultAuthRetries)
	}
	if got := strings.Count(h.logs.all(), "%SEC_LOGIN-4-LOGIN_FAILED: Login failed [user: admin]"); got != DefaultAuthRetries {
		t.Errorf("%d LOGIN_FAILED lines, want %d:\n%s", got, DefaultAuthRetries, h.logs.all())
	}
	// Unknown users fail the same way.
	if _, err := h.dial(t, clientConfig("nobody", testSecret)); err == nil {
		t.Fatal("unknown user logged in")
	}
	// The right password still works afterwards.
	h.login(t, "admin")
}

func TestKeyboardInteractive(t *testing.T) {
	h := newHarness(t, &fakeAccounts{users: map[string]int{"admin": 15}, lines: vtys(5)})
	for _, tt := range []struct {
		answer string
		ok     bool
	}{{testSecret, true}, {"nope", false}} {
		var prompts []string
		cfg := clientConfig("admin", "")
		cfg.Auth = []ssh.AuthMethod{ssh.KeyboardInteractive(func(name, instr string, qs []string, echo []bool) ([]string, error) {
			prompts = append(prompts, qs...)
			if len(echo) != 1 || echo[0] {
				return nil, fmt.Errorf("want one prompt without echo, got %v %v", qs, echo)
			}
			return []string{tt.answer}, nil
		})}
		_, err := h.dial(t, cfg)
		if (err == nil) != tt.ok {
			t.Errorf("answer %q: err = %v, want ok=%v", tt.answer, err, tt.ok)
		}
		if len(prompts) == 0 || prompts[0] != "Password: " {
			t.Errorf("prompts %q, want \"Password: \"", prompts)
		}
	}
}

func TestNoUsersRefused(t *testing.T) {
	h := newHarness(t, &fakeAccounts{lines: vtys(5)})
	var banner string
	cfg := clientConfig("admin", "admin")
	cfg.BannerCallback = func(m string) error { banner += m; return nil }
	if _, err := h.dial(t, cfg); err == nil {
		t.Fatal("login succeeded with no username configured")
	}
	if !strings.Contains(banner, "no username is configured") {
		t.Errorf("banner %q does not explain the refusal", banner)
	}
	if got := strings.Count(h.logs.all(), "%SSH-3-NO_USERNAMES"); got != 1 {
		t.Errorf("%d NO_USERNAMES log lines, want 1:\n%s", got, h.logs.all())
	}
	for _, pw := range []string{"", "cisco", "admin", "password"} {
		if _, err := h.dial(t, clientConfig("admin", pw)); err == nil {
			t.Errorf("password %q accepted with no username configured", pw)
		}
	}
}

// readUntil reads r until the text read so far contains want.
func readUntil(t *testing.T, r io.Reader, want string) string {
	t.Helper()
	var got []byte
	buf := make([]byte, 1024)
	for !strings.Contains(string(got), want) {
		n, err := r.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			t.Fatalf("reading for %q: %v; got %q", want, err, got)
		}
	}
	return string(got)
}

func TestInteractive(t *testing.T) {
	h := newHarness(t, &fakeAccounts{users: map[string]int{"admin": 15}, lines: vtys(5)})
	c := h.login(t, "admin")
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Setenv("LANG", "C"); err != nil {
		t.Errorf("env refused: %v", err)
	}
	if err := s.RequestPty("xterm", 40, 132, ssh.TerminalModes{ssh.ECHO: 0}); err != nil {
		t.Fatal(err)
	}
	in, _ := s.StdinPipe()
	out, _ := s.StdoutPipe()
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	// With a pty, "\n" from the shell arrives as "\r\n".
	readUntil(t, out, "hello user=admin priv=15 line=0 pty=true term=xterm size=132x40\r\n")
	if err := s.WindowChange(50, 200); err != nil {
		t.Fatal(err)
	}
	io.WriteString(in, "resized?\n")
	readUntil(t, out, "resized user=admin priv=15 line=0 pty=true term=xterm size=200x50\r\n")
	// A second pty-req after the shell started is refused; a window-change of 0x0 keeps the size.
	if ok, err := s.SendRequest("pty-req", true, ssh.Marshal(ptyRequestMsg{Term: "vt100", Columns: 10, Rows: 10})); ok || err != nil {
		t.Errorf("pty-req after shell: ok=%v err=%v, want refused", ok, err)
	}
	if ok, _ := s.SendRequest("subsystem", true, ssh.Marshal(execMsg{"sftp"})); ok {
		t.Error("subsystem request accepted")
	}
	if ok, _ := s.SendRequest("window-change", true, []byte{1, 2}); ok {
		t.Error("short window-change accepted")
	}
	io.WriteString(in, "quit\n")
	if err := s.Wait(); err != nil {
		t.Errorf("session ended with %v, want exit-status 0", err)
	}
	if err := <-h.shell.ended; err != nil {
		t.Errorf("shell ended with %v", err)
	}
}

func TestShellWithoutPTY(t *testing.T) {
	h := newHarness(t, &fakeAccounts{users: map[string]int{"op": 1}, lines: vtys(5)})
	c := h.login(t, "op")
	s, _ := c.NewSession()
	in, _ := s.StdinPipe()
	out, _ := s.StdoutPipe()
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	io.WriteString(in, "show version\n")
	got := readUntil(t, out, "got \"show version\"")
	if strings.Contains(got, "\r") {
		t.Errorf("output without pty has CR: %q", got)
	}
	in.Close() // EOF ends the shell and the session
	s.Wait()
	if err := <-h.shell.ended; !errors.Is(err, io.EOF) {
		t.Errorf("shell ended with %v, want EOF", err)
	}
}

func TestChannels(t *testing.T) {
	h := newHarness(t, &fakeAccounts{users: map[string]int{"admin": 15}, lines: vtys(5)})
	c := h.login(t, "admin")
	if _, _, err := c.OpenChannel("direct-tcpip", nil); err == nil {
		t.Error("direct-tcpip channel accepted")
	}
	if _, err := c.NewSession(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.NewSession(); err == nil {
		t.Error("second session channel on one vty accepted")
	}
	if ok, _, _ := c.SendRequest("tcpip-forward", true, nil); ok {
		t.Error("tcpip-forward accepted")
	}
}

func TestVTYLines(t *testing.T) {
	acc := &fakeAccounts{users: map[string]int{"admin": 15}, lines: []Line{{Number: 0, SSH: true}, {Number: 1, SSH: false}, {Number: 2, SSH: true}}}
	h := newHarness(t, acc)
	lineOf := func(c *ssh.Client) string {
		s, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		out, err := s.Output("x")
		if err != nil {
			t.Fatal(err)
		}
		i := strings.Index(string(out), "line=")
		return string(out[i : i+6])
	}
	// Each connection holds its vty line from connect to close; telnet-only lines are skipped.
	c0 := h.login(t, "admin")
	c2 := h.login(t, "admin")
	if _, err := h.dial(t, clientConfig("admin", testSecret)); err == nil {
		t.Fatal("login succeeded with every ssh vty line busy")
	}
	if got := lineOf(c0); got != "line=0" {
		t.Errorf("first connection on %s, want line=0", got)
	}
	if got := lineOf(c2); got != "line=2" {
		t.Errorf("second connection on %s, want line=2", got)
	}
	// Once the first client disconnects, line 0 is free and the next connection takes it.
	c0.Close()
	for deadline := time.Now().Add(30 * time.Second); h.srv.lineBusy(0); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("vty 0 still busy after its client disconnected")
		}
	}
	if got := lineOf(h.login(t, "admin")); got != "line=0" {
		t.Errorf("after a close: %s, want line=0", got)
	}
	if !strings.Contains(h.logs.all(), ErrNoFreeLine.Error()) {
		t.Errorf("no log line for the refused connection:\n%s", h.logs.all())
	}
}

func (s *Server) lineBusy(n int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.busy[n]
}

// TestLingeringClient checks that a client which keeps the connection after its session
// ended does not keep the vty line.
func TestLingeringClient(t *testing.T) {
	h := newHarness(t, &fakeAccounts{users: map[string]int{"admin": 15}, lines: vtys(1)})
	c := h.login(t, "admin")
	s, _ := c.NewSession()
	if _, err := s.Output("show clock"); err != nil {
		t.Fatal(err)
	}
	c.Wait() // returns once the server dropped the idle connection
	for deadline := time.Now().Add(30 * time.Second); h.srv.lineBusy(0); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("vty 0 still busy after the server dropped the connection")
		}
	}
	h.login(t, "admin")
}

// TestAuthTimeout: a connection that never logs in is dropped after `ip ssh time-out`,
// freeing its vty line.
func TestAuthTimeout(t *testing.T) {
	h := newHarness(t, &fakeAccounts{users: map[string]int{"admin": 15}, lines: vtys(1), authTimeout: 200 * time.Millisecond})
	raw, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.ReadAll(raw); err != nil {
		t.Fatalf("silent connection was not dropped: %v", err)
	}
	for deadline := time.Now().Add(30 * time.Second); h.srv.lineBusy(0); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("vty 0 still busy after the login timeout")
		}
	}
	h.login(t, "admin")
}

func TestTransportInputNone(t *testing.T) {
	h := newHarness(t, &fakeAccounts{users: map[string]int{"admin": 15}, lines: []Line{{Number: 0}, {Number: 1}}})
	if _, err := h.dial(t, clientConfig("admin", testSecret)); err == nil {
		t.Fatal("ssh login succeeded with transport input none on every vty")
	}
	if h.acc.loginCount() != 0 {
		t.Errorf("credentials were checked %d times before the line was refused", h.acc.loginCount())
	}
}

func TestExecTimeout(t *testing.T) {
	h := newHarness(t, &fakeAccounts{users: map[string]int{"admin": 15}, lines: []Line{{Number: 0, SSH: true, ExecTimeout: 300 * time.Millisecond}}})
	c := h.login(t, "admin")
	s, _ := c.NewSession()
	s.StdinPipe() // keep stdin open: only idleness may end the session
	out, _ := s.StdoutPipe()
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	readUntil(t, out, "hello")
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("idle session was not closed by exec-timeout")
	}
	if err := <-h.shell.ended; err == nil {
		t.Error("shell ended cleanly, want an input error after the timeout")
	}
	if !strings.Contains(h.logs.all(), "exec-timeout") {
		t.Errorf("no exec-timeout log line:\n%s", h.logs.all())
	}
}

func TestCloseEndsSessions(t *testing.T) {
	h := newHarness(t, &fakeAccounts{users: map[string]int{"admin": 15}, lines: vtys(5)})
	c := h.login(t, "admin")
	s, _ := c.NewSession()
	s.StdinPipe()
	out, _ := s.StdoutPipe()
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	readUntil(t, out, "hello")
	// A connection still in the handshake is ended too.
	raw, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if err := h.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-h.shell.ended; err == nil {
		t.Error("shell ended cleanly after Close, want an error")
	}
	if err := c.Wait(); err == nil {
		t.Error("client connection survived Close")
	}
	raw.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadAll(raw); err != nil {
		t.Errorf("pending connection not closed: %v", err)
	}
	if _, err := h.dial(t, clientConfig("admin", testSecret)); err == nil {
		t.Error("login after Close succeeded")
	}
}

func TestCRLFWriter(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{[]string{"a\nb\n"}, "a\r\nb\r\n"},
		{[]string{"a\r\nb"}, "a\r\nb"},
		{[]string{"a\r", "\nb"}, "a\r\nb"},
		{[]string{"\n\n"}, "\r\n\r\n"},
		{[]string{"a\r", "b\n"}, "a\rb\r\n"},
		{[]string{""}, ""},
	}
	for _, tt := range tests {
		var b strings.Builder
		w := &crlfWriter{w: &b}
		for _, s := range tt.in {
			if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
				t.Fatalf("Write(%q) = %d, %v", s, n, err)
			}
		}
		if b.String() != tt.want {
			t.Errorf("%q -> %q, want %q", tt.in, b.String(), tt.want)
		}
	}
}
