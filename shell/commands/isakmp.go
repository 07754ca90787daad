package commands

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/tunnelbox/tunnelbox/parser"
	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
	"github.com/tunnelbox/tunnelbox/shell"
)

// ISAKMP (IKEv1 phase 1) configuration (ios-cli.md §3.4): `crypto isakmp policy` and its
// config-isakmp sub-mode, pre-shared keys, keepalives, identity, aggressive mode.

// ModeISAKMP is the name of the ISAKMP policy sub-mode.
const ModeISAKMP = "config-isakmp"

// Help strings of the crypto configuration commands shared by isakmp.go, ipsec.go and
// cryptomap.go (the parser requires one help text per shared word).
const (
	helpCrypto       = "Encryption module"
	helpCryptoISAKMP = "Configure ISAKMP policy"
	helpCryptoIPsec  = "Configure IPSEC policy"
	helpPolicy       = "Set policy for an ISAKMP protection suite"
	helpPolicyPrio   = "Priority of protection suite"
	helpEncryption   = "Set encryption algorithm for protection suite"
	helpHash         = "Set hash algorithm for protection suite"
	helpAuth         = "Set authentication method for protection suite"
	helpGroup        = "Set the Diffie-Hellman group"
	helpLifetime     = "Set lifetime for ISAKMP security association"
	helpKey          = "Set pre-shared key for remote peer"
	helpKeyAddr      = "define shared key with IP address"
	helpKeyHost      = "define shared key with hostname"
	helpNoXauth      = "Bypasses XAuth for this peer"
	helpKeepalive    = "Set a keepalive interval for use with IOS peers"
)

// groupHelp is the `group ?` text of DH group g.
func groupHelp(g int) string {
	return "Diffie-Hellman group " + strconv.Itoa(g) + " (" + runningconfig.DHGroupBits(g) + ")"
}

// RegisterISAKMP installs the ISAKMP configuration commands and the config-isakmp sub-mode.
func RegisterISAKMP(app *shell.App) error {
	g, ms := app.Grammar(), app.Modes()
	pm := &parser.Mode{Name: ModeISAKMP, Prompt: "(config-isakmp)#", Header: "ISAKMP protection suite configuration commands:"}
	if err := ms.Add(g, pm); err != nil {
		return err
	}
	ci := []string{helpCrypto, helpCryptoISAKMP}
	keyDest := "<address A.B.C.D$addr [A.B.C.D$mask]|hostname WORD$host>"
	keyDestH := []string{helpKeyAddr, "Peer IP address", "Peer IP subnet mask", helpKeyHost, "Hostname of peer"}
	cfg := []*parser.Command{
		{Syntax: "crypto isakmp policy (1-10000)$prio", Help: hs(ci, helpPolicy, helpPolicyPrio), Priv: 15,
			Handler: shell.Handler(func(c *shell.Context, a parser.Args) error { return enterPolicy(c, a, pm) })},
		{Syntax: "<no|default> crypto isakmp policy (1-10000)$prio", Help: hs(ci, helpPolicy, helpPolicyPrio), Priv: 15,
			Handler: cryptoEdit(func(k *runningconfig.Crypto, a parser.Args) error { k.DeletePolicy(a.Int("prio")); return nil })},
		{Syntax: "crypto isakmp key [0]$type WORD$key " + keyDest + " [no-xauth]$noxauth",
			Help: hs(ci, append([]string{helpKey, "Specifies an UNENCRYPTED password will follow",
				"The UNENCRYPTED (cleartext) user password"}, append(keyDestH, helpNoXauth)...)...), Priv: 15, Handler: shell.Handler(isakmpKey)},
		{Syntax: "<no|default> crypto isakmp key [0]$type WORD$key " + keyDest,
			Help: hs(ci, append([]string{helpKey, "Specifies an UNENCRYPTED password will follow",
				"The UNENCRYPTED (cleartext) user password"}, keyDestH...)...), Priv: 15, Handler: shell.Handler(isakmpKey)},
		{Syntax: "crypto isakmp keepalive (10-3600)$secs [(2-60)$retry] [<periodic|on-demand>$when]",
			Help: hs(ci, helpKeepalive, "Number of seconds between keep alives", "Number of seconds between retries if keep alive fails",
				"Send keepalives on regular basis", "Send keepalives on demand"), Priv: 15,
			Handler: cryptoEdit(func(k *runningconfig.Crypto, a parser.Args) error {
				k.Keepalive = &runningconfig.Keepalive{Interval: a.Int("secs"), Retry: 2, Periodic: a.Str("when") == "periodic"}
				if a.Has("retry") {
					k.Keepalive.Retry = a.Int("retry")
				}
				return nil
			})},
		{Syntax: "<no|default> crypto isakmp keepalive", Help: hs(ci, helpKeepalive), Priv: 15,
			Handler: cryptoEdit(func(k *runningconfig.Crypto, _ parser.Args) error { k.Keepalive = nil; return nil })},
		{Syntax: "crypto isakmp nat keepalive (5-3600)$secs",
			Help: hs(ci, "Set NAT traversal related parameters", "Set NAT keepalive interval", "NAT keepalive interval in seconds"), Priv: 15,
			Handler: cryptoEdit(func(k *runningconfig.Crypto, a parser.Args) error { k.NATKeepalive = a.Int("secs"); return nil })},
		{Syntax: "<no|default> crypto isakmp nat keepalive",
			Help: hs(ci, "Set NAT traversal related parameters", "Set NAT keepalive interval"), Priv: 15,
			Handler: cryptoEdit(func(k *runningconfig.Crypto, _ parser.Args) error { k.NATKeepalive = 0; return nil })},
		{Syntax: "crypto isakmp identity <address|dn|hostname>$id",
			Help: hs(ci, "Set the identity which ISAKMP will use", "Use the IP address of the interface for the identity",
				"Use the distinguished name of the router cert for the identity", "Use the hostname of the router for the identity"), Priv: 15,
			Handler: cryptoEdit(func(k *runningconfig.Crypto, a parser.Args) error {
				k.Identity = a.Str("id")
				if k.Identity == "address" {
					k.Identity = ""
				}
				return nil
			})},
		{Syntax: "<no|default> crypto isakmp identity [<address|dn|hostname>]",
			Help: hs(ci, "Set the identity which ISAKMP will use", "Use the IP address of the interface for the identity",
				"Use the distinguished name of the router cert for the identity", "Use the hostname of the router for the identity"), Priv: 15,
			Handler: cryptoEdit(func(k *runningconfig.Crypto, _ parser.Args) error { k.Identity = ""; return nil })},
		{Syntax: "[no|default] crypto isakmp aggressive-mode disable",
			Help: hs(ci, "Disable ISAKMP aggressive mode", "Disable ISAKMP aggressive mode"), Priv: 15,
			Handler: cryptoEdit(func(k *runningconfig.Crypto, a parser.Args) error {
				k.AggressiveDisabled = !a.Has("no") && !a.Has("default")
				return nil
			})},
		{Syntax: "[no|default] crypto isakmp enable", Help: hs(ci, "Enable ISAKMP"), Priv: 15,
			Handler: cryptoEdit(func(k *runningconfig.Crypto, a parser.Args) error { k.ISAKMPDisabled = a.Has("no"); return nil })},
		{Syntax: "no crypto isakmp", Help: ci, Priv: 15,
			Handler: cryptoEdit(func(k *runningconfig.Crypto, _ parser.Args) error { k.ISAKMPDisabled = true; return nil })},
	}
	if err := install(g, ms.Config, "isakmp config", cfg...); err != nil {
		return err
	}

	var groups []string
	var groupsH []string
	for _, n := range runningconfig.DHGroups {
		groups = append(groups, strconv.Itoa(n))
		groupsH = append(groupsH, groupHelp(n))
	}
	encSyn := "<des|3des|aes [<128|192|256>$bits]>$enc"
	encH := []string{"DES - Data Encryption Standard (56 bit keys).", "Three key triple DES", "AES - Advanced Encryption Standard.",
		"128 bit keys.", "192 bit keys.", "256 bit keys."}
	hashSyn := "<md5|sha|sha256|sha384|sha512>$hash"
	hashH := []string{"Message Digest 5", "Secure Hash Standard", "Secure Hash Standard 2 (256 bit)",
		"Secure Hash Standard 2 (384 bit)", "Secure Hash Standard 2 (512 bit)"}
	authSyn := "<pre-share|rsa-encr|rsa-sig>$auth"
	authH := []string{"Pre-Shared Key", "Rivest-Shamir-Adleman Encryption", "Rivest-Shamir-Adleman Signature"}
	groupSyn := "<" + strings.Join(groups, "|") + ">$group"
	sub := []*parser.Command{
		{Syntax: "encryption " + encSyn, Help: hs([]string{helpEncryption}, encH...), Priv: 15, Handler: policyEdit(setEncryption)},
		{Syntax: "<no|default> encryption [" + encSyn + "]", Help: hs([]string{helpEncryption}, encH...), Priv: 15, Handler: policyEdit(setEncryption)},
		{Syntax: "hash " + hashSyn, Help: hs([]string{helpHash}, hashH...), Priv: 15, Handler: policyEdit(setHash)},
		{Syntax: "<no|default> hash [" + hashSyn + "]", Help: hs([]string{helpHash}, hashH...), Priv: 15, Handler: policyEdit(setHash)},
		{Syntax: "authentication " + authSyn, Help: hs([]string{helpAuth}, authH...), Priv: 15, Handler: policyEdit(setAuth)},
		{Syntax: "<no|default> authentication [" + authSyn + "]", Help: hs([]string{helpAuth}, authH...), Priv: 15, Handler: policyEdit(setAuth)},
		{Syntax: "group " + groupSyn, Help: hs([]string{helpGroup}, groupsH...), Priv: 15, Handler: policyEdit(setGroup)},
		{Syntax: "<no|default> group [" + groupSyn + "]", Help: hs([]string{helpGroup}, groupsH...), Priv: 15, Handler: policyEdit(setGroup)},
		{Syntax: "lifetime (60-86400)$secs", Help: []string{helpLifetime, "lifetime in seconds"}, Priv: 15, Handler: policyEdit(setLifetime)},
		{Syntax: "<no|default> lifetime [(60-86400)$secs]", Help: []string{helpLifetime, "lifetime in seconds"}, Priv: 15, Handler: policyEdit(setLifetime)},
	}
	return install(g, pm, "isakmp policy sub-mode", sub...)
}

// cryptoEdit is a handler that edits the crypto part.
func cryptoEdit(f func(k *runningconfig.Crypto, a parser.Args) error) shell.Handler {
	return func(c *shell.Context, a parser.Args) error {
		return cryptoError(apply(c, func(cfg *runningconfig.Config) error { return f(cfg.EnsureCrypto(), a) }))
	}
}

func enterPolicy(c *shell.Context, a parser.Args, pm *parser.Mode) error {
	prio := a.Int("prio")
	if err := apply(c, func(cfg *runningconfig.Config) error { cfg.EnsureCrypto().EnsurePolicy(prio); return nil }); err != nil {
		return err
	}
	c.Push(pm, prio)
	return nil
}

// policyEdit applies f to the policy of the sub-mode; reset is set for the no/default forms.
func policyEdit(f func(p *runningconfig.ISAKMPPolicy, a parser.Args, reset bool)) shell.Handler {
	return func(c *shell.Context, a parser.Args) error {
		prio, ok := c.State().(int)
		if !ok {
			return shell.Msgf("%% Not in ISAKMP policy configuration mode")
		}
		reset := a.Has("no") || a.Has("default")
		return apply(c, func(cfg *runningconfig.Config) error {
			p, _ := cfg.EnsureCrypto().EnsurePolicy(prio)
			f(p, a, reset)
			return nil
		})
	}
}

func setEncryption(p *runningconfig.ISAKMPPolicy, a parser.Args, reset bool) {
	p.Encryption, p.KeyBits = runningconfig.EncrDES, 0
	if reset {
		return
	}
	enc := a.Strs("enc") // "aes" and its key size both bind $enc
	if len(enc) == 0 {
		return
	}
	switch enc[0] {
	case "3des":
		p.Encryption = runningconfig.Encr3DES
	case "aes":
		p.Encryption, p.KeyBits = runningconfig.EncrAES, 128
		if a.Has("bits") {
			p.KeyBits = a.Int("bits")
		}
	}
}

func setHash(p *runningconfig.ISAKMPPolicy, a parser.Args, reset bool) {
	p.Hash = runningconfig.HashSHA
	if !reset {
		p.Hash, _ = runningconfig.ParseHash(a.Str("hash"))
	}
}

func setAuth(p *runningconfig.ISAKMPPolicy, a parser.Args, reset bool) {
	p.Auth = runningconfig.AuthRSASig
	if !reset {
		p.Auth, _ = runningconfig.ParseAuth(a.Str("auth"))
	}
}

func setGroup(p *runningconfig.ISAKMPPolicy, a parser.Args, reset bool) {
	p.Group = runningconfig.DefaultDHGroup
	if !reset {
		p.Group, _ = strconv.Atoi(a.Str("group"))
	}
}

func setLifetime(p *runningconfig.ISAKMPPolicy, a parser.Args, reset bool) {
	p.Lifetime = runningconfig.DefaultISAKMPLifetime
	if !reset {
		p.Lifetime = a.Int("secs")
	}
}

// isakmpKey is `[no] crypto isakmp key [0] KEY {address A [MASK] | hostname NAME} [no-xauth]`.
func isakmpKey(c *shell.Context, a parser.Args) error {
	key := a.Str("key")
	if len(key) > runningconfig.MaxKeyLen {
		return shell.Msgf("%% Pre-shared key too long; at most %d characters", runningconfig.MaxKeyLen)
	}
	k := runningconfig.ISAKMPKey{Key: key, NoXauth: a.Has("noxauth"), Hostname: a.Str("host")}
	if a.Has("addr") {
		k.Addr = a.IP("addr")
		if a.Has("mask") {
			m := a.IP("mask")
			if _, ok := runningconfig.MaskBits(m); !ok {
				return shell.Msgf("%% Invalid mask %s", m)
			}
			if m != netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
				k.Mask = m
			}
			// IOS keeps the address as typed but matches it under the mask.
		}
	}
	if a.Has("no") || a.Has("default") {
		return apply(c, func(cfg *runningconfig.Config) error {
			cry := cfg.EnsureCrypto()
			if o := cry.Key(k.Addr, k.Mask, k.Hostname); o == nil || o.Key != key {
				return shell.Msgf("%% No matching pre-shared key for %s", keyPeer(&k))
			}
			cry.DeleteKey(k.Addr, k.Mask, k.Hostname)
			return nil
		})
	}
	return apply(c, func(cfg *runningconfig.Config) error { cfg.EnsureCrypto().SetKey(k); return nil })
}

func keyPeer(k *runningconfig.ISAKMPKey) string {
	if k.Hostname != "" {
		return k.Hostname
	}
	if k.Mask.IsValid() {
		return k.Addr.String() + " " + k.Mask.String()
	}
	return k.Addr.String()
}
