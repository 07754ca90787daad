package parser

import (
	"net/netip"
	"strconv"
	"sync"
)

// Match is a line that matched exactly one command.
type Match struct {
	Cmd  *Command
	Args Args
	Mode *Mode // the mode whose grammar matched (an ancestor when fall-through happened)
}

// Ranks of a token match, best first. At each word only the best-ranked matches survive:
// an exact keyword wins over everything (even when it prefixes another keyword), specific
// argument types win over an abbreviated keyword, which wins over WORD, which wins over LINE.
const (
	rankExact  = iota // keyword typed in full
	rankTyped         // (lo-hi), A.B.C.D, IFNAME, a HOST typed as an address
	rankPrefix        // abbreviated keyword or interface type: must be unique
	rankWord          // WORD, HOST typed as a name
	rankLine          // LINE
	rankNone          // no match
)

// maxDepth bounds parent-mode fall-through (and guards against a cyclic Parent chain).
const maxDepth = 16

// span is one input word: byte offsets [s, e) in the line.
type span struct{ s, e int }

// state is one step of a path through a command: leaf l of command c consumed token tok.
type state struct {
	c, l  int32
	prev  int32 // arena index of the previous step, -1 for the first
	tok   int32
	ift   int8   // interface type index for IFNAME steps, -1 otherwise
	phase uint8  // phaseDone, or phaseIfType: IFNAME type consumed, number expected next
	split bool   // IFNAME number step whose type was the previous word
	line  bool   // LINE: consumed tok to the end of the line
	used  uint64 // {} alternatives entered so far on this path
}

const (
	phaseDone   = 0
	phaseIfType = 1
)

// cand is a candidate next step, and how well it matches the current word.
type cand struct {
	c, l  int32
	prev  int32
	ift   int8 // awaiting the number of this interface type (from a phaseIfType state), else -1
	rank  int8
	newIf int8 // type matched by this word (IFNAME), -1 otherwise
	phase uint8
	used  uint64 // {} alternatives entered on this path including this step
}

// stateKey identifies equivalent steps at one word: same future, so one path is kept.
type stateKey struct {
	c, l  int32
	ift   int8
	phase uint8
	used  uint64
}

// scratch is the per-call working memory, pooled so that Match does not allocate per word.
type scratch struct {
	toks   []span
	arena  []state
	cur    []int32
	nxt    []int32
	ends   []int32 // LINE steps (complete up to the end of line)
	cands  []cand
	path   []int32 // extract's walk back along a path
	seen   map[stateKey]struct{}
	mapped bool // seen holds the keys of nxt (used once nxt is long)
	words  []string
}

var scratchPool = sync.Pool{New: func() any { return &scratch{seen: map[stateKey]struct{}{}} }}

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

func putScratch(sc *scratch) {
	if cap(sc.arena) > 1<<16 || cap(sc.toks) > 1<<12 { // do not pin memory from a pathological line
		sc.arena, sc.toks, sc.cands, sc.path = nil, nil, nil, nil
	}
	scratchPool.Put(sc)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

// tokenize splits line on spaces and tabs, keeping byte offsets.
func tokenize(line string, dst []span) []span {
	i := 0
	for i < len(line) {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i == len(line) {
			break
		}
		s := i
		for i < len(line) && !isSpace(line[i]) {
			i++
		}
		dst = append(dst, span{s, i})
	}
	return dst
}

// outcome of running a line prefix through a mode.
type outcome struct {
	kind    ErrorKind // 0 when the frontier is alive after upTo words
	pos     int
	failTok int // index of the word where every path died
}

// gather fills sc.cands with the steps that may consume the next word: the first tokens of the
// visible commands at the start of a line, otherwise the successors of the frontier. At the
// start, a non-empty w restricts keywords to those starting with w's first byte.
func gather(sc *scratch, mg *modeGrammar, priv int, atStart bool, w string) {
	sc.cands = sc.cands[:0]
	cmds := mg.cmds
	if atStart {
		addRefs := func(refs []firstRef) {
			for _, r := range refs {
				if cmds[r.c].cmd.Priv <= priv {
					sc.cands = append(sc.cands, cand{c: r.c, l: r.e.leaf, prev: -1, ift: -1, newIf: -1, used: r.e.enter})
				}
			}
		}
		if w == "" {
			for ci, cc := range cmds {
				if cc.cmd.Priv > priv {
					continue
				}
				for _, e := range cc.first {
					sc.cands = append(sc.cands, cand{c: int32(ci), l: e.leaf, prev: -1, ift: -1, newIf: -1, used: e.enter})
				}
			}
			return
		}
		c := w[0]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		addRefs(mg.byChar[c])
		addRefs(mg.other)
		return
	}
	for _, si := range sc.cur {
		st := &sc.arena[si]
		if st.phase == phaseIfType {
			sc.cands = append(sc.cands, cand{c: st.c, l: st.l, prev: si, ift: st.ift, newIf: -1, used: st.used})
			continue
		}
		for _, e := range cmds[st.c].leaves[st.l].next {
			if st.used&e.enter != 0 { // that {} alternative was already used
				continue
			}
			sc.cands = append(sc.cands, cand{c: st.c, l: e.leaf, prev: si, ift: -1, newIf: -1, used: st.used | e.enter})
		}
	}
}

// rate sets how well candidate k matches word w.
func rate(k *cand, lf *leaf, w string) {
	k.rank = rankNone
	if k.ift >= 0 { // interface number after a separate type word
		if _, ok := ifTypes[k.ift].number(w); ok {
			k.rank, k.newIf = rankTyped, k.ift
		}
		return
	}
	switch lf.kind {
	case kKeyword:
		if hasPrefixFold(lf.text, w) {
			if len(w) == len(lf.text) {
				k.rank = rankExact
			} else {
				k.rank = rankPrefix
			}
		}
	case kWord:
		k.rank = rankWord
	case kLine:
		k.rank = rankLine
	case kRange:
		if v, ok := decimal(w, lf.hi); ok && v >= lf.lo {
			k.rank = rankTyped
		}
	case kIPv4:
		if _, ok := parseIPv4(w); ok {
			k.rank = rankTyped
		}
	case kHost:
		if _, ok := parseIPv4(w); ok {
			k.rank = rankTyped
		} else if isHostname(w) {
			k.rank = rankWord
		}
	case kIfname:
		typ, num := splitIfname(w)
		ti, ok := lookupIfType(typ)
		if !ok {
			return
		}
		if num == "" {
			k.rank, k.newIf, k.phase = rankPrefix, int8(ti), phaseIfType
		} else if _, ok := ifTypes[ti].number(num); ok {
			k.rank, k.newIf = rankTyped, int8(ti)
		}
	}
}

// run consumes the first upTo words of the line through the commands of one mode. On success
// sc.cur holds the frontier (or atStart is reported when upTo is 0) and sc.ends the LINE steps.
func run(sc *scratch, mg *modeGrammar, priv int, line string, upTo int) outcome {
	cmds := mg.cmds
	sc.arena = sc.arena[:0]
	sc.cur = sc.cur[:0]
	sc.ends = sc.ends[:0]
	for i := 0; i < upTo; i++ {
		w := line[sc.toks[i].s:sc.toks[i].e]
		gather(sc, mg, priv, i == 0, w)
		best := int8(rankNone)
		for j := range sc.cands {
			k := &sc.cands[j]
			rate(k, &cmds[k.c].leaves[k.l], w)
			if k.rank < best {
				best = k.rank
			}
		}
		if best == rankNone {
			if len(sc.ends) > 0 { // a LINE already swallowed the rest
				sc.cur = sc.cur[:0]
				return outcome{}
			}
			pos := sc.toks[i].s
			for j := range sc.cands {
				lf := &cmds[sc.cands[j].c].leaves[sc.cands[j].l]
				if sc.cands[j].ift < 0 && lf.kind == kKeyword && len(lf.text) < len(w) &&
					hasPrefixFold(lf.text, w[:len(lf.text)]) && sc.toks[i].s+len(lf.text) > pos {
					pos = sc.toks[i].s + len(lf.text)
				}
			}
			return outcome{kind: ErrInvalid, pos: pos, failTok: i}
		}
		if best == rankPrefix {
			var first string
			for j := range sc.cands {
				if k := &sc.cands[j]; k.rank == rankPrefix {
					word := cmds[k.c].leaves[k.l].text
					if k.newIf >= 0 {
						word = ifTypes[k.newIf].name
					}
					if first == "" {
						first = word
					} else if word != first {
						return outcome{kind: ErrAmbiguous, pos: sc.toks[i].s, failTok: i}
					}
				}
			}
		}
		sc.nxt = sc.nxt[:0]
		sc.mapped = false
		for j := range sc.cands {
			k := &sc.cands[j]
			if k.rank != best {
				continue
			}
			st := state{c: k.c, l: k.l, prev: k.prev, tok: int32(i), ift: k.newIf, phase: k.phase, used: k.used}
			if k.ift >= 0 {
				st.split = true
			}
			if cmds[k.c].leaves[k.l].kind == kLine {
				st.line = true
				sc.arena = append(sc.arena, st)
				sc.ends = append(sc.ends, int32(len(sc.arena)-1))
				continue
			}
			if sc.duplicate(stateKey{c: k.c, l: k.l, ift: k.newIf, phase: k.phase, used: k.used}) {
				continue
			}
			sc.arena = append(sc.arena, st)
			sc.nxt = append(sc.nxt, int32(len(sc.arena)-1))
		}
		sc.cur, sc.nxt = sc.nxt, sc.cur
		if len(sc.cur) == 0 {
			// Only LINE steps survived: they consume the rest.
			return outcome{}
		}
	}
	return outcome{}
}

func keyOf(st *state) stateKey {
	return stateKey{c: st.c, l: st.l, ift: st.ift, phase: st.phase, used: st.used}
}

// duplicate reports whether a step equivalent to k is already in sc.nxt. Short frontiers are
// scanned; long ones (a leading "no" reaches most commands) switch to a map.
func (sc *scratch) duplicate(k stateKey) bool {
	const linear = 16
	if !sc.mapped && len(sc.nxt) < linear {
		for _, si := range sc.nxt {
			if keyOf(&sc.arena[si]) == k {
				return true
			}
		}
		return false
	}
	if !sc.mapped {
		clear(sc.seen)
		for _, si := range sc.nxt {
			sc.seen[keyOf(&sc.arena[si])] = struct{}{}
		}
		sc.mapped = true
	}
	if _, dup := sc.seen[k]; dup {
		return true
	}
	sc.seen[k] = struct{}{}
	return false
}

// Match parses a line typed in mode m by a session at privilege level priv. When the line is not
// a command of m, m's ancestors are tried in turn (parent-mode fall-through); when all fail the
// error is m's. The error is always an *Error.
func (g *Grammar) Match(m *Mode, priv int, line string) (*Match, error) {
	sc := getScratch()
	defer putScratch(sc)
	sc.toks = tokenize(line, sc.toks[:0])
	if len(sc.toks) == 0 {
		return nil, &Error{Kind: ErrEmpty, Pos: 0, Line: line}
	}
	var firstErr *Error
	depth := 0
	for mm := m; mm != nil && depth < maxDepth; mm, depth = mm.Parent, depth+1 {
		res, err := g.matchMode(sc, mm, priv, line)
		if err == nil {
			return res, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = &Error{Kind: ErrInvalid, Pos: sc.toks[0].s, Line: line}
	}
	return nil, firstErr
}

func (g *Grammar) matchMode(sc *scratch, m *Mode, priv int, line string) (*Match, *Error) {
	mg := g.snapshot(m)
	cmds := mg.cmds
	n := len(sc.toks)
	out := run(sc, mg, priv, line, n)
	if out.kind != 0 {
		if out.kind == ErrInvalid && out.failTok == 0 && m.IsExec() {
			return nil, unknownFirstWord(sc, line)
		}
		return nil, &Error{Kind: out.kind, Pos: out.pos, Line: line}
	}
	// Complete paths: LINE steps, or frontier steps after which the command may end.
	found := int32(-1)
	for _, si := range sc.ends {
		if found < 0 {
			found = si
		} else if sc.arena[si].c != sc.arena[found].c {
			return nil, &Error{Kind: ErrAmbiguous, Pos: sc.toks[0].s, Line: line}
		}
	}
	incomplete := false
	for _, si := range sc.cur {
		st := &sc.arena[si]
		if st.phase == phaseIfType || !cmds[st.c].leaves[st.l].final {
			incomplete = true
			continue
		}
		if found < 0 {
			found = si
		} else if st.c != sc.arena[found].c {
			return nil, &Error{Kind: ErrAmbiguous, Pos: sc.toks[0].s, Line: line}
		}
	}
	if found < 0 {
		if incomplete {
			return nil, &Error{Kind: ErrIncomplete, Pos: len(line), Line: line}
		}
		return nil, &Error{Kind: ErrInvalid, Pos: len(line), Line: line}
	}
	return &Match{Cmd: cmds[sc.arena[found].c].cmd, Args: extract(sc, cmds, line, found), Mode: m}, nil
}

// unknownFirstWord applies the EXEC implicit-telnet rule (ios-cli.md §2.2 item 6): an unknown
// first word is a host name to connect to, so a line of one word (or a word and a port number)
// is ErrUnknown, and anything else is invalid input at the second word, which the implicit
// telnet cannot take.
func unknownFirstWord(sc *scratch, line string) *Error {
	switch len(sc.toks) {
	case 1:
		return &Error{Kind: ErrUnknown, Pos: sc.toks[0].s, Line: line}
	case 2:
		if v, ok := decimal(line[sc.toks[1].s:sc.toks[1].e], 65535); ok && v > 0 {
			return &Error{Kind: ErrUnknown, Pos: sc.toks[0].s, Line: line}
		}
	}
	return &Error{Kind: ErrInvalid, Pos: sc.toks[1].s, Line: line}
}

// extract rebuilds the values along the path ending at arena index last.
func extract(sc *scratch, cmds []*compiled, line string, last int32) Args {
	path := sc.path[:0]
	nb := 0
	for si := last; si >= 0; si = sc.arena[si].prev {
		path = append(path, si)
		nb += len(cmds[sc.arena[si].c].leaves[sc.arena[si].l].binds)
	}
	sc.path = path
	a := Args{line: line, words: make([]string, 0, len(path))}
	if nb > 0 {
		a.list = make([]Arg, 0, nb)
	}
	for p := len(path) - 1; p >= 0; p-- {
		st := &sc.arena[path[p]]
		if st.phase == phaseIfType {
			continue
		}
		lf := &cmds[st.c].leaves[st.l]
		tk := sc.toks[st.tok]
		w := line[tk.s:tk.e]
		arg := Arg{Start: tk.s, End: tk.e}
		switch {
		case lf.kind == kKeyword:
			arg.Value = lf.text
		case lf.kind == kLine:
			end := len(line)
			for end > tk.s && isSpace(line[end-1]) {
				end--
			}
			arg.End = end
			arg.Value = line[tk.s:end]
		case lf.kind == kRange:
			v, _ := decimal(w, lf.hi)
			arg.Num = v
			arg.Value = strconv.FormatInt(v, 10)
		case lf.kind == kIPv4, lf.kind == kHost:
			arg.Value = w
			if b, ok := parseIPv4(w); ok {
				arg.Addr = netip.AddrFrom4(b)
				arg.Value = arg.Addr.String()
			}
		case lf.kind == kIfname:
			t := &ifTypes[st.ift]
			if st.split {
				num, _ := t.number(w)
				arg.Start = sc.toks[st.tok-1].s
				arg.Value = t.name + num
			} else {
				_, n := splitIfname(w)
				num, _ := t.number(n)
				arg.Value = t.name + num
			}
		default:
			arg.Value = w
		}
		a.words = append(a.words, arg.Value)
		for _, b := range lf.binds {
			arg.Name = b
			a.list = append(a.list, arg)
		}
	}
	return a
}
