package parser

import "testing"

// The fixture is a small IOS grammar in the shape the shell declares (ios-cli.md §1-3).
var (
	exec = &Mode{Name: "exec", Header: "Exec commands:"}
	cfg  = &Mode{Name: "config", Prompt: "(config)#", Header: "Configure commands:"}
	cfIf = &Mode{Name: "config-if", Prompt: "(config-if)#", Header: "Interface configuration commands:", Parent: cfg}
	cfIK = &Mode{Name: "config-isakmp", Prompt: "(config-isakmp)#", Header: "ISAKMP commands:", Parent: cfg}
	cfLn = &Mode{Name: "config-line", Prompt: "(config-line)#", Header: "Line configuration commands:", Parent: cfg}
	cfCM = &Mode{Name: "config-crypto-map", Prompt: "(config-crypto-map)#", Header: "Crypto Map configuration commands:", Parent: cfg}
)

const (
	hShow   = "Show running system information"
	hIP     = "IP information"
	hCrypto = "Encryption module"
	hIsakmp = "Show ISAKMP"
	hDebug  = "Debugging functions (see also 'undebug')"
	hCryptD = "Cryptographic subsystem"
)

func c(priv int, syntax string, help ...string) *Command {
	return &Command{Syntax: syntax, Help: help, Priv: priv, Handler: syntax}
}

func execCommands() []*Command {
	return []*Command{
		c(1, "show version", hShow, "System hardware and software status"),
		c(1, "show ip interface brief", hShow, hIP, "IP interface status and configuration", "Brief summary of IP status and configuration"),
		c(1, "show ip route", hShow, hIP, "IP routing table"),
		c(1, "show ipv6 route", hShow, "IPv6 information", "Show IPv6 route table entries"),
		c(1, "show interfaces [IFNAME$if]", hShow, "Interface status and configuration", "Interface name"),
		c(1, "show crypto isakmp sa [detail]$detail", hShow, hCrypto, hIsakmp, "Show ISAKMP Security Associations", "Show detailed information"),
		c(1, "show crypto ipsec sa [peer A.B.C.D$peer|detail$detail]", hShow, hCrypto, "Show IPSEC", "IPSEC SA table", "Show peer", "Peer address", "Show detailed information"),
		c(1, "show access-lists [<(1-2699)$num|WORD$name>]", hShow, "List access lists", "ACL number", "ACL name"),
		c(15, "show running-config", hShow, "Current operating configuration"),
		c(15, "show startup-config", hShow, "Contents of startup configuration"),
		c(15, "configure terminal", "Enter configuration mode", "Configure from the terminal"),
		c(1, "enable [(0-15)$level]", "Turn on privileged commands", "Enable level"),
		c(1, "disable", "Turn off privileged commands"),
		c(1, "dir", "List files on a filesystem"),
		c(1, "disconnect", "Disconnect an existing network connection"),
		c(1, "exit", "Exit from the EXEC"),
		c(15, "reload", "Halt and perform a cold restart"),
		c(15, "copy running-config startup-config", "Copy from one file to another", "Copy from current system configuration", "Copy to startup configuration"),
		c(15, "write [memory]", "Write running configuration to memory, network, or terminal", "Write to NV memory"),
		c(1, "ping HOST$host [source IFNAME$src] [repeat (1-2147483647)$repeat]", "Send echo messages", "Ping destination address or hostname", "specify source address or name", "Interface name", "specify repeat count", "repeat count"),
		c(15, "[no] debug crypto <isakmp|ipsec>$what", hDebug, hCryptD, "Crypto ISAKMP debug messages", "IPSEC processing"),
		c(15, "no debug all", hDebug, "Enable all debugging"),
		c(15, "undebug all", "Disable debugging functions (see also 'debug')", "Disable all debugging"),
		c(1, "terminal length (0-512)$len", "Set terminal line parameters", "Set number of lines on a screen", "Number of lines on screen (0 for no pausing)"),
	}
}

func configCommands() []*Command {
	return []*Command{
		c(15, "hostname WORD$name", "Set system's network name", "This system's network name"),
		c(15, "[no] logging HOST$host", "Modify message logging facilities", "IP address of the logging host"),
		c(15, "[no] logging buffered [(4096-2147483647)$size]", "Modify message logging facilities", "Set buffered logging parameters", "Logging buffer size"),
		c(15, "[no] logging console", "Modify message logging facilities", "Set console logging parameters"),
		c(15, "interface IFNAME$if", "Select an interface to configure", "Interface name"),
		c(15, "[no] ip route A.B.C.D$prefix A.B.C.D$mask <A.B.C.D$nh|IFNAME$ifnh> [(1-255)$dist]",
			"Global IP configuration subcommands", "Establish static routes", "Destination prefix", "Destination prefix mask", "Forwarding router's address", "Interface name", "Distance metric for this route"),
		c(15, "[no] ip domain-lookup", "Global IP configuration subcommands", "Enable IP Domain Name System hostname translation"),
		c(15, "[no] crypto isakmp policy (1-10000)$prio", "Encryption module", "Internet Security Association and Key Management Protocol", "Set policy for an ISAKMP protection suite", "Priority of protection suite"),
		c(15, "[no] crypto isakmp key WORD$key address A.B.C.D$peer [A.B.C.D$mask] [no-xauth]$noxauth",
			"Encryption module", "Internet Security Association and Key Management Protocol", "Set pre-shared key for remote peer", "pre-shared key", "define shared key with IP address", "Peer IP address", "Peer IP subnet mask", "Bypasses XAuth for this peer"),
		c(15, "[no] crypto map WORD$map (1-65535)$seq [ipsec-isakmp]", "Encryption module", "Enter a crypto map", "Crypto map tag", "Sequence to insert into crypto map entry", "IPSEC w/ISAKMP"),
		c(15, "[no] access-list <(1-99)|(1300-1999)>$number <deny|permit>$action A.B.C.D$src [A.B.C.D$wild] [log]$log",
			"Add an access list entry", "IP standard access list", "IP standard access list (expanded range)", "Specify packets to reject", "Specify packets to forward", "Address to match", "Wildcard bits", "Log matches against this entry"),
		c(15, "[no] aaa new-model", "Authentication, Authorization and Accounting.", "Enable NEW access control commands and functions.(Disables OLD commands.)"),
		c(15, "line vty (0-15)$first [(1-15)$last]", "Configure a terminal line", "Virtual terminal", "First Line number", "Last Line number"),
		c(15, "end", "Exit from configure mode"),
		c(15, "exit", "Exit from configure mode"),
		c(15, "do LINE$cmd", "To run exec commands in config mode", "Exec Command"),
	}
}

func ifCommands() []*Command {
	return []*Command{
		c(15, "[no] shutdown", "Shutdown the selected interface"),
		c(15, "[no] description LINE$text", "Interface specific description", "Up to 240 characters describing this interface"),
		c(15, "[no] ip address A.B.C.D$addr A.B.C.D$mask [secondary]$secondary", "Interface Internet Protocol config commands", "Set the IP address of an interface", "IP address", "IP subnet mask", "Make this IP address a secondary address"),
		c(15, "[no] ip access-group <(1-199)$num|WORD$name> <in|out>$dir", "Interface Internet Protocol config commands", "Specify access control for packets", "IP access list (standard or extended)", "Access-list name", "inbound packets", "outbound packets"),
		c(15, "[no|default] crypto map WORD$map", "Encryption/Decryption commands", "Assign a Crypto Map", "Crypto Map tag"),
		c(15, "exit", "Exit from interface configuration mode"),
	}
}

func isakmpCommands() []*Command {
	return []*Command{
		c(15, "[no|default] authentication <pre-share|rsa-encr|rsa-sig>$auth", "Set authentication method for protection suite", "Pre-Shared Key", "Rivest-Shamir-Adleman Encryption", "Rivest-Shamir-Adleman Signature"),
		c(15, "[no|default] encryption <des|3des|aes [<128|192|256>$bits]>$alg", "Set encryption algorithm for protection suite", "DES - Data Encryption Standard (56 bit keys).", "Three key triple DES", "AES - Advanced Encryption Standard.", "128 bit keys.", "192 bit keys.", "256 bit keys."),
		c(15, "[no|default] group <1|2|5|14|15|16|19|20|21|24>$group", "Set the Diffie-Hellman group",
			"Diffie-Hellman group 1 (768 bit)", "Diffie-Hellman group 2 (1024 bit)", "Diffie-Hellman group 5 (1536 bit)", "Diffie-Hellman group 14 (2048 bit)", "Diffie-Hellman group 15 (3072 bit)", "Diffie-Hellman group 16 (4096 bit)", "Diffie-Hellman group 19 (256 bit ecp)", "Diffie-Hellman group 20 (384 bit ecp)", "Diffie-Hellman group 21 (521 bit ecp)", "Diffie-Hellman group 24 (2048 bit, 256 bit subgroup)"),
		c(15, "[no|default] hash <md5|sha|sha256|sha384|sha512>$hash", "Set hash algorithm for protection suite", "Message Digest 5", "Secure Hash Standard", "Secure Hash Standard 2 (256 bit)", "Secure Hash Standard 2 (384 bit)", "Secure Hash Standard 2 (512 bit)"),
		c(15, "[no|default] lifetime (60-86400)$secs", "Set lifetime for ISAKMP security association", "lifetime in seconds"),
		c(15, "exit", "Exit from ISAKMP protection suite configuration mode"),
	}
}

func lineCommands() []*Command {
	return []*Command{
		c(15, "[no] transport input {ssh|telnet}$proto", "Define transport protocols for line", "Define which protocols to use when connecting to the terminal server", "TCP/IP SSH protocol", "TCP/IP Telnet protocol"),
		c(15, "[no] login [local]$local", "Enable password checking", "Local password checking"),
		c(15, "exit", "Exit from line configuration mode"),
	}
}

func cryptoMapCommands() []*Command {
	return []*Command{
		c(15, "[no] set peer HOST$peer", "Set values for encryption/decryption", "Allowed Encryption/Decryption peer.", "IP address or hostname of peer"),
		c(15, "[no] set transform-set WORD$ts [WORD$ts [WORD$ts [WORD$ts [WORD$ts [WORD$ts]]]]]", "Set values for encryption/decryption", "Specify list of transform sets in priority order", "Proposal tag", "Proposal tag", "Proposal tag", "Proposal tag", "Proposal tag", "Proposal tag"),
		c(15, "[no] match address <(100-199)$num|WORD$name>", "Match values.", "Match address of packets to encrypt.", "IP access-list number", "IP access-list name"),
		c(15, "exit", "Exit from crypto map configuration mode"),
	}
}

// fixture returns the grammar of the tests, failing t when it does not install.
func fixture(t testing.TB) *Grammar {
	t.Helper()
	g := New()
	for _, mc := range []struct {
		m    *Mode
		cmds []*Command
	}{
		{exec, execCommands()}, {cfg, configCommands()}, {cfIf, ifCommands()},
		{cfIK, isakmpCommands()}, {cfLn, lineCommands()}, {cfCM, cryptoMapCommands()},
	} {
		if err := g.Install(mc.m, mc.cmds...); err != nil {
			t.Fatalf("install %s: %v", mc.m.Name, err)
		}
	}
	return g
}

func TestFixtureInstalls(t *testing.T) { fixture(t) }
