package sshd

import (
	"errors"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// noUsersBanner is sent (SSH_MSG_USERAUTH_BANNER, RFC 4252 §5.4) to every client while the
// running configuration has no `username`, so that the refusal is not a silent mystery.
const noUsersBanner = "% SSH login refused: no username is configured on this router.\r\n" +
	"% Configure one on the console, e.g. 'username admin privilege 15 secret PASSWORD'.\r\n"

// attempt is the login state of one connection. The x/crypto/ssh server calls its
// callbacks from the connection's handshake goroutine, one at a time.
type attempt struct {
	s        *Server
	src      string // client IP, for log lines
	lport    int    // local port, for log lines
	retries  int    // failures allowed before disconnect
	hasUsers bool   // at connect time
	line     int    // the vty line the connection holds
	failures int
	loggedNo bool // the "no usernames" line was logged for this connection

	privilege int // set by a successful login
}

func (s *Server) serverConfig(a *attempt) *ssh.ServerConfig {
	cfg := &ssh.ServerConfig{
		MaxAuthTries:  a.retries,
		ServerVersion: serverVersion,
		PasswordCallback: func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			return a.check(c.User(), pw)
		},
		KeyboardInteractiveCallback: func(c ssh.ConnMetadata, ch ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
			answers, err := ch("", "", []string{"Password: "}, []bool{false})
			if err != nil {
				return nil, err
			}
			if len(answers) != 1 {
				return a.check(c.User(), nil)
			}
			return a.check(c.User(), []byte(answers[0]))
		},
		BannerCallback: func(c ssh.ConnMetadata) string {
			if !a.hasUsers {
				return noUsersBanner
			}
			return ""
		},
	}
	for _, k := range s.signers {
		cfg.AddHostKey(k)
	}
	return cfg
}

// check runs one password try. The error text goes nowhere but our own log line.
func (a *attempt) check(user string, pw []byte) (*ssh.Permissions, error) {
	priv, err := a.s.cfg.Accounts.Login(a.line, user, pw)
	clear(pw)
	if err == nil {
		a.privilege = priv
		return nil, nil
	}
	a.failures++
	reason := "Login Authentication Failed"
	if errors.Is(err, ErrNoUsers) {
		reason = "No username configured"
		if !a.loggedNo {
			a.loggedNo = true
			a.s.logf("%%SSH-3-NO_USERNAMES: SSH login from %s refused: no username is configured", a.src)
		}
		err = &ssh.BannerError{Err: ErrNoUsers}
	} else {
		err = ErrBadCredentials
	}
	a.s.logf("%%SEC_LOGIN-4-LOGIN_FAILED: Login failed [user: %s] [Source: %s] [localport: %d] [Reason: %s] at %s",
		printable(user), a.src, a.lport, reason, stamp())
	if a.failures >= a.retries {
		// The library disconnects right after this return; make a guesser wait first.
		select {
		case <-time.After(a.s.cfg.FailDelay):
		case <-a.s.ctx.Done():
		}
	}
	return nil, err
}

// printable keeps log lines to one line of visible ASCII whatever a client sends as its
// user name, and bounds their length.
func printable(s string) string {
	const max = 64
	var b strings.Builder
	for i, r := range s {
		if i >= max {
			b.WriteString("...")
			break
		}
		if r < 0x20 || r > 0x7e {
			r = '?'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// stamp is the trailing time of %SEC_LOGIN lines: "at 12:01:02 UTC Mon Mar 1 1993".
func stamp() string { return time.Now().UTC().Format("15:04:05 MST Mon Jan 2 2006") }
