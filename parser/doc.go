// Package parser is Tunnelbox's IOS command grammar: it matches typed lines against command
// declarations, explains failures with the caret position IOS prints, answers `?` and completes
// on Tab (Cisco IOS 15.x behaviour, /work/shared/spec/ios-cli.md §1-2). It is pure: no I/O and
// no knowledge of what commands do; the shell formats the `% ...` messages.
//
// # Declarations
//
// One declaration per command, in the FRR style (one string gives parsing, help, completion and
// typed arguments):
//
//	crypto isakmp policy (1-10000)$prio
//	[no] access-list <(1-99)|(1300-1999)>$number <deny|permit>$action A.B.C.D$src [A.B.C.D$wild] [log]$log
//	transport input {ssh|telnet}$proto
//
// Tokens: lowercase keywords, matched case-insensitively by unique prefix among the keywords
// valid at that position in the mode; WORD (one word as typed); an uppercase name such as NAME
// or KEY (a WORD bound to its lowercased name); LINE (the rest of the line, inner spacing kept,
// must come last); (lo-hi) an inclusive decimal range (help `<lo-hi>`); A.B.C.D; HOST (an
// address or a host name, help `Hostname or A.B.C.D`); IFNAME (an interface name, type
// abbreviated and joined to or separated from the number, normalised to the full IOS name).
// Groups: <a|b> exactly one, [a] optional (nestable), {a|b} one or more in any order, each at
// most once. $name after a token or group binds its value(s). A leading no or default keyword
// (`[no]`, `[default]`, `[no|default]`, or plain) is bound under its own name and carries the
// fixed IOS help; every other token takes one string of Command.Help, left to right.
//
// # Matching
//
// Match runs all commands of a mode in parallel, word by word (a Thompson-style simulation of
// the command graphs, no backtracking). At each word only the best-ranked matches survive: a
// keyword typed in full, then specific arguments (range, address, interface), then an abbreviated
// keyword (which must abbreviate one keyword only, else ErrAmbiguous), then WORD, then LINE. So an
// exact keyword wins even if it prefixes another, and (22-49) beats WORD for "42".
// Failures carry the IOS caret position (Error.Pos, §2.2). Commands above the session's
// privilege level are invisible. When a line fails in a mode, the mode's ancestors (Mode.Parent)
// are tried; the error reported is the current mode's. In EXEC an unknown single first word is
// ErrUnknown (IOS tries it as a telnet host).
//
// # Concurrency
//
// Install before serving sessions. Match, Help and Complete are safe for concurrent use, also
// while Install runs: each call works on an immutable snapshot of the mode's commands.
package parser
