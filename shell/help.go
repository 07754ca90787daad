package shell

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tunnelbox/tunnelbox/parser"
)

// Help answers `?` typed after line (line is the input before the `?`) and writes the listing
// to w, ios-cli.md §2.3: argument help after a space (or on an empty line, with the mode
// header), partial-word help otherwise.
func (s *Session) Help(w io.Writer, line string) {
	mode := s.Mode()
	base := len(s.Prompt())
	// `do` in config modes: help for the EXEC command after it.
	if isConfig(mode) {
		if rest, off, ok := cutDo(line); ok {
			mode, line, base = s.app.modes.Exec, rest, base+off
		}
	}
	if i := strings.IndexByte(line, '|'); i >= 0 {
		if m, err := s.app.grammar.Match(mode, s.priv, line[:i]); err == nil && isShow(m.Cmd) {
			s.filterHelp(w, line, line[i+1:], base)
			return
		}
	}
	items, err := s.app.grammar.Help(mode, s.priv, line)
	if err != nil {
		var pe *parser.Error
		if errors.As(err, &pe) && pe.Kind == parser.ErrInvalid && strings.TrimSpace(line) != "" &&
			len(strings.Fields(line)) > 1 {
			printParseError(w, line, base, pe)
			return
		}
		if errors.As(err, &pe) && pe.Kind == parser.ErrAmbiguous {
			fmt.Fprintf(w, "%% Ambiguous command:  %q\n", line)
			return
		}
		fmt.Fprintf(w, "%% Unrecognized command\n")
		return
	}
	if len(items) == 0 {
		fmt.Fprintf(w, "%% Unrecognized command\n")
		return
	}
	partial := line != "" && !strings.HasSuffix(line, " ")
	if partial {
		fmt.Fprintf(w, "%s\n\n", parser.FormatWords(items))
		return
	}
	if strings.TrimSpace(line) == "" && mode.Header != "" {
		fmt.Fprintf(w, "%s\n", mode.Header)
	}
	// A complete show command also offers output modifiers, listed just before <cr>.
	if m, err := s.app.grammar.Match(mode, s.priv, line); err == nil && isShow(m.Cmd) {
		n := len(items)
		if n > 0 && items[n-1].Word == parser.CR {
			items = append(items[:n-1:n-1], parser.HelpItem{Word: "|", Help: "Output modifiers"}, items[n-1])
		}
	}
	writeHelpItems(w, items)
	fmt.Fprintln(w)
}

// writeHelpItems prints one "  word  help" line per item (parser.FormatHelp layout).
func writeHelpItems(w io.Writer, items []parser.HelpItem) {
	for _, l := range parser.FormatHelp(items) {
		fmt.Fprintf(w, "%s\n", l)
	}
}

// filterHelp lists output modifiers after "show ... |".
func (s *Session) filterHelp(w io.Writer, line, rest string, base int) {
	trimmed := strings.TrimLeft(rest, " ")
	f := strings.Fields(trimmed)
	switch {
	case len(f) == 0:
		items := make([]parser.HelpItem, 0, len(filterWords))
		for _, fw := range filterWords {
			items = append(items, parser.HelpItem{Word: fw.word, Help: fw.help})
		}
		writeHelpItems(w, items)
		fmt.Fprintln(w)
	case len(f) == 1 && !strings.HasSuffix(rest, " "):
		var words []string
		for _, fw := range filterWords {
			if strings.HasPrefix(fw.word, strings.ToLower(f[0])) {
				words = append(words, fw.word)
			}
		}
		if len(words) == 0 {
			fmt.Fprintf(w, "%% Unrecognized command\n")
			return
		}
		fmt.Fprintf(w, "%s\n\n", strings.Join(words, "  ")+"  ")
	case len(f) == 1:
		if k, amb := lookupFilterWord(f[0]); k == 0 || amb {
			fmt.Fprintf(w, "%% Unrecognized command\n")
			return
		}
		writeHelpItems(w, []parser.HelpItem{{Word: "LINE", Help: "Regular Expression"}})
		fmt.Fprintln(w)
	default:
		writeHelpItems(w, []parser.HelpItem{{Word: "LINE", Help: "Regular Expression"}, {Word: "<cr>"}})
		fmt.Fprintln(w)
	}
}

// Complete is Tab: it returns the line with the word before the cursor completed (and a space
// appended) or the line unchanged when the prefix is ambiguous, unknown, or an argument.
func (s *Session) Complete(line string) string {
	mode := s.Mode()
	prefix := ""
	if isConfig(mode) {
		if rest, off, ok := cutDo(line); ok {
			mode, prefix, line = s.app.modes.Exec, line[:off], rest
		}
	}
	if i := strings.IndexByte(line, '|'); i >= 0 {
		rest := line[i+1:]
		f := strings.Fields(rest)
		if len(f) == 1 && !strings.HasSuffix(rest, " ") {
			var hit []string
			for _, fw := range filterWords {
				if strings.HasPrefix(fw.word, strings.ToLower(f[0])) {
					hit = append(hit, fw.word)
				}
			}
			if len(hit) == 1 {
				return prefix + line[:len(line)-len(f[0])] + hit[0] + " "
			}
		}
		return prefix + line
	}
	out, ok := s.app.grammar.Complete(mode, s.priv, line)
	if !ok {
		return prefix + line
	}
	return prefix + out
}

// cutDo recognises "do <rest>" (do may not be abbreviated in IOS) and returns rest and its
// offset in line.
func cutDo(line string) (rest string, off int, ok bool) {
	t := strings.TrimLeft(line, " ")
	lead := len(line) - len(t)
	if len(t) < 3 || !strings.EqualFold(t[:2], "do") || t[2] != ' ' {
		return "", 0, false
	}
	r := t[3:]
	r2 := strings.TrimLeft(r, " ")
	return r2, lead + 3 + len(r) - len(r2), true
}
