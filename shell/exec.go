package shell

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tunnelbox/tunnelbox/parser"
	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
)

// Handler runs a matched command. Output goes to c.Out; IOS messages are returned as *MsgError
// (Msgf). A handler that matched in an ancestor mode (fall-through) runs after the session moved
// to that mode.
type Handler func(c *Context, a parser.Args) error

// StayHandler is a Handler that runs in the session's current mode even when its command was
// found in an ancestor mode: `exit`, `end`, `do` are declared once in global config and act on
// whatever sub-mode the session is in.
type StayHandler func(c *Context, a parser.Args) error

// Context is what a handler sees.
type Context struct {
	Session *Session
	Out     io.Writer // goes through the `|` filter and the pager
	Config  *runningconfig.Manager
	Store   *runningconfig.Store
	App     *App
	Match   *parser.Match

	line      string // the command line as typed (without a `|` clause)
	caretBase int    // prompt length plus the offset of line inside the typed text
}

// Push enters a sub-mode with its state (for example the interface name); the state is
// available as Session.ModeState while the session stays there.
func (c *Context) Push(m *parser.Mode, state any) { c.Session.push(m, state) }

// State is the current sub-mode's state.
func (c *Context) State() any { return c.Session.ModeState() }

// Printf writes formatted output.
func (c *Context) Printf(format string, args ...any) { fmt.Fprintf(c.Out, format, args...) }

// Line is the command line as typed.
func (c *Context) Line() string { return c.line }

// InvalidInput is the caret error at byte offset pos of Line, for an argument that parsed
// but names nothing (an unknown interface in a show command).
func (c *Context) InvalidInput(pos int) error {
	if pos < 0 {
		pos = 0
	}
	return &MsgError{Text: strings.Repeat(" ", c.caretBase+pos) + "^\n% Invalid input detected at '^' marker.\n"}
}

// ReadLine prints prompt and reads an answer (confirmations). Sessions without interactive
// input return ErrNoInput.
func (c *Context) ReadLine(prompt string) (string, error) {
	if c.Session.in == nil {
		return "", ErrNoInput
	}
	return c.Session.in.readLine(prompt, true)
}

// ReadSecret prints prompt and reads an answer without echo (passwords).
func (c *Context) ReadSecret(prompt string) (string, error) {
	if c.Session.in == nil {
		return "", ErrNoInput
	}
	return c.Session.in.readLine(prompt, false)
}

// Confirm asks an IOS "[confirm]" question: Enter, "y" or "yes" accept, anything else declines.
func (c *Context) Confirm(prompt string) (bool, error) {
	ans, err := c.ReadLine(prompt)
	if err != nil {
		return false, err
	}
	ans = strings.ToLower(strings.TrimSpace(ans))
	return ans == "" || ans == "y" || ans == "yes", nil
}

// Apply edits the running configuration through Manager.Apply: clone, edit, validate,
// subscribers, commit; an error leaves the configuration unchanged. Handlers use it instead of
// c.Config.Apply so that a startup replay can batch the edits of a whole configuration.
func (c *Context) Apply(edit func(cfg *runningconfig.Config) error) error {
	if b := c.Session.batch; b != nil {
		return b.apply(edit)
	}
	return c.Config.Apply(edit)
}

// Log sends a message to the app's log bus (all sessions with monitor on, the console).
func (c *Context) Log(format string, args ...any) {
	if b := c.Session.batch; b != nil {
		b.logs = append(b.logs, fmt.Sprintf(format, args...))
		return
	}
	c.App.Logf(format, args...)
}

// Exec runs one typed line in the current mode and writes everything the user would see to w
// (not the echo of the line itself): caret errors, command output through the `|` filter and
// the pager. It records the line in history.
func (s *Session) Exec(w io.Writer, line string) {
	line = strings.TrimRight(line, "\r\n")
	s.lastActive.Store(s.app.now().UnixNano())
	if strings.TrimSpace(line) == "" {
		return
	}
	s.addHistory(line)
	if s.in != nil && s.length > 0 {
		w = &pager{dst: w, length: s.length, key: s.in.readKey, erase: s.eraseMore}
	}
	s.execAt(w, line, len(s.Prompt()), false)
}

// eraseMore removes the " --More-- " text: backspaces over it, blanks, backspaces again.
// A transcript (no terminal) just ends the line.
func (s *Session) eraseMore(w io.Writer) {
	if !s.rawTerminal {
		io.WriteString(w, "\n")
		return
	}
	n := len(morePrompt)
	io.WriteString(w, strings.Repeat("\b", n)+strings.Repeat(" ", n)+strings.Repeat("\b", n))
}

// execAt runs line; base is the terminal column at which line starts (for the caret). asExec
// forces matching in EXEC mode (`do`).
func (s *Session) execAt(w io.Writer, line string, base int, asExec bool) {
	g := s.app.grammar
	mode := s.Mode()
	if asExec {
		mode = s.app.modes.Exec
	}

	// Output modifier: split at the first "|" when the left part is a show command.
	cmdLine, filt, ferr, fpos := s.splitPipe(mode, line)
	if ferr != nil {
		printParseError(w, line, base, ferr)
		return
	}
	if fpos >= 0 && filt == nil {
		return
	}

	m, err := g.Match(mode, s.priv, cmdLine)
	if err != nil {
		var pe *parser.Error
		if errors.As(err, &pe) {
			if pe.Kind == parser.ErrIncomplete && isBareShow(cmdLine) && mode.Name == ModeExec {
				fmt.Fprintf(w, "%% Type \"show ?\" for a list of subcommands\n")
				return
			}
			if pe.Kind == parser.ErrUnknown && mode.Name == ModeExec && len(strings.Fields(cmdLine)) == 1 {
				fmt.Fprintf(w, "Translating %q\n%% Unknown command or computer name, or unable to find computer address\n",
					strings.TrimSpace(cmdLine))
				return
			}
			printParseError(w, line, base, pe)
			return
		}
		fmt.Fprintf(w, "%% %v\n", err)
		return
	}

	var fn func(*Context, parser.Args) error
	stay := asExec
	switch h := m.Cmd.Handler.(type) {
	case Handler:
		fn = h
	case StayHandler:
		fn, stay = h, true
	case func(*Context, parser.Args) error:
		fn = h
	default:
		fmt.Fprintf(w, "%% %v: %s\n", ErrBadHandler, m.Cmd.Syntax)
		return
	}
	if !stay && m.Mode != nil && m.Mode != s.Mode() {
		s.popTo(m.Mode)
	}

	out := w
	var fw *filterWriter
	if filt != nil {
		fw = newFilterWriter(filt, out)
		out = fw
	}
	ctx := &Context{
		Session: s, Out: out, Config: s.app.cfg, Store: s.app.store, App: s.app, Match: m,
		line: cmdLine, caretBase: base,
	}
	herr := fn(ctx, m.Args)
	if fw != nil {
		fw.Close()
	}
	if herr != nil {
		printHandlerError(w, herr)
	}
}

// printHandlerError prints what a handler returned.
func printHandlerError(w io.Writer, err error) {
	var me *MsgError
	switch {
	case errors.Is(err, ErrClosed):
	case errors.As(err, &me):
		fmt.Fprintf(w, "%s\n", me.Text)
	case errors.Is(err, ErrNoInput):
		fmt.Fprintf(w, "%% This command needs an interactive terminal\n")
	default:
		fmt.Fprintf(w, "%% %s\n", iosText(err))
	}
}

// iosText strips Go package prefixes ("runningconfig: ") from an error for display.
func iosText(err error) string {
	t := err.Error()
	for {
		i := strings.Index(t, ": ")
		if i <= 0 || strings.ContainsAny(t[:i], " %") {
			return t
		}
		t = t[i+2:]
	}
}

// printParseError prints the IOS form of a parser error (ios-cli.md §2.2).
func printParseError(w io.Writer, line string, base int, pe *parser.Error) {
	switch pe.Kind {
	case parser.ErrAmbiguous:
		fmt.Fprintf(w, "%% Ambiguous command:  %q\n", line)
	case parser.ErrIncomplete:
		fmt.Fprintf(w, "%% Incomplete command.\n\n")
	default:
		pos := pe.Pos
		if pos < 0 {
			pos = 0
		}
		if pos > len(line) {
			pos = len(line)
		}
		fmt.Fprintf(w, "%s^\n%% Invalid input detected at '^' marker.\n\n", strings.Repeat(" ", base+pos))
	}
}

func isBareShow(line string) bool {
	f := strings.Fields(line)
	return len(f) == 1 && len(f[0]) >= 2 && strings.HasPrefix("show", strings.ToLower(f[0]))
}

// isShow reports whether a matched command accepts output modifiers.
func isShow(c *parser.Command) bool {
	return strings.HasPrefix(c.Syntax, "show ") || c.Syntax == "show"
}

// splitPipe separates "show ... | include x". It returns the command part, the compiled filter
// (nil if none), a parse error inside the modifier clause, and the position of the "|" (-1 when
// the line has no modifier). A "|" that does not follow a show command is left in the line.
func (s *Session) splitPipe(mode *parser.Mode, line string) (string, *Filter, *parser.Error, int) {
	i := strings.IndexByte(line, '|')
	if i < 0 {
		return line, nil, nil, -1
	}
	left := line[:i]
	m, err := s.app.grammar.Match(mode, s.priv, left)
	if err != nil || !isShow(m.Cmd) {
		return line, nil, nil, -1
	}
	rest := line[i+1:]
	// modifier keyword
	j := 0
	for j < len(rest) && rest[j] == ' ' {
		j++
	}
	if j == len(rest) {
		return left, nil, &parser.Error{Kind: parser.ErrIncomplete, Pos: len(line), Line: line}, i
	}
	k := j
	for k < len(rest) && rest[k] != ' ' {
		k++
	}
	word := rest[j:k]
	kind, amb := lookupFilterWord(word)
	if amb {
		return left, nil, &parser.Error{Kind: parser.ErrAmbiguous, Pos: i + 1 + j, Line: line}, i
	}
	if kind == 0 {
		return left, nil, &parser.Error{Kind: parser.ErrInvalid, Pos: i + 1 + j, Line: line}, i
	}
	expr := strings.TrimPrefix(rest[k:], " ")
	if strings.TrimSpace(expr) == "" {
		return left, nil, &parser.Error{Kind: parser.ErrIncomplete, Pos: len(line), Line: line}, i
	}
	f, ferr := NewFilter(kind, expr)
	if ferr != nil {
		return left, nil, &parser.Error{Kind: parser.ErrInvalid, Pos: i + 1 + k + 1, Line: line}, i
	}
	return left, f, nil, i
}

// Failed reports whether command output is an IOS error (a caret line, or a line starting
// with "%" other than an interface event), e.g. to turn RunLine output into an exit status.
func Failed(output string) bool { return isFailure(output) }
