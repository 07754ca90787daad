package main

import (
	"fmt"
	"net"

	"github.com/tunnelbox/tunnelbox/shell/sshd"
)

// startSSH listens on addr (so a busy port fails the boot with a clear message) and serves
// the vty lines: host keys from the store, logins against the running configuration's
// usernames, sessions on the app. The caller closes the returned server on shutdown.
func startSSH(r *router, addr string) (*sshd.Server, error) {
	key, err := sshd.StoreHostKeys(r.store)
	if err != nil {
		return nil, err
	}
	srv, err := sshd.New(sshd.Config{
		HostKey:  key,
		Accounts: sshd.ConfigAccounts(r.cfg.Running),
		Shell:    sshd.AppShell(r.app),
		Log:      sshd.AppLog(r.app),
	})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--ssh: %w", err)
	}
	go srv.Serve(ln)
	return srv, nil
}
