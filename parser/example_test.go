package parser_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tunnelbox/tunnelbox/parser"
)

func Example() {
	config := &parser.Mode{Name: "config", Prompt: "(config)#", Header: "Configure commands:"}
	isakmp := &parser.Mode{Name: "config-isakmp", Prompt: "(config-isakmp)#", Parent: config}
	g := parser.New()
	err := g.Install(config,
		&parser.Command{Syntax: "[no] crypto isakmp policy (1-10000)$prio", Priv: 15, Help: []string{
			"Encryption module", "Internet Security Association and Key Management Protocol",
			"Set policy for an ISAKMP protection suite", "Priority of protection suite"}},
		&parser.Command{Syntax: "interface IFNAME$if", Priv: 15, Help: []string{
			"Select an interface to configure", "Interface name"}})
	if err == nil {
		err = g.Install(isakmp, &parser.Command{Syntax: "[no|default] hash <md5|sha|sha256>$hash", Priv: 15,
			Help: []string{"Set hash algorithm for protection suite", "Message Digest 5",
				"Secure Hash Standard", "Secure Hash Standard 2 (256 bit)"}})
	}
	if err != nil {
		fmt.Println(err)
		return
	}

	m, _ := g.Match(config, 15, "cry isa pol 10")
	fmt.Println(m.Args.Int("prio"), m.Args.String())

	m, _ = g.Match(isakmp, 15, "int gi 0/1") // falls through to config
	fmt.Println(m.Mode.Name, m.Args.Str("if"))

	items, _ := g.Help(isakmp, 15, "hash ")
	fmt.Println(strings.Join(parser.FormatHelp(items), "\n"))

	// "sha" is a proper prefix of "sha512": the caret goes under the first surplus character.
	_, err = g.Match(isakmp, 15, "hash sha512")
	var pe *parser.Error
	if errors.As(err, &pe) {
		fmt.Println("R1(config-isakmp)#" + pe.Line)
		fmt.Println(pe.Caret(len("R1(config-isakmp)#")))
	}
	// Output:
	// 10 crypto isakmp policy 10
	// config GigabitEthernet0/1
	//   md5     Message Digest 5
	//   sha     Secure Hash Standard
	//   sha256  Secure Hash Standard 2 (256 bit)
	// R1(config-isakmp)#hash sha512
	//                           ^
}
