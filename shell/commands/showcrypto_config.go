package commands

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tunnelbox/tunnelbox/parser"
	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
	"github.com/tunnelbox/tunnelbox/shell"
)

// The configuration views of the crypto show commands (ios-cli.md §4.3, §4.4, §4.6, §4.7):
// they read the running configuration only. The operational views (SAs, sessions, peers) are
// in showcrypto.go.

// RegisterShowCryptoConfig installs show crypto isakmp policy|default policy|key, show crypto
// ipsec transform-set|security-association and show crypto map.
func RegisterShowCryptoConfig(app *shell.App) error {
	g, ms := app.Grammar(), app.Modes()
	sc := []string{shell.HelpShow, HelpShowCrypto}
	isa := hs(sc, HelpShowCryptoISAKMP)
	ips := hs(sc, HelpShowCryptoIPsec)
	cmds := []*parser.Command{
		{Syntax: "show crypto isakmp policy", Help: hs(isa, "Show ISAKMP protection suite policies"), Priv: 15,
			Handler: shell.Handler(showISAKMPPolicy)},
		{Syntax: "show crypto isakmp default policy", Help: hs(isa, "Show ISAKMP default", "Show ISAKMP default policies"), Priv: 15,
			Handler: shell.Handler(showISAKMPDefaultPolicy)},
		{Syntax: "show crypto isakmp key", Help: hs(isa, "Show ISAKMP preshared keys"), Priv: 15,
			Handler: shell.Handler(showISAKMPKey)},
		{Syntax: "show crypto ipsec transform-set [WORD$name]", Help: hs(ips, "Crypto transform sets", "Transform set tag"), Priv: 15,
			Handler: shell.Handler(showTransformSets)},
		{Syntax: "show crypto ipsec security-association", Help: hs(ips, "Show parameters for IPSec security associations"), Priv: 15,
			Handler: shell.Handler(showIPsecSALifetime)},
		{Syntax: "show crypto map [tag WORD$name]", Help: hs(sc, "Crypto maps", "Crypto maps with a given tag", "Crypto map tag"), Priv: 15,
			Handler: shell.Handler(showCryptoMap)},
	}
	return install(g, ms.Exec, "show crypto config", cmds...)
}

// policyEncryption is the `encryption algorithm:` value of §4.3.
func policyEncryption(p *runningconfig.ISAKMPPolicy) string {
	switch p.Encryption {
	case runningconfig.Encr3DES:
		return "Three key triple DES"
	case runningconfig.EncrAES:
		return "AES - Advanced Encryption Standard (" + strconv.Itoa(p.CipherKeyBits()) + " bit keys)."
	}
	return "DES - Data Encryption Standard (56 bit keys)."
}

func policyHash(h runningconfig.Hash) string {
	switch h {
	case runningconfig.HashMD5:
		return "Message Digest 5"
	case runningconfig.HashSHA256:
		return "Secure Hash Standard 2 (256 bit)"
	case runningconfig.HashSHA384:
		return "Secure Hash Standard 2 (384 bit)"
	case runningconfig.HashSHA512:
		return "Secure Hash Standard 2 (512 bit)"
	}
	return "Secure Hash Standard"
}

func policyAuth(a runningconfig.AuthMethod) string {
	switch a {
	case runningconfig.AuthPreShare:
		return "Pre-Shared Key"
	case runningconfig.AuthRSAEncr:
		return "Rivest-Shamir-Adleman Encryption"
	}
	return "Rivest-Shamir-Adleman Signature"
}

// writeSuite writes one protection suite: its title, then five 8-space-indented lines whose
// values start in column 32.
func writeSuite(b *strings.Builder, title string, p *runningconfig.ISAKMPPolicy) {
	b.WriteString(title + strconv.Itoa(p.Priority) + "\n")
	row := func(label, value string) { fmt.Fprintf(b, "        %-24s%s\n", label, value) }
	row("encryption algorithm:", policyEncryption(p))
	row("hash algorithm:", policyHash(p.Hash))
	row("authentication method:", policyAuth(p.Auth))
	row("Diffie-Hellman group:", "#"+strconv.Itoa(p.Group)+" ("+runningconfig.DHGroupBits(p.Group)+")")
	row("lifetime:", strconv.Itoa(p.Lifetime)+" seconds, no volume limit")
}

// showISAKMPPolicy is §4.3: the user policies under "Global IKE policy", or the built-in
// suites under "Default IKE policy" when none is configured.
func showISAKMPPolicy(c *shell.Context, _ parser.Args) error {
	var b strings.Builder
	var pols []runningconfig.ISAKMPPolicy
	if k := c.Config.Running().Crypto(); k != nil {
		pols = k.Policies
	}
	if len(pols) == 0 {
		b.WriteString("\nDefault IKE policy\n")
		for _, p := range runningconfig.DefaultISAKMPPolicies() {
			writeSuite(&b, "Protection suite of priority ", &p)
		}
	} else {
		b.WriteString("\nGlobal IKE policy\n")
		for i := range pols {
			writeSuite(&b, "Protection suite of priority ", &pols[i])
		}
	}
	c.Printf("%s", b.String())
	return nil
}

func showISAKMPDefaultPolicy(c *shell.Context, _ parser.Args) error {
	var b strings.Builder
	b.WriteString("\n")
	for _, p := range runningconfig.DefaultISAKMPPolicies() {
		writeSuite(&b, "Default protection suite of priority ", &p)
	}
	c.Printf("%s", b.String())
	return nil
}

// showISAKMPKey is §4.4: keyring column 13 wide, address column 44.
func showISAKMPKey(c *shell.Context, _ parser.Args) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%-13s%-44s%s\n\n", "Keyring", "Hostname/Address", "Preshared Key")
	if k := c.Config.Running().Crypto(); k != nil {
		for i := range k.Keys {
			key := &k.Keys[i]
			peer := key.Hostname
			if peer == "" {
				peer = key.Addr.String()
				if key.Mask.IsValid() {
					peer += "/" + key.Mask.String()
				}
			}
			fmt.Fprintf(&b, "%-13s%-44s%s\n", "default", peer, key.Key)
		}
	}
	c.Printf("%s", b.String())
	return nil
}

// writeTransformSet is one block of §4.6: the first group on the title line, each further
// group (AH + ESP, compression) on its own line, each followed by its will-negotiate line.
func writeTransformSet(b *strings.Builder, t *runningconfig.TransformSet) {
	mode := "Tunnel"
	if t.Transport {
		mode = "Transport"
	}
	for i, grp := range t.ShowGroups() {
		if i == 0 {
			b.WriteString("Transform set " + t.Name + ": ")
		} else {
			b.WriteString("   ")
		}
		b.WriteString("{ " + strings.Join(grp, " ") + "  }\n")
		b.WriteString("   will negotiate = { " + mode + ",  },\n")
	}
	b.WriteString("\n")
}

func showTransformSets(c *shell.Context, a parser.Args) error {
	want := a.Str("name")
	var b strings.Builder
	def := runningconfig.DefaultTransformSet()
	if want == "" || want == def.Name {
		writeTransformSet(&b, &def)
	}
	if k := c.Config.Running().Crypto(); k != nil {
		for _, t := range k.TransformSets() {
			if want == "" || want == t.Name {
				writeTransformSet(&b, &t)
			}
		}
	}
	c.Printf("%s", b.String())
	return nil
}

// globalSALifetime is the global IPsec SA lifetime (kilobytes, seconds) with the defaults.
func globalSALifetime(cfg *runningconfig.Config) (int64, int) {
	secs, kb := cfg.SALifetime(&runningconfig.CryptoMapEntry{})
	return kb, secs
}

func showIPsecSALifetime(c *shell.Context, _ parser.Args) error {
	kb, secs := globalSALifetime(c.Config.Running())
	c.Printf("Security association lifetime: %d kilobytes/%d seconds\n\n", kb, secs)
	return nil
}

// showCryptoMap is §4.7 (IOS 15.4 layout, TAB-indented): entries by map name, then sequence,
// each with the interfaces its map is bound to; an empty line between entries.
func showCryptoMap(c *shell.Context, a parser.Args) error {
	cfg := c.Config.Running()
	k := cfg.Crypto()
	if k == nil {
		return nil
	}
	want := a.Str("name")
	var b strings.Builder
	first := true
	for _, e := range k.Maps() {
		if want != "" && e.Map != want {
			continue
		}
		if !first {
			b.WriteString("\n")
		}
		first = false
		writeMapEntry(&b, cfg, k, &e)
	}
	c.Printf("%s", b.String())
	return nil
}

func writeMapEntry(b *strings.Builder, cfg *runningconfig.Config, k *runningconfig.Crypto, e *runningconfig.CryptoMapEntry) {
	fmt.Fprintf(b, "Crypto Map IPv4 %q %d ipsec-isakmp\n", e.Map, e.Seq)
	if cfg.Incomplete(e) != "" {
		b.WriteString("\tWARNING: This crypto map is in an incomplete state!\n\t\t(missing peer or access-list definitions)\n")
	}
	if e.Description != "" {
		b.WriteString("\tDescription: " + e.Description + "\n")
	}
	for _, p := range e.Peers {
		b.WriteString("\tPeer = " + p + "\n")
	}
	if e.MatchACL == "" {
		b.WriteString("\tNo matching address list set.\n")
	} else {
		kind := runningconfig.ACLExtended
		l := cfg.ACL(e.MatchACL)
		if l != nil {
			kind = l.Kind
		}
		b.WriteString("\t" + kind.String() + " IP access list " + e.MatchACL + "\n")
		if l != nil {
			for i := range l.Entries {
				if !l.Entries[i].IsRemark() {
					b.WriteString("\t    access-list " + l.Name + " " + l.Entries[i].Text(l.Kind, false) + "\n")
				}
			}
		}
	}
	secs, kb := cfg.SALifetime(e)
	fmt.Fprintf(b, "\tSecurity association lifetime: %d kilobytes/%d seconds\n", kb, secs)
	if e.IdleTime != 0 {
		fmt.Fprintf(b, "\tSecurity association idletime: %d seconds\n", e.IdleTime)
	}
	b.WriteString("\tResponder-Only (Y/N): N\n")
	if e.PFSGroup != 0 {
		fmt.Fprintf(b, "\tPFS (Y/N): Y\n\tDH group:  group%d\n", e.PFSGroup)
	} else {
		b.WriteString("\tPFS (Y/N): N\n")
	}
	b.WriteString("\tMixed-mode : Disabled\n\tTransform sets={\n")
	for _, n := range e.TransformSets {
		if t := k.TransformSet(n); t != nil {
			b.WriteString("\t\t" + t.Name + ":  { " + strings.Join(t.ShowTransforms(), " ") + "  } ,\n")
		}
	}
	b.WriteString("\t}\n")
	if e.ReverseRoute {
		b.WriteString("\tReverse Route Injection Enabled\n")
	}
	b.WriteString("\tInterfaces using crypto map " + e.Map + ":\n")
	for _, f := range cfg.MapInterfaces(e.Map) {
		b.WriteString("\t\t" + f + "\n")
	}
}
