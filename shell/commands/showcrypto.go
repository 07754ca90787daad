package commands

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/tunnelbox/tunnelbox/ike"
	"github.com/tunnelbox/tunnelbox/parser"
	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
	"github.com/tunnelbox/tunnelbox/shell"
	"github.com/tunnelbox/tunnelbox/xfrm"
)

// Help strings of the crypto show commands. Every command that starts with `show crypto`,
// `show crypto isakmp` or `show crypto ipsec` must use the same strings for those words (the
// parser requires it), so other command files use these constants.
const (
	HelpShowCrypto       = "Encryption module"
	HelpShowCryptoISAKMP = "Show ISAKMP"
	HelpShowCryptoIPsec  = "Show IPSEC info"
	helpISAKMPSA         = "Show ISAKMP Security Associations"
	helpISAKMPSADetail   = "Show ISAKMP SA Detail"
	helpISAKMPPeers      = "Show ISAKMP peer structures"
	helpIPsecSA          = "IPSEC SA table"
	helpIPsecSADetail    = "detailed error counters"
	helpIPsecSAAddress   = "IPSEC SA table by address"
	helpIPsecSAPeer      = "IPSEC SA for a peer"
	helpIPsecSAPeerAddr  = "IPv4 address of the peer"
	helpIPsecSAMap       = "IPSEC SA for a crypto map"
	helpIPsecSAMapName   = "crypto map tag"
	helpIPsecSAIf        = "Display IPSEC SA for an interface"
	helpIPsecSAIfName    = "Interface name"
	helpSession          = "Show crypto sessions currently established"
	helpSessionDetail    = "Show detailed information about crypto sessions"
)

// RegisterShowCrypto installs the operational crypto show commands (ios-cli.md §4.1, 4.2, 4.4,
// 4.5, 4.8), which read the live state of the IKE engine attached with App.SetEngine.
func RegisterShowCrypto(app *shell.App) error {
	g, ms := app.Grammar(), app.Modes()
	sc := []string{shell.HelpShow, HelpShowCrypto}
	isa := append(sc[:2:2], HelpShowCryptoISAKMP)
	ips := append(sc[:2:2], HelpShowCryptoIPsec, helpIPsecSA)
	h := func(base []string, more ...string) []string { return append(slices.Clone(base), more...) }
	cmds := []*parser.Command{
		{Syntax: "show crypto isakmp sa [detail]$detail", Help: h(isa, helpISAKMPSA, helpISAKMPSADetail), Priv: 15,
			Handler: shell.Handler(showISAKMPSA)},
		{Syntax: "show crypto isakmp peers", Help: h(isa, helpISAKMPPeers), Priv: 15, Handler: shell.Handler(showISAKMPPeers)},
		{Syntax: "show crypto ipsec sa [<detail|address>$view]", Help: h(ips, helpIPsecSADetail, helpIPsecSAAddress), Priv: 15,
			Handler: shell.Handler(showIPsecSA)},
		{Syntax: "show crypto ipsec sa peer A.B.C.D$peer [detail]$detail", Help: h(ips, helpIPsecSAPeer, helpIPsecSAPeerAddr, helpIPsecSADetail),
			Priv: 15, Handler: shell.Handler(showIPsecSA)},
		{Syntax: "show crypto ipsec sa map WORD$map [detail]$detail", Help: h(ips, helpIPsecSAMap, helpIPsecSAMapName, helpIPsecSADetail),
			Priv: 15, Handler: shell.Handler(showIPsecSA)},
		{Syntax: "show crypto ipsec sa interface IFNAME$if [detail]$detail", Help: h(ips, helpIPsecSAIf, helpIPsecSAIfName, helpIPsecSADetail),
			Priv: 15, Handler: shell.Handler(showIPsecSA)},
		{Syntax: "show crypto session [detail]$detail", Help: h(sc, helpSession, helpSessionDetail), Priv: 15,
			Handler: shell.Handler(showSession)},
	}
	return install(g, ms.Exec, "show crypto", cmds...)
}

// status is the engine's state, empty when no engine is attached.
func status(c *shell.Context) ike.Status {
	if e := c.App.Engine(); e != nil {
		return e.Status()
	}
	return ike.Status{}
}

// ---- show crypto isakmp sa [detail] (§4.1, §4.2)

// p1Ends returns dst and src as IOS prints them: responder, then initiator.
func p1Ends(p ike.P1Info) (dst, src netip.Addr) {
	if p.Initiator {
		return p.Remote.Addr(), p.Local.Addr()
	}
	return p.Local.Addr(), p.Remote.Addr()
}

func showISAKMPSA(c *shell.Context, a parser.Args) error {
	st := status(c)
	if a.Has("detail") {
		c.Printf("Codes: C - IKE configuration mode, D - Dead Peer Detection\n")
		c.Printf("       K - Keepalives, N - NAT-traversal\n")
		c.Printf("       T - cTCP encapsulation, X - IKE Extended Authentication\n")
		c.Printf("       psk - Preshared key, rsig - RSA signature\n")
		c.Printf("       renc - RSA encryption\n")
		c.Printf("IPv4 Crypto ISAKMP SA\n\n")
		c.Printf("C-id  Local           Remote          I-VRF  Status Encr Hash   Auth DH Lifetime Cap.\n\n")
		for _, p := range st.ISAKMP {
			encr, hash, auth, dh, life := "", "", "", "", ""
			if p.Policy.Group != 0 { // a policy was agreed
				encr = [...]string{"des", "3des", "aes"}[p.Policy.Encryption]
				hash = p.Policy.Hash.String()
				auth = map[runningconfig.AuthMethod]string{runningconfig.AuthPreShare: "psk",
					runningconfig.AuthRSASig: "rsig", runningconfig.AuthRSAEncr: "renc"}[p.Policy.Auth]
				dh = fmt.Sprint(p.Policy.Group)
			}
			if p.Established {
				life = hms(p.Remaining)
			}
			c.Printf("%-6d%-16v%-16v%-7s%-7s%-5s%-7s%-5s%-3s%-9s%s\n", p.ConnID, p.Local.Addr(), p.Remote.Addr(), "",
				"ACTIVE", encr, hash, auth, dh, life, caps(c, p))
			c.Printf("       Engine-id:Conn-id =  SW:%d\n\n", max(p.ConnID-1000, 0))
		}
		c.Printf("IPv6 Crypto ISAKMP SA\n\n")
		return nil
	}
	c.Printf("IPv4 Crypto ISAKMP SA\n")
	c.Printf("dst             src             state          conn-id status\n")
	for _, p := range st.ISAKMP {
		dst, src := p1Ends(p)
		c.Printf("%-16v%-16v%-15s%7d %s\n", dst, src, p.State, p.ConnID, "ACTIVE")
	}
	c.Printf("\nIPv6 Crypto ISAKMP SA\n\n")
	return nil
}

// caps is the capability letters of an ISAKMP SA: D with dead peer detection (keepalives
// configured and the peer announced DPD), N with NAT traversal.
func caps(c *shell.Context, p ike.P1Info) string {
	s := ""
	if k := c.Config.Running().Crypto(); k != nil && k.Keepalive != nil && p.DPD {
		s += "D"
	}
	if p.NATT {
		s += "N"
	}
	return s
}

// hms formats a remaining lifetime as hh:mm:ss.
func hms(d time.Duration) string {
	s := int(d / time.Second)
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
}

// ---- show crypto isakmp peers (§4.4)

func showISAKMPPeers(c *shell.Context, _ parser.Args) error {
	seen := map[netip.AddrPort]bool{}
	for _, p := range status(c).ISAKMP {
		if !p.Established || seen[p.Remote] {
			continue
		}
		seen[p.Remote] = true
		c.Printf("Peer: %v Port: %d Local: %v\n Phase1 id: %v\n", p.Remote.Addr(), p.Remote.Port(), p.Local.Addr(), p.Remote.Addr())
	}
	return nil
}

// ---- show crypto ipsec sa (§4.5)

// flow is one block of `show crypto ipsec sa`: a proxy-identity pair of a crypto map entry on
// an interface, with the SA pairs negotiated for it.
type flow struct {
	iface     string
	ifAddr    netip.Addr
	mapName   string
	seq       int
	peer      netip.Addr // the current peer (of the newest SA pair, else the entry's first peer)
	local     ike.Selector
	remote    ike.Selector
	children  []ike.ChildInfo // oldest first
	fromACL   bool
	entryPeer []netip.Addr
}

func (f *flow) newest() *ike.ChildInfo {
	if len(f.children) == 0 {
		return nil
	}
	return &f.children[len(f.children)-1]
}

// aclSelectors turns a crypto ACL permit line into local and remote selectors (false for a
// line whose wildcards are not subnets).
func aclSelectors(ace *runningconfig.ACE) (ike.Selector, ike.Selector, bool) {
	src, ok1 := ace.Src.Prefix()
	dst, ok2 := ace.Dst.Prefix()
	if !ok1 || !ok2 || !ace.Permit || ace.IsRemark() {
		return ike.Selector{}, ike.Selector{}, false
	}
	proto := uint8(0)
	if ace.Proto != runningconfig.ProtoIP {
		proto = uint8(ace.Proto)
	}
	l, r := ike.Selector{Prefix: src, Proto: proto}, ike.Selector{Prefix: dst, Proto: proto}
	if ace.SrcPort.Op == runningconfig.PortEq {
		l.Port = ace.SrcPort.Lo
	}
	if ace.DstPort.Op == runningconfig.PortEq {
		r.Port = ace.DstPort.Lo
	}
	return l, r, true
}

// flows builds the blocks of `show crypto ipsec sa` and `show crypto session`: for each
// interface with a crypto map, each active entry's ACL permit lines, then SA pairs whose
// identities are not an ACL line (a responder's narrower proposal) as blocks of their own.
func flows(cfg *runningconfig.Config, st ike.Status) []*flow {
	var out []*flow
	children := slices.Clone(st.IPsec)
	slices.SortStableFunc(children, func(a, b ike.ChildInfo) int { return cmp.Compare(a.ID, b.ID) })
	used := make([]bool, len(children))
	byIface := map[string][]runningconfig.ResolvedEntry{}
	for _, ent := range cfg.ActiveMapEntries() {
		byIface[ent.Interface] = append(byIface[ent.Interface], ent)
	}
	for i := range cfg.Interfaces {
		ifc := &cfg.Interfaces[i]
		if ifc.CryptoMap == "" {
			continue
		}
		var ifAddr netip.Addr
		if ifc.Address.IsValid() {
			ifAddr = ifc.Address.Addr()
		}
		var mine []*flow
		for _, ent := range byIface[ifc.Name] {
			if ent.ACL == nil {
				continue
			}
			for j := range ent.ACL.Entries {
				l, r, ok := aclSelectors(&ent.ACL.Entries[j])
				if !ok {
					continue
				}
				f := &flow{iface: ifc.Name, ifAddr: ifAddr, mapName: ent.Entry.Map, seq: ent.Entry.Seq, local: l, remote: r,
					fromACL: true, entryPeer: ent.Peers}
				if len(ent.Peers) > 0 {
					f.peer = ent.Peers[0]
				}
				mine = append(mine, f)
			}
		}
		for ci, ch := range children {
			if used[ci] || ch.Interface != ifc.Name {
				continue
			}
			var home *flow
			for _, f := range mine {
				if f.mapName == ch.Map && f.seq == ch.Seq && f.local == ch.LocalSel && f.remote == ch.RemoteSel &&
					(len(f.children) == 0 || f.children[0].Peer == ch.Peer) {
					home = f
					break
				}
			}
			if home == nil {
				home = &flow{iface: ifc.Name, ifAddr: ifAddr, mapName: ch.Map, seq: ch.Seq, local: ch.LocalSel, remote: ch.RemoteSel}
				mine = append(mine, home)
			}
			home.children = append(home.children, ch)
			home.peer = ch.Peer
			used[ci] = true
		}
		out = append(out, mine...)
	}
	return out
}

// identity renders a selector as IOS's (addr/mask/prot/port).
func identity(s ike.Selector) string {
	return fmt.Sprintf("(%v/%v/%d/%d)", s.Prefix.Masked().Addr(), maskOf(s.Prefix.Bits()), s.Proto, s.Port)
}

func maskOf(bits int) netip.Addr {
	v := uint32(0)
	if bits > 0 {
		v = ^uint32(0) << (32 - bits)
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// espGeometry returns the IV size, the ICV size and the padding block of a transform set.
func espGeometry(ts runningconfig.TransformSet) (iv, icv, block int) {
	switch ts.ESPCipher {
	case "esp-aes":
		iv, block = 16, 16
	case "esp-gcm", "esp-gmac":
		iv, icv, block = 8, 16, 4
	case "esp-3des", "esp-des":
		iv, block = 8, 8
	default:
		iv, block = 0, 4
	}
	if ts.ESPAuth != "" {
		if t, err := xfrm.LookupTransform(ts.ESPAuth); err == nil {
			icv = t.Auth.ICVLen()
		}
	}
	return iv, icv, block
}

// plaintextMTU is IOS's plaintext mtu for a path MTU: the largest inner packet whose ESP
// packet fits, floor((pmtu − outer IP − ESP header − IV − ICV) / block) · block − 2
// (pad length and next header); UDP encapsulation costs 8 more, transport mode no outer IP.
func plaintextMTU(pmtu int, ch *ike.ChildInfo) int {
	if ch == nil {
		return pmtu
	}
	iv, icv, block := espGeometry(ch.Transform)
	room := pmtu - 8 - iv - icv
	if ch.Tunnel {
		room -= 20
	}
	if ch.UDPEncap {
		room -= 8
	}
	return room/block*block - 2
}

func settingsOf(ch *ike.ChildInfo) string {
	mode := "Transport"
	if ch.Tunnel {
		mode = "Tunnel"
	}
	if ch.UDPEncap {
		mode += " UDP-Encaps"
	}
	return "{" + mode + ", }"
}

// saConnIDs are the conn ids IOS shows for an SA pair: odd inbound, even outbound, counted
// per SA (1, 2, 3, ...).
func saConnIDs(ch *ike.ChildInfo) (in, out int) {
	n := ch.ID - 2000
	return 2*n - 1, 2 * n
}

func kbLeft(ch *ike.ChildInfo, bytes uint64) uint64 {
	if ch.LifeKB == 0 {
		return 0
	}
	used := bytes / 1024
	if used > ch.LifeKB {
		return 0
	}
	return ch.LifeKB - used
}

func printSA(c *shell.Context, ch *ike.ChildInfo, in, detail bool, indent string) {
	ci, co := saConnIDs(ch)
	ctr, conn := ch.Out, co
	if in {
		ctr, conn = ch.In, ci
	}
	iv, _, _ := espGeometry(ch.Transform)
	replay := "Y"
	if ch.Transform.ESPAuth == "" && ch.Transform.ESPCipher != "esp-gcm" && ch.Transform.ESPCipher != "esp-gmac" {
		replay = "N"
	}
	if detail && replay == "Y" {
		replay += "  replay window size: 64"
	}
	c.Printf("%s  transform: %s ,\n", indent, strings.Join(ch.Transform.ShowTransforms(), " "))
	c.Printf("%s  in use settings =%s\n", indent, settingsOf(ch))
	c.Printf("%s  conn id: %d, flow_id: SW:%d, sibling_flags 80004040, crypto map: %s\n", indent, conn, conn, ch.Map)
	c.Printf("%s  sa timing: remaining key lifetime (k/sec): (%d/%d)\n", indent, kbLeft(ch, ctr.Bytes), int(ch.Remaining/time.Second))
	c.Printf("%s  IV size: %d bytes\n", indent, iv)
	c.Printf("%s  replay detection support: %s\n", indent, replay)
	c.Printf("%s  Status: ACTIVE(ACTIVE)\n", indent)
}

func showIPsecSA(c *shell.Context, a parser.Args) error {
	cfg := c.Config.Running()
	st := status(c)
	detail := a.Has("detail") || a.Str("view") == "detail"
	if a.Str("view") == "address" {
		return showIPsecSAAddress(c, st)
	}
	all := flows(cfg, st)
	c.Printf("\n")
	if len(all) == 0 {
		c.Printf("No SAs found\n")
		return nil
	}
	lastIface := ""
	for _, f := range all {
		switch {
		case a.Has("peer") && f.peer != a.IP("peer"):
			continue
		case a.Has("map") && f.mapName != a.Str("map"):
			continue
		case a.Has("if") && f.iface != a.Str("if"):
			continue
		}
		if f.iface != lastIface {
			if lastIface != "" {
				c.Printf("\n")
			}
			c.Printf("interface: %s\n    Crypto map tag: %s, local addr %v\n", f.iface, f.mapName, f.ifAddr)
			lastIface = f.iface
		}
		printFlow(c, f, st, detail)
	}
	return nil
}

// flowDrops are the counters of a block that no SA holds: the packets its outbound policy
// dropped while no SA existed (IOS "#pkts no sa (send)", kept across SA pairs and rekeys), and
// the ESP datagrams its peer sent with an unknown SPI ("#pkts invalid sa (rcv)"). An unknown
// SPI cannot be tied to one proxy pair, so every block of that peer shows the peer's count.
func flowDrops(f *flow, st ike.Status) (noSA, invalidSA uint64) {
	noSA = st.Flows[ike.FlowKey{Local: f.local, Remote: f.remote}].NoSA
	if f.peer.IsValid() {
		invalidSA = st.InvalidSPI[f.peer]
	}
	return noSA, invalidSA
}

func printFlow(c *shell.Context, f *flow, st ike.Status, detail bool) {
	var in, out xfrm.Counters
	for _, ch := range f.children {
		add(&in, ch.In)
		add(&out, ch.Out)
	}
	noSA, invalidSA := flowDrops(f, st)
	nw := f.newest()
	port := uint16(ike.PortIKE)
	local, remote := f.ifAddr, f.peer
	if nw != nil {
		port = nw.Remote.Port()
		local, remote = nw.Local.Addr(), nw.Remote.Addr()
	}
	c.Printf("\n   protected vrf: (none)\n")
	c.Printf("   local  ident (addr/mask/prot/port): %s\n", identity(f.local))
	c.Printf("   remote ident (addr/mask/prot/port): %s\n", identity(f.remote))
	c.Printf("   current_peer %v port %d\n", f.peer, port)
	c.Printf("     PERMIT, flags={origin_is_acl,}\n")
	c.Printf("    #pkts encaps: %d, #pkts encrypt: %d, #pkts digest: %d\n", out.Packets, out.Packets, out.Packets)
	c.Printf("    #pkts decaps: %d, #pkts decrypt: %d, #pkts verify: %d\n", in.Packets, in.Packets, in.Packets)
	c.Printf("    #pkts compressed: 0, #pkts decompressed: 0\n")
	c.Printf("    #pkts not compressed: 0, #pkts compr. failed: 0\n")
	c.Printf("    #pkts not decompressed: 0, #pkts decompress failed: 0\n")
	if detail {
		// Outbound SAs count sequence-number exhaustion (RFC 4303 §3.3.3) as ErrReplay: IOS's
		// replay rollover on the send side. The receive side has no rollover without ESN.
		c.Printf("    #pkts no sa (send) %d, #pkts invalid sa (rcv) %d\n", noSA, invalidSA)
		c.Printf("    #pkts encaps failed (send) %d, #pkts decaps failed (rcv) %d\n", out.ErrOther, in.ErrDecrypt+in.ErrOther)
		c.Printf("    #pkts invalid prot (recv) 0, #pkts verify failed: %d\n", in.ErrAuth)
		c.Printf("    #pkts invalid identity (recv) 0, #pkts invalid len (rcv) 0\n")
		c.Printf("    #pkts replay rollover (send): %d, #pkts replay rollover (rcv) 0\n", out.ErrReplay)
		c.Printf("    ##pkts replay failed (rcv): %d\n", in.ErrReplay)
		c.Printf("    #pkts tagged (send): 0, #pkts untagged (rcv): 0\n")
		c.Printf("    #pkts not tagged (send): 0, #pkts not untagged (rcv): 0\n")
		c.Printf("    #pkts internal err (send): 0, #pkts internal err (recv) 0\n")
	} else {
		// The SAs' own errors: drops before an SA was found (no SA yet, unknown SPI) are in
		// the detail view only, as on IOS.
		c.Printf("    #send errors %d, #recv errors %d\n", out.ErrOther+out.ErrReplay,
			in.ErrReplay+in.ErrAuth+in.ErrDecrypt+in.ErrOther)
	}
	c.Printf("\n     local crypto endpt.: %v, remote crypto endpt.: %v\n", local, remote)
	c.Printf("     plaintext mtu %d, path mtu 1500, ip mtu 1500, ip mtu idb %s\n", plaintextMTU(1500, nw), f.iface)
	if nw != nil {
		c.Printf("     current outbound spi: 0x%X(%d)\n", nw.SPIOut, nw.SPIOut)
	} else {
		c.Printf("     current outbound spi: 0x0(0)\n")
	}
	pfs := "N, DH group: none"
	if nw != nil && nw.PFSGroup != 0 {
		pfs = fmt.Sprintf("Y, DH group: group%d", nw.PFSGroup)
	}
	c.Printf("     PFS (Y/N): %s\n", pfs)
	for _, dir := range []string{"inbound", "outbound"} {
		c.Printf("\n     %s esp sas:\n", dir)
		for i := range f.children {
			ch := &f.children[i]
			spi := ch.SPIOut
			if dir == "inbound" {
				spi = ch.SPIIn
			}
			c.Printf("      spi: 0x%X(%d)\n", spi, spi)
			printSA(c, ch, dir == "inbound", detail, "      ")
		}
		c.Printf("\n     %s ah sas:\n\n     %s pcp sas:\n", dir, dir)
	}
}

func add(dst *xfrm.Counters, c xfrm.Counters) {
	dst.Packets += c.Packets
	dst.Bytes += c.Bytes
	dst.Encaps += c.Encaps
	dst.Decaps += c.Decaps
	dst.ErrReplay += c.ErrReplay
	dst.ErrAuth += c.ErrAuth
	dst.ErrDecrypt += c.ErrDecrypt
	dst.ErrOther += c.ErrOther
}

// showIPsecSAAddress is `show crypto ipsec sa address`: the SAs grouped by destination.
func showIPsecSAAddress(c *shell.Context, st ike.Status) error {
	type one struct {
		ch  *ike.ChildInfo
		in  bool
		spi uint32
	}
	byDst := map[netip.Addr][]one{}
	for i := range st.IPsec {
		ch := &st.IPsec[i]
		byDst[ch.Local.Addr()] = append(byDst[ch.Local.Addr()], one{ch, true, ch.SPIIn})
		byDst[ch.Remote.Addr()] = append(byDst[ch.Remote.Addr()], one{ch, false, ch.SPIOut})
	}
	dsts := make([]netip.Addr, 0, len(byDst))
	for d := range byDst {
		dsts = append(dsts, d)
	}
	slices.SortFunc(dsts, netip.Addr.Compare)
	c.Printf("\n")
	if len(dsts) == 0 {
		c.Printf("No SAs found\n")
		return nil
	}
	for _, d := range dsts {
		c.Printf("dest address: %v\n   protocol: ESP\n", d)
		for _, o := range byDst[d] {
			c.Printf("      spi: 0x%X(%d)\n", o.spi, o.spi)
			printSA(c, o.ch, o.in, false, "    ")
			c.Printf("\n")
		}
	}
	return nil
}

// ---- show crypto session [detail] (§4.8)

// sessionStatus is IOS's session state from the ISAKMP SAs and the IPsec SA pairs.
func sessionStatus(p1 []ike.P1Info, pairs int) string {
	up, negotiating := false, false
	for _, p := range p1 {
		if p.Established {
			up = true
		} else {
			negotiating = true
		}
	}
	switch {
	case up && pairs > 0:
		return "UP-ACTIVE"
	case up:
		return "UP-IDLE"
	case pairs > 0:
		return "UP-NO-IKE"
	case negotiating:
		return "DOWN-NEGOTIATING"
	}
	return "DOWN"
}

// flowLine renders a flow as `show crypto session` does: "permit ip 10.1.1.0/255.255.255.0
// 10.2.2.0/255.255.255.0", with "host A" for /32 and the protocol number when not ip.
func flowLine(f *flow) string {
	side := func(s ike.Selector) string {
		p := s.Prefix.Masked()
		r := fmt.Sprintf("%v/%v", p.Addr(), maskOf(p.Bits()))
		if p.Bits() == 32 {
			r = "host " + p.Addr().String()
		}
		if s.Port != 0 {
			r += fmt.Sprintf(" port %d", s.Port)
		}
		return r
	}
	proto := "ip"
	if f.local.Proto != 0 {
		proto = fmt.Sprint(f.local.Proto)
	}
	return "permit " + proto + " " + side(f.local) + " " + side(f.remote)
}

type session struct {
	iface string
	peer  netip.Addr
	p1    []ike.P1Info
	flows []*flow
}

func sessions(cfg *runningconfig.Config, st ike.Status) []*session {
	var out []*session
	find := func(iface string, peer netip.Addr) *session {
		for _, s := range out {
			if s.iface == iface && s.peer == peer {
				return s
			}
		}
		s := &session{iface: iface, peer: peer}
		out = append(out, s)
		return s
	}
	for _, f := range flows(cfg, st) {
		if !f.peer.IsValid() {
			continue
		}
		s := find(f.iface, f.peer)
		s.flows = append(s.flows, f)
	}
	for _, p := range st.ISAKMP {
		var home *session
		for _, s := range out {
			if s.peer == p.Remote.Addr() {
				home = s
				break
			}
		}
		if home == nil {
			iface := ""
			for i := range cfg.Interfaces {
				if cfg.Interfaces[i].Address.IsValid() && cfg.Interfaces[i].Address.Addr() == p.Local.Addr() {
					iface = cfg.Interfaces[i].Name
				}
			}
			home = find(iface, p.Remote.Addr())
		}
		home.p1 = append(home.p1, p)
	}
	return out
}

func showSession(c *shell.Context, a parser.Args) error {
	cfg := c.Config.Running()
	st := status(c)
	detail := a.Has("detail")
	c.Printf("Crypto session current status\n")
	if detail {
		c.Printf(" \nCode: C - IKE Configuration mode, D - Dead Peer Detection    \n")
		c.Printf("K - Keepalives, N - NAT-traversal, T - cTCP encapsulation    \n")
		c.Printf("X - IKE Extended Authentication, F - IKE Fragmentation\n")
		c.Printf("R - IKE Auto Reconnect\n \n")
	} else {
		c.Printf("\n")
	}
	for _, s := range sessions(cfg, st) {
		pairs := 0
		for _, f := range s.flows {
			pairs += len(f.children)
		}
		state := sessionStatus(s.p1, pairs)
		local := netip.AddrPortFrom(netip.Addr{}, ike.PortIKE)
		remote := netip.AddrPortFrom(s.peer, ike.PortIKE)
		for _, f := range s.flows {
			if f.ifAddr.IsValid() {
				local = netip.AddrPortFrom(f.ifAddr, ike.PortIKE)
			}
		}
		var newest *ike.P1Info
		for i := range s.p1 {
			local, remote = s.p1[i].Local, s.p1[i].Remote
			if s.p1[i].Established {
				newest = &s.p1[i]
			}
		}
		c.Printf("Interface: %s\n", s.iface)
		if detail {
			if newest != nil {
				c.Printf("Uptime: %s\n", uptime(newest.Lifetime-newest.Remaining))
			}
			c.Printf("Session status: %-13s\n", state)
			c.Printf("Peer: %v port %d fvrf: (none) ivrf: (none)\n", s.peer, remote.Port())
			id := "(none)"
			if newest != nil {
				id = s.peer.String()
			}
			c.Printf("      Phase1_id: %s\n      Desc: (none)\n", id)
		} else {
			c.Printf("Session status: %-14s\n", state)
			c.Printf("Peer: %v port %d \n", s.peer, remote.Port())
		}
		p1s := s.p1
		if len(p1s) == 0 {
			p1s = []ike.P1Info{{Local: local, Remote: remote}}
		}
		for _, p := range p1s {
			word := "Inactive"
			if p.Established {
				word = "Active"
			}
			if detail {
				c.Printf("  Session ID: 0 \n")
				c.Printf("  IKEv1 SA: local %v/%d remote %v/%d %s\n", p.Local.Addr(), p.Local.Port(), p.Remote.Addr(), p.Remote.Port(), word)
				cp, life := caps(c, p), "0"
				if cp == "" {
					cp = "(none)"
				}
				if p.Established {
					life = hms(p.Remaining)
				}
				c.Printf("          Capabilities:%s connid:%d lifetime:%s\n", cp, p.ConnID, life)
			} else {
				c.Printf("  Session ID: 0  \n")
				c.Printf("  IKEv1 SA: local %v/%d remote %v/%d %s \n", p.Local.Addr(), p.Local.Port(), p.Remote.Addr(), p.Remote.Port(), word)
			}
		}
		for _, f := range s.flows {
			if detail {
				c.Printf("  IPSEC FLOW: %s\n", flowLine(f))
			} else {
				c.Printf("  IPSEC FLOW: %s \n", flowLine(f))
			}
			c.Printf("        Active SAs: %d, origin: crypto map\n", 2*len(f.children))
			if detail {
				var in, out xfrm.Counters
				for _, ch := range f.children {
					add(&in, ch.In)
					add(&out, ch.Out)
				}
				lifeIn, lifeOut := "0/0", "0/0"
				if nw := f.newest(); nw != nil {
					secs := int(nw.Remaining / time.Second)
					lifeIn = fmt.Sprintf("%d/%d", kbLeft(nw, nw.In.Bytes), secs)
					lifeOut = fmt.Sprintf("%d/%d", kbLeft(nw, nw.Out.Bytes), secs)
				}
				drop := in.ErrReplay + in.ErrAuth + in.ErrDecrypt + in.ErrOther
				c.Printf("        Inbound:  #pkts dec'ed %d drop %d life (KB/Sec) %s\n", in.Packets, drop, lifeIn)
				c.Printf("        Outbound: #pkts enc'ed %d drop %d life (KB/Sec) %s\n", out.Packets, out.ErrOther, lifeOut)
			}
		}
		if detail {
			c.Printf(" \n")
		} else {
			c.Printf("\n")
		}
	}
	return nil
}
