package lab

import (
	"errors"
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
)

// RouterOptions says how StartRouter runs one Tunnelbox.
type RouterOptions struct {
	Binary    string        // the tunnelbox binary; "" builds one (BuildTunnelbox, default variant)
	Dataplane string        // --dataplane; "" keeps the binary's default (auto)
	CPUs      string        // taskset CPU list ("1"); "" runs unpinned
	Env       []string      // added to the environment ("TUNNELBOX_KEYLOG=/path")
	Args      []string      // more flags
	Timeout   time.Duration // hang guard for one console exchange; 0 means 60 s
	StopWait  time.Duration // Stop's wait after closing the console and after each signal; 0 means 5 s
}

// Router is one Tunnelbox appliance: the real binary in a namespace with a fresh store and SSH
// off, driven only through its console. Stdin is a pipe, so the binary runs its transcript
// console: every line is echoed after the prompt, then its output follows.
type Router struct {
	Name  string // what it is, for messages ("gwL", the namespace's role)
	Netns *Netns
	Pid   int // the tunnelbox process itself (ip netns exec and taskset exec in place)

	cmd      *exec.Cmd
	stdin    io.WriteCloser
	out      SyncBuffer
	done     chan struct{}
	err      error // Wait's result, set before done is closed
	timeout  time.Duration
	stopWait time.Duration

	mu  sync.Mutex // serialises Send and guards seq, pos
	seq int
	pos int // start of the output not yet returned by Send

	stopOnce sync.Once
	stopErr  error
}

// StartRouter runs Tunnelbox in ns and waits for its first prompt. Cleanup stops it (Stop) and,
// when t failed, logs the end of its console.
func StartRouter(t testing.TB, ns *Netns, name string, o RouterOptions) (*Router, error) {
	t.Helper()
	bin := o.Binary
	if bin == "" {
		var err error
		if bin, err = BuildTunnelbox(BuildOptions{}); err != nil {
			return nil, err
		}
	}
	args := []string{"netns", "exec", ns.Name}
	if o.CPUs != "" {
		args = append(args, "taskset", "-c", o.CPUs)
	}
	args = append(args, bin, "--db", filepath.Join(t.TempDir(), "tunnelbox.db"), "--ssh", "")
	if o.Dataplane != "" {
		args = append(args, "--dataplane", o.Dataplane)
	}
	args = append(args, o.Args...)
	r := &Router{Name: name, Netns: ns, done: make(chan struct{}), timeout: o.Timeout, stopWait: o.StopWait}
	if r.timeout == 0 {
		r.timeout = 60 * time.Second
	}
	if r.stopWait == 0 {
		r.stopWait = 5 * time.Second
	}
	r.cmd = exec.Command("ip", args...)
	r.cmd.Env = append(os.Environ(), o.Env...)
	r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.out
	// Pdeathsig: if the test binary dies without running cleanups, the router goes with it.
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	r.cmd.WaitDelay = 2 * time.Second
	var err error
	if r.stdin, err = r.cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	if err := r.cmd.Start(); err != nil {
		return nil, &CommandError{Netns: ns.Name, Args: args, Err: err}
	}
	r.Pid = r.cmd.Process.Pid
	go func() {
		r.err = r.cmd.Wait()
		close(r.done)
	}()
	t.Cleanup(func() {
		if err := r.Stop(); errors.Is(err, ErrNoExit) {
			t.Errorf("cleanup: %v", err)
		} else if err != nil {
			t.Logf("cleanup: %v", err)
		}
		if t.Failed() {
			t.Logf("router %s console, last lines:\n%s", r.Name, Tail(r.out.String(), 80))
		}
	})
	if _, err := r.Send(); err != nil {
		return nil, err
	}
	return r, nil
}

// MustStartRouter is StartRouter that fails t on error.
func MustStartRouter(t testing.TB, ns *Netns, name string, o RouterOptions) *Router {
	t.Helper()
	r, err := StartRouter(t, ns, name, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// markPrefix starts the comment line sent after each exchange; the console echoes it, so
// everything before the echo belongs to the lines sent before it. A comment is accepted in
// every mode and prints nothing.
const markPrefix = "! tunnelbox-lab mark "

// Send types lines at the console and returns the transcript they produced (each line after its
// prompt, then its output), ending with the prompt that follows the last one. Send with no
// lines returns the output since the last exchange and the current prompt.
func (r *Router) Send(lines ...string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	mark := fmt.Sprintf("%s%d", markPrefix, r.seq)
	var in strings.Builder
	for _, l := range lines {
		if strings.ContainsAny(l, "\r\n") {
			return "", fmt.Errorf("lab: console line %q holds a line break", l)
		}
		in.WriteString(l + "\n")
	}
	in.WriteString(mark + "\n")
	if _, err := io.WriteString(r.stdin, in.String()); err != nil {
		return "", fmt.Errorf("lab: router %s console: %w", r.Name, err)
	}
	deadline := time.Now().Add(r.timeout) // hang guard only
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
			return "", fmt.Errorf("lab: router %s exited (%v):\n%s", r.Name, r.err, Tail(s, 40))
		default:
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("lab: router %s: console did not answer within %v:\n%s", r.Name, r.timeout, Tail(s, 40))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Exec is Send that fails t on error and returns the transcript without the trailing prompt.
func (r *Router) Exec(t testing.TB, lines ...string) string {
	t.Helper()
	out, err := r.Send(lines...)
	if err != nil {
		t.Fatal(err)
	}
	return out[:strings.LastIndexByte(out, '\n')+1]
}

// MustExec is Exec that fails t when the output holds an IOS error: a caret line or a line
// starting with "% " other than the informational "% NOTE" (syslog lines, "%FAC-SEV-MNEMONIC",
// are not errors).
func (r *Router) MustExec(t testing.TB, lines ...string) string {
	t.Helper()
	out := r.Exec(t, lines...)
	for _, l := range strings.Split(out, "\n") {
		if s := strings.TrimSpace(l); s == "^" || (strings.HasPrefix(s, "% ") && !strings.HasPrefix(s, "% NOTE")) {
			t.Fatalf("%s: command failed:\n%s", r.Name, out)
		}
	}
	return out
}

// isPrompt reports whether s looks like an IOS prompt waiting for input ("R1#", "R1(config)#",
// "R1>").
func isPrompt(s string) bool {
	return s != "" && !strings.ContainsAny(s, " \t") && (strings.HasSuffix(s, "#") || strings.HasSuffix(s, ">"))
}

// promptOf returns the prompt at the start of an echoed mark ("R1(config)#! mark" -> "R1(config)#").
func promptOf(echo string) string {
	if i := strings.Index(echo, markPrefix); i >= 0 {
		return echo[:i]
	}
	return ""
}

// Configure enters global configuration mode, sends lines one by one and returns to exec mode.
// A line the console answers with an error (ConsoleError) is a *RouterError.
func (r *Router) Configure(lines ...string) error {
	return r.ConfigureBatch(lines, 1)
}

// ConfigureBatch is Configure for long configurations: it sends the lines in exchanges of at
// most chunk lines each (one console round trip per chunk instead of per line). An error in a
// chunk is reported with the chunk's line that drew it (the console echoes each line after its
// prompt, so the error follows its line).
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
		out, err := r.Send(all[:n]...)
		if err != nil {
			return err
		}
		if msg := ConsoleError(out); msg != "" {
			return &RouterError{Router: r.Name, Line: culprit(out, all[:n]), Output: msg}
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
	out, err := r.Send()
	if err != nil {
		return err
	}
	if strings.HasSuffix(out, ">") {
		if out, err = r.Send("enable"); err != nil {
			return err
		}
		if !strings.HasSuffix(out, "#") {
			return &RouterError{Router: r.Name, Line: "enable", Output: Tail(out, 5)}
		}
	}
	return nil
}

// ConsoleError returns the error lines in one console exchange's output ("" when none): lines
// starting with "%" other than the informational "% NOTE" (timestamped syslog lines,
// "*Mar  1 00:00:01.123: %SYS-5-CONFIG_I ...", start with "*").
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

// Output returns the whole console transcript so far (syslog lines included).
func (r *Router) Output() string { return r.out.String() }

// Done is closed when the router has exited.
func (r *Router) Done() <-chan struct{} { return r.done }

// Stop closes the console (at end of input the router sends its deletes, removes its SAs and
// exits) and waits; SIGTERM and then SIGKILL follow by PID if it does not. It is idempotent. The
// error says when SIGKILL was needed, and is ErrNoExit when even that did not end it.
func (r *Router) Stop() error {
	r.stopOnce.Do(func() {
		r.stdin.Close()
		for _, sig := range []syscall.Signal{0, syscall.SIGTERM, syscall.SIGKILL} {
			if sig != 0 {
				_ = syscall.Kill(r.Pid, sig)
			}
			select {
			case <-r.done:
				if sig == syscall.SIGKILL {
					r.stopErr = fmt.Errorf("lab: router %s (pid %d) ignored SIGTERM, killed", r.Name, r.Pid)
				}
				return
			case <-time.After(r.stopWait):
			}
		}
		r.stopErr = fmt.Errorf("%w: %s (pid %d)", ErrNoExit, r.Name, r.Pid)
	})
	return r.stopErr
}
