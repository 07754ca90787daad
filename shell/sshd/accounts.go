package sshd

import (
	"sync"
	"time"

	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
)

// ConfigAccounts returns the Accounts of a running configuration. running returns the
// current immutable snapshot (runningconfig.Manager.Running); it is called on every login
// and policy check, so edits apply to the next connection without any subscription.
//
// Rules, after IOS with `login local` on the vty lines (SSH always uses the local username
// database; a line password alone never admits an SSH user):
//   - a user's `secret` (type 5, 8, 9, or 4) or `password` (type 0 or 7) must match;
//   - the privilege is the username's; a username without an explicit privilege (level 1)
//     gets the line's `privilege level` when that is higher;
//   - an unknown user costs the same hash work as a known one, so response time does not
//     reveal which usernames exist.
func ConfigAccounts(running func() *runningconfig.Config) Accounts {
	return configAccounts{running: running}
}

type configAccounts struct {
	running func() *runningconfig.Config
}

var _ Accounts = configAccounts{}

// decoy is hashed against when the user is unknown (see ConfigAccounts).
var decoy = sync.OnceValue(func() runningconfig.Secret {
	s, err := runningconfig.HashSecret("tunnelbox-decoy", runningconfig.DefaultSecretType)
	if err != nil {
		return runningconfig.Secret{}
	}
	return s
})

func (a configAccounts) Login(line int, user string, password []byte) (int, error) {
	c := a.running()
	if c == nil || len(c.Users) == 0 {
		return 0, ErrNoUsers
	}
	u := c.User(user)
	if u == nil {
		runningconfig.Verify(decoy(), string(password))
		return 0, ErrBadCredentials
	}
	var ok bool
	switch {
	case !u.Secret.IsZero():
		ok = runningconfig.Verify(u.Secret, string(password))
	case !u.Password.IsZero():
		ok = u.Password.Verify(string(password))
	}
	if !ok {
		return 0, ErrBadCredentials
	}
	priv := u.Privilege
	if priv == 1 {
		if l := vtyBlock(c, line); l != nil && l.Privilege > priv {
			priv = l.Privilege
		}
	}
	return priv, nil
}

func (a configAccounts) Policy() Policy {
	c := a.running()
	if c == nil {
		return Policy{}
	}
	p := Policy{HasUsers: len(c.Users) > 0}
	for i := range c.Lines {
		l := &c.Lines[i]
		if l.Kind != runningconfig.LineVTY {
			continue
		}
		for n := l.First; n <= l.Last && n <= runningconfig.MaxVTY; n++ {
			p.Lines = append(p.Lines, Line{
				Number:      n,
				SSH:         l.Transport.Allows(runningconfig.TransportSSH),
				ExecTimeout: time.Duration(l.ExecMinutes)*time.Minute + time.Duration(l.ExecSeconds)*time.Second,
			})
		}
	}
	return p
}

// vtyBlock returns the `line vty` block that holds line n, or nil.
func vtyBlock(c *runningconfig.Config, n int) *runningconfig.Line {
	for i := range c.Lines {
		if l := &c.Lines[i]; l.Kind == runningconfig.LineVTY && l.First <= n && n <= l.Last {
			return l
		}
	}
	return nil
}
