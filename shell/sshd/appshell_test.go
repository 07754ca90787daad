package sshd

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"io"
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
	"github.com/tunnelbox/tunnelbox/shell"
)

// appHarness is the server wired as cmd/tunnelbox wires it, over a real shell.App and
// running configuration, reached by an in-process x/crypto/ssh client.
func appHarness(t *testing.T) string {
	t.Helper()
	cfg := runningconfig.Default()
	cfg.Hostname = "R1"
	cfg.Users = []runningconfig.User{
		{Name: "admin", Privilege: 15, Secret: mustSecret(t, testSecret, runningconfig.SecretMD5)},
		{Name: "op", Privilege: 1, Password: runningconfig.Password{Type: 0, Text: testSecret}},
	}
	mgr := runningconfig.NewManager(cfg)
	t.Cleanup(func() { mgr.Close() })
	app, err := shell.NewApp(shell.Options{Config: mgr})
	if err != nil {
		t.Fatal(err)
	}
	logs := &logSink{}
	srv, err := New(Config{
		HostKey:   make([]byte, ed25519.SeedSize),
		Accounts:  ConfigAccounts(mgr.Running),
		Shell:     AppShell(app),
		Log:       func(m string) { logs.log(m); AppLog(app)(m) },
		FailDelay: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() {
		srv.Close()
		if strings.Contains(logs.all(), testSecret) {
			t.Errorf("a log line contains the password:\n%s", logs.all())
		}
	})
	return ln.Addr().String()
}

func dialApp(t *testing.T, addr, user string) *ssh.Client {
	t.Helper()
	c, err := ssh.Dial("tcp", addr, clientConfig(user, testSecret))
	if err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestAppShellExec(t *testing.T) {
	addr := appHarness(t)
	tests := []struct {
		user, line, want string
		status           int
	}{
		{"admin", "show privilege", "Current privilege level is 15", 0},
		{"op", "show privilege", "Current privilege level is 1", 0},
		{"op", "configure terminal", "% Invalid input detected", 1},
		{"admin", "show users", " admin ", 0},
		{"admin", "show bogus", "% Invalid input detected at '^' marker.", 1},
	}
	for _, tt := range tests {
		t.Run(tt.user+" "+tt.line, func(t *testing.T) {
			s, err := dialApp(t, addr, tt.user).NewSession()
			if err != nil {
				t.Fatal(err)
			}
			out, err := s.CombinedOutput(tt.line)
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

func TestAppShellInteractive(t *testing.T) {
	addr := appHarness(t)
	for _, tt := range []struct{ user, prompt string }{{"admin", "R1#"}, {"op", "R1>"}} {
		t.Run(tt.user, func(t *testing.T) {
			s, err := dialApp(t, addr, tt.user).NewSession()
			if err != nil {
				t.Fatal(err)
			}
			if err := s.RequestPty("vt100", 24, 80, nil); err != nil {
				t.Fatal(err)
			}
			in, _ := s.StdinPipe()
			out, _ := s.StdoutPipe()
			if err := s.Shell(); err != nil {
				t.Fatal(err)
			}
			readUntil(t, out, tt.prompt)
			// Enter as CR (what a pty sends); the echo and output come back with CRLF.
			io.WriteString(in, "show users\r")
			got := readUntil(t, out, "\r\n"+tt.prompt)
			// The line is the lowest free one: vty 0 unless the previous subtest's
			// connection is still closing.
			if !regexp.MustCompile(`\*\s+\d+ vty \d+\s+` + tt.user + ` `).MatchString(got) {
				t.Errorf("show users on vty:\n%s", got)
			}
			io.WriteString(in, "exit\r")
			if err := s.Wait(); err != nil {
				t.Errorf("exit: %v, want exit-status 0", err)
			}
		})
	}
}

// TestStoreHostKeys: the host keys are made once, kept across reopening the store, and
// give one ed25519 and one RSA signer.
func TestStoreHostKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r1.db")
	read := func() []byte {
		st, err := runningconfig.OpenStore(path, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		k, err := StoreHostKeys(st)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	first := read()
	if again := read(); !bytes.Equal(first, again) {
		t.Error("host keys changed when the store was reopened")
	}
	signers, err := HostSigners(first)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, s := range signers {
		types = append(types, s.PublicKey().Type())
	}
	if len(types) != 2 || types[0] != ssh.KeyAlgoED25519 || types[1] != ssh.KeyAlgoRSA {
		t.Errorf("host key types %v, want [%s %s]", types, ssh.KeyAlgoED25519, ssh.KeyAlgoRSA)
	}
}
