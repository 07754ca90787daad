package commands

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tunnelbox/tunnelbox/parser"
	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
	"github.com/tunnelbox/tunnelbox/shell"
)

// IPsec (phase 2) configuration (ios-cli.md §3.5): transform sets and their cfg-crypto-trans
// sub-mode, global SA lifetimes, replay window and DF bit.

// ModeTransform is the name of the transform-set sub-mode.
const ModeTransform = "cfg-crypto-trans"

// transformHelp is the `crypto ipsec transform-set NAME ?` list of IOS 15 (§3.5), in order.
var transformHelp = []struct{ name, help string }{
	{"ah-md5-hmac", "AH-HMAC-MD5 transform"},
	{"ah-sha-hmac", "AH-HMAC-SHA transform"},
	{"ah-sha256-hmac", "AH-HMAC-SHA256 transform"},
	{"ah-sha384-hmac", "AH-HMAC-SHA384 transform"},
	{"ah-sha512-hmac", "AH-HMAC-SHA512 transform"},
	{"comp-lzs", "IP Compression using the LZS compression algorithm"},
	{"esp-3des", "ESP transform using 3DES(EDE) cipher (168 bits)"},
	{"esp-aes", "ESP transform using AES cipher"},
	{"esp-des", "ESP transform using DES cipher (56 bits)"},
	{"esp-gcm", "ESP transform using GCM cipher"},
	{"esp-gmac", "ESP transform using GMAC cipher"},
	{"esp-md5-hmac", "ESP transform using HMAC-MD5 auth"},
	{"esp-null", "ESP transform w/o cipher"},
	{"esp-seal", "ESP transform using SEAL cipher (160 bits)"},
	{"esp-sha-hmac", "ESP transform using HMAC-SHA auth"},
	{"esp-sha256-hmac", "ESP transform using HMAC-SHA256 auth"},
	{"esp-sha384-hmac", "ESP transform using HMAC-SHA384 auth"},
	{"esp-sha512-hmac", "ESP transform using HMAC-SHA512 auth"},
}

// transformSyntax is one transform token: a name, and a key size after esp-aes / esp-gcm /
// esp-gmac, all bound to $t.
func transformSyntax() (string, []string) {
	var words, help []string
	for _, t := range transformHelp {
		h := []string{t.help}
		w := t.name
		switch t.name {
		case "esp-aes", "esp-gcm", "esp-gmac":
			w += " [<128|192|256>]"
			h = append(h, "128 bit keys.", "192 bit keys.", "256 bit keys.")
		}
		words = append(words, w)
		help = append(help, h...)
	}
	return "<" + strings.Join(words, "|") + ">$t", help
}

// RegisterIPsec installs the IPsec configuration commands and the cfg-crypto-trans sub-mode.
func RegisterIPsec(app *shell.App) error {
	g, ms := app.Grammar(), app.Modes()
	tm := &parser.Mode{Name: ModeTransform, Prompt: "(cfg-crypto-trans)#", Header: "Crypto transform configuration commands:"}
	if err := ms.Add(g, tm); err != nil {
		return err
	}
	cp := []string{helpCrypto, helpCryptoIPsec}
	ts := hs(cp, "Define transform and settings", "Transform set tag")
	t, th := transformSyntax()
	one := hs(nil, th...)
	// T1 [T2 [T3 [T4]]]: the help of every position is the same list.
	tsHelp := hs(ts, append(append(append(append([]string{}, one...), one...), one...), one...)...)
	sa := hs(cp, "Security association parameters")
	life := hs(sa, "security association lifetime")
	replay := hs(sa, "Set replay checking.", "Set replay window size.")
	dfbit := hs(cp, "Handling of encapsulated DF bit.")
	cfg := []*parser.Command{
		{Syntax: "crypto ipsec transform-set WORD$name " + t + " [" + t + " [" + t + " [" + t + "]]]", Help: tsHelp, Priv: 15,
			Handler: shell.Handler(func(c *shell.Context, a parser.Args) error { return transformSet(c, a, tm) })},
		{Syntax: "<no|default> crypto ipsec transform-set WORD$name", Help: ts, Priv: 15, Handler: shell.Handler(noTransformSet)},
		{Syntax: "crypto ipsec security-association lifetime <seconds (120-2592000)$secs|kilobytes (2560-4294967295)$kb>",
			Help: hs(life, "Time-based key duration in seconds", "Security association duration in seconds",
				"Volume-based key duration", "SA lifetime threshold in kilobytes"), Priv: 15,
			Handler: cryptoEdit(func(k *runningconfig.Crypto, a parser.Args) error {
				if a.Has("secs") {
					k.SALifetimeSecs = a.Int("secs")
				} else {
					k.SALifetimeKB, _ = a.Int64("kb")
				}
				return nil
			})},
		{Syntax: "<no|default> crypto ipsec security-association lifetime <seconds$secs|kilobytes$kb>",
			Help: hs(life, "Time-based key duration in seconds", "Volume-based key duration"), Priv: 15,
			Handler: cryptoEdit(func(k *runningconfig.Crypto, a parser.Args) error {
				if a.Has("secs") {
					k.SALifetimeSecs = 0
				} else {
					k.SALifetimeKB = 0
				}
				return nil
			})},
		{Syntax: "crypto ipsec security-association replay window-size <64|128|256|512|1024>$n",
			Help: hs(replay, "Window size of 64", "Window size of 128", "Window size of 256", "Window size of 512", "Window size of 1024"),
			Priv: 15, Handler: cryptoEdit(func(k *runningconfig.Crypto, a parser.Args) error {
				k.ReplayWindow = a.Int("n")
				if k.ReplayWindow == 64 {
					k.ReplayWindow = 0
				}
				return nil
			})},
		{Syntax: "<no|default> crypto ipsec security-association replay window-size", Help: replay, Priv: 15,
			Handler: cryptoEdit(func(k *runningconfig.Crypto, _ parser.Args) error { k.ReplayWindow = 0; return nil })},
		{Syntax: "crypto ipsec df-bit <clear|copy|set>$df",
			Help: hs(dfbit, "Clear DF bit for encapsulated packets.", "Copy DF bit from inner for encapsulated packets.",
				"Set DF bit for encapsulated packets."), Priv: 15,
			Handler: cryptoEdit(func(k *runningconfig.Crypto, a parser.Args) error {
				k.DFBit = a.Str("df")
				if k.DFBit == "copy" {
					k.DFBit = ""
				}
				return nil
			})},
		{Syntax: "<no|default> crypto ipsec df-bit [<clear|copy|set>]",
			Help: hs(dfbit, "Clear DF bit for encapsulated packets.", "Copy DF bit from inner for encapsulated packets.",
				"Set DF bit for encapsulated packets."), Priv: 15,
			Handler: cryptoEdit(func(k *runningconfig.Crypto, _ parser.Args) error { k.DFBit = ""; return nil })},
	}
	if err := install(g, ms.Config, "ipsec config", cfg...); err != nil {
		return err
	}
	modeH := []string{"encapsulation mode (transport/tunnel)", "transport (payload encapsulation) mode", "tunnel (datagram encapsulation) mode"}
	sub := []*parser.Command{
		{Syntax: "mode <transport|tunnel>$mode", Help: modeH, Priv: 15, Handler: shell.Handler(transformMode)},
		{Syntax: "<no|default> mode [<transport|tunnel>]", Help: modeH, Priv: 15, Handler: shell.Handler(transformMode)},
	}
	return install(g, tm, "transform-set sub-mode", sub...)
}

// cryptoError turns crypto model errors into IOS messages.
func cryptoError(err error) error {
	var te *runningconfig.TransformError
	var iu *runningconfig.TransformSetInUseError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te):
		return shell.Msgf("%% Invalid transform set: %s", te.Msg)
	case errors.As(err, &iu):
		return shell.Msgf("%% Transform set %s is in use by crypto map %s %d; remove it from the map first", iu.Set, iu.Map, iu.Seq)
	}
	return err
}

func transformSet(c *shell.Context, a parser.Args, tm *parser.Mode) error {
	name := a.Str("name")
	if name == "default" {
		return shell.Msgf("%% Transform set name \"default\" is reserved for the built-in transform set")
	}
	tokens := a.Strs("t")
	if err := cryptoError(apply(c, func(cfg *runningconfig.Config) error {
		_, err := cfg.EnsureCrypto().SetTransformSet(name, tokens)
		return err
	})); err != nil {
		return err
	}
	c.Push(tm, name)
	return nil
}

func noTransformSet(c *shell.Context, a parser.Args) error {
	name := a.Str("name")
	return cryptoError(apply(c, func(cfg *runningconfig.Config) error {
		_, err := cfg.EnsureCrypto().DeleteTransformSet(name)
		return err
	}))
}

func transformMode(c *shell.Context, a parser.Args) error {
	name, ok := c.State().(string)
	if !ok {
		return shell.Msgf("%% Not in transform set configuration mode")
	}
	transport := a.Str("mode") == "transport" && !a.Has("no") && !a.Has("default")
	return apply(c, func(cfg *runningconfig.Config) error {
		t := cfg.EnsureCrypto().EditTransformSet(name)
		if t == nil {
			return shell.Msgf("%s", fmt.Sprintf("%% Transform set %s no longer exists", name))
		}
		t.Transport = transport
		return nil
	})
}
