package parser

import (
	"strings"
)

// HelpItem is one line of `?` output: Word "<cr>" for end of command.
type HelpItem struct{ Word, Help string }

// CR is the Word of the help item that says the command may end here.
const CR = "<cr>"

// Help answers `?`. When line is empty or ends in a space it is argument help: every option at
// that point, in plain byte order with "<cr>" last when the command may end there. Otherwise the
// last word is partial and the answer lists what it may abbreviate (partial-word help).
// A line whose text before `?` matches nothing gives ErrUnrecognized; a word that is invalid
// later in the line gives ErrInvalid with the caret position; an ambiguous word ErrAmbiguous.
// Like Match, Help falls through to m's ancestors and reports m's error when all fail; an empty
// line lists m's own commands only.
func (g *Grammar) Help(m *Mode, priv int, line string) ([]HelpItem, error) {
	sc := getScratch()
	defer putScratch(sc)
	sc.toks = tokenize(line, sc.toks[:0])
	var firstErr *Error
	depth := 0
	for mm := m; mm != nil && depth < maxDepth; mm, depth = mm.Parent, depth+1 {
		items, err := g.helpMode(sc, mm, priv, line)
		if err == nil {
			return items, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if len(sc.toks) == 0 {
			break
		}
	}
	if firstErr == nil {
		firstErr = &Error{Kind: ErrUnrecognized, Line: line}
	}
	return nil, firstErr
}

// argumentHelp reports whether `?` follows a space (or an empty line).
func argumentHelp(line string, toks []span) bool {
	return len(toks) == 0 || toks[len(toks)-1].e < len(line)
}

func helpError(out outcome, sc *scratch, line string) *Error {
	if out.kind == ErrInvalid && out.failTok == 0 {
		return &Error{Kind: ErrUnrecognized, Pos: sc.toks[0].s, Line: line}
	}
	return &Error{Kind: out.kind, Pos: out.pos, Line: line}
}

func (g *Grammar) helpMode(sc *scratch, m *Mode, priv int, line string) ([]HelpItem, *Error) {
	mg := g.snapshot(m)
	cmds := mg.cmds
	n := len(sc.toks)
	arg := argumentHelp(line, sc.toks)
	upTo := n
	if !arg {
		upTo = n - 1
	}
	if out := run(sc, mg, priv, line, upTo); out.kind != 0 {
		return nil, helpError(out, sc, line)
	}
	var items []HelpItem
	seen := map[string]bool{}
	add := func(it HelpItem) {
		if !seen[it.Word] {
			seen[it.Word] = true
			items = append(items, it)
		}
	}
	if upTo > 0 && len(sc.cur) == 0 && len(sc.ends) == 0 {
		return nil, &Error{Kind: ErrUnrecognized, Pos: len(line), Line: line}
	}
	gather(sc, mg, priv, upTo == 0, "")
	if arg {
		for i := range sc.cands {
			k := &sc.cands[i]
			lf := &cmds[k.c].leaves[k.l]
			switch {
			case k.ift >= 0:
				add(ifTypes[k.ift].numberHelp())
			case lf.kind == kKeyword:
				add(HelpItem{lf.text, lf.help})
			case lf.kind == kIfname:
				for t := range ifTypes {
					add(HelpItem{ifTypes[t].name, ifTypes[t].help})
				}
			default:
				add(HelpItem{lf.display(), lf.help})
			}
		}
		for _, si := range sc.ends { // a LINE may go on, or end here
			lf := &cmds[sc.arena[si].c].leaves[sc.arena[si].l]
			add(HelpItem{lf.display(), lf.help})
			add(HelpItem{Word: CR})
		}
		if upTo > 0 {
			for _, si := range sc.cur {
				st := &sc.arena[si]
				if st.phase != phaseIfType && cmds[st.c].leaves[st.l].final {
					add(HelpItem{Word: CR})
				}
			}
		}
	} else {
		w := line[sc.toks[n-1].s:sc.toks[n-1].e]
		for i := range sc.cands {
			k := &sc.cands[i]
			lf := &cmds[k.c].leaves[k.l]
			switch {
			case k.ift >= 0:
				if numberish(w) {
					add(ifTypes[k.ift].numberHelp())
				}
			case lf.kind == kKeyword:
				if hasPrefixFold(lf.text, w) {
					add(HelpItem{lf.text, lf.help})
				}
			case lf.kind == kIfname:
				for t := range ifTypes {
					if hasPrefixFold(ifTypes[t].lower, w) {
						add(HelpItem{ifTypes[t].name, ifTypes[t].help})
					}
				}
			case lf.kind == kWord, lf.kind == kLine:
				add(HelpItem{lf.display(), lf.help})
			case lf.kind == kHost:
				if isHostname(w) || numberish(w) {
					add(HelpItem{lf.display(), lf.help})
				}
			case lf.kind == kRange:
				if _, ok := decimal(w, lf.hi); ok { // more digits may still bring it in range
					add(HelpItem{lf.display(), lf.help})
				}
			case lf.kind == kIPv4:
				if numberish(w) {
					add(HelpItem{lf.display(), lf.help})
				}
			}
		}
		for _, si := range sc.ends { // the partial word continues a LINE
			lf := &cmds[sc.arena[si].c].leaves[sc.arena[si].l]
			add(HelpItem{lf.display(), lf.help})
		}
		if len(items) == 0 {
			return nil, &Error{Kind: ErrUnrecognized, Pos: sc.toks[n-1].s, Line: line}
		}
	}
	sortItems(items)
	return items, nil
}

// numberish reports whether w could be the start of a number, address or interface number.
func numberish(w string) bool {
	for i := 0; i < len(w); i++ {
		if c := w[i]; !(c >= '0' && c <= '9' || c == '.' || c == '/') {
			return false
		}
	}
	return w != ""
}

// Complete answers Tab: when the last word (not followed by a space) abbreviates exactly one
// keyword at its position, or is a keyword typed in full, it returns the line with that word
// spelled out and a space appended; a unique abbreviation of an interface type is spelled out
// without the space (the number follows). Otherwise it returns line unchanged and false.
// Arguments (WORD, numbers) never complete. Falls through to ancestors like Match.
func (g *Grammar) Complete(m *Mode, priv int, line string) (completed string, ok bool) {
	sc := getScratch()
	defer putScratch(sc)
	sc.toks = tokenize(line, sc.toks[:0])
	if argumentHelp(line, sc.toks) {
		return line, false
	}
	depth := 0
	for mm := m; mm != nil && depth < maxDepth; mm, depth = mm.Parent, depth+1 {
		if s, ok := g.completeMode(sc, mm, priv, line); ok {
			return s, true
		}
	}
	return line, false
}

func (g *Grammar) completeMode(sc *scratch, m *Mode, priv int, line string) (string, bool) {
	mg := g.snapshot(m)
	cmds := mg.cmds
	n := len(sc.toks)
	if out := run(sc, mg, priv, line, n-1); out.kind != 0 {
		return "", false
	}
	if n > 1 && len(sc.cur) == 0 {
		return "", false
	}
	gather(sc, mg, priv, n == 1, "")
	last := sc.toks[n-1]
	w := line[last.s:last.e]
	var word, exact string
	suffix := " "
	count := 0
	for i := range sc.cands {
		k := &sc.cands[i]
		if k.ift >= 0 {
			continue
		}
		lf := &cmds[k.c].leaves[k.l]
		switch lf.kind {
		case kKeyword:
			if hasPrefixFold(lf.text, w) {
				if len(lf.text) == len(w) {
					exact = lf.text
				}
				if lf.text != word {
					word, suffix = lf.text, " "
					count++
				}
			}
		case kIfname:
			if typ, num := splitIfname(w); num == "" {
				if ti, ok := lookupIfType(typ); ok && ifTypes[ti].name != word {
					word, suffix = ifTypes[ti].name, ""
					count++
				}
			}
		}
	}
	if exact != "" {
		word, suffix, count = exact, " ", 1
	}
	if count != 1 {
		return "", false
	}
	return line[:last.s] + word + suffix, true
}

// FormatHelp lays out argument help as IOS prints it (ios-cli.md §2.3): one line per item, two
// spaces, the word padded to the longest word of the listing, two spaces, the help text.
// "<cr>" does not count toward the padding and an item without help has no trailing spaces.
// Lines carry no line terminator.
func FormatHelp(items []HelpItem) []string {
	width := 0
	for _, it := range items {
		if it.Word != CR && len(it.Word) > width {
			width = len(it.Word)
		}
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		if it.Help == "" {
			out = append(out, "  "+it.Word)
			continue
		}
		pad := width - len(it.Word)
		if pad < 0 {
			pad = 0
		}
		out = append(out, "  "+it.Word+strings.Repeat(" ", pad)+"  "+it.Help)
	}
	return out
}

// FormatWords lays out partial-word help (`di?`): each word followed by two spaces, on one line.
func FormatWords(items []HelpItem) string {
	var b strings.Builder
	for _, it := range items {
		b.WriteString(it.Word)
		b.WriteString("  ")
	}
	return b.String()
}
