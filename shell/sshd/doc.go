// Package sshd is Tunnelbox's SSH front end: the vty lines of an IOS-style router.
//
// A Server accepts SSH 2 connections (RFC 4251-4254, golang.org/x/crypto/ssh), authenticates
// them against the `username` entries of the running configuration, and attaches each
// connection to one vty line, where package shell runs the IOS CLI.
//
// # Behaviour (spec/ios-cli.md §1, spec/ecosystem.md A3 and B5)
//
//   - Host keys (ed25519 and RSA-3072) come from the store via StoreHostKeys: generated once
//     on first boot and kept, so clients see the same keys across restarts.
//   - Authentication: "password" and "keyboard-interactive" (one "Password: " prompt), checked
//     against `username NAME [privilege N] {secret|password} ...` (secret types 5/8/9,
//     password types 0/7). With no username configured every login is refused and the client
//     is told why in the SSH banner; there is never a default password. After
//     Policy.AuthRetries failures on one connection (IOS `ip ssh authentication-retries`,
//     default 3), the server waits a short delay and disconnects. No password, hash or key
//     is ever logged.
//   - Lines: a connection takes the lowest free `line vty N` whose `transport input` allows
//     ssh, before authentication, like IOS; when none is free it is closed at once. The line
//     number is what `show users` displays. `exec-timeout` of that line closes a session after
//     that long without input (`exec-timeout 0 0` never).
//   - Sessions: only "session" channels. Requests: "pty-req" and "window-change" (terminal
//     size), "env" (accepted and ignored), "shell" (an interactive IOS session at the user's
//     privilege: 15 lands at `R1#`, lower at `R1>`) and "exec" (one command line, no pager,
//     then "exit-status"). Anything else is refused.
//   - Policy.AuthTimeout (IOS `ip ssh time-out`, default 120 s) bounds the time from TCP
//     accept to successful login.
//   - After a session ends the server closes its channel and lets the client disconnect;
//     a client that lingers is dropped after a few seconds so it cannot hold the vty line.
//
// # Wiring
//
// cmd/tunnelbox builds a Server from the store and the CLI:
//
//	key, _ := sshd.StoreHostKeys(store)
//	srv, _ := sshd.New(sshd.Config{HostKey: key, Accounts: sshd.ConfigAccounts(mgr.Running),
//		Shell: sshd.AppShell(app), Log: sshd.AppLog(app)})
//	go srv.Serve(ln)
//	defer srv.Close()
//
// Accounts and Shell are small interfaces owned by this package, so the server is tested
// on its own with test doubles, and with the real shell and configuration through the
// adapters.
//
// # Concurrency
//
// A Server is safe for concurrent use. Each connection runs on its own goroutines; Close
// stops the listeners and ends every session, and returns when they are all gone.
package sshd
