package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tunnelbox/tunnelbox/lab"
)

// LoadGenProc is the engine load generator running as a process in a namespace (see
// LoadGenEnv): the test binary itself, which must call ServeLoadGen from TestMain when
// LoadGenEnv is set.
type LoadGenProc struct {
	Pid int // the process itself (ip netns exec and taskset exec in place)

	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string // stdout, line by line; closed at EOF
	errb  lab.SyncBuffer
	done  chan struct{}
}

// StartLoadGen runs the load generator with o in ns (pinned to cpus with taskset unless cpus is
// "") and waits until its engines are bound. It is stopped in t.Cleanup.
func StartLoadGen(t testing.TB, ns *lab.Netns, cpus string, o LoadGenOptions) (*LoadGenProc, error) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	opts, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	args := []string{"netns", "exec", ns.Name}
	if cpus != "" {
		args = append(args, "taskset", "-c", cpus)
	}
	args = append(args, self, "-test.run=^$")
	p := &LoadGenProc{lines: make(chan string, 16), done: make(chan struct{})}
	p.cmd = exec.Command("ip", args...)
	p.cmd.Env = append(os.Environ(), LoadGenEnv+"="+string(opts))
	p.cmd.Stderr = &p.errb
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p.cmd.WaitDelay = 2 * time.Second
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if err := p.cmd.Start(); err != nil {
		return nil, &lab.CommandError{Netns: ns.Name, Args: args, Err: err}
	}
	p.Pid = p.cmd.Process.Pid
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Logf("cleanup: load generator: %v", err)
		}
	})
	line, err := p.next(60 * time.Second)
	if err != nil {
		return nil, err
	}
	if line != fmt.Sprintf("ready %d", o.N) {
		return nil, p.protocolError(line)
	}
	return p, nil
}

// next returns the next line of output, or an error when the process ends or d passes first.
func (p *LoadGenProc) next(d time.Duration) (string, error) {
	select {
	case l, ok := <-p.lines:
		if !ok {
			<-p.done
			return "", fmt.Errorf("bench: load generator exited (%v): %s", p.cmd.ProcessState, lab.Tail(p.errb.String(), 10))
		}
		return l, nil
	case <-time.After(d):
		return "", fmt.Errorf("bench: load generator said nothing for %v", d)
	}
}

func (p *LoadGenProc) protocolError(line string) error {
	if msg, ok := strings.CutPrefix(line, "error "); ok {
		return fmt.Errorf("bench: load generator: %s", msg)
	}
	return fmt.Errorf("bench: load generator said %q", line)
}

// Go starts the initiations.
func (p *LoadGenProc) Go() error {
	if _, err := io.WriteString(p.stdin, "go\n"); err != nil {
		return fmt.Errorf("bench: load generator: %w", err)
	}
	return nil
}

// Result waits (up to d) for the run's result. A run that did not complete returns the partial
// result with an error wrapping ErrIncomplete.
func (p *LoadGenProc) Result(d time.Duration) (LoadResult, error) {
	var res LoadResult
	line, err := p.next(d)
	if err != nil {
		return res, err
	}
	js, ok := strings.CutPrefix(line, "result ")
	if !ok {
		return res, p.protocolError(line)
	}
	if err := json.Unmarshal([]byte(js), &res); err != nil {
		return res, &ParseError{What: "load generator result", Msg: err.Error()}
	}
	if res.Established < 0 || res.Failures < 0 || res.Retransmits < 0 || res.Elapsed < 0 {
		return res, &ParseError{What: "load generator result", Msg: "negative count: " + js}
	}
	if line, err = p.next(10 * time.Second); err != nil {
		return res, err
	}
	if line == "ok" {
		return res, nil
	}
	if msg, ok := strings.CutPrefix(line, "error "); ok {
		return res, fmt.Errorf("%w: %s", ErrIncomplete, msg)
	}
	return res, p.protocolError(line)
}

// Stop closes the process's input (it closes its engines and exits) and waits; SIGKILL follows
// if it does not.
func (p *LoadGenProc) Stop() error {
	p.stdin.Close()
	go func() { // unread output must not block the reader that waits for the exit
		for range p.lines {
		}
	}()
	select {
	case <-p.done:
		return nil
	case <-time.After(lab.StopTimeout):
	}
	_ = syscall.Kill(p.Pid, syscall.SIGKILL)
	<-p.done
	return fmt.Errorf("bench: load generator (pid %d) did not exit, killed", p.Pid)
}
