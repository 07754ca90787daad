package commands

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/tunnelbox/tunnelbox/ike"
	"github.com/tunnelbox/tunnelbox/ike/ikecrypto"
	"github.com/tunnelbox/tunnelbox/ike/isakmp"
	"github.com/tunnelbox/tunnelbox/parser"
	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
	"github.com/tunnelbox/tunnelbox/shell"
)

// The teaching views (new; no IOS has them, so they follow IOS's style):
//
//	show crypto isakmp exchange [peer A.B.C.D]
//	    the last exchanges with a peer drawn as a ladder, this router on the left: MM1..MM6
//	    or AM1..AM3, QM1..QM3, informational; each message with its decrypted payloads
//	    (proposals, identities, shortened nonces and KE values), the key derivation and hash
//	    formulas of RFC 2409 with the values computed from the exchange and checked against
//	    the HASH payloads, and for a failed negotiation the reason in plain words and the
//	    configuration lines to compare on both ends.
//	monitor capture crypto export WORD [peer A.B.C.D]
//	    writes the ISAKMP messages of those exchanges as a pcap (raw IPv4/UDP, what the
//	    router sent and received), with the ESP-in-UDP datagrams the capture point recorded
//	    merged in by time, and, next to it, WORD.ikev1_decryption_table and WORD.esp_sa:
//	    Wireshark's UAT files (the same lines its profile keeps) with the phase-1 encryption
//	    keys and the keys of the live IPsec SAs, so that Wireshark or
//	    `tshark -o uat:ikev1_decryption_table:LINE -o uat:esp_sa:LINE
//	    -o esp.enable_encryption_decode:TRUE` shows the capture decrypted.
//	monitor capture crypto start [limit packets (1-100000)]
//	monitor capture crypto stop | clear
//	    the capture point of the ESP traffic, in the style of IOS-XE's Embedded Packet
//	    Capture: start records every ESP-in-UDP datagram the router receives and sends on UDP
//	    4500 (the userspace data plane's traffic; the kernel data plane's ESP bypasses it),
//	    at most the packet limit (default 1000) and 4 MB, the oldest dropped first; stop ends
//	    recording and keeps the buffer for export; clear stops it and frees the buffer.
const (
	helpExchange   = "Show the last ISAKMP exchanges as a message ladder (teaching view)"
	helpExchPeer   = "Exchanges with one peer"
	helpExchAddr   = "IP address of the peer"
	helpMonitor    = "Monitoring different system events"
	helpCapture    = "Monitor Capture"
	helpCapCrypto  = "ISAKMP messages and ESP traffic of the crypto engine, with their keys"
	helpCapExport  = "Export the messages as a pcap file and Wireshark key files"
	helpCapFile    = "File name (the key files are written next to it)"
	helpCapStart   = "Start recording the ESP-in-UDP datagrams of the data plane"
	helpCapStop    = "Stop recording (the buffer is kept for export)"
	helpCapClear   = "Clear the recorded datagrams"
	helpCapLimit   = "Limit the capture"
	helpCapLimPkts = "Limit on the number of packets (default 1000)"
	helpCapNPkts   = "Number of packets"
	capPoint       = "crypto" // the capture point's name in the messages
	shortValueHalf = 8        // hex digits kept at each end of a shortened value
)

// RegisterTeach installs the teaching views.
func RegisterTeach(app *shell.App) error {
	g, ms := app.Grammar(), app.Modes()
	cmds := []*parser.Command{
		{Syntax: "show crypto isakmp exchange [peer A.B.C.D$peer]",
			Help: []string{shell.HelpShow, HelpShowCrypto, HelpShowCryptoISAKMP, helpExchange, helpExchPeer, helpExchAddr},
			Priv: 15, Handler: shell.Handler(showExchange)},
		{Syntax: "monitor capture crypto export WORD$file [peer A.B.C.D$peer]",
			Help: []string{helpMonitor, helpCapture, helpCapCrypto, helpCapExport, helpCapFile, helpExchPeer, helpExchAddr},
			Priv: 15, Handler: shell.Handler(exportCapture)},
		{Syntax: "monitor capture crypto start [limit packets (1-100000)$packets]",
			Help: []string{helpMonitor, helpCapture, helpCapCrypto, helpCapStart, helpCapLimit, helpCapLimPkts, helpCapNPkts},
			Priv: 15, Handler: shell.Handler(startCapture)},
		{Syntax: "monitor capture crypto stop",
			Help: []string{helpMonitor, helpCapture, helpCapCrypto, helpCapStop},
			Priv: 15, Handler: shell.Handler(stopCapture)},
		{Syntax: "monitor capture crypto clear",
			Help: []string{helpMonitor, helpCapture, helpCapCrypto, helpCapClear},
			Priv: 15, Handler: shell.Handler(clearCapture)},
	}
	return install(g, ms.Exec, "teaching views", cmds...)
}

// history returns the engine's recent events with peer (every peer when none is given).
func history(c *shell.Context, a parser.Args) []ike.Event {
	e := c.App.Engine()
	if e == nil {
		return nil
	}
	var peer netip.Addr
	if a.Has("peer") {
		peer = a.IP("peer")
	}
	return e.History(peer)
}

// decoded is one traced message with its payloads.
type decoded struct {
	ev  ike.Event
	pt  *ike.PacketTrace
	m   *isakmp.Message
	err error // why the payloads are not available (encrypted without keys, malformed)
}

func decode(ev ike.Event) *decoded {
	d := &decoded{ev: ev, pt: ev.Packet}
	m, err := isakmp.Parse(d.pt.Wire)
	d.m = m
	if m == nil {
		d.err = err
		return d
	}
	if m.Header.Flags.Has(isakmp.FlagEncryption) {
		if len(d.pt.Plain) == 0 {
			d.err = fmt.Errorf("encrypted, did not decrypt")
			return d
		}
		d.err = m.Decrypted(d.pt.Plain)
	}
	return d
}

// exchangeState collects what the formulas of one ISAKMP SA need, message by message.
type exchangeState struct {
	icky, rcky isakmp.Cookie
	saiB       []byte
	gxi, gxr   []byte
	ni, nr     []byte // phase-1 nonces
	idiB, idrB []byte // phase-1 identities (bodies): IDii_b for HASH_I, IDir_b for HASH_R
	keys       *ike.TraceKeys
	keysShown  bool
	qmNi       map[uint32][]byte
	qmNr       map[uint32][]byte
	initiator  bool // this router initiated phase 1
}

func showExchange(c *shell.Context, a parser.Args) error {
	evs := history(c, a)
	var peers []netip.Addr
	for _, ev := range evs {
		if !slices.Contains(peers, ev.Peer) {
			peers = append(peers, ev.Peer)
		}
	}
	if len(peers) == 0 {
		c.Printf("No ISAKMP exchanges recorded\n")
		return nil
	}
	slices.SortFunc(peers, netip.Addr.Compare)
	for _, p := range peers {
		var mine []ike.Event
		for _, ev := range evs {
			if ev.Peer == p {
				mine = append(mine, ev)
			}
		}
		drawLadder(c, p, mine)
	}
	return nil
}

// ladder geometry: this router's column, the arrow, the peer's column.
const arrowLen = 44

func arrow(label string, right bool) string {
	body := strings.Repeat("-", max(arrowLen-7-len(label), 1))
	if right {
		return "|-- " + label + " " + body + ">|"
	}
	return "|<" + body + " " + label + " --|"
}

func drawLadder(c *shell.Context, peer netip.Addr, evs []ike.Event) {
	var local netip.Addr
	for _, ev := range evs {
		if ev.Packet != nil {
			local = ev.Packet.Local.Addr()
		}
	}
	c.Printf("ISAKMP exchanges with %v, oldest first\n\n", peer)
	left := "this router"
	if local.IsValid() {
		left = local.String()
	}
	c.Printf("  %-*s%v\n", arrowLen+1, left, peer)
	var st *exchangeState
	var lastFail *ike.Event
	for i := range evs {
		ev := evs[i]
		switch ev.Kind {
		case ike.EvPacket:
			d := decode(ev)
			if d.m == nil {
				c.Printf("  %s  (undecodable: %v)\n", arrow(ev.Packet.Exchange, ev.Packet.Sent), d.err)
				continue
			}
			h := d.m.Header
			if st == nil || st.icky != h.ICookie {
				st = &exchangeState{icky: h.ICookie, qmNi: map[uint32][]byte{}, qmNr: map[uint32][]byte{},
					initiator: ev.Packet.Sent == (ev.Packet.Exchange == "MM1" || ev.Packet.Exchange == "AM1")}
				c.Printf("  |%*s|  ISAKMP SA I-cookie %X\n", arrowLen-2, "", h.ICookie[:])
			}
			if st.rcky.IsZero() && !h.RCookie.IsZero() {
				st.rcky = h.RCookie
			}
			c.Printf("  %s  %s\n", arrow(ev.Packet.Exchange, ev.Packet.Sent), LogTimeShort(ev.Time))
			explainMessage(c, st, d)
		case ike.EvPhase1Up:
			c.Printf("  |%*s|  phase 1 complete: ISAKMP SA conn-id %d is QM_IDLE\n", arrowLen-2, "", ev.ConnID)
		case ike.EvPhase2Up:
			c.Printf("  |%*s|  phase 2 complete: %s\n", arrowLen-2, "", ev.Text)
		case ike.EvPhase1Down, ike.EvPhase2Down:
			c.Printf("  |%*s|  %s\n", arrowLen-2, "", ev.Text)
		case ike.EvFailure:
			c.Printf("  |%*s|  FAILED: %s\n", arrowLen-2, "", ev.Reason)
			if ev.Detail != "" {
				c.Printf("  |%*s|    %s\n", arrowLen-2, "", ev.Detail)
			}
			e := ev
			lastFail = &e
		}
	}
	c.Printf("\n")
	if lastFail != nil {
		explainFailure(c, peer, *lastFail, evs)
	}
}

// LogTimeShort is the time of a message in the ladder: hh:mm:ss.mmm.
func LogTimeShort(t time.Time) string { return t.Format("15:04:05.000") }

// short renders a long value as its first and last hex digits and its length.
func short(b []byte) string {
	h := hex.EncodeToString(b)
	if len(h) <= 4*shortValueHalf {
		return h
	}
	return fmt.Sprintf("%s...%s (%d bytes)", h[:shortValueHalf], h[len(h)-shortValueHalf:], len(b))
}

func hexs(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }

// note prints one explanation line under a message.
func note(c *shell.Context, format string, args ...any) {
	c.Printf("  |%*s|    %s\n", arrowLen-2, "", fmt.Sprintf(format, args...))
}

func explainMessage(c *shell.Context, st *exchangeState, d *decoded) {
	name := d.pt.Exchange
	h := d.m.Header
	if d.err != nil {
		note(c, "(%v)", d.err)
	}
	if h.Flags.Has(isakmp.FlagEncryption) {
		note(c, "encrypted with Ka (%s); M-ID %d", cipherName(st.keys, d.pt.Keys), int32(h.MessageID))
	}
	var hashP *isakmp.Hash
	for _, p := range d.m.Payloads {
		switch p := p.(type) {
		case *isakmp.SA:
			if name == "MM1" || name == "AM1" {
				st.saiB = isakmp.Body(p)
			}
			for _, line := range saLines(p) {
				note(c, "%s", line)
			}
		case *isakmp.KE:
			// The RFC 2409 names: g^xi from the initiator (of phase 1, or of the Quick Mode
			// with PFS), g^xr from the responder; the formulas below use them.
			if sentByInitiator(st, d) {
				note(c, "KE: g^xi %s", short(p.Data))
				if h.MessageID == 0 {
					st.gxi = p.Data
				}
			} else {
				note(c, "KE: g^xr %s", short(p.Data))
				if h.MessageID == 0 {
					st.gxr = p.Data
				}
			}
		case *isakmp.Nonce:
			who := "Nr"
			if sentByInitiator(st, d) {
				who = "Ni"
			}
			note(c, "NONCE: %s %s", who, short(p.Data))
			switch {
			case h.MessageID == 0 && who == "Ni":
				st.ni = p.Data
			case h.MessageID == 0:
				st.nr = p.Data
			case who == "Ni":
				st.qmNi[h.MessageID] = p.Data
			default:
				st.qmNr[h.MessageID] = p.Data
			}
		case *isakmp.ID:
			note(c, "ID: %v", p)
			switch {
			case h.MessageID != 0:
			case sentByInitiator(st, d):
				st.idiB = isakmp.Body(p)
			default:
				st.idrB = isakmp.Body(p)
			}
		case *isakmp.Hash:
			if hashP == nil {
				hashP = p
			}
		case *isakmp.VendorID:
			note(c, "VID: %s", isakmp.VendorName(p.Data))
		case *isakmp.NATD:
			note(c, "NAT-D: %s", short(p.Hash))
		case *isakmp.Notify:
			note(c, "NOTIFY: %v", p.NotifyType)
		case *isakmp.Delete:
			spis := make([]string, len(p.SPIs))
			for j, s := range p.SPIs {
				spis[j] = hexs(s)
			}
			note(c, "DELETE: %v SPI %s", p.Protocol, strings.Join(spis, " "))
		default:
			note(c, "%v payload", p.Type())
		}
	}
	if d.pt.Keys != nil && st.keys == nil {
		st.keys = d.pt.Keys
	}
	if st.keys != nil && !st.keysShown && h.MessageID == 0 && len(st.ni) > 0 && len(st.nr) > 0 {
		st.keysShown = true
		k := st.keys
		note(c, "keys (%v):", k.Hash)
		note(c, "  SKEYID   = prf(pre-shared-key, Ni_b | Nr_b)            = %s", hexs(k.SKEYID))
		note(c, "  SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0)       = %s", hexs(k.SKEYIDd))
		note(c, "  SKEYID_a = prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1) = %s", hexs(k.SKEYIDa))
		note(c, "  SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2) = %s", hexs(k.SKEYIDe))
		note(c, "  Ka       = SKEYID_e expanded to the key size           = %s", hexs(k.EncKey))
	}
	if hashP == nil || st.keys == nil {
		return
	}
	p1 := &ikecrypto.Phase1{Hash: st.keys.Hash, SKEYID: st.keys.SKEYID, SKEYIDa: st.keys.SKEYIDa}
	var formula string
	var want []byte
	mid := h.MessageID
	switch {
	// Phase 1: HASH_I comes from the initiator (MM5, AM3), HASH_R from the responder (MM6,
	// AM2), each over the identity its sender sent (in Aggressive Mode, AM3 carries none: it
	// is AM1's).
	case h.MessageID == 0 && sentByInitiator(st, d) && st.idiB != nil:
		formula = "HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b)"
		want = p1.HashI(st.gxi, st.gxr, st.icky, st.rcky, st.saiB, st.idiB)
	case h.MessageID == 0 && !sentByInitiator(st, d) && st.idrB != nil:
		formula = "HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b)"
		want = p1.HashR(st.gxi, st.gxr, st.icky, st.rcky, st.saiB, st.idrB)
	case h.Exchange == isakmp.ExchangeQuick && name == "QM1":
		formula = "HASH(1) = prf(SKEYID_a, M-ID | SA | Ni [| KE] [| IDci | IDcr])"
		want = p1.Hash1(mid, d.m.ChainFrom(1))
	case h.Exchange == isakmp.ExchangeQuick && name == "QM2":
		formula = "HASH(2) = prf(SKEYID_a, M-ID | Ni_b | SA | Nr [| KE] [| IDci | IDcr])"
		want = p1.Hash2(mid, st.qmNi[mid], d.m.ChainFrom(1))
	case h.Exchange == isakmp.ExchangeQuick && name == "QM3":
		formula = "HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b)"
		want = p1.Hash3(mid, st.qmNi[mid], st.qmNr[mid])
	case h.Exchange == isakmp.ExchangeInformational:
		formula = "HASH(1) = prf(SKEYID_a, M-ID | N/D)"
		want = p1.InfoHash(mid, d.m.ChainFrom(1))
	default:
		note(c, "HASH: %s", hexs(hashP.Data))
		return
	}
	verdict := "matches the HASH payload"
	if !bytes.Equal(want, hashP.Data) {
		verdict = "DIFFERS from the HASH payload " + hexs(hashP.Data)
	}
	note(c, "%s", formula)
	note(c, "  = %s (%s)", hexs(want), verdict)
}

// sentByInitiator reports whether the message came from the phase-1 initiator. Quick Mode
// has its own initiator: QM1 and QM3 come from it.
func sentByInitiator(st *exchangeState, d *decoded) bool {
	switch d.pt.Exchange {
	case "MM1", "MM3", "MM5", "AM1", "AM3":
		return true
	case "MM2", "MM4", "MM6", "AM2":
		return false
	case "QM1", "QM3":
		return true
	case "QM2":
		return false
	}
	return d.pt.Sent == st.initiator
}

func cipherName(k, k2 *ike.TraceKeys) string {
	if k == nil {
		k = k2
	}
	if k == nil {
		return "keys unknown"
	}
	return k.Cipher.String()
}

// saLines summarises an SA payload: one line per proposal and transform.
func saLines(sa *isakmp.SA) []string {
	var out []string
	for _, pr := range sa.Proposals {
		spi := ""
		if len(pr.SPI) > 0 {
			spi = " SPI " + hexs(pr.SPI)
		}
		out = append(out, fmt.Sprintf("SA: proposal %d %v%s", pr.Number, pr.Protocol, spi))
		for _, t := range pr.Transforms {
			out = append(out, "      transform "+fmt.Sprint(t.Number)+": "+transformSummary(pr.Protocol, t))
		}
	}
	return out
}

func transformSummary(p isakmp.ProtocolID, t *isakmp.Transform) string {
	if p == isakmp.ProtocolISAKMP {
		a, err := t.IKEAttributes()
		if err != nil {
			return err.Error()
		}
		s := a.Encryption.String()
		if a.KeyLength != 0 {
			s += fmt.Sprintf("/%d", a.KeyLength)
		}
		s += fmt.Sprintf(", %v, %v, group %d", a.Hash, a.AuthMethod, a.Group)
		if a.LifeSeconds != 0 {
			s += fmt.Sprintf(", life %ds", a.LifeSeconds)
		}
		return s
	}
	a, err := t.IPsecAttributes(p)
	if err != nil {
		return err.Error()
	}
	s := isakmp.TransformName(p, t.ID)
	if a.KeyLength != 0 {
		s += fmt.Sprintf("/%d", a.KeyLength)
	}
	if a.AuthAlgorithm != 0 {
		s += fmt.Sprintf(", %v", a.AuthAlgorithm)
	}
	s += fmt.Sprintf(", %v", a.Encapsulation)
	if a.Group != 0 {
		s += fmt.Sprintf(", PFS group %d", a.Group)
	}
	if a.LifeSeconds != 0 {
		s += fmt.Sprintf(", life %ds", a.LifeSeconds)
	}
	if a.LifeKilobytes != 0 {
		s += fmt.Sprintf("/%dKB", a.LifeKilobytes)
	}
	return s
}

// explainFailure says why the last negotiation failed, in plain words, and which configuration
// lines to compare: this router's, and what the peer's messages show of its own.
func explainFailure(c *shell.Context, peer netip.Addr, f ike.Event, evs []ike.Event) {
	cfg := c.Config.Running()
	c.Printf("Why it failed: %s.\n", plainWords(f, evs))
	if f.Detail != "" {
		c.Printf("  (%s)\n", f.Detail)
	}
	c.Printf("\nCompare on both ends:\n")
	host := cfg.Hostname
	peerSaw := peerOffer(evs)
	switch f.Reason {
	case ike.ReasonNoPolicy, ike.ReasonPeerRefused:
		c.Printf("  here (%s):\n", host)
		for _, p := range cfg.ISAKMPPolicies() {
			for _, l := range policyLines(p) {
				c.Printf("    %s\n", l)
			}
		}
		if len(peerSaw.p1) > 0 {
			c.Printf("  %v (from its proposal):\n", peer)
			for _, l := range peerSaw.p1 {
				c.Printf("    %s\n", l)
			}
		}
	case ike.ReasonAuthFailed, ike.ReasonNoPSK, ike.ReasonTimeout:
		c.Printf("  here (%s):\n", host)
		if _, ok := cfg.PreSharedKey(peer); ok {
			c.Printf("    crypto isakmp key <hidden> address %v\n", peer)
		} else {
			c.Printf("    (no crypto isakmp key for %v)\n", peer)
		}
		c.Printf("  %v: the same key, for this router's address\n", peer)
	default:
		c.Printf("  here (%s):\n", host)
		for _, ent := range cfg.ActiveMapEntries() {
			if !slices.Contains(ent.Peers, peer) {
				continue
			}
			c.Printf("    crypto map %s %d ipsec-isakmp\n", ent.Entry.Map, ent.Entry.Seq)
			c.Printf("     set peer %v\n", peer)
			for _, ts := range ent.TransformSets {
				c.Printf("     set transform-set %s    ! %s", ts.Name, strings.Join(ts.Transforms(), " "))
				if ts.Transport {
					c.Printf(", mode transport")
				}
				c.Printf("\n")
			}
			if ent.Entry.PFSGroup != 0 {
				c.Printf("     set pfs group%d\n", ent.Entry.PFSGroup)
			}
			c.Printf("     match address %s\n", ent.Entry.MatchACL)
			if ent.ACL != nil {
				for j := range ent.ACL.Entries {
					e := &ent.ACL.Entries[j]
					if l, r, ok := aclSelectors(e); ok {
						c.Printf("    access-list %s permit %s\n", ent.ACL.Name, strings.TrimPrefix(flowLine(&flow{local: l, remote: r}), "permit "))
					}
				}
			}
		}
		if len(peerSaw.p2) > 0 {
			c.Printf("  %v (from its Quick Mode proposal; its ACL must mirror this router's):\n", peer)
			for _, l := range peerSaw.p2 {
				c.Printf("    %s\n", l)
			}
		}
	}
}

// plainWords explains a failure reason for a learner.
func plainWords(f ike.Event, evs []ike.Event) string {
	switch f.Reason {
	case ike.ReasonNoPolicy:
		return "the two routers have no ISAKMP policy in common (encryption, hash, authentication, DH group and lifetime must all match one policy on the responder)"
	case ike.ReasonAuthFailed:
		return "the pre-shared keys differ: the peer's HASH, computed with its key, does not match the one computed here"
	case ike.ReasonNoPSK:
		return "there is no pre-shared key for this peer"
	case ike.ReasonTimeout:
		last := ""
		for _, ev := range evs {
			if ev.Kind == ike.EvPacket && ev.Packet.Sent {
				last = ev.Packet.Exchange
			}
		}
		if last == "MM5" {
			return "the peer never answered MM5: it could not decrypt or verify it, which on IOS means the pre-shared keys differ"
		}
		return "the peer stopped answering (after " + last + ")"
	case ike.ReasonNoTransform:
		return "no transform set matches: both crypto map entries must offer the same ESP encryption, authentication and mode"
	case ike.ReasonPFSMismatch:
		return "Perfect Forward Secrecy differs: `set pfs` must name the same group on both crypto map entries (or be absent on both)"
	case ike.ReasonProxyMismatch:
		return "the proxy identities do not match: each crypto ACL must be the mirror image of the other (source and destination swapped)"
	case ike.ReasonPeerRefused:
		return "the peer refused the proposal (see its debug output: it names the part that did not match)"
	}
	return f.Reason.String()
}

// offer is what the peer's own messages reveal about its configuration.
type offer struct{ p1, p2 []string }

func peerOffer(evs []ike.Event) offer {
	var o offer
	for _, ev := range evs {
		if ev.Kind != ike.EvPacket || ev.Packet.Sent {
			continue
		}
		d := decode(ev)
		if d.m == nil {
			continue
		}
		for _, p := range d.m.Payloads {
			switch p := p.(type) {
			case *isakmp.SA:
				if d.pt.Exchange == "MM1" || d.pt.Exchange == "AM1" {
					o.p1 = nil
					for _, pr := range p.Proposals {
						for _, t := range pr.Transforms {
							if a, err := t.IKEAttributes(); err == nil {
								o.p1 = append(o.p1, offeredPolicy(a)...)
							}
						}
					}
				}
				if d.pt.Exchange == "QM1" {
					o.p2 = nil
					for _, pr := range p.Proposals {
						for _, t := range pr.Transforms {
							o.p2 = append(o.p2, "proposal: "+transformSummary(pr.Protocol, t))
						}
					}
				}
			case *isakmp.ID:
				if d.pt.Exchange == "QM1" {
					o.p2 = append(o.p2, fmt.Sprintf("identity: %v", p))
				}
			}
		}
	}
	return o
}

// offeredPolicy writes a received phase-1 transform as the policy lines that would match it.
func offeredPolicy(a isakmp.IKEAttributes) []string {
	enc := map[isakmp.EncryptionAlgorithm]string{isakmp.EncryptionDES: "des", isakmp.Encryption3DES: "3des",
		isakmp.EncryptionAES: "aes"}[a.Encryption]
	if enc == "" {
		enc = a.Encryption.String()
	}
	if a.Encryption == isakmp.EncryptionAES && a.KeyLength != 128 {
		enc += fmt.Sprintf(" %d", a.KeyLength)
	}
	hash := map[isakmp.HashAlgorithm]string{isakmp.HashMD5: "md5", isakmp.HashSHA1: "sha",
		isakmp.HashSHA2256: "sha256", isakmp.HashSHA2384: "sha384", isakmp.HashSHA2512: "sha512"}[a.Hash]
	auth := "pre-share"
	if a.AuthMethod != isakmp.AuthPreSharedKey {
		auth = a.AuthMethod.String()
	}
	l := []string{"crypto isakmp policy <n>", " encr " + enc, " hash " + hash, " authentication " + auth,
		fmt.Sprintf(" group %d", a.Group)}
	if a.LifeSeconds != 0 && a.LifeSeconds != runningconfig.DefaultISAKMPLifetime {
		l = append(l, fmt.Sprintf(" lifetime %d", a.LifeSeconds))
	}
	return l
}

// policyLines renders one of this router's ISAKMP policies as configuration lines.
func policyLines(p runningconfig.ISAKMPPolicy) []string {
	l := []string{fmt.Sprintf("crypto isakmp policy %d", p.Priority), " encr " + p.EncryptionKeyword(),
		" hash " + p.Hash.String(), " authentication " + p.Auth.String(), fmt.Sprintf(" group %d", p.Group)}
	if p.Lifetime != 0 && p.Lifetime != runningconfig.DefaultISAKMPLifetime {
		l = append(l, fmt.Sprintf(" lifetime %d", p.Lifetime))
	}
	return l
}

// ---- capture export

// pcap constants (https://www.tcpdump.org/manpages/pcap-savefile.5.html).
const (
	pcapMagic    = 0xa1b2c3d4
	linktypeRaw  = 101 // raw IPv4/IPv6
	pcapSnapLen  = 65535
	ipv4HdrLen   = 20
	udpHdrLen    = 8
	ipProtoUDP   = 17
	defaultTTL   = 255
	nonESPMarker = 4
)

// Wireshark's esp_sa UAT names of the transforms (Wireshark 4.x).
var (
	wiresharkEncr = map[string]string{"esp-aes": "AES-CBC [RFC3602]", "esp-3des": "TripleDES-CBC [RFC2451]",
		"esp-des": "DES-CBC [RFC2405]", "esp-null": "NULL", "esp-gcm": "AES-GCM with 16 octet ICV [RFC4106]"}
	wiresharkAuth = map[string]string{"esp-sha-hmac": "HMAC-SHA-1-96 [RFC2404]", "esp-md5-hmac": "HMAC-MD5-96 [RFC2403]",
		"esp-sha256-hmac": "HMAC-SHA-256-128 [RFC4868]", "esp-sha384-hmac": "HMAC-SHA-384-192 [RFC4868]",
		"esp-sha512-hmac": "HMAC-SHA-512-256 [RFC4868]", "": "NULL"}
)

// ipv4UDP builds an IPv4/UDP packet around payload (UDP checksum 0: optional over IPv4).
func ipv4UDP(src, dst netip.AddrPort, payload []byte, id uint16) []byte {
	n := ipv4HdrLen + udpHdrLen + len(payload)
	b := make([]byte, n)
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:], uint16(n))
	binary.BigEndian.PutUint16(b[4:], id)
	b[8] = defaultTTL
	b[9] = ipProtoUDP
	s, d := src.Addr().As4(), dst.Addr().As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	var sum uint32
	for i := 0; i < ipv4HdrLen; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(b[10:], ^uint16(sum))
	u := b[ipv4HdrLen:]
	binary.BigEndian.PutUint16(u[0:], src.Port())
	binary.BigEndian.PutUint16(u[2:], dst.Port())
	binary.BigEndian.PutUint16(u[4:], uint16(udpHdrLen+len(payload)))
	copy(u[udpHdrLen:], payload)
	return b
}

// Capture is what the export writes: the pcap and the two Wireshark UAT files.
type Capture struct {
	Pcap          []byte
	IKEv1Table    []string // ikev1_decryption_table lines: initiator cookie,encryption key (hex, unquoted as Wireshark writes byte fields)
	ESPSA         []string // esp_sa lines
	Messages      int      // ISAKMP messages written
	ESPPackets    int      // ESP datagrams written
	ISAKMPSAs     int
	IPsecSAKeyed  int
	SkippedNonV4  int
	SkippedNoAddr int       // sent ESP datagrams whose source address could not be told (no SA, no exchange)
	FirstExchange time.Time // time of the first datagram written
}

// capRecord is one datagram of the pcap.
type capRecord struct {
	t        time.Time
	src, dst netip.AddrPort
	payload  []byte
}

// BuildCapture turns traced ISAKMP messages, recorded ESP datagrams (the ESP tap, possibly
// none) and the live IPsec SAs into a capture; the datagrams are written in time order. A sent
// ESP datagram's source address (the kernel chose it) is the local address of the SA its SPI
// belongs to, else the router's address in the last exchange with that peer.
func BuildCapture(evs []ike.Event, children []ike.ChildInfo, esp []ike.TappedESP) *Capture {
	cp := &Capture{}
	var recs []capRecord
	seenKey := map[[8]byte]bool{}
	lastLocal := map[netip.Addr]netip.Addr{} // peer -> our address in its exchanges
	for _, ev := range evs {
		pt := ev.Packet
		if ev.Kind != ike.EvPacket || pt == nil {
			continue
		}
		if !pt.Local.Addr().Is4() || !pt.Remote.Addr().Is4() {
			cp.SkippedNonV4++
			continue
		}
		lastLocal[pt.Remote.Addr()] = pt.Local.Addr()
		src, dst := pt.Local, pt.Remote
		if !pt.Sent {
			src, dst = dst, src
		}
		payload := pt.Wire
		if src.Port() == ike.PortNATT || dst.Port() == ike.PortNATT {
			payload = append(make([]byte, nonESPMarker), pt.Wire...)
		}
		recs = append(recs, capRecord{t: ev.Time, src: src, dst: dst, payload: payload})
		cp.Messages++
		if pt.Keys != nil && len(pt.Wire) >= 8 {
			var ck [8]byte
			copy(ck[:], pt.Wire[:8])
			if !seenKey[ck] {
				seenKey[ck] = true
				cp.IKEv1Table = append(cp.IKEv1Table, hex.EncodeToString(ck[:])+","+hex.EncodeToString(pt.Keys.EncKey))
				cp.ISAKMPSAs++
			}
		}
	}
	outSPI := map[uint32]netip.Addr{} // outbound SPI -> our tunnel address
	for _, ch := range children {
		outSPI[ch.SPIOut] = ch.Local.Addr()
	}
	for _, d := range esp {
		local, remote := d.Local, d.Remote
		if d.Sent && local.Addr().IsUnspecified() {
			a, ok := netip.Addr{}, false
			if len(d.Data) >= 4 {
				a, ok = outSPI[binary.BigEndian.Uint32(d.Data)]
			}
			if !ok {
				a, ok = lastLocal[remote.Addr()]
			}
			if !ok {
				cp.SkippedNoAddr++
				continue
			}
			local = netip.AddrPortFrom(a, local.Port())
		}
		if !local.Addr().Is4() || !remote.Addr().Is4() {
			cp.SkippedNonV4++
			continue
		}
		src, dst := local, remote
		if !d.Sent {
			src, dst = dst, src
		}
		recs = append(recs, capRecord{t: d.Time, src: src, dst: dst, payload: d.Data})
		cp.ESPPackets++
	}
	slices.SortStableFunc(recs, func(a, b capRecord) int { return a.t.Compare(b.t) })

	var buf bytes.Buffer
	hdr := make([]byte, 24)
	binary.LittleEndian.PutUint32(hdr[0:], pcapMagic)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], pcapSnapLen)
	binary.LittleEndian.PutUint32(hdr[20:], linktypeRaw)
	buf.Write(hdr)
	for i, r := range recs {
		if i == 0 {
			cp.FirstExchange = r.t
		}
		pkt := ipv4UDP(r.src, r.dst, r.payload, uint16(i+1))
		rec := make([]byte, 16)
		binary.LittleEndian.PutUint32(rec[0:], uint32(r.t.Unix()))
		binary.LittleEndian.PutUint32(rec[4:], uint32(r.t.Nanosecond()/1000))
		binary.LittleEndian.PutUint32(rec[8:], uint32(len(pkt)))
		binary.LittleEndian.PutUint32(rec[12:], uint32(len(pkt)))
		buf.Write(rec)
		buf.Write(pkt)
	}
	for _, ch := range children {
		enc, ok1 := wiresharkEncr[ch.Transform.ESPCipher]
		auth, ok2 := wiresharkAuth[ch.Transform.ESPAuth]
		if !ok1 || !ok2 {
			continue
		}
		for _, dir := range []struct {
			src, dst netip.Addr
			spi      uint32
			keys     ikecrypto.ESPKeys
		}{{ch.Remote.Addr(), ch.Local.Addr(), ch.SPIIn, ch.KeysIn}, {ch.Local.Addr(), ch.Remote.Addr(), ch.SPIOut, ch.KeysOut}} {
			cp.ESPSA = append(cp.ESPSA, fmt.Sprintf(`"IPv4","%v","%v","0x%08x","%s","0x%s","%s","0x%s"`,
				dir.src, dir.dst, dir.spi, enc, hex.EncodeToString(dir.keys.Enc), auth, hex.EncodeToString(dir.keys.Auth)))
		}
		cp.IPsecSAKeyed++
	}
	cp.Pcap = buf.Bytes()
	return cp
}

// capTransport returns the router's UDP transport (where the ESP tap lives), or an IOS-style
// message when ISAKMP is not running.
func capTransport(c *shell.Context) (*ike.UDP, error) {
	e := c.App.Engine()
	if e == nil {
		return nil, shell.Msgf("%% Capture point %s: ISAKMP is not running (no crypto map is applied to an interface)", capPoint)
	}
	u := e.UDP()
	if u == nil {
		return nil, shell.Msgf("%% Capture point %s: the crypto engine has no UDP transport to capture on", capPoint)
	}
	return u, nil
}

func startCapture(c *shell.Context, a parser.Args) error {
	u, err := capTransport(c)
	if err != nil {
		return err
	}
	n := ike.DefaultTapPackets
	if a.Has("packets") {
		n = a.Int("packets")
	}
	u.StartESPTap(n, ike.DefaultTapBytes)
	c.Printf("Started capture point : %s\n", capPoint)
	return nil
}

func stopCapture(c *shell.Context, _ parser.Args) error {
	u, err := capTransport(c)
	if err != nil {
		return err
	}
	_, st := u.ESPTap()
	if !st.Active {
		return shell.Msgf("%% Capture point %s is not active", capPoint)
	}
	u.StopESPTap()
	_, st = u.ESPTap()
	c.Printf("Stopped capture point : %s\n", capPoint)
	c.Printf("%d ESP packets (%d bytes) in the buffer, %d dropped at the limit\n", st.Packets, st.Bytes, st.Dropped)
	return nil
}

func clearCapture(c *shell.Context, _ parser.Args) error {
	u, err := capTransport(c)
	if err != nil {
		return err
	}
	u.ClearESPTap()
	return nil
}

func exportCapture(c *shell.Context, a parser.Args) error {
	path := a.Str("file")
	var children []ike.ChildInfo
	var esp []ike.TappedESP
	tapped := false
	if e := c.App.Engine(); e != nil {
		for _, ch := range e.Status().IPsec {
			if !a.Has("peer") || ch.Peer == a.IP("peer") {
				children = append(children, ch)
			}
		}
		if u := e.UDP(); u != nil {
			all, st := u.ESPTap()
			tapped = st.Active || st.Packets > 0
			for _, d := range all {
				if !a.Has("peer") || d.Remote.Addr() == a.IP("peer") {
					esp = append(esp, d)
				}
			}
		}
	}
	cp := BuildCapture(history(c, a), children, esp)
	files := []struct {
		name string
		data []byte
	}{
		{path, cp.Pcap},
		{path + ".ikev1_decryption_table", []byte(joinLines(cp.IKEv1Table))},
		{path + ".esp_sa", []byte(joinLines(cp.ESPSA))},
	}
	for _, f := range files {
		if err := os.WriteFile(f.name, f.data, 0o600); err != nil {
			return shell.Msgf("%%Error opening %s (%v)", f.name, err)
		}
	}
	if tapped {
		c.Printf("Exported %d ISAKMP messages and %d ESP packets to %s\n", cp.Messages, cp.ESPPackets, path)
	} else {
		c.Printf("Exported %d ISAKMP messages to %s\n", cp.Messages, path)
	}
	c.Printf("Wireshark keys: %s.ikev1_decryption_table (%d ISAKMP SAs), %s.esp_sa (%d IPsec SA pairs)\n",
		path, cp.ISAKMPSAs, path, cp.IPsecSAKeyed)
	if cp.ESPPackets > 0 {
		c.Printf("ESP decryption needs Wireshark's preference esp.enable_encryption_decode:TRUE as well\n")
	}
	if cp.SkippedNoAddr > 0 {
		c.Printf("%d ESP packets left out: their SA and exchange are gone\n", cp.SkippedNoAddr)
	}
	return nil
}

func joinLines(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return strings.Join(l, "\n") + "\n"
}
