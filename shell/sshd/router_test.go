package sshd_test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/tunnelbox/tunnelbox/lab"
)

// The startup-config every real-client test boots from: one privileged and one level-1 user.
const startupConfig = `hostname R1
username admin privilege 15 secret s3cret
username op secret op1
!
end
`

func TestMain(m *testing.M) { os.Exit(lab.RunTests(m)) }

// router is a real tunnelbox process serving SSH on a loopback port.
type router struct {
	port   string
	stderr *lab.SyncBuffer
}

// freePort asks the kernel for an unused loopback port.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// startRouter starts the tunnelbox binary (built once per test process) without a console,
// seeded with config, and waits until its SSH server answers.
func startRouter(t *testing.T, config string) *router {
	t.Helper()
	lab.RequireShort(t)
	bin := lab.TunnelboxBinary(t, lab.BuildOptions{})
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "startup-config")
	if err := os.WriteFile(cfgFile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	r := &router{port: freePort(t), stderr: &lab.SyncBuffer{}}
	cmd := exec.Command(bin, "--console=false", "--dataplane", "none",
		"--db", filepath.Join(dir, "r1.db"), "--startup-config", cfgFile,
		"--ssh", "127.0.0.1:"+r.port)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = r.stderr, r.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
			t.Errorf("tunnelbox (pid %d) ignored SIGTERM", cmd.Process.Pid)
		}
		if t.Failed() {
			t.Logf("tunnelbox output:\n%s", r.stderr.String())
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatalf("tunnelbox exited at start:\n%s", r.stderr.String())
		default:
		}
		if listening(r.port) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("tunnelbox did not serve SSH on port %s:\n%s", r.port, r.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// listening reports whether something accepts TCP connections on port: the router listens
// before it serves, and a refusing vty configuration must not look like a dead router.
func listening(port string) bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// sshArgs is an OpenSSH command line that ignores the user's own keys, config and
// known_hosts, so the test sees only password and keyboard-interactive logins.
func (r *router) sshArgs(user string, extra ...string) []string {
	args := []string{"ssh", "-F", "/dev/null", "-p", r.port,
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "PubkeyAuthentication=no", "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR",
		"-o", "NumberOfPasswordPrompts=1", "-o", "ConnectTimeout=20"}
	args = append(args, extra...)
	return append(args, user+"@127.0.0.1")
}

// sshpass runs OpenSSH under sshpass with password pw and returns its combined output.
func (r *router) sshpass(t *testing.T, pw string, sshArgs []string, remote ...string) (string, error) {
	t.Helper()
	args := append([]string{"-p", pw}, sshArgs...)
	args = append(args, remote...)
	cmd := exec.Command("sshpass", args...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
