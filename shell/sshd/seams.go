package sshd

import (
	"context"
	"io"
	"net"
	"time"
)

// Accounts is what the server needs from the running configuration. It is consulted per
// connection and per login attempt, so configuration changes apply to the next login (and,
// for exec-timeout, to sessions already open).
type Accounts interface {
	// Login checks a username and password against the configured `username` entries for a
	// session on vty line `line` and returns the privilege level to start at (0-15). It
	// returns ErrNoUsers when no username is configured and ErrBadCredentials for an unknown
	// user or a wrong password.
	Login(line int, user string, password []byte) (privilege int, err error)
	// Policy returns the SSH-relevant part of the current configuration.
	Policy() Policy
}

// Policy is a snapshot of the configuration that governs SSH logins and vty lines.
type Policy struct {
	HasUsers    bool          // at least one `username` is configured
	Lines       []Line        // the vty lines, ascending by number (IOS default: vty 0-4)
	AuthRetries int           // `ip ssh authentication-retries` (1-5); 0 means the default, 3
	AuthTimeout time.Duration // `ip ssh time-out`; 0 means the default, 120 s
}

// Line is the configuration of one `line vty N`.
type Line struct {
	Number      int           // N in `line vty N`
	SSH         bool          // `transport input` admits ssh (ssh, all, or the default)
	ExecTimeout time.Duration // idle limit (`exec-timeout M S`); 0 means never
}

// Shell runs the IOS command line for a logged-in vty session.
type Shell interface {
	// Interactive runs an IOS session on t until the user leaves (`exit`, `logout`), the
	// input ends, or ctx is cancelled.
	Interactive(ctx context.Context, t *Terminal) error
	// Exec runs one command line (SSH "exec" request) without paging, writes its output to
	// t, and returns the exit status to report: 0 on success, 1 when the command failed.
	Exec(ctx context.Context, t *Terminal, line string) int
}

// Terminal is one SSH session as the shell sees it: a byte stream plus who and where.
type Terminal struct {
	io.Reader // keys (pty) or lines (no pty) from the client
	io.Writer // output; with a pty, "\n" is sent as "\r\n"

	User      string   // authenticated username
	Privilege int      // privilege level of the user (15 lands at `#`)
	Line      int      // vty line number, for `show users`
	Remote    net.Addr // client address
	PTY       bool     // the client asked for a pty: echo and line editing are the shell's job

	size *sizeBox
}

// Size returns the client's terminal type and window size in characters. Without a pty it
// is ("", 80, 24).
func (t *Terminal) Size() (term string, width, height int) { return t.size.get() }

// Resized returns a channel that receives a value after each window-change request.
// Read Size for the new size.
func (t *Terminal) Resized() <-chan struct{} { return t.size.changed }
