package parser

import (
	"sort"
	"sync"
)

// Mode is one CLI mode (ios-cli.md §1). Modes are compared by pointer.
type Mode struct {
	Name string // "exec", "config", "config-if", "config-line", "config-isakmp", "cfg-crypto-trans",
	// "config-crypto-map", "config-ext-nacl", "config-std-nacl"
	Prompt string // what follows the hostname: "(config)#", "(config-if)#"; exec uses ">"/"#" by privilege
	Header string // heading of `?` on an empty line: "Exec commands:", "Configure commands:", ...
	Parent *Mode  // explicit parent for fall-through; nil for exec and config
}

// IsExec reports whether m is the EXEC mode (Name "exec"), where an unknown single first word is
// an implicit telnet (ErrUnknown) rather than invalid input.
func (m *Mode) IsExec() bool { return m != nil && m.Name == "exec" }

// Command is one declaration: syntax in the FRR style, one help string per help-bearing token,
// the minimum privilege level, and the shell's handler, which the parser never looks at.
//
// Help-bearing tokens are all tokens except a leading no/default keyword (in `[no]`,
// `[default]`, `[no|default]` or written plainly), whose help is fixed by IOS.
type Command struct {
	Syntax  string   // "crypto isakmp policy (1-10000)$prio"
	Help    []string // one string per token that shows in help, left to right (keywords, args)
	Priv    int      // minimum privilege level (exec: 1 or 15; config commands 15)
	Handler any      // opaque to parser; shell stores its own func type here
}

// Grammar holds the commands of every mode. Install all commands before serving sessions;
// after that Match, Help and Complete are safe for concurrent use (Install may still run
// concurrently: it takes a write lock).
type Grammar struct {
	mu    sync.RWMutex // protects modes and cache
	modes map[*Mode]*modeGrammar
	cache map[*Command]*compiled // commands installed in several modes compile once
	order []*Mode
}

// modeGrammar is the compiled command set of one mode. It is immutable once published: Install
// replaces it, so a session matching concurrently keeps a consistent snapshot.
type modeGrammar struct {
	mode   *Mode
	cmds   []*compiled
	byChar [256][]firstRef // first keywords of the commands, by their first byte
	other  []firstRef      // first tokens that are not keywords
}

// firstRef is a token that may start command c.
type firstRef struct {
	c int32
	e edge
}

func newModeGrammar(m *Mode, cmds []*compiled) *modeGrammar {
	mg := &modeGrammar{mode: m, cmds: cmds}
	for ci, cc := range cmds {
		for _, e := range cc.first {
			r := firstRef{c: int32(ci), e: e}
			if lf := &cc.leaves[e.leaf]; lf.kind == kKeyword {
				mg.byChar[lf.text[0]] = append(mg.byChar[lf.text[0]], r)
			} else {
				mg.other = append(mg.other, r)
			}
		}
	}
	return mg
}

// New returns an empty grammar.
func New() *Grammar {
	return &Grammar{modes: map[*Mode]*modeGrammar{}, cache: map[*Command]*compiled{}}
}

// Install compiles cmds and adds them to mode m. It refuses (and installs none of cmds) when a
// declaration is malformed (*SyntaxError), when the number of help strings differs from the
// number of help-bearing tokens, or when two commands of m share a prefix whose help differs
// (*HelpError), or when a command is installed twice or two commands of m have the same syntax
// (*InstallError).
func (g *Grammar) Install(m *Mode, cmds ...*Command) error {
	if m == nil {
		return &InstallError{Mode: "<nil>", Msg: "nil mode"}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	mg := g.modes[m]
	var existing []*compiled
	if mg != nil {
		existing = mg.cmds
	}
	var added []*compiled
	newCache := map[*Command]*compiled{}
	for _, c := range cmds {
		if c == nil {
			return &InstallError{Mode: m.Name, Msg: "nil command"}
		}
		cc := g.cache[c]
		if cc == nil {
			cc = newCache[c]
		}
		if cc == nil {
			var err error
			if cc, err = compile(c); err != nil {
				if he, ok := err.(*HelpError); ok {
					he.Mode = m.Name
				}
				return err
			}
			newCache[c] = cc
		}
		for _, o := range existing {
			if o.cmd == c {
				return &InstallError{Mode: m.Name, Syntax: c.Syntax, Msg: "installed twice"}
			}
			if o.cmd.Syntax == c.Syntax {
				return &InstallError{Mode: m.Name, Syntax: c.Syntax, Msg: "same syntax as another command"}
			}
		}
		for _, o := range added {
			if o.cmd == c || o.cmd.Syntax == c.Syntax {
				return &InstallError{Mode: m.Name, Syntax: c.Syntax, Msg: "declared twice"}
			}
		}
		for _, o := range existing {
			if err := checkSharedHelp(m, cc, o); err != nil {
				return err
			}
		}
		for _, o := range added {
			if err := checkSharedHelp(m, cc, o); err != nil {
				return err
			}
		}
		added = append(added, cc)
	}
	if mg == nil {
		g.order = append(g.order, m)
	}
	// Copy on write: sessions holding the old snapshot keep a consistent view.
	g.modes[m] = newModeGrammar(m, append(append([]*compiled(nil), existing...), added...))
	for c, cc := range newCache {
		g.cache[c] = cc
	}
	return nil
}

// Commands returns the commands of mode m visible at privilege level priv, in installation
// order (not including ancestors' commands).
func (g *Grammar) Commands(m *Mode, priv int) []*Command {
	mg := g.mode(m)
	if mg == nil {
		return nil
	}
	var out []*Command
	for _, cc := range mg.cmds {
		if cc.cmd.Priv <= priv {
			out = append(out, cc.cmd)
		}
	}
	return out
}

// Modes returns every mode that has commands, in the order they were first installed.
func (g *Grammar) Modes() []*Mode {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return append([]*Mode(nil), g.order...)
}

func (g *Grammar) mode(m *Mode) *modeGrammar {
	g.mu.RLock()
	mg := g.modes[m]
	g.mu.RUnlock()
	return mg
}

// snapshot returns the current grammar of m (an empty one when m has no commands).
func (g *Grammar) snapshot(m *Mode) *modeGrammar {
	g.mu.RLock()
	mg := g.modes[m]
	g.mu.RUnlock()
	if mg == nil {
		return &emptyMode
	}
	return mg
}

var emptyMode modeGrammar

// checkSharedHelp walks the two command graphs in lock step over tokens with the same label and
// fails when such a shared token has different help text.
func checkSharedHelp(m *Mode, a, b *compiled) error {
	type pair struct{ x, y int32 }
	seen := map[pair]bool{}
	var stack []pair
	push := func(xs, ys []edge) {
		for _, ex := range xs {
			for _, ey := range ys {
				x, y := ex.leaf, ey.leaf
				if a.leaves[x].kind == b.leaves[y].kind && a.leaves[x].label() == b.leaves[y].label() {
					p := pair{x, y}
					if !seen[p] {
						seen[p] = true
						stack = append(stack, p)
					}
				}
			}
		}
	}
	push(a.first, b.first)
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		la, lb := &a.leaves[p.x], &b.leaves[p.y]
		if la.help != lb.help {
			return &HelpError{Mode: m.Name, Syntax: a.cmd.Syntax,
				Msg: "token " + la.display() + " has help " + quote(la.help) + " but command " +
					quote(b.cmd.Syntax) + " shares it with help " + quote(lb.help)}
		}
		push(la.next, lb.next)
	}
	return nil
}

func quote(s string) string { return "\"" + s + "\"" }

// sortItems orders help items in plain byte order with "<cr>" last (ios-cli.md §2.3).
func sortItems(items []HelpItem) {
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i].Word, items[j].Word
		if a == CR || b == CR {
			return b == CR && a != CR
		}
		return a < b
	})
}
