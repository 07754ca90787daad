package parser

import (
	"errors"
	"testing"
)

var fuzzModes = []*Mode{exec, cfg, cfIf, cfIK, cfLn, cfCM}

// FuzzMatch feeds arbitrary lines to Match, Help and Complete in every fixture mode: they must
// not panic, errors must be *Error with the caret inside the line, and a matched line written
// back in normalised form must match the same command again.
func FuzzMatch(f *testing.F) {
	for _, s := range []string{
		"show ip interface brief", "sh ip int br", "show ip interfaces brief", "int gi 0/0.10",
		"ip route 0.0.0.0 0.0.0.0 tu 0 250", "access-list 10 permit 10.0.0.0 0.0.0.255 log",
		"description  a  b ", "transport input ssh telnet", "encryption aes 256", "no deb cry isa",
		"set transform-set A B C D E F", "ping h source lo 0 repeat 5", "\t", "a", "group 1",
	} {
		f.Add(s)
	}
	g := fixture(f)
	f.Fuzz(func(t *testing.T, line string) {
		for _, m := range fuzzModes {
			for _, priv := range []int{1, 15} {
				checkLine(t, g, m, priv, line)
			}
		}
	})
}

func checkLine(t *testing.T, g *Grammar, m *Mode, priv int, line string) {
	r, err := g.Match(m, priv, line)
	if err != nil {
		var pe *Error
		if !errors.As(err, &pe) {
			t.Fatalf("%s %q: error %T", m.Name, line, err)
		}
		if pe.Pos < 0 || pe.Pos > len(line) || pe.Line != line || pe.Kind < ErrInvalid || pe.Kind > ErrEmpty {
			t.Fatalf("%s %q: bad error %+v", m.Name, line, pe)
		}
	} else {
		if r.Cmd == nil || r.Mode == nil || r.Cmd.Priv > priv {
			t.Fatalf("%s %q: bad match %+v", m.Name, line, r)
		}
		norm := r.Args.String()
		r2, err := g.Match(r.Mode, priv, norm)
		if err != nil || r2.Cmd != r.Cmd {
			t.Fatalf("%s %q matched %q, normalised %q does not: %v", m.Name, line, r.Cmd.Syntax, norm, err)
		}
		for _, a := range r.Args.All() {
			if a.Start < 0 || a.End > len(line) || a.Start > a.End {
				t.Fatalf("%s %q: arg %+v outside the line", m.Name, line, a)
			}
		}
	}
	for _, l := range []string{line, line + " "} {
		items, err := g.Help(m, priv, l)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Pos < 0 || pe.Pos > len(l) {
				t.Fatalf("%s help %q: bad error %v", m.Name, l, err)
			}
		} else if len(items) == 0 && len(tokenize(l, nil)) > 0 {
			t.Fatalf("%s help %q: no items and no error", m.Name, l)
		}
	}
	if s, ok := g.Complete(m, priv, line); ok {
		if len(s) <= len(line)/2 {
			t.Fatalf("%s complete %q -> %q", m.Name, line, s)
		}
		g.Match(m, priv, s)
	} else if s != line {
		t.Fatalf("%s complete %q changed the line to %q without ok", m.Name, line, s)
	}
}
