package parser

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestInstallSyntaxErrors(t *testing.T) {
	tests := []struct {
		syntax string
		help   []string
		pos    int
	}{
		{"show [version", []string{"a", "b"}, 5},
		{"show <version>", []string{"a", "b"}, 5},
		{"show <a|b", []string{"a", "b", "c"}, 5},
		{"show (5-1)", []string{"a", "b"}, 5},
		{"show (a-b)", []string{"a", "b"}, 5},
		{"show (1-2", []string{"a", "b"}, 5},
		{"show (12)", []string{"a", "b"}, 5},
		{"show Version", []string{"a", "b"}, 5},
		{"show vers!on", []string{"a", "b"}, 9},
		{"description LINE more", []string{"a", "b", "c"}, 0},
		{"[x]", []string{"a"}, 0},
		{"", nil, 0},
		{"show $x", []string{"a"}, 5},
		{"show version$", []string{"a", "b"}, 13},
		{"show version$9x", []string{"a", "b"}, 13},
		{"show {a|{b|c}}", []string{"a", "b", "c", "d"}, 8},
		{"show []", []string{"a"}, 6},
		{"show [a||b]", []string{"a", "b", "c"}, 8},
		{"show version ]", []string{"a", "b"}, 13},
	}
	for _, tt := range tests {
		err := New().Install(cfg, &Command{Syntax: tt.syntax, Help: tt.help})
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%q: %v, want *SyntaxError", tt.syntax, err)
			continue
		}
		if se.Pos != tt.pos || !strings.HasPrefix(se.Error(), "parser: ") {
			t.Errorf("%q: %v (pos %d), want pos %d", tt.syntax, se, se.Pos, tt.pos)
		}
	}
}

func TestInstallHelpErrors(t *testing.T) {
	g := New()
	// Help count: [no] carries fixed help, every other token needs one string.
	for _, cmd := range []*Command{
		c(15, "[no] shutdown", "Shutdown", "extra"),
		c(15, "[no] shutdown"),
		c(15, "ip route A.B.C.D A.B.C.D", "a", "b", "c"),
		c(15, "<a|b> [x$x]", "a", "b"),
	} {
		var he *HelpError
		if err := g.Install(cfIf, cmd); !errors.As(err, &he) || he.Mode != cfIf.Name {
			t.Errorf("%q with %d help strings: %v, want *HelpError", cmd.Syntax, len(cmd.Help), err)
		}
	}
	// Shared prefixes must share help, also behind [no] and across alternatives.
	if err := g.Install(exec, c(1, "show version", "Show running system information", "Version")); err != nil {
		t.Fatal(err)
	}
	var he *HelpError
	err := g.Install(exec, c(1, "show ip route", "Show", "IP", "Routes"))
	if !errors.As(err, &he) || !strings.Contains(err.Error(), "show version") {
		t.Errorf("different help for show: %v", err)
	}
	err = g.Install(exec,
		c(1, "[no] debug <a|b>", "Debug", "A", "B"),
		c(1, "[no] debug <b|c>", "Debug", "Bee", "C"))
	if !errors.As(err, &he) {
		t.Errorf("different help for debug b: %v", err)
	}
	// Same labels with different types do not clash: (1-10) and WORD, two different ranges.
	err = g.Install(exec,
		c(1, "ping (1-10)", "Ping", "count"),
		c(1, "ping WORD", "Ping", "host"),
		c(1, "ping (1-20) x", "Ping", "other", "x"))
	if err != nil {
		t.Errorf("distinct argument types: %v", err)
	}
}

func TestInstallRefusals(t *testing.T) {
	g := New()
	cmd := c(15, "hostname WORD", "Set", "Name")
	if err := g.Install(cfg, cmd); err != nil {
		t.Fatal(err)
	}
	var ie *InstallError
	if err := g.Install(cfg, cmd); !errors.As(err, &ie) {
		t.Errorf("installed twice: %v", err)
	}
	if err := g.Install(cfg, c(15, "hostname WORD", "Set", "Name")); !errors.As(err, &ie) {
		t.Errorf("same syntax: %v", err)
	}
	if err := g.Install(nil, c(15, "x", "x")); !errors.As(err, &ie) {
		t.Errorf("nil mode: %v", err)
	}
	if err := g.Install(cfg, nil); !errors.As(err, &ie) {
		t.Errorf("nil command: %v", err)
	}
	// A refused Install installs nothing.
	err := g.Install(cfg, c(15, "end", "End"), c(15, "exit", "Exit", "oops"))
	if err == nil {
		t.Fatal("bad help accepted")
	}
	if n := len(g.Commands(cfg, 15)); n != 1 {
		t.Errorf("%d commands after a refused Install, want 1", n)
	}
	// The same *Command may serve several modes.
	exitCmd := c(15, "exit", "Exit")
	if err := g.Install(cfIf, exitCmd); err != nil {
		t.Fatal(err)
	}
	if err := g.Install(cfIK, exitCmd); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*Mode{cfIf, cfIK} {
		if r, err := g.Match(m, 15, "ex"); err != nil || r.Cmd != exitCmd || r.Mode != m {
			t.Errorf("%s: %v %v", m.Name, r, err)
		}
	}
	if got := len(g.Modes()); got != 3 {
		t.Errorf("Modes() = %d", got)
	}
}

func TestCommandsPrivilege(t *testing.T) {
	g := fixture(t)
	all, user := g.Commands(exec, 15), g.Commands(exec, 1)
	if len(user) >= len(all) {
		t.Fatalf("level 1 sees %d of %d commands", len(user), len(all))
	}
	for _, cmd := range user {
		if cmd.Priv > 1 {
			t.Errorf("level 1 sees %q", cmd.Syntax)
		}
	}
	if g.Commands(&Mode{Name: "nowhere"}, 15) != nil {
		t.Error("unknown mode has commands")
	}
}

func TestErrorStrings(t *testing.T) {
	e := &Error{Kind: ErrInvalid, Pos: 3, Line: "foo bar"}
	if got := e.Error(); got != `parser: invalid input at byte 3 of "foo bar"` {
		t.Errorf("%q", got)
	}
	if ErrorKind(99).String() != "ErrorKind(99)" || ErrAmbiguous.Error() != "parser: ambiguous command" {
		t.Error("kind names")
	}
	if errors.Is(e, ErrIncomplete) || !errors.Is(e, ErrInvalid) {
		t.Error("errors.Is")
	}
}

func TestCaret(t *testing.T) {
	// R1(config)#logging 0255.255.1
	//                    ^
	e := &Error{Kind: ErrInvalid, Pos: len("logging "), Line: "logging 0255.255.1"}
	if got, want := e.Caret(len("R1(config)#")), "                   ^"; got != want {
		t.Errorf("caret %q, want %q", got, want)
	}
	e = &Error{Kind: ErrInvalid, Pos: 5, Line: "show\tboot"}
	if got := e.Caret(3); got != "   "+"    \t^" {
		t.Errorf("caret with tab %q", got)
	}
	e = &Error{Kind: ErrIncomplete, Pos: 99, Line: "x"}
	if got := e.Caret(0); got != " ^" {
		t.Errorf("caret past the end %q", got)
	}
}

// A leading "no" reaches many commands at once: the frontier is deduplicated with a map then.
func TestLongFrontier(t *testing.T) {
	g := New()
	var cmds []*Command
	for i := 0; i < 40; i++ {
		cmds = append(cmds, c(15, fmt.Sprintf("[no] feature%02d [<a|b>$ab] [(1-10)$n]", i), fmt.Sprintf("Feature %d", i), "A", "B", "N"))
	}
	if err := g.Install(cfg, cmds...); err != nil {
		t.Fatal(err)
	}
	m, err := g.Match(cfg, 15, "no feature17 b 3")
	if err != nil || m.Cmd != cmds[17] || !m.Args.Has("no") || m.Args.Str("ab") != "b" || m.Args.Int("n") != 3 {
		t.Fatalf("%v %+v", err, m)
	}
	if _, err := g.Match(cfg, 15, "no feature1"); !errors.Is(err, ErrAmbiguous) {
		t.Errorf("no feature1: %v", err)
	}
	items, err := g.Help(cfg, 15, "no ")
	if err != nil || len(items) != 40 {
		t.Errorf("no ?: %d items, %v", len(items), err)
	}
}
