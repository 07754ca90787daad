// Package shell is the router's IOS command line: sessions, modes and prompts, the mode stack
// with parent-mode fall-through, `?` help and Tab completion, history, the `|` output
// modifiers, the ` --More-- ` pager, asynchronous log delivery, and the front ends that drive a
// session: readline for the console on a terminal, a line editor for SSH ptys, a transcript
// runner for piped input, and single-line execution for SSH exec requests.
//
// # Pieces
//
// An App owns one router's grammar (package parser), its Modes registry, the running-config
// Manager and the startup-config Store (package runningconfig), the list of sessions and the
// log bus (Logf). Feature files in shell/commands install commands on App.Grammar() and may
// add sub-modes with Modes.Add; each command's Handler is a shell.Handler, or a StayHandler
// for commands that act on the session's current mode even when found in an ancestor mode
// (`exit`, `end`, `do`).
//
// A Session holds a mode stack (EXEC at the bottom), the privilege level, terminal settings
// (`terminal length|width|monitor|history size`) and per-group history (EXEC and config).
// Session.Exec runs one typed line and prints what IOS prints: the caret line and
// "% Invalid input detected at '^' marker.", "% Incomplete command.", the ambiguous and
// unknown-command messages of ios-cli.md §2.2, or the command output through the filter and
// pager.
//
// # Front ends
//
//   - ServeConsole: the console on a local terminal, edited by github.com/chzyer/readline:
//     `?` acts at once, Tab completes through the grammar, the editing keys of ios-cli.md §2.5,
//     Ctrl-Z is `end`. A key gate hands readline the keys only while a line is edited, so the
//     pager, `Password:` and `[confirm]` read the keys typed ahead and none is lost.
//   - Serve: an SSH pty, with the package's own line editor (same keys). It moves the cursor
//     with backspaces and rewritten characters only; readline redraws the whole line with ANSI
//     sequences on every key, which screen-scraping SSH clients (netmiko) would read as output.
//   - RunTranscript: piped input, one line at a time, echoed after the prompt.
//   - RunLine: one command, output returned as a string (SSH exec).
//
// App.SetPorts attaches the platform's hardware ports (cmd/tunnelbox: the Linux links), whose
// real state `show ip interface brief` and `show interfaces` report.
//
// # Concurrency
//
// App is safe for concurrent use by many sessions. A Session is driven by one goroutine at a
// time; only Deliver (log messages) may be called from others. Configuration changes go
// through runningconfig.Manager.Apply, whose owner goroutine serialises them.
package shell
