package sshd

import (
	"context"
	"fmt"
	"io"
	"strings"

	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
	"github.com/tunnelbox/tunnelbox/shell"
)

// AppShell returns the Shell that runs vty sessions of app: each SSH session is a
// shell.Session on line "vty N", registered for `show users` and log delivery (with
// `terminal monitor`) while it lasts.
func AppShell(app *shell.App) Shell { return appShell{app: app} }

type appShell struct{ app *shell.App }

var _ Shell = appShell{}

func (a appShell) options(t *Terminal) shell.SessionOptions {
	_, w, _ := t.Size()
	remote := ""
	if t.Remote != nil {
		remote = hostOf(t.Remote)
	}
	return shell.SessionOptions{
		User:      t.User,
		Privilege: t.Privilege,
		Line:      fmt.Sprintf("vty %d", t.Line),
		Remote:    remote,
		Width:     w,
		Length:    -1, // IOS default 24 until the pty says otherwise
		NoPTY:     !t.PTY,
	}
}

// Interactive runs the IOS line editor on the session (pty) or reads plain lines (no pty,
// `ssh -T`), with window changes forwarded to the session's terminal size.
func (a appShell) Interactive(ctx context.Context, t *Terminal) error {
	s := a.app.NewSession(a.options(t))
	defer s.Close()
	winch := make(chan [2]int, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-t.Resized():
				_, w, h := t.Size()
				// Keep only the latest size if the shell has not taken the previous one.
				select {
				case <-winch:
				default:
				}
				winch <- [2]int{w, h}
			case <-stop:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	_, w, h := t.Size()
	if !t.PTY {
		h = 0
	}
	err := s.Serve(t, w, h, winch)
	if s.Closed() {
		return nil
	}
	return err
}

// Exec runs one line the way IOS answers `ssh router "show version"`: no prompt, no echo,
// no pager. The exit status is 1 when the CLI answered with an IOS error ("% ..." line:
// invalid input, incomplete, ambiguous, unknown command, refused), else 0.
func (a appShell) Exec(ctx context.Context, t *Terminal, line string) int {
	opts := a.options(t)
	opts.NoPTY, opts.Length = true, 0
	s := a.app.NewSession(opts)
	defer s.Close()
	out := s.RunLine(line)
	io.WriteString(t, out)
	if iosError(out) {
		return 1
	}
	return 0
}

// iosError reports whether CLI output holds an IOS error message. Syslog lines
// ("*Mar  1 00:00:01.000: %SYS-5-...") do not count: they start with the timestamp.
func iosError(out string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "% ") {
			return true
		}
	}
	return false
}

// StoreHostKeys returns the host key material of st for Config.HostKey: the ed25519 key
// and the RSA-3072 key (for older clients), both generated on first use and kept.
func StoreHostKeys(st *runningconfig.Store) ([]byte, error) {
	ed, err := st.HostKey()
	if err != nil {
		return nil, fmt.Errorf("sshd: host key: %w", err)
	}
	rsa, err := st.HostKeyRSA()
	if err != nil {
		return nil, fmt.Errorf("sshd: host key: %w", err)
	}
	return append(append([]byte(nil), ed...), rsa...), nil
}

// AppLog returns a Config.Log that sends the server's messages to the app's log bus (the
// console, vtys with `terminal monitor`, and the log sink), timestamped like IOS.
func AppLog(app *shell.App) func(string) {
	return func(msg string) { app.Logf("%s", msg) }
}
