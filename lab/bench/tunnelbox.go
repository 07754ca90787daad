package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tunnelbox/tunnelbox/lab"
)

// BuildTunnelbox builds cmd/tunnelbox of the module the test runs in into a temporary
// directory and returns the binary's path.
func BuildTunnelbox(t testing.TB) (string, error) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tunnelbox")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/tunnelbox/tunnelbox/cmd/tunnelbox").CombinedOutput()
	if err != nil {
		return "", &lab.CommandError{Args: []string{"go", "build", "./cmd/tunnelbox"}, Output: strings.TrimSpace(string(out)), Err: err}
	}
	return bin, nil
}

// RouterOptions says how to run one Tunnelbox.
type RouterOptions struct {
	Dataplane string   // --dataplane; "userspace" when empty
	CPUs      string   // taskset CPU list ("1"); "" runs unpinned
	Args      []string // more flags
}

// Router is one Tunnelbox process in a namespace, driven through its console: stdin is a pipe,
// so the binary runs its transcript console (every line is echoed after the prompt, then its
// output). The router is configured only through that console, as an operator would.
type Router struct {
	Role  string
	Netns *lab.Netns
	Pid   int // the tunnelbox process itself (ip netns exec and taskset exec in place)

	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   lockedBuffer
	done  chan struct{}
	err   error // Wait's result, set before done is closed

	mu   sync.Mutex // serialises Exec and guards seq, pos
	seq  int
	pos  int // start of the output not yet returned by Exec
	stop sync.Once
}

// consoleTimeout bounds one console exchange.
const consoleTimeout = 30 * time.Second

// StartRouter runs bin in ns with a fresh store and SSH off, and waits for its first prompt.
// It is stopped (SIGTERM, then SIGKILL) in t.Cleanup.
func StartRouter(t testing.TB, ns *lab.Netns, bin string, o RouterOptions) (*Router, error) {
	t.Helper()
	dp := o.Dataplane
	if dp == "" {
		dp = "userspace"
	}
	args := []string{"netns", "exec", ns.Name}
	if o.CPUs != "" {
		args = append(args, "taskset", "-c", o.CPUs)
	}
	args = append(args, bin, "--db", filepath.Join(t.TempDir(), "tunnelbox.db"), "--ssh", "", "--dataplane", dp)
	args = append(args, o.Args...)
	r := &Router{Role: ns.Role, Netns: ns, done: make(chan struct{})}
	r.cmd = exec.Command("ip", args...)
	r.cmd.Stdout = &r.out
	r.cmd.Stderr = &r.out
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	r.cmd.WaitDelay = 2 * time.Second
	var err error
	if r.stdin, err = r.cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if err := r.cmd.Start(); err != nil {
		return nil, &lab.CommandError{Netns: ns.Name, Args: args, Err: err}
	}
	r.Pid = r.cmd.Process.Pid
	go func() {
		r.err = r.cmd.Wait()
		close(r.done)
	}()
	t.Cleanup(func() {
		if err := r.Stop(); err != nil {
			t.Logf("cleanup: router %s: %v", r.Role, err)
		}
		if t.Failed() {
			t.Logf("router %s console, last lines:\n%s", r.Role, lastLines(r.out.String(), 60))
		}
	})
	if _, err := r.Exec(); err != nil {
		return nil, err
	}
	return r, nil
}

// markPrefix starts the line the harness sends after each exchange; the console echoes it, so
// everything before the echo belongs to the lines sent before it.
const markPrefix = "! tunnelbox-bench mark "

// Exec sends lines to the console and returns the transcript they produced (each line after
// its prompt, then its output), ending with the prompt that follows the last one.
func (r *Router) Exec(lines ...string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	mark := fmt.Sprintf("%s%d", markPrefix, r.seq)
	var in strings.Builder
	for _, l := range lines {
		if strings.ContainsAny(l, "\r\n") {
			return "", fmt.Errorf("bench: console line %q holds a line break", l)
		}
		in.WriteString(l + "\n")
	}
	in.WriteString(mark + "\n")
	if _, err := io.WriteString(r.stdin, in.String()); err != nil {
		return "", fmt.Errorf("bench: router %s console: %w", r.Role, err)
	}
	deadline := time.Now().Add(consoleTimeout)
	for {
		s := r.out.String()
		// Done when the mark was echoed and the console printed the next prompt after it
		// (it then waits for input: nothing follows the last line break).
		if i := strings.Index(s[r.pos:], mark+"\n"); i >= 0 {
			echo := r.pos + strings.LastIndexByte(s[r.pos:r.pos+i], '\n') + 1 // start of the mark's line
			if last := strings.LastIndexByte(s, '\n'); last > echo && isPrompt(s[last+1:]) {
				res := s[r.pos:echo] + promptOf(s[echo:])
				r.pos = last + 1
				return res, nil
			}
		}
		select {
		case <-r.done:
			return "", fmt.Errorf("bench: router %s exited (%v): %s", r.Role, r.err, lastLines(s, 20))
		default:
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("bench: router %s: console did not answer within %v: %s", r.Role, consoleTimeout, lastLines(s[r.pos:], 20))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// isPrompt reports whether s looks like an IOS prompt waiting for input ("R1#", "R1(config)#",
// "R1>").
func isPrompt(s string) bool {
	return s != "" && !strings.ContainsAny(s, " \t") && (strings.HasSuffix(s, "#") || strings.HasSuffix(s, ">"))
}

// promptOf returns the prompt at the start of an echoed line ("R1(config)#! mark" -> "R1(config)#").
func promptOf(echo string) string {
	if i := strings.Index(echo, markPrefix); i >= 0 {
		return echo[:i]
	}
	return ""
}

// Configure enters global configuration mode, sends lines one by one and returns to exec mode.
// A line the console answers with an error ("% Invalid input", "% Incomplete command", ...) is
// a *RouterError. Informational notes (IOS's "% NOTE: This new crypto map ...") are not.
func (r *Router) Configure(lines ...string) error {
	if err := r.Enable(); err != nil {
		return err
	}
	all := append(append([]string{"configure terminal"}, lines...), "end")
	for _, l := range all {
		out, err := r.Exec(l)
		if err != nil {
			return err
		}
		if msg := ConsoleError(out); msg != "" {
			return &RouterError{Router: r.Role, Line: l, Output: msg}
		}
	}
	return nil
}

// ConfigureBatch is Configure for long configurations: it sends the lines in exchanges of at
// most chunk lines each (one console round trip per chunk instead of per line). An error in a
// chunk is reported with the chunk's first line that drew one (the console echoes each line
// after its prompt, so the error follows its line).
func (r *Router) ConfigureBatch(lines []string, chunk int) error {
	if chunk < 1 {
		chunk = 1
	}
	if err := r.Enable(); err != nil {
		return err
	}
	all := append(append([]string{"configure terminal"}, lines...), "end")
	for len(all) > 0 {
		n := min(chunk, len(all))
		out, err := r.Exec(all[:n]...)
		if err != nil {
			return err
		}
		if msg := ConsoleError(out); msg != "" {
			return &RouterError{Router: r.Role, Line: culprit(out, all[:n]), Output: msg}
		}
		all = all[n:]
	}
	return nil
}

// culprit returns the line of sent whose echo precedes the first error line of out (the first
// line sent when it cannot tell).
func culprit(out string, sent []string) string {
	last := sent[0]
	for _, l := range strings.Split(out, "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "%") && !strings.HasPrefix(t, "% NOTE") {
			return last
		}
		for _, s := range sent {
			if s != "" && strings.HasSuffix(l, "#"+s) {
				last = s
				break
			}
		}
	}
	return last
}

// Enable makes sure the console is at privilege 15 ("#").
func (r *Router) Enable() error {
	out, err := r.Exec()
	if err != nil {
		return err
	}
	if strings.HasSuffix(out, ">") {
		out, err = r.Exec("enable")
		if err != nil {
			return err
		}
		if !strings.HasSuffix(out, "#") {
			return &RouterError{Router: r.Role, Line: "enable", Output: lastLines(out, 5)}
		}
	}
	return nil
}

// ConsoleError returns the error lines in one console exchange's output ("" when none): lines
// starting with "%" other than the informational "% NOTE" and the timestamped syslog lines
// ("*Mar  1 00:00:01.123: %SYS-5-CONFIG_I ..." start with "*").
func ConsoleError(out string) string {
	var bad []string
	for _, l := range strings.Split(out, "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "%") && !strings.HasPrefix(t, "% NOTE") {
			bad = append(bad, t)
		}
	}
	return strings.Join(bad, " ")
}

// Output returns everything the router printed so far.
func (r *Router) Output() string { return r.out.String() }

// Stop closes the console (end of input makes the transcript console exit) and waits; SIGTERM
// and then SIGKILL follow if it does not.
func (r *Router) Stop() error {
	var err error
	r.stop.Do(func() {
		r.stdin.Close()
		select {
		case <-r.done:
			return
		case <-time.After(5 * time.Second):
		}
		_ = syscall.Kill(r.Pid, syscall.SIGTERM)
		select {
		case <-r.done:
		case <-time.After(lab.StopTimeout):
			_ = syscall.Kill(r.Pid, syscall.SIGKILL)
			<-r.done
			err = fmt.Errorf("bench: router %s (pid %d) ignored SIGTERM, killed", r.Role, r.Pid)
		}
	})
	return err
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// lockedBuffer is a bytes.Buffer safe for exec's writer goroutine and concurrent readers.
type lockedBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// tempDir is os.MkdirTemp with the package's error prefix.
func tempDir(pattern string) (string, error) {
	d, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", fmt.Errorf("bench: %w", err)
	}
	return d, nil
}
