package lab

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// Chunk is one labelled byte dump charon logged ("SKEYID_d => 32 bytes @ 0x...", then hex lines).
type Chunk struct {
	Line     int    // 1-based line of the label
	Thread   int    // charon thread number
	Group    string // "IKE", "CHD", ...
	Conn     string // connection name, "" before the responder has matched one
	IKESA    uint32 // IKE SA unique id, 0 outside an IKE SA context
	Label    string // "SKEYID_d", "encryption initiator key", "Hash(1)", ...
	Size     int    // bytes announced by the label line
	Data     []byte // bytes read from the dump lines
	Complete bool   // all announced bytes were read
}

// IKEKeys is the phase-1 key material of one IKE SA (RFC 2409 section 5).
type IKEKeys struct {
	Conn    string
	IKESA   uint32
	DH      []byte // g^xy
	SKEYID  []byte
	SKEYIDd []byte
	SKEYIDa []byte
	SKEYIDe []byte
	EncKey  []byte // the phase-1 encryption key (Ka, derived from SKEYID_e)
	InitIV  []byte // the phase-1 initial IV
}

// ESPKey is the key material of one ESP SA (one direction, one SPI).
type ESPKey struct {
	SPI      uint32
	Src, Dst netip.Addr
	Inbound  bool   // seen from the logging charon
	Enc      []byte // encryption key (with the salt for AEAD)
	Integ    []byte // integrity key, nil for AEAD
}

// ChildKeys is one CHILD SA (Quick Mode result) with its two ESP SAs.
type ChildKeys struct {
	Conn    string
	IKESA   uint32
	Child   string // configured child name
	ChildID uint32 // CHILD SA unique id
	PFS     []byte // Quick Mode g^xy, nil without PFS
	In, Out ESPKey
}

// KeyLog is the key material in a charon log written at ike/chd level 4.
type KeyLog struct {
	IKE      []IKEKeys   // one per IKE SA, in log order
	Children []ChildKeys // one per established CHILD SA, in log order
	Chunks   []Chunk     // every labelled dump, in log order (Hash(1..3), HASH_I, nonces, ...)
}

// IKEByID returns the keys of IKE SA id, or nil.
func (k *KeyLog) IKEByID(id uint32) *IKEKeys {
	for i := range k.IKE {
		if k.IKE[i].IKESA == id {
			return &k.IKE[i]
		}
	}
	return nil
}

// ESP returns the ESP SA with spi, or nil.
func (k *KeyLog) ESP(spi uint32) *ESPKey {
	for i := range k.Children {
		c := &k.Children[i]
		if c.In.SPI == spi {
			return &c.In
		}
		if c.Out.SPI == spi {
			return &c.Out
		}
	}
	return nil
}

var (
	// "17:21:09.192 11[IKE] <lab|1> rest" ; the time stamp and the IKE SA context are optional.
	logLineRE = regexp.MustCompile(`^(?:\S+ )?([0-9]+)\[([A-Z]+)\] (?:<(?:([^|>]*)\|)?([0-9]+)> )?(.*)$`)
	labelRE   = regexp.MustCompile(`^(.+) => ([0-9]+) bytes @ (?:0x)?[0-9a-fA-F]+$`)
	dumpRE    = regexp.MustCompile(`^ *([0-9]+): ((?:[0-9A-F]{2} ){0,15}[0-9A-F]{2})(?:  .*)?$`)
	spiRE     = regexp.MustCompile(`^ *SPI 0x([0-9a-fA-F]{1,8}), src (\S+) dst (\S+)$`)
	childRE   = regexp.MustCompile(`^CHILD_SA (\S+)\{([0-9]+)\} established with SPIs ([0-9a-f]{8})_i ([0-9a-f]{8})_o`)
)

// maxChunk bounds an announced dump size so a corrupt label cannot make the parser allocate.
const maxChunk = 1 << 20

// pendingChild collects the CHD lines of one Quick Mode until "CHILD_SA ... established".
type pendingChild struct {
	chunks    map[string][]byte
	dhLen     int
	addr      map[uint32][2]netip.Addr // SPI -> src, dst
	inbound   map[uint32]bool
	direction string // "inbound"/"outbound" of the last "adding ... ESP SA" line
}

// ParseKeyLog reads a charon file log and extracts the key material charon prints at ike and
// chd level 4: per IKE SA the DH secret, SKEYID, SKEYID_d/_a/_e, Ka and the IV; per CHILD SA the
// ESP keys bound to their SPIs. The "initiator SA seed" (RFC 2409 KEYMAT input) carries the SPI
// that the initiator keys protect, which decides the mapping whichever side initiated.
func ParseKeyLog(r io.Reader) (*KeyLog, error) {
	kl := &KeyLog{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	open := map[int]int{} // thread -> index in kl.Chunks of the dump being read
	ike := map[uint32]int{}
	pend := map[uint32]*pendingChild{}
	getPend := func(id uint32) *pendingChild {
		p := pend[id]
		if p == nil {
			p = &pendingChild{chunks: map[string][]byte{}, addr: map[uint32][2]netip.Addr{}, inbound: map[uint32]bool{}}
			pend[id] = p
		}
		return p
	}
	lineNo := 0
	for sc.Scan() {
		lineNo++
		m := logLineRE.FindStringSubmatch(sc.Text())
		if m == nil {
			continue // not a charon log line (a banner, a blank line)
		}
		thread, _ := strconv.Atoi(m[1])
		group, conn, msg := m[2], m[3], m[5]
		var said uint32
		if m[4] != "" {
			v, err := strconv.ParseUint(m[4], 10, 32)
			if err != nil {
				return nil, &ParseError{What: "keylog", Line: lineNo, Msg: "IKE SA id " + m[4]}
			}
			said = uint32(v)
		}
		// Continuation of a dump on this thread?
		if idx, ok := open[thread]; ok {
			if d := dumpRE.FindStringSubmatch(msg); d != nil {
				c := &kl.Chunks[idx]
				off, _ := strconv.Atoi(d[1])
				if off != len(c.Data) {
					return nil, &ParseError{What: "keylog", Line: lineNo, Msg: fmt.Sprintf("%s: dump offset %d, expected %d", c.Label, off, len(c.Data))}
				}
				b, err := hex.DecodeString(strings.ReplaceAll(d[2], " ", ""))
				if err != nil {
					return nil, &ParseError{What: "keylog", Line: lineNo, Msg: err.Error()}
				}
				c.Data = append(c.Data, b...)
				want := c.Size
				if len(c.Data) > want {
					return nil, &ParseError{What: "keylog", Line: lineNo, Msg: fmt.Sprintf("%s: more than the announced %d bytes", c.Label, want)}
				}
				if len(c.Data) == want {
					c.Complete = true
					delete(open, thread)
					if err := kl.absorb(c, ike, getPend); err != nil {
						return nil, &ParseError{What: "keylog", Line: c.Line, Msg: err.Error()}
					}
				}
				continue
			}
			// Truncated dump: charon moved on. Keep the partial chunk, unmarked.
			delete(open, thread)
		}
		if l := labelRE.FindStringSubmatch(msg); l != nil {
			n, err := strconv.Atoi(l[2])
			if err != nil || n > maxChunk {
				return nil, &ParseError{What: "keylog", Line: lineNo, Msg: "dump size " + l[2]}
			}
			kl.Chunks = append(kl.Chunks, Chunk{Line: lineNo, Thread: thread, Group: group, Conn: conn, IKESA: said,
				Label: l[1], Size: n, Data: make([]byte, 0, n), Complete: n == 0})
			if n > 0 {
				open[thread] = len(kl.Chunks) - 1
			}
			continue
		}
		if group != "CHD" && group != "IKE" || said == 0 {
			continue
		}
		switch {
		case msg == "adding inbound ESP SA":
			getPend(said).direction = "inbound"
		case msg == "adding outbound ESP SA":
			getPend(said).direction = "outbound"
		case spiRE.MatchString(msg):
			s := spiRE.FindStringSubmatch(msg)
			spi, _ := strconv.ParseUint(s[1], 16, 32)
			src, err1 := netip.ParseAddr(s[2])
			dst, err2 := netip.ParseAddr(s[3])
			p := getPend(said)
			if err1 != nil || err2 != nil || p.direction == "" {
				return nil, &ParseError{What: "keylog", Line: lineNo, Msg: "SPI line without direction or addresses: " + msg}
			}
			p.addr[uint32(spi)] = [2]netip.Addr{src, dst}
			p.inbound[uint32(spi)] = p.direction == "inbound"
			p.direction = ""
		case childRE.MatchString(msg):
			s := childRE.FindStringSubmatch(msg)
			ck, err := finishChild(conn, said, s, pend[said])
			if err != nil {
				return nil, &ParseError{What: "keylog", Line: lineNo, Msg: err.Error()}
			}
			delete(pend, said)
			kl.Children = append(kl.Children, ck)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &ParseError{What: "keylog", Line: lineNo, Msg: err.Error()}
	}
	return kl, nil
}

// absorb files a completed chunk under its IKE SA (phase 1) or pending Quick Mode (CHD).
func (kl *KeyLog) absorb(c *Chunk, ike map[uint32]int, getPend func(uint32) *pendingChild) error {
	if c.IKESA == 0 {
		return nil
	}
	if c.Group == "CHD" {
		p := getPend(c.IKESA)
		switch c.Label {
		case "DH secret":
			p.dhLen = len(c.Data)
		case "initiator SA seed", "responder SA seed", "encryption initiator key", "encryption responder key",
			"integrity initiator key", "integrity responder key":
		default:
			return nil
		}
		p.chunks[c.Label] = c.Data
		return nil
	}
	var field *[]byte
	i, ok := ike[c.IKESA]
	get := func() *IKEKeys {
		if !ok {
			kl.IKE = append(kl.IKE, IKEKeys{IKESA: c.IKESA})
			i = len(kl.IKE) - 1
			ike[c.IKESA] = i
			ok = true
		}
		k := &kl.IKE[i]
		if c.Conn != "" {
			k.Conn = c.Conn
		}
		return k
	}
	switch c.Label {
	case "shared Diffie Hellman secret":
		field = &get().DH
	case "SKEYID":
		field = &get().SKEYID
	case "SKEYID_d":
		field = &get().SKEYIDd
	case "SKEYID_a":
		field = &get().SKEYIDa
	case "SKEYID_e":
		field = &get().SKEYIDe
	case "encryption key Ka":
		field = &get().EncKey
	case "initial IV":
		field = &get().InitIV
	default:
		if ok && c.Conn != "" {
			kl.IKE[i].Conn = c.Conn // the responder learns the name after phase 1 keys
		}
		return nil
	}
	if *field != nil {
		return fmt.Errorf("IKE SA %d: %s logged twice", c.IKESA, c.Label)
	}
	*field = c.Data
	return nil
}

// finishChild binds the Quick Mode keys to the SPIs of "CHILD_SA x{n} established with SPIs".
func finishChild(conn string, said uint32, s []string, p *pendingChild) (ChildKeys, error) {
	id, _ := strconv.ParseUint(s[2], 10, 32)
	in, _ := strconv.ParseUint(s[3], 16, 32)
	out, _ := strconv.ParseUint(s[4], 16, 32)
	ck := ChildKeys{Conn: conn, IKESA: said, Child: s[1], ChildID: uint32(id)}
	if p == nil {
		return ck, fmt.Errorf("CHILD_SA %s{%d}: no key material logged (chd level 4?)", s[1], id)
	}
	seed, ok := p.chunks["initiator SA seed"]
	if !ok {
		return ck, fmt.Errorf("CHILD_SA %s{%d}: no initiator SA seed", s[1], id)
	}
	// KEYMAT seed = [g(qm)^xy] | protocol | SPI | Ni_b | Nr_b (RFC 2409 5.5); ESP is protocol 3.
	spiAt := func(spi uint64) bool {
		want := []byte{3, byte(spi >> 24), byte(spi >> 16), byte(spi >> 8), byte(spi)}
		return len(seed) >= p.dhLen+5 && bytes.Equal(seed[p.dhLen:p.dhLen+5], want)
	}
	var initSPI, respSPI uint64
	switch {
	case spiAt(out):
		initSPI, respSPI = out, in // we initiated this Quick Mode
	case spiAt(in):
		initSPI, respSPI = in, out
	default:
		return ck, fmt.Errorf("CHILD_SA %s{%d}: neither SPI %08x nor %08x is in the initiator SA seed", s[1], id, in, out)
	}
	if p.dhLen > 0 {
		ck.PFS = seed[:p.dhLen]
	}
	mk := func(spi uint64, role string) ESPKey {
		a := p.addr[uint32(spi)]
		return ESPKey{SPI: uint32(spi), Src: a[0], Dst: a[1], Inbound: p.inbound[uint32(spi)],
			Enc: p.chunks["encryption "+role+" key"], Integ: p.chunks["integrity "+role+" key"]}
	}
	ki, kr := mk(initSPI, "initiator"), mk(respSPI, "responder")
	if ki.Enc == nil || kr.Enc == nil {
		return ck, fmt.Errorf("CHILD_SA %s{%d}: encryption keys missing", s[1], id)
	}
	if ki.Inbound {
		ck.In, ck.Out = ki, kr
	} else {
		ck.In, ck.Out = kr, ki
	}
	if ck.In.SPI != uint32(in) || ck.Out.SPI != uint32(out) || !ck.In.Inbound || ck.Out.Inbound {
		return ck, fmt.Errorf("CHILD_SA %s{%d}: SPI directions do not match the adding-SA lines", s[1], id)
	}
	return ck, nil
}
