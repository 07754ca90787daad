package lab

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// CommandTimeout bounds every short command the harness runs (ip, sysctl, swanctl, tshark -r).
var CommandTimeout = 60 * time.Second

// StopTimeout is how long Proc.Stop waits after SIGTERM before it sends SIGKILL.
var StopTimeout = 5 * time.Second

// nsSeq numbers the namespaces this process creates, so names never repeat within a run.
var nsSeq atomic.Uint64

// sweepOnce removes namespaces left behind by earlier test processes that died (timeout
// panic, SIGKILL) before their cleanups ran.
var sweepOnce sync.Once

// Netns is one network namespace created by NewNetns.
type Netns struct {
	Name string // tb-<pid>-<seq>-<role>
	Role string // the role given to NewNetns ("gwL", "hostR", ...)
}

var roleRE = regexp.MustCompile(`^[A-Za-z0-9_]{1,24}$`)

// NewNetns creates a namespace named tb-<pid>-<seq>-<role> with its loopback up. It is deleted
// in t.Cleanup; processes started in it with Start are registered later and therefore killed
// before it is deleted.
func NewNetns(t testing.TB, role string) *Netns {
	t.Helper()
	if !roleRE.MatchString(role) {
		t.Fatalf("lab: bad namespace role %q (letters, digits, _; at most 24)", role)
	}
	sweepOnce.Do(func() { SweepStale() })
	n := &Netns{
		Name: fmt.Sprintf("tb-%d-%d-%s", os.Getpid(), nsSeq.Add(1), role),
		Role: role,
	}
	if err := runHost("ip", "netns", "add", n.Name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := runHost("ip", "netns", "delete", n.Name); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	if err := n.LinkUp("lo"); err != nil {
		t.Fatal(err)
	}
	return n
}

var (
	staleRE    = regexp.MustCompile(`^tb-([0-9]+)-[0-9]+-`)
	staleDirRE = regexp.MustCompile(`^tb-(?:sw|bin)-([0-9]+)-`)
)

// SweepStale deletes namespaces named tb-<pid>-..., charon directories tb-sw-<pid>-... and binary
// directories tb-bin-<pid>-... (BuildTunnelbox) in the temporary directory whose creating
// process no longer exists (a test binary killed before its cleanups ran). It never touches
// those of a live process. It returns what it deleted.
func SweepStale() []string {
	var gone []string
	if dirs, err := filepath.Glob(filepath.Join(os.TempDir(), "tb-*-*")); err == nil {
		for _, d := range dirs {
			m := staleDirRE.FindStringSubmatch(filepath.Base(d))
			if m == nil {
				continue
			}
			if pid, err := strconv.Atoi(m[1]); err == nil && pid > 0 && !pidAlive(pid) && os.RemoveAll(d) == nil {
				gone = append(gone, d)
			}
		}
	}
	entries, err := os.ReadDir("/run/netns")
	if err != nil {
		return gone
	}
	for _, e := range entries {
		m := staleRE.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		pid, err := strconv.Atoi(m[1])
		if err != nil || pid <= 0 || pidAlive(pid) {
			continue
		}
		if runHost("ip", "netns", "delete", e.Name()) == nil {
			gone = append(gone, e.Name())
		}
	}
	return gone
}

func pidAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// String returns the namespace name.
func (n *Netns) String() string { return n.Name }

// Command returns an unstarted `ip netns exec <name> args...`.
func (n *Netns) Command(ctx context.Context, args ...string) *exec.Cmd {
	full := append([]string{"netns", "exec", n.Name}, args...)
	return exec.CommandContext(ctx, "ip", full...)
}

// Run runs args in the namespace and returns the combined output. A non-zero exit is a
// *CommandError carrying that output.
func (n *Netns) Run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), CommandTimeout)
	defer cancel()
	out, err := n.Command(ctx, args...).CombinedOutput()
	if err != nil {
		return string(out), &CommandError{Netns: n.Name, Args: args, Output: strings.TrimSpace(string(out)), Err: err}
	}
	return string(out), nil
}

// MustRun is Run that fails t on error.
func (n *Netns) MustRun(t testing.TB, args ...string) string {
	t.Helper()
	out, err := n.Run(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// ip runs `ip -n <name> args...` from the host.
func (n *Netns) ip(args ...string) error {
	return runHost("ip", append([]string{"-n", n.Name}, args...)...)
}

// LinkUp sets an interface up.
func (n *Netns) LinkUp(dev string) error { return n.ip("link", "set", dev, "up") }

// AddAddr adds an address with its prefix length ("10.1.1.1/24") to dev.
func (n *Netns) AddAddr(dev string, p netip.Prefix) error {
	return n.ip("addr", "add", p.String(), "dev", dev)
}

// AddRoute adds a route to dst via the gateway via. A default route (0.0.0.0/0, ::/0) is
// refused: the lab never routes anything out of its namespaces.
func (n *Netns) AddRoute(dst netip.Prefix, via netip.Addr) error {
	if dst.Bits() == 0 {
		return fmt.Errorf("lab: refusing default route %s in %s", dst, n.Name)
	}
	return n.ip("route", "add", dst.Masked().String(), "via", via.String())
}

// Sysctl sets a sysctl inside the namespace (net.* keys are per namespace).
func (n *Netns) Sysctl(key, value string) error {
	_, err := n.Run("sysctl", "-qw", key+"="+value)
	return err
}

// Veth creates a veth pair with one end (aDev) in a and the other (bDev) in b, sets both ends
// up and waits until both have carrier (packets sent before that are dropped silently). Both
// ends are created inside their namespaces, so names never clash on the host.
func Veth(a *Netns, aDev string, b *Netns, bDev string) error {
	if err := a.ip("link", "add", aDev, "type", "veth", "peer", "name", bDev, "netns", b.Name); err != nil {
		return err
	}
	if err := a.LinkUp(aDev); err != nil {
		return err
	}
	if err := b.LinkUp(bDev); err != nil {
		return err
	}
	if err := a.WaitCarrier(aDev, 5*time.Second); err != nil {
		return err
	}
	return b.WaitCarrier(bDev, 5*time.Second)
}

// WaitCarrier waits until dev is up with carrier (LOWER_UP).
func (n *Netns) WaitCarrier(dev string, d time.Duration) error {
	var last string
	err := waitFor(d, nil, func() bool {
		out, err := exec.Command("ip", "-n", n.Name, "-o", "link", "show", "dev", dev).CombinedOutput()
		last = strings.TrimSpace(string(out))
		if err != nil {
			return false
		}
		i, j := strings.Index(last, "<"), strings.Index(last, ">")
		return i >= 0 && j > i && slices.Contains(strings.Split(last[i+1:j], ","), "LOWER_UP")
	})
	if err != nil {
		return fmt.Errorf("lab: %s in %s has no carrier: %w: %s", dev, n.Name, err, last)
	}
	return nil
}

func runHost(name string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), CommandTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return &CommandError{Args: append([]string{name}, args...), Output: strings.TrimSpace(string(out)), Err: err}
	}
	return nil
}

// Proc is a long-running process started in a namespace by Start. It is killed by PID in
// t.Cleanup (SIGTERM, then SIGKILL after StopTimeout) and also dies with the test process.
type Proc struct {
	Name  string // what it is, for messages
	Netns string
	Pid   int

	cmd  *exec.Cmd
	out  SyncBuffer
	done chan struct{}
	err  error // Wait's result, set before done is closed

	stopOnce sync.Once
	stopErr  error
}

// Start runs args in the namespace in the background. `ip netns exec` execs the command in
// place, so Proc.Pid is the PID of the program itself.
func (n *Netns) Start(t testing.TB, name string, args ...string) (*Proc, error) {
	return n.StartEnv(t, name, nil, args...)
}

// StartEnv is Start with extra environment variables ("KEY=value").
func (n *Netns) StartEnv(t testing.TB, name string, env []string, args ...string) (*Proc, error) {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", n.Name}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	p := &Proc{Name: name, Netns: n.Name, cmd: cmd, done: make(chan struct{})}
	cmd.Stdout = &p.out
	cmd.Stderr = &p.out
	// Pdeathsig: if the test binary dies without running cleanups, the process goes with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, &CommandError{Netns: n.Name, Args: args, Err: err}
	}
	p.Pid = cmd.Process.Pid
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Logf("cleanup: %s (pid %d): %v", p.Name, p.Pid, err)
		}
	})
	return p, nil
}

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited, and its Wait error if so.
func (p *Proc) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Output returns everything the process wrote to stdout and stderr so far.
func (p *Proc) Output() string { return p.out.String() }

// Signal sends sig to the process by PID.
func (p *Proc) Signal(sig syscall.Signal) error {
	if done, _ := p.Exited(); done {
		return ErrNotRunning
	}
	return syscall.Kill(p.Pid, sig)
}

// Stop ends the process: SIGTERM, then SIGKILL after StopTimeout. It is idempotent
// and returns nil when the process ended because of the signal or exited normally.
func (p *Proc) Stop() error { return p.StopWith(syscall.SIGTERM) }

// StopWith is Stop with a chosen first signal (dumpcap finishes its file on SIGINT).
func (p *Proc) StopWith(sig syscall.Signal) error {
	p.stopOnce.Do(func() {
		if done, _ := p.Exited(); !done {
			_ = syscall.Kill(p.Pid, sig)
			select {
			case <-p.done:
			case <-time.After(StopTimeout):
				_ = syscall.Kill(p.Pid, syscall.SIGKILL)
				<-p.done
				p.stopErr = fmt.Errorf("lab: %s (pid %d) ignored %v, killed", p.Name, p.Pid, sig)
				return
			}
		}
		var ee *exec.ExitError
		if p.err != nil && !(errors.As(p.err, &ee) && signalled(ee)) {
			p.stopErr = fmt.Errorf("lab: %s (pid %d): %w", p.Name, p.Pid, p.err)
		}
	})
	return p.stopErr
}

func signalled(ee *exec.ExitError) bool {
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled()
}

// WaitOutput waits until the process output contains substr. It fails early with the output
// so far when the process exits first, and with ErrTimeout after d.
func (p *Proc) WaitOutput(substr string, d time.Duration) error {
	return waitFor(d, p, func() bool { return strings.Contains(p.out.String(), substr) })
}

// waitFor polls cond every 10 ms until it holds, p exits (if p is not nil) or d passes.
func waitFor(d time.Duration, p *Proc, cond func() bool) error {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return nil
		}
		if p != nil {
			if done, err := p.Exited(); done {
				return fmt.Errorf("lab: %s (pid %d) exited (%v): %s", p.Name, p.Pid, err, strings.TrimSpace(p.Output()))
			}
		}
		if time.Now().After(deadline) {
			if p != nil {
				return fmt.Errorf("%w waiting for %s (pid %d): %s", ErrTimeout, p.Name, p.Pid, strings.TrimSpace(p.Output()))
			}
			return ErrTimeout
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// SyncBuffer is a bytes.Buffer safe for the writer goroutines of exec and concurrent readers
// (a process's output that a test reads while it runs).
type SyncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

// Write appends p.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// sendUDPScript sends argv[1] (hex) as exactly one UDP datagram to argv[2]:argv[3].
const sendUDPScript = `import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(bytes.fromhex(sys.argv[1]), (sys.argv[2], int(sys.argv[3])))`

// SendUDP sends payload as one UDP datagram from inside the namespace (from an ephemeral port).
// Shell redirections to /dev/udp are no substitute: bash's printf may write a binary payload in
// several pieces, and each write is a datagram of its own.
func (n *Netns) SendUDP(dst netip.AddrPort, payload []byte) error {
	_, err := n.Run("/usr/bin/python3", "-c", sendUDPScript, hex.EncodeToString(payload),
		dst.Addr().String(), strconv.Itoa(int(dst.Port())))
	return err
}
