package parser

import (
	"strconv"
	"strings"
)

// kind is the type of one grammar token.
type kind uint8

const (
	kKeyword kind = iota + 1 // lowercase literal, abbreviable
	kWord                    // WORD or an uppercase variable name: one token as typed
	kLine                    // LINE: the rest of the line
	kRange                   // (lo-hi): decimal in range
	kIPv4                    // A.B.C.D
	kIfname                  // IFNAME: interface name, normalised
	kHost                    // HOST: "Hostname or A.B.C.D"
)

// leaf is one compiled token of a command.
type leaf struct {
	kind   kind
	text   string // keyword (lowercase) or placeholder name
	lo, hi int64  // kRange bounds
	help   string
	binds  []string // bind names this token contributes to, innermost first
	next   []edge   // leaves that may follow this one (epsilon closure of its out state)
	final  bool     // the command may end after this leaf
	fixed  bool     // leading no/default: help is fixed, not from Command.Help
}

// label identifies a token for the shared-prefix help rule: same kind and same text.
func (l *leaf) label() string {
	switch l.kind {
	case kKeyword:
		return l.text
	case kRange:
		return "<" + strconv.FormatInt(l.lo, 10) + "-" + strconv.FormatInt(l.hi, 10) + ">"
	default:
		return l.text
	}
}

// display is the word shown for the token in argument help.
func (l *leaf) display() string {
	switch l.kind {
	case kRange:
		return l.label()
	case kWord:
		return "WORD"
	case kHost:
		return "Hostname or A.B.C.D"
	default:
		return l.text
	}
}

// edge leads to a leaf; enter holds the {a|b} alternatives entered on the way, each of which a
// path may enter only once (one or more, any order, no repeats).
type edge struct {
	leaf  int32
	enter uint64
}

// compiled is a command turned into a token graph.
type compiled struct {
	cmd    *Command
	leaves []leaf
	first  []edge // leaves that may start the command
}

// ---- lexer and parser of the declaration language ----

type astKind uint8

const (
	aLeaf astKind = iota
	aSeq
	aAlt   // <a|b>
	aOpt   // [a|b]
	aMulti // {a|b}
)

type ast struct {
	kind astKind
	word string // aLeaf
	pos  int
	bind string
	kids []*ast
}

type syntaxParser struct {
	src string
	i   int
}

func (p *syntaxParser) errf(pos int, msg string) error {
	return &SyntaxError{Syntax: p.src, Pos: pos, Msg: msg}
}

func isSpecial(c byte) bool {
	switch c {
	case '[', ']', '<', '>', '{', '}', '|', '$':
		return true
	}
	return false
}

func (p *syntaxParser) skipSpace() {
	for p.i < len(p.src) && (p.src[p.i] == ' ' || p.src[p.i] == '\t') {
		p.i++
	}
}

// parseSeq parses items until a closing bracket, '|' or the end.
func (p *syntaxParser) parseSeq() (*ast, error) {
	seq := &ast{kind: aSeq, pos: p.i}
	for {
		p.skipSpace()
		if p.i >= len(p.src) {
			return seq, nil
		}
		c := p.src[p.i]
		switch c {
		case ']', '>', '}', '|':
			return seq, nil
		case '$':
			return nil, p.errf(p.i, "bind without a token")
		}
		item, err := p.parseItem()
		if err != nil {
			return nil, err
		}
		seq.kids = append(seq.kids, item)
	}
}

func (p *syntaxParser) parseItem() (*ast, error) {
	start := p.i
	var item *ast
	c := p.src[p.i]
	switch c {
	case '[', '<', '{':
		closer := map[byte]byte{'[': ']', '<': '>', '{': '}'}[c]
		k := map[byte]astKind{'[': aOpt, '<': aAlt, '{': aMulti}[c]
		p.i++
		item = &ast{kind: k, pos: start}
		for {
			alt, err := p.parseSeq()
			if err != nil {
				return nil, err
			}
			if len(alt.kids) == 0 {
				return nil, p.errf(p.i, "empty alternative")
			}
			item.kids = append(item.kids, alt)
			if p.i >= len(p.src) {
				return nil, p.errf(start, "unclosed "+string(c))
			}
			if p.src[p.i] == '|' {
				p.i++
				continue
			}
			if p.src[p.i] != closer {
				return nil, p.errf(p.i, "expected "+string(closer))
			}
			p.i++
			break
		}
		if k == aAlt && len(item.kids) < 2 {
			return nil, p.errf(start, "<...> needs at least two alternatives")
		}
	default:
		for p.i < len(p.src) && !isSpecial(p.src[p.i]) && p.src[p.i] != ' ' && p.src[p.i] != '\t' {
			p.i++
		}
		item = &ast{kind: aLeaf, word: p.src[start:p.i], pos: start}
	}
	if p.i < len(p.src) && p.src[p.i] == '$' {
		p.i++
		bs := p.i
		for p.i < len(p.src) && isBindChar(p.src[p.i], p.i == bs) {
			p.i++
		}
		if p.i == bs {
			return nil, p.errf(bs, "empty bind name")
		}
		item.bind = p.src[bs:p.i]
	}
	return item, nil
}

func isBindChar(c byte, first bool) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		return true
	case c >= '0' && c <= '9', c == '-':
		return !first
	}
	return false
}

// ---- NFA construction ----

type trans struct {
	leaf int32
	to   int32
}

type epsEdge struct {
	to  int32
	bit uint64 // entering alternative of a {} group
}

type builder struct {
	p      *syntaxParser
	leaves []leaf
	eps    [][]epsEdge // epsilon edges per state
	tr     [][]trans   // leaf transitions per state
	alts   int         // {} alternatives numbered so far (at most 64 per command)
	multi  int         // depth of {} nesting while building
}

func (b *builder) state() int32 {
	b.eps = append(b.eps, nil)
	b.tr = append(b.tr, nil)
	return int32(len(b.eps) - 1)
}

func (b *builder) edge(from, to int32) { b.eps[from] = append(b.eps[from], epsEdge{to: to}) }

// build adds the automaton of a from state in and returns its out state.
func (b *builder) build(a *ast, in int32, binds []string) (int32, error) {
	if a.bind != "" {
		binds = append(append([]string(nil), a.bind), binds...)
	}
	switch a.kind {
	case aLeaf:
		lf, err := classify(b.p, a)
		if err != nil {
			return 0, err
		}
		if len(binds) > 0 {
			lf.binds = append(lf.binds, binds...)
		}
		b.leaves = append(b.leaves, lf)
		out := b.state()
		b.tr[in] = append(b.tr[in], trans{leaf: int32(len(b.leaves) - 1), to: out})
		return out, nil
	case aSeq:
		cur := in
		for _, k := range a.kids {
			var err error
			if cur, err = b.build(k, cur, binds); err != nil {
				return 0, err
			}
		}
		return cur, nil
	case aAlt, aOpt:
		out := b.state()
		for _, k := range a.kids {
			kin := b.state()
			b.edge(in, kin)
			kout, err := b.build(k, kin, binds)
			if err != nil {
				return 0, err
			}
			b.edge(kout, out)
		}
		if a.kind == aOpt {
			b.edge(in, out)
		}
		return out, nil
	case aMulti:
		if b.multi > 0 {
			return 0, b.p.errf(a.pos, "{...} inside {...} is not supported")
		}
		b.multi++
		defer func() { b.multi-- }()
		loop := b.state()
		out := b.state()
		b.edge(in, loop)
		for _, k := range a.kids {
			if b.alts == 64 {
				return 0, b.p.errf(a.pos, "more than 64 {...} alternatives")
			}
			kin := b.state()
			b.eps[loop] = append(b.eps[loop], epsEdge{to: kin, bit: 1 << b.alts})
			b.alts++
			kout, err := b.build(k, kin, binds)
			if err != nil {
				return 0, err
			}
			b.edge(kout, out)
		}
		b.edge(out, loop)
		return out, nil
	}
	return 0, b.p.errf(a.pos, "internal: unknown node")
}

// closure returns the leaves reachable from state s without consuming input, with the {}
// alternatives entered on the way, and whether the accepting state is reachable.
func (b *builder) closure(s, accept int32) (next []edge, final bool) {
	type item struct {
		st   int32
		mask uint64
	}
	seen := map[item]bool{{s, 0}: true}
	stack := []item{{s, 0}}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if x.st == accept {
			final = true
		}
		for _, t := range b.tr[x.st] {
			e := edge{leaf: t.leaf, enter: x.mask}
			dup := false
			for _, o := range next {
				dup = dup || o == e
			}
			if !dup {
				next = append(next, e)
			}
		}
		for _, y := range b.eps[x.st] {
			it := item{y.to, x.mask | y.bit}
			if !seen[it] {
				seen[it] = true
				stack = append(stack, it)
			}
		}
	}
	sortEdges(next)
	return next, final
}

func sortEdges(s []edge) {
	less := func(a, b edge) bool { return a.leaf < b.leaf || a.leaf == b.leaf && a.enter < b.enter }
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && less(s[j], s[j-1]); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// classify turns one declaration word into a leaf.
func classify(p *syntaxParser, a *ast) (leaf, error) {
	w := a.word
	switch w {
	case "WORD":
		return leaf{kind: kWord, text: "WORD"}, nil
	case "LINE":
		return leaf{kind: kLine, text: "LINE"}, nil
	case "A.B.C.D":
		return leaf{kind: kIPv4, text: "A.B.C.D"}, nil
	case "IFNAME":
		return leaf{kind: kIfname, text: "IFNAME"}, nil
	case "HOST":
		return leaf{kind: kHost, text: "HOST"}, nil
	}
	if strings.HasPrefix(w, "(") {
		if !strings.HasSuffix(w, ")") {
			return leaf{}, p.errf(a.pos, "range without closing parenthesis")
		}
		lo, hi, ok := strings.Cut(w[1:len(w)-1], "-")
		if !ok {
			return leaf{}, p.errf(a.pos, "range must be (lo-hi)")
		}
		l, err1 := strconv.ParseInt(lo, 10, 64)
		h, err2 := strconv.ParseInt(hi, 10, 64)
		if err1 != nil || err2 != nil || l < 0 || l > h {
			return leaf{}, p.errf(a.pos, "bad range bounds")
		}
		return leaf{kind: kRange, text: w, lo: l, hi: h}, nil
	}
	if isVariableName(w) {
		// FRR-style named variable (NAME, KEY): a WORD bound to its lowercased name.
		return leaf{kind: kWord, text: w, binds: []string{strings.ToLower(w)}}, nil
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-', c == '_', c == '.', c == ':', c == '/', c == '+':
		default:
			return leaf{}, p.errf(a.pos+i, "keyword characters are lowercase letters, digits and -_.:/+")
		}
	}
	return leaf{kind: kKeyword, text: w}, nil
}

func isVariableName(w string) bool {
	if len(w) == 0 || w[0] < 'A' || w[0] > 'Z' {
		return false
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// compile parses and compiles one command declaration and assigns its help strings.
func compile(c *Command) (*compiled, error) {
	p := &syntaxParser{src: c.Syntax}
	root, err := p.parseSeq()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.src) {
		return nil, p.errf(p.i, "unexpected "+string(p.src[p.i]))
	}
	if len(root.kids) == 0 {
		return nil, p.errf(0, "empty command")
	}
	b := &builder{p: p}
	start := b.state()
	accept, err := b.build(root, start, nil)
	if err != nil {
		return nil, err
	}
	cc := &compiled{cmd: c, leaves: b.leaves}
	var final bool
	cc.first, final = b.closure(start, accept)
	if final {
		return nil, p.errf(0, "command matches an empty line")
	}
	// Out state of each leaf: find it from the transitions.
	for s := range b.tr {
		for _, t := range b.tr[s] {
			lf := &cc.leaves[t.leaf]
			lf.next, lf.final = b.closure(t.to, accept)
		}
	}
	for _, e := range cc.first {
		lf := &cc.leaves[e.leaf]
		if lf.kind == kKeyword && (lf.text == "no" || lf.text == "default") {
			lf.fixed = true
			lf.binds = append(lf.binds, lf.text)
			if lf.text == "no" {
				lf.help = helpNo
			} else {
				lf.help = helpDefault
			}
		}
	}
	for i := range cc.leaves {
		lf := &cc.leaves[i]
		if lf.kind == kLine && (len(lf.next) > 0 || !lf.final) {
			return nil, p.errf(0, "LINE must be the last token")
		}
	}
	n := 0
	for i := range cc.leaves {
		if !cc.leaves[i].fixed {
			n++
		}
	}
	if n != len(c.Help) {
		return nil, &HelpError{Syntax: c.Syntax,
			Msg: "has " + strconv.Itoa(n) + " help-bearing tokens but " + strconv.Itoa(len(c.Help)) + " help strings"}
	}
	h := 0
	for i := range cc.leaves {
		if lf := &cc.leaves[i]; !lf.fixed {
			lf.help = c.Help[h]
			h++
		}
	}
	return cc, nil
}

// Fixed help of the leading no/default keywords (ios-cli.md §1).
const (
	helpNo      = "Negate a command or set its defaults"
	helpDefault = "Set a command to its defaults"
)
