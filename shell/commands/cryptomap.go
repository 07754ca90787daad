package commands

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/tunnelbox/tunnelbox/parser"
	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
	"github.com/tunnelbox/tunnelbox/shell"
)

// Crypto maps (ios-cli.md §3.6): `crypto map NAME SEQ [ipsec-isakmp]` entries and their
// config-crypto-map sub-mode, and the interface binding `crypto map NAME`.

// ModeCryptoMap is the name of the crypto map entry sub-mode.
const ModeCryptoMap = "config-crypto-map"

// mapNote is what IOS prints when a crypto map entry is created (§3.6).
const mapNote = "% NOTE: This new crypto map will remain disabled until a peer\n        and a valid access list have been configured."

// mapRef is the state of the crypto map sub-mode.
type mapRef struct {
	name string
	seq  int
}

func init() {
	All = append(All, RegisterACL, RegisterISAKMP, RegisterIPsec, RegisterCryptoMap, RegisterShowCryptoConfig)
}

// RegisterCryptoMap installs the crypto map commands, the config-crypto-map sub-mode and the
// interface binding.
func RegisterCryptoMap(app *shell.App) error {
	g, ms := app.Grammar(), app.Modes()
	mm := &parser.Mode{Name: ModeCryptoMap, Prompt: "(config-crypto-map)#", Header: "Crypto map configuration commands:"}
	if err := ms.Add(g, mm); err != nil {
		return err
	}
	cm := []string{helpCrypto, "Enter a crypto map", "Crypto map tag", "Sequence to insert into crypto map entry"}
	cfg := []*parser.Command{
		{Syntax: "crypto map WORD$name (1-65535)$seq [ipsec-isakmp]", Help: hs(cm, "IPSEC w/ISAKMP"), Priv: 15,
			Handler: shell.Handler(func(c *shell.Context, a parser.Args) error { return enterMap(c, a, mm) })},
		{Syntax: "<no|default> crypto map WORD$name [(1-65535)$seq [ipsec-isakmp]]", Help: hs(cm, "IPSEC w/ISAKMP"), Priv: 15,
			Handler: shell.Handler(noMap)},
	}
	if err := install(g, ms.Config, "crypto map config", cfg...); err != nil {
		return err
	}

	set := "Set values for encryption/decryption"
	peer := []string{set, "Allowed Encryption/Decryption peer.", "IP address of peer"}
	tset := []string{set, "Specify list of transform sets in priority order", "Proposal tag", "Proposal tag", "Proposal tag",
		"Proposal tag", "Proposal tag", "Proposal tag"}
	var pfs []string
	var pfsH []string
	for _, n := range runningconfig.DHGroups {
		pfs = append(pfs, "group"+strconv.Itoa(n))
		pfsH = append(pfsH, "D-H Group"+strconv.Itoa(n)+" ("+runningconfig.DHGroupBits(n)+")")
	}
	pfsSyn := "set pfs [<" + strings.Join(pfs, "|") + ">$group]"
	pfsHelp := hs([]string{set, "Specify pfs settings"}, pfsH...)
	sa := []string{set, "Security association parameters"}
	life := hs(sa, "security association lifetime")
	match := []string{"Match values.", "Match address of packets to encrypt."}
	rri := []string{"Reverse Route Injection.", "Create static routes regardless of the crypto session state"}
	desc := []string{"Description of the crypto map statement policy", "Up to 80 characters describing this crypto map"}
	sub := []*parser.Command{
		{Syntax: "set peer HOST$peer", Help: peer, Priv: 15, Handler: mapEdit(setPeer)},
		{Syntax: "<no|default> set peer HOST$peer", Help: peer, Priv: 15, Handler: mapEdit(setPeer)},
		{Syntax: "set transform-set WORD$ts [WORD$ts [WORD$ts [WORD$ts [WORD$ts [WORD$ts]]]]]", Help: tset, Priv: 15, Handler: mapEdit(setTransformSets)},
		{Syntax: "<no|default> set transform-set [WORD$ts [WORD$ts [WORD$ts [WORD$ts [WORD$ts [WORD$ts]]]]]]", Help: tset, Priv: 15, Handler: mapEdit(setTransformSets)},
		{Syntax: "match address <(100-199)|(2000-2699)|WORD>$acl",
			Help: hs(match, "IP access-list number", "IP access-list number (expanded range)", "Access-list name"), Priv: 15, Handler: mapEdit(matchAddress)},
		{Syntax: "<no|default> match address [<(100-199)|(2000-2699)|WORD>]",
			Help: hs(match, "IP access-list number", "IP access-list number (expanded range)", "Access-list name"), Priv: 15, Handler: mapEdit(matchAddress)},
		{Syntax: pfsSyn, Help: pfsHelp, Priv: 15, Handler: mapEdit(setPFS)},
		{Syntax: "<no|default> " + pfsSyn, Help: pfsHelp, Priv: 15, Handler: mapEdit(setPFS)},
		{Syntax: "set security-association lifetime <seconds (120-2592000)$secs|kilobytes <(2560-4294967295)$kb|disable$kbdisable>>",
			Help: hs(life, "Time-based key duration in seconds", "Security association duration in seconds",
				"Volume-based key duration", "SA lifetime threshold in kilobytes", "Disable volume-based rekey"), Priv: 15,
			Handler: mapEdit(setMapLifetime)},
		{Syntax: "<no|default> set security-association lifetime <seconds$secs|kilobytes$kb>",
			Help: hs(life, "Time-based key duration in seconds", "Volume-based key duration"), Priv: 15, Handler: mapEdit(setMapLifetime)},
		{Syntax: "[no|default] set security-association level per-host",
			Help: hs(sa, "specify a security association granularity level for identities", "per host granularity"), Priv: 15,
			Handler: mapEdit(func(e *runningconfig.CryptoMapEntry, _ *runningconfig.Config, a parser.Args) error {
				e.PerHost = !a.Has("no") && !a.Has("default")
				return nil
			})},
		{Syntax: "set security-association idle-time (60-86400)$idle",
			Help: hs(sa, "Automatically delete IPsec SAs after a given idle period.", "IPsec SA Idle time in seconds"), Priv: 15,
			Handler: mapEdit(func(e *runningconfig.CryptoMapEntry, _ *runningconfig.Config, a parser.Args) error {
				e.IdleTime = a.Int("idle")
				return nil
			})},
		{Syntax: "<no|default> set security-association idle-time [(60-86400)]",
			Help: hs(sa, "Automatically delete IPsec SAs after a given idle period.", "IPsec SA Idle time in seconds"), Priv: 15,
			Handler: mapEdit(func(e *runningconfig.CryptoMapEntry, _ *runningconfig.Config, _ parser.Args) error {
				e.IdleTime = 0
				return nil
			})},
		{Syntax: "description LINE$text", Help: desc, Priv: 15,
			Handler: mapEdit(func(e *runningconfig.CryptoMapEntry, _ *runningconfig.Config, a parser.Args) error {
				t := a.Raw("text")
				if len(t) > 80 {
					return shell.Msgf("%% Description too long: at most 80 characters")
				}
				e.Description = t
				return nil
			})},
		{Syntax: "<no|default> description [LINE]", Help: desc, Priv: 15,
			Handler: mapEdit(func(e *runningconfig.CryptoMapEntry, _ *runningconfig.Config, _ parser.Args) error {
				e.Description = ""
				return nil
			})},
		{Syntax: "[no|default] reverse-route [static]$static", Help: rri, Priv: 15,
			Handler: mapEdit(func(e *runningconfig.CryptoMapEntry, _ *runningconfig.Config, a parser.Args) error {
				e.ReverseRoute = !a.Has("no") && !a.Has("default")
				e.RRIStatic = e.ReverseRoute && a.Has("static")
				return nil
			})},
	}
	if err := install(g, mm, "crypto map sub-mode", sub...); err != nil {
		return err
	}
	ifm := ms.Get(shell.ModeInterface)
	if ifm == nil {
		return fmt.Errorf("commands: crypto map: interface mode %q is not registered", shell.ModeInterface)
	}
	ifc := []string{"Encryption/Decryption commands", "Assign a Crypto Map", "Crypto Map tag"}
	return install(g, ifm, "crypto map binding",
		&parser.Command{Syntax: "crypto map WORD$name", Help: ifc, Priv: 15, Handler: shell.Handler(bindMap)},
		&parser.Command{Syntax: "<no|default> crypto map [WORD$name]", Help: ifc, Priv: 15, Handler: shell.Handler(bindMap)})
}

func enterMap(c *shell.Context, a parser.Args, mm *parser.Mode) error {
	name, seq := a.Str("name"), a.Int("seq")
	var created bool
	if err := apply(c, func(cfg *runningconfig.Config) error {
		_, created = cfg.EnsureCrypto().EnsureMapEntry(name, seq)
		return nil
	}); err != nil {
		return err
	}
	if created && c.Session.Options().Line != "boot" {
		c.Printf("%s\n", mapNote)
	}
	c.Push(mm, mapRef{name: name, seq: seq})
	return nil
}

func noMap(c *shell.Context, a parser.Args) error {
	name, seq := a.Str("name"), a.Int("seq")
	return apply(c, func(cfg *runningconfig.Config) error {
		k := cfg.EnsureCrypto()
		if !k.DeleteMap(name, seq) {
			if seq == 0 {
				return shell.Msgf("%% Crypto map %s does not exist", name)
			}
			return shell.Msgf("%% Crypto map %s %d does not exist", name, seq)
		}
		return nil
	})
}

// mapEdit applies f to the entry of the sub-mode.
func mapEdit(f func(e *runningconfig.CryptoMapEntry, cfg *runningconfig.Config, a parser.Args) error) shell.Handler {
	return func(c *shell.Context, a parser.Args) error {
		r, ok := c.State().(mapRef)
		if !ok {
			return shell.Msgf("%% Not in crypto map configuration mode")
		}
		return cryptoError(apply(c, func(cfg *runningconfig.Config) error {
			e, _ := cfg.EnsureCrypto().EnsureMapEntry(r.name, r.seq)
			return f(e, cfg, a)
		}))
	}
}

func setPeer(e *runningconfig.CryptoMapEntry, _ *runningconfig.Config, a parser.Args) error {
	p := a.Str("peer")
	if a.IP("peer").IsValid() {
		p = a.IP("peer").String()
	}
	if a.Has("no") || a.Has("default") {
		i := slices.Index(e.Peers, p)
		if i < 0 {
			return shell.Msgf("%% Peer %s is not configured in this crypto map entry", p)
		}
		e.Peers = slices.Delete(slices.Clone(e.Peers), i, i+1)
		return nil
	}
	if slices.Contains(e.Peers, p) {
		return nil // IOS accepts the same peer again and keeps one
	}
	e.Peers = append(slices.Clip(e.Peers), p)
	return nil
}

func setTransformSets(e *runningconfig.CryptoMapEntry, cfg *runningconfig.Config, a parser.Args) error {
	names := a.Strs("ts")
	if a.Has("no") || a.Has("default") {
		if len(names) == 0 {
			e.TransformSets = nil
			return nil
		}
		e.TransformSets = slices.DeleteFunc(slices.Clone(e.TransformSets), func(n string) bool { return slices.Contains(names, n) })
		return nil
	}
	k := cfg.EnsureCrypto()
	var list []string
	for _, n := range names {
		if k.TransformSet(n) == nil {
			return shell.Msgf("ERROR: transform set with tag \"%s\" does not exist.", n)
		}
		if !slices.Contains(list, n) {
			list = append(list, n)
		}
	}
	e.TransformSets = list
	return nil
}

func matchAddress(e *runningconfig.CryptoMapEntry, cfg *runningconfig.Config, a parser.Args) error {
	if a.Has("no") || a.Has("default") {
		e.MatchACL = ""
		return nil
	}
	name := a.Str("acl")
	if l := cfg.ACL(name); l != nil && l.Kind != runningconfig.ACLExtended {
		return shell.Msgf("%% Access list %s is a standard list: a crypto map matches extended access lists only", name)
	}
	if n, err := strconv.Atoi(name); err != nil && !runningconfig.ValidACLName(name) {
		return shell.Msgf("%% Invalid access list name.")
	} else if err == nil {
		if k, ok := runningconfig.NumberedKind(n); !ok || k != runningconfig.ACLExtended {
			return shell.Msgf("%% Invalid access list name.")
		}
	}
	e.MatchACL = name
	return nil
}

func setPFS(e *runningconfig.CryptoMapEntry, _ *runningconfig.Config, a parser.Args) error {
	if a.Has("no") || a.Has("default") {
		e.PFSGroup = 0
		return nil
	}
	e.PFSGroup = 1
	if g := a.Str("group"); g != "" {
		e.PFSGroup, _ = strconv.Atoi(strings.TrimPrefix(g, "group"))
	}
	return nil
}

func setMapLifetime(e *runningconfig.CryptoMapEntry, _ *runningconfig.Config, a parser.Args) error {
	reset := a.Has("no") || a.Has("default")
	switch {
	case a.Has("secs") && reset:
		e.LifetimeSecs = 0
	case a.Has("secs"):
		e.LifetimeSecs = a.Int("secs")
	case reset:
		e.LifetimeKB, e.KBDisable = 0, false
	case a.Has("kbdisable"):
		e.LifetimeKB, e.KBDisable = 0, true
	default:
		e.LifetimeKB, _ = a.Int64("kb")
		e.KBDisable = false
	}
	return nil
}

// bindMap is the interface command `[no] crypto map NAME`. The first binding of any map logs
// ISAKMP ON, removing the last one ISAKMP OFF (§3.6).
func bindMap(c *shell.Context, a parser.Args) error {
	ifname := current(c)
	name := a.Str("name")
	neg := a.Has("no") || a.Has("default")
	countBound := func(cfg *runningconfig.Config) int {
		n := 0
		for i := range cfg.Interfaces {
			if cfg.Interfaces[i].CryptoMap != "" {
				n++
			}
		}
		return n
	}
	var before, after int
	err := apply(c, func(cfg *runningconfig.Config) error {
		before = countBound(cfg)
		i := cfg.EnsureInterface(ifname)
		if neg {
			if name != "" && i.CryptoMap != name {
				return shell.Msgf("%% Crypto map %s is not applied to interface %s", name, ifname)
			}
			i.CryptoMap = ""
		} else {
			i.CryptoMap = name
		}
		after = countBound(cfg)
		return nil
	})
	if err != nil {
		return err
	}
	switch {
	case before == 0 && after > 0:
		c.Log("%%CRYPTO-6-ISAKMP_ON_OFF: ISAKMP is ON")
	case before > 0 && after == 0:
		c.Log("%%CRYPTO-6-ISAKMP_ON_OFF: ISAKMP is OFF")
	}
	return nil
}
