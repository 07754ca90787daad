package commands

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/tunnelbox/tunnelbox/parser"
	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
	"github.com/tunnelbox/tunnelbox/shell"
)

// Access lists (ios-cli.md §3.3, §4.9): numbered standard and extended lists in global config,
// named lists in the config-std-nacl / config-ext-nacl sub-modes, and `show access-lists`.

// Mode names of the named access-list sub-modes.
const (
	ModeStdNACL = "config-std-nacl"
	ModeExtNACL = "config-ext-nacl"
)

// Help strings of the access-list commands (IOS 15 wording).
const (
	helpAccessList   = "Add an access list entry"
	helpACLStd       = "IP standard access list"
	helpACLExt       = "IP extended access list"
	helpACLStdX      = "IP standard access list (expanded range)"
	helpACLExtX      = "IP extended access list (expanded range)"
	helpPermit       = "Specify packets to forward"
	helpDeny         = "Specify packets to reject"
	helpRemark       = "Access list entry comment"
	helpRemarkLine   = "Comment up to 100 characters"
	helpIPAccessList = "Named access-list"
	helpACLName      = "Access-list name"
	helpSeq          = "Sequence Number"
	helpProtoNum     = "An IP protocol number"
	helpPortNum      = "Port number"
	helpEstablished  = "Match established connections"
	helpLog          = "Log matches against this entry"
	helpLogInput     = "Log matches against this entry, including input interface"
	helpICMPType     = "ICMP message type"
	helpICMPCode     = "ICMP message code"
	helpShowACL      = "List access lists"
	helpShowIPACL    = "List IP access lists"
	helpShowIP       = "IP information"
	helpACLNumber    = "ACL number"
	helpACLNameShow  = "ACL name"
)

// ACLCounter reports how many packets matched an access-list entry (`show access-lists`
// prints "(N matches)"). The IKE engine implements it for crypto ACL lines (ike.Engine.
// ACLMatches maps the data plane's per-policy counts to the lines the policies came from);
// cmd/tunnelbox attaches it with SetACLCounter while the engine runs. Without one every entry
// has no matches and no counter is printed.
type ACLCounter interface {
	ACLMatches(list string, seq int) uint64
}

var aclCounters sync.Map // *shell.App -> ACLCounter

// SetACLCounter attaches the match counters of app's access lists; nil detaches them.
func SetACLCounter(app *shell.App, c ACLCounter) {
	if c == nil {
		aclCounters.Delete(app)
		return
	}
	aclCounters.Store(app, c)
}

func aclMatches(app *shell.App, list string, seq int) uint64 {
	if v, ok := aclCounters.Load(app); ok {
		return v.(ACLCounter).ACLMatches(list, seq)
	}
	return 0
}

// aclState is the state of a named access-list sub-mode.
type aclState struct {
	name string
	kind runningconfig.ACLKind
}

// hs appends help strings to a copy of base.
func hs(base []string, more ...string) []string { return append(slices.Clone(base), more...) }

// addrSyntax is `A WILD | host A | any` for the source (p "s") or destination (p "d").
func addrSyntax(p string) (string, []string) {
	who := map[string]string{"s": "source", "d": "destination"}[p]
	Who := strings.ToUpper(who[:1]) + who[1:]
	return fmt.Sprintf("<A.B.C.D$%sa A.B.C.D$%sw|host A.B.C.D$%sa|any$%sany>", p, p, p, p),
		[]string{Who + " address", Who + " wildcard bits", "A single " + who + " host", Who + " address", "Any " + who + " host"}
}

// portSyntax is the optional `eq|neq|lt|gt P | range P P` of proto for the source (p "s") or
// destination (p "d"); ports may be typed as numbers or as the protocol's keywords.
func portSyntax(p string, proto int) (string, []string) {
	names := runningconfig.PortNames(proto)
	words := make([]string, 0, len(names)+1)
	help := make([]string, 0, len(names)+1)
	words = append(words, "(0-65535)")
	help = append(help, helpPortNum)
	for _, n := range names {
		words = append(words, n.Name)
		help = append(help, n.Help)
	}
	port := "<" + strings.Join(words, "|") + ">$" + p + "p"
	syn := fmt.Sprintf("[<eq|neq|lt|gt>$%sop %s|range$%sop %s %s]", p, port, p, port, port)
	var h []string
	h = append(h, "Match only packets on a given port number", "Match only packets not on a given port number",
		"Match only packets with a lower port number", "Match only packets with a greater port number")
	h = append(h, help...)
	h = append(h, "Match only packets in the range of port numbers")
	h = append(h, help...)
	h = append(h, help...)
	return syn, h
}

// extTails returns the extended-entry forms after the action keyword: every protocol but
// tcp/udp/icmp, tcp and udp with ports (and established for tcp), icmp with a message type.
func extTails() []struct {
	syn  string
	help []string
} {
	src, srcH := addrSyntax("s")
	dst, dstH := addrSyntax("d")
	logSyn, logH := "[<log|log-input>$log]", []string{helpLog, helpLogInput}
	var out []struct {
		syn  string
		help []string
	}
	add := func(syn string, help []string) {
		out = append(out, struct {
			syn  string
			help []string
		}{syn, help})
	}
	// Generic protocols.
	var words []string
	var help []string
	for _, p := range runningconfig.Protocols {
		if p.Proto == runningconfig.ProtoTCP || p.Proto == runningconfig.ProtoUDP || p.Proto == runningconfig.ProtoICMP {
			continue
		}
		words = append(words, p.Name)
		help = append(help, p.Help)
	}
	words = append(words, "(0-255)")
	help = append(help, helpProtoNum)
	add("<"+strings.Join(words, "|")+">$proto "+src+" "+dst+" "+logSyn, hs(help, append(append(srcH, dstH...), logH...)...))
	for _, proto := range []int{runningconfig.ProtoTCP, runningconfig.ProtoUDP} {
		name := runningconfig.ProtoName(proto)
		var ph string
		for _, p := range runningconfig.Protocols {
			if p.Proto == proto {
				ph = p.Help
			}
		}
		sp, spH := portSyntax("s", proto)
		dp, dpH := portSyntax("d", proto)
		syn := name + "$proto " + src + " " + sp + " " + dst + " " + dp
		h := hs([]string{ph}, srcH...)
		h = append(h, spH...)
		h = append(h, dstH...)
		h = append(h, dpH...)
		if proto == runningconfig.ProtoTCP {
			syn += " [established]$est"
			h = append(h, helpEstablished)
		}
		add(syn+" "+logSyn, append(h, logH...))
	}
	var iw, ih []string
	for _, n := range runningconfig.ICMPNames {
		iw = append(iw, n.Name)
		ih = append(ih, n.Help)
	}
	syn := "icmp$proto " + src + " " + dst + " [<(0-255)$itype [(0-255)$icode]|<" + strings.Join(iw, "|") + ">$iname>] " + logSyn
	h := hs([]string{"Internet Control Message Protocol"}, srcH...)
	h = append(h, dstH...)
	h = append(h, helpICMPType, helpICMPCode)
	h = append(h, ih...)
	add(syn, append(h, logH...))
	return out
}

// stdTail is the standard-entry form after the action keyword.
func stdTail() (string, []string) {
	return "<A.B.C.D$sa [A.B.C.D$sw]|host A.B.C.D$sa|any$sany> [log]$log",
		[]string{"Address to match", "Wildcard bits", "A single host address", "Host address", "Any source host", helpLog}
}

// RegisterACL installs the access-list commands and sub-modes.
func RegisterACL(app *shell.App) error {
	g, ms := app.Grammar(), app.Modes()
	std := &parser.Mode{Name: ModeStdNACL, Prompt: "(config-std-nacl)#", Header: "Standard Access List configuration commands:"}
	ext := &parser.Mode{Name: ModeExtNACL, Prompt: "(config-ext-nacl)#", Header: "Extended Access List configuration commands:"}
	for _, m := range []*parser.Mode{std, ext} {
		if err := ms.Add(g, m); err != nil {
			return err
		}
	}
	action := "<permit|deny>$action"
	actionH := []string{helpPermit, helpDeny}
	stdSyn, stdH := stdTail()
	stdNum, stdNumH := "access-list <(1-99)|(1300-1999)>$num", []string{helpAccessList, helpACLStd, helpACLStdX}
	extNum, extNumH := "access-list <(100-199)|(2000-2699)>$num", []string{helpAccessList, helpACLExt, helpACLExtX}
	anyNum, anyNumH := "access-list <(1-99)|(100-199)|(1300-1999)|(2000-2699)>$num",
		[]string{helpAccessList, helpACLStd, helpACLExt, helpACLStdX, helpACLExtX}

	cfg := []*parser.Command{
		{Syntax: stdNum + " " + action + " " + stdSyn, Help: hs(stdNumH, append(actionH, stdH...)...), Priv: 15,
			Handler: shell.Handler(numberedEntry)},
		{Syntax: anyNum + " remark LINE$text", Help: hs(anyNumH, helpRemark, helpRemarkLine), Priv: 15,
			Handler: shell.Handler(numberedEntry)},
		{Syntax: "<no|default> " + anyNum + " [LINE]", Help: hs(anyNumH, "Access list entry"), Priv: 15,
			Handler: shell.Handler(noAccessList)},
		{Syntax: "ip access-list <standard|extended>$kind WORD$name",
			Help: []string{shell.HelpIP, helpIPAccessList, "Standard Access List", "Extended Access List", helpACLName}, Priv: 15,
			Handler: shell.Handler(func(c *shell.Context, a parser.Args) error { return enterNamedACL(c, a, std, ext) })},
		{Syntax: "<no|default> ip access-list <standard|extended>$kind WORD$name",
			Help: []string{shell.HelpIP, helpIPAccessList, "Standard Access List", "Extended Access List", helpACLName}, Priv: 15,
			Handler: shell.Handler(noNamedACL)},
	}
	var extSub, stdSub []*parser.Command
	stdSub = append(stdSub,
		&parser.Command{Syntax: "[(1-2147483647)$seq] " + action + " " + stdSyn, Help: hs([]string{helpSeq}, append(actionH, stdH...)...),
			Priv: 15, Handler: shell.Handler(namedEntry)},
		&parser.Command{Syntax: "no " + action + " " + stdSyn, Help: hs(actionH, stdH...), Priv: 15, Handler: shell.Handler(namedEntry)})
	for _, t := range extTails() {
		cfg = append(cfg, &parser.Command{Syntax: extNum + " " + action + " " + t.syn, Help: hs(extNumH, append(actionH, t.help...)...),
			Priv: 15, Handler: shell.Handler(numberedEntry)})
		extSub = append(extSub,
			&parser.Command{Syntax: "[(1-2147483647)$seq] " + action + " " + t.syn, Help: hs([]string{helpSeq}, append(actionH, t.help...)...),
				Priv: 15, Handler: shell.Handler(namedEntry)},
			&parser.Command{Syntax: "no " + action + " " + t.syn, Help: hs(actionH, t.help...), Priv: 15, Handler: shell.Handler(namedEntry)})
	}
	common := func() []*parser.Command {
		return []*parser.Command{
			{Syntax: "remark LINE$text", Help: []string{helpRemark, helpRemarkLine}, Priv: 15, Handler: shell.Handler(namedEntry)},
			{Syntax: "no remark LINE$text", Help: []string{helpRemark, helpRemarkLine}, Priv: 15, Handler: shell.Handler(namedEntry)},
			{Syntax: "no (1-2147483647)$seq", Help: []string{helpSeq}, Priv: 15, Handler: shell.Handler(namedEntry)},
		}
	}
	if err := install(g, ms.Config, "access-list config", cfg...); err != nil {
		return err
	}
	if err := install(g, std, "standard access-list sub-mode", append(stdSub, common()...)...); err != nil {
		return err
	}
	if err := install(g, ext, "extended access-list sub-mode", append(extSub, common()...)...); err != nil {
		return err
	}
	show := []*parser.Command{
		{Syntax: "show access-lists [<(1-2799)$name|WORD$name>]", Help: []string{shell.HelpShow, helpShowACL, helpACLNumber, helpACLNameShow},
			Priv: 1, Handler: shell.Handler(showAccessLists)},
		{Syntax: "show ip access-lists [<(1-2799)$name|WORD$name>]", Help: []string{shell.HelpShow, helpShowIP, helpShowIPACL, helpACLNumber, helpACLNameShow},
			Priv: 1, Handler: shell.Handler(showAccessLists)},
	}
	return install(g, ms.Exec, "access-list show", show...)
}

// wildcardArg reads `A WILD | host A | any` bound with prefix p ("s" or "d"), normalised as IOS
// does: host bits under the wildcard cleared, 0.0.0.0 wildcard is host, all ones is any.
func wildcardArg(a parser.Args, p string) runningconfig.Wildcard {
	if a.Has(p + "any") {
		return runningconfig.AnyAddr
	}
	addr := a.IP(p + "a")
	if !a.Has(p + "w") {
		return runningconfig.HostAddr(addr)
	}
	w := a.IP(p + "w").As4()
	bits := uint32(w[0])<<24 | uint32(w[1])<<16 | uint32(w[2])<<8 | uint32(w[3])
	if bits == 0xffffffff {
		return runningconfig.AnyAddr
	}
	return runningconfig.NewWildcard(addr, bits)
}

// portArg reads the port match bound with prefix p.
func portArg(a parser.Args, p string, proto int) (runningconfig.PortMatch, error) {
	if !a.Has(p + "op") {
		return runningconfig.PortMatch{}, nil
	}
	op, _ := runningconfig.ParsePortOp(a.Str(p + "op"))
	ports := a.Strs(p + "p")
	m := runningconfig.PortMatch{Op: op}
	for i, s := range ports {
		v, ok := runningconfig.PortNumber(proto, s)
		if !ok {
			return m, shell.Msgf("%% Invalid port %s", s)
		}
		if i == 0 {
			m.Lo = v
		} else {
			m.Hi = v
		}
	}
	if op == runningconfig.PortRange && m.Lo > m.Hi {
		return m, shell.Msgf("%% Invalid port range %d %d: the first port must not be greater than the second", m.Lo, m.Hi)
	}
	return m, nil
}

// aceArg builds the entry a matched line describes.
func aceArg(a parser.Args, kind runningconfig.ACLKind) (runningconfig.ACE, error) {
	if a.Has("text") {
		t := a.Raw("text")
		if len(t) > runningconfig.MaxRemarkLen {
			return runningconfig.ACE{}, shell.Msgf("%% Remark too long: at most %d characters", runningconfig.MaxRemarkLen)
		}
		return runningconfig.ACE{Remark: t}, nil
	}
	e := runningconfig.ACE{Permit: a.Str("action") == "permit", Proto: runningconfig.ProtoIP, Log: a.Str("log")}
	e.Src = wildcardArg(a, "s")
	if kind == runningconfig.ACLStandard {
		return e, nil
	}
	proto, ok := runningconfig.ProtoNumber(a.Str("proto"))
	if !ok {
		return e, shell.Msgf("%% Invalid protocol %s", a.Str("proto"))
	}
	e.Proto = proto
	e.Dst = wildcardArg(a, "d")
	var err error
	if e.SrcPort, err = portArg(a, "s", proto); err != nil {
		return e, err
	}
	if e.DstPort, err = portArg(a, "d", proto); err != nil {
		return e, err
	}
	e.Established = a.Has("est")
	switch {
	case a.Has("iname"):
		e.ICMP, _ = runningconfig.ICMPByName(a.Str("iname"))
	case a.Has("itype"):
		e.ICMP = runningconfig.ICMPMatch{Set: true, Type: uint8(a.Int("itype"))}
		if a.Has("icode") {
			e.ICMP.HasCode, e.ICMP.Code = true, uint8(a.Int("icode"))
		}
	}
	return e, nil
}

// aclError turns a model error into the IOS message.
func aclError(err error) error {
	var dup *runningconfig.DuplicateRuleError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &dup):
		return shell.Msgf("%% Access rule can't be configured at higher sequence num as it is part of the existing rule at sequence num %d", dup.Seq)
	case errors.Is(err, runningconfig.ErrDuplicateSeq):
		return shell.Msgf("%% Duplicate sequence number")
	case errors.Is(err, runningconfig.ErrACLKindConflict):
		return shell.Msgf("%% Access-list type conflicts with prior definition")
	}
	return err
}

func numberedEntry(c *shell.Context, a parser.Args) error {
	num := a.Str("num")
	n, _ := strconv.Atoi(num)
	kind, _ := runningconfig.NumberedKind(n)
	e, err := aceArg(a, kind)
	if err != nil {
		return err
	}
	return aclError(apply(c, func(cfg *runningconfig.Config) error {
		l, err := cfg.EnsureACL(num, kind, true)
		if err != nil {
			return err
		}
		return l.Add(e)
	}))
}

// noAccessList is `no access-list N [...]`: like IOS, it removes the whole list whatever
// follows the number.
func noAccessList(c *shell.Context, a parser.Args) error {
	num := a.Str("num")
	return apply(c, func(cfg *runningconfig.Config) error { cfg.DeleteACL(num); return nil })
}

// namedACLName checks the name of `ip access-list KIND NAME`: a number of the kind's range
// selects the numbered list; another name must not start with a digit.
func namedACLName(name string, kind runningconfig.ACLKind) (numbered bool, err error) {
	if n, e := strconv.Atoi(name); e == nil {
		if k, ok := runningconfig.NumberedKind(n); ok && k == kind {
			return true, nil
		}
		return false, shell.Msgf("%% Invalid access list name.")
	}
	if !runningconfig.ValidACLName(name) {
		return false, shell.Msgf("%% Invalid access list name.")
	}
	return false, nil
}

func aclKindArg(a parser.Args) runningconfig.ACLKind {
	if a.Str("kind") == "standard" {
		return runningconfig.ACLStandard
	}
	return runningconfig.ACLExtended
}

func enterNamedACL(c *shell.Context, a parser.Args, std, ext *parser.Mode) error {
	name, kind := a.Str("name"), aclKindArg(a)
	numbered, err := namedACLName(name, kind)
	if err != nil {
		return err
	}
	if err := aclError(apply(c, func(cfg *runningconfig.Config) error {
		_, err := cfg.EnsureACL(name, kind, numbered)
		return err
	})); err != nil {
		return err
	}
	m := ext
	if kind == runningconfig.ACLStandard {
		m = std
	}
	c.Push(m, aclState{name: name, kind: kind})
	return nil
}

func noNamedACL(c *shell.Context, a parser.Args) error {
	name := a.Str("name")
	return apply(c, func(cfg *runningconfig.Config) error {
		if l := cfg.ACL(name); l != nil && l.Kind == aclKindArg(a) {
			cfg.DeleteACL(name)
		}
		return nil
	})
}

// namedEntry handles every line of the named sub-modes: an entry with or without sequence
// number, a remark, and their no forms.
func namedEntry(c *shell.Context, a parser.Args) error {
	st, ok := c.State().(aclState)
	if !ok {
		return shell.Msgf("%% Not in access-list configuration mode")
	}
	if a.Has("no") && !a.Has("action") && !a.Has("text") {
		seq := a.Int("seq")
		return apply(c, func(cfg *runningconfig.Config) error {
			l, err := cfg.EnsureACL(st.name, st.kind, false)
			if err != nil {
				return err
			}
			l.DeleteSeq(seq)
			return nil
		})
	}
	e, err := aceArg(a, st.kind)
	if err != nil {
		return err
	}
	e.Seq = a.Int("seq")
	numbered, _ := namedACLName(st.name, st.kind)
	return aclError(apply(c, func(cfg *runningconfig.Config) error {
		l, err := cfg.EnsureACL(st.name, st.kind, numbered)
		if err != nil {
			return err
		}
		if a.Has("no") {
			l.DeleteRule(e)
			return nil
		}
		return l.Add(e)
	}))
}

// showAccessLists is `show access-lists [N|NAME]` and `show ip access-lists` (§4.9).
func showAccessLists(c *shell.Context, a parser.Args) error {
	acls := c.Config.Running().ACLs()
	if acls == nil {
		return nil
	}
	want := a.Str("name")
	var b strings.Builder
	for _, l := range acls.Lists() {
		if want != "" && l.Name != want {
			continue
		}
		b.WriteString(l.Kind.String() + " IP access list " + l.Name + "\n")
		for i := range l.Entries {
			e := &l.Entries[i]
			if e.IsRemark() {
				continue
			}
			b.WriteString("    " + strconv.Itoa(e.Seq) + " " + e.ShowText(l.Kind))
			switch n := aclMatches(c.App, l.Name, e.Seq); n {
			case 0:
			case 1:
				b.WriteString(" (1 match)")
			default:
				b.WriteString(" (" + strconv.FormatUint(n, 10) + " matches)")
			}
			b.WriteByte('\n')
		}
	}
	c.Printf("%s", b.String())
	return nil
}
