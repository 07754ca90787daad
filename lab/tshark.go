package lab

import (
	"context"
	"encoding/hex"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// RequireTshark stops t unless tshark and dumpcap are on PATH.
func RequireTshark(t testing.TB) {
	t.Helper()
	RequireCommands(t, "tshark", "dumpcap")
}

// Capture is a running dumpcap writing one interface of a namespace to a pcap file.
type Capture struct {
	Path string // the pcap file
	Proc *Proc
}

// CaptureWarmup is how long StartCapture waits after dumpcap says "Capturing on". dumpcap
// prints that before libpcap has installed the filter, and installing it flushes what the
// socket had already received: a packet sent at once is lost about one time in four here.
var CaptureWarmup = 400 * time.Millisecond

// StartCapture starts dumpcap on dev in ns, writing to path (a new file in a fresh temporary
// directory when path is ""), with an optional BPF filter ("udp", "not ip6"). It returns once
// dumpcap is capturing (plus CaptureWarmup). Stop it with Stop; cleanup stops it too.
func StartCapture(t testing.TB, ns *Netns, dev, path, filter string) (*Capture, error) {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), ns.Role+"-"+dev+".pcap")
	}
	args := []string{"dumpcap", "-i", dev, "-w", path}
	if filter != "" {
		args = append(args, "-f", filter)
	}
	p, err := ns.Start(t, "dumpcap["+ns.Role+"/"+dev+"]", args...)
	if err != nil {
		return nil, err
	}
	if err := p.WaitOutput("Capturing on", 10*time.Second); err != nil {
		return nil, err
	}
	time.Sleep(CaptureWarmup)
	return &Capture{Path: path, Proc: p}, nil
}

// Packets returns how many packets dumpcap has written so far, from the "Packets: N" counter it
// prints about twice a second (and "Packets captured: N" when it ends).
func (c *Capture) Packets() int {
	out := c.Proc.Output()
	n := 0
	for _, key := range []string{"Packets: ", "Packets captured: "} {
		if i := strings.LastIndex(out, key); i >= 0 {
			rest := out[i+len(key):]
			j := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
			if j < 0 {
				j = len(rest)
			}
			if v, err := strconv.Atoi(rest[:j]); err == nil && v > n {
				n = v
			}
		}
	}
	return n
}

// WaitPackets waits until dumpcap has written at least n packets, or d passes.
func (c *Capture) WaitPackets(n int, d time.Duration) error {
	return waitFor(d, c.Proc, func() bool { return c.Packets() >= n })
}

// CaptureSettle is how long Capture.Stop lets dumpcap catch up before it signals it. libpcap's
// TPACKET_V3 ring hands packets over only when a block retires (after dumpcap's 250 ms read
// timeout), and dumpcap drops what is still in the ring when it is interrupted.
var CaptureSettle = 600 * time.Millisecond

// Stop waits CaptureSettle, then ends the capture with SIGINT, which makes dumpcap write out
// and close the file. It is idempotent.
func (c *Capture) Stop() error {
	if done, _ := c.Proc.Exited(); !done {
		time.Sleep(CaptureSettle)
	}
	return c.Proc.StopWith(syscall.SIGINT)
}

// ExpertSeverity is a Wireshark expert-info severity.
type ExpertSeverity uint32

// Severities as tshark prints them in the _ws.expert.severity field.
const (
	SeverityComment ExpertSeverity = 0x00100000
	SeverityChat    ExpertSeverity = 0x00200000
	SeverityNote    ExpertSeverity = 0x00400000
	SeverityWarn    ExpertSeverity = 0x00600000
	SeverityError   ExpertSeverity = 0x00800000
)

func (s ExpertSeverity) String() string {
	switch s {
	case SeverityComment:
		return "comment"
	case SeverityChat:
		return "chat"
	case SeverityNote:
		return "note"
	case SeverityWarn:
		return "warning"
	case SeverityError:
		return "error"
	}
	return fmt.Sprintf("severity(%#x)", uint32(s))
}

// Expert is one expert-info item tshark attached to a packet.
type Expert struct {
	Severity ExpertSeverity
	Group    uint32 // PI_MALFORMED is 0x07000000, PI_CHECKSUM 0x01000000, ...
	Message  string
}

// Packet is one frame as tshark dissected it.
type Packet struct {
	Number    int
	Time      time.Duration // since the first frame
	Src, Dst  string        // outermost IPv4/IPv6 addresses, "" for non-IP frames
	Protocols []string      // frame.protocols split: eth, ethertype, ip, udp, udpencap, esp, ...
	Info      string
	Malformed bool // the dissector hit a malformed-packet exception
	Expert    []Expert
}

// Has reports whether proto is in the packet's protocol stack.
func (p *Packet) Has(proto string) bool {
	for _, x := range p.Protocols {
		if x == proto {
			return true
		}
	}
	return false
}

// Errors returns the expert items of severity error (malformed, bad checksum, bad ICV ...).
func (p *Packet) Errors() []Expert {
	var out []Expert
	for _, e := range p.Expert {
		if e.Severity >= SeverityError {
			out = append(out, e)
		}
	}
	return out
}

// Bad reports whether the packet is malformed or carries an expert error.
func (p *Packet) Bad() bool { return p.Malformed || len(p.Errors()) > 0 }

var dissectFields = []string{"frame.number", "frame.time_relative", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
	"frame.protocols", "_ws.col.Info", "_ws.malformed", "_ws.expert.severity", "_ws.expert.group", "_ws.expert.message"}

// aggregator separates repeated occurrences of a field; ASCII RS never appears in tshark text.
const aggregator = "\x1e"

// Dissect runs tshark over a pcap and returns every frame. extra goes to tshark before the
// field options: preferences (-o), decode-as (-d), a display filter (-Y).
func Dissect(pcap string, extra ...string) ([]Packet, error) {
	args := []string{"-r", pcap, "-n"}
	args = append(args, extra...)
	args = append(args, "-T", "fields", "-E", "separator=/t", "-E", "quote=n", "-E", "occurrence=a",
		"-E", "aggregator="+aggregator)
	for _, f := range dissectFields {
		args = append(args, "-e", f)
	}
	ctx, cancel := context.WithTimeout(context.Background(), CommandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "tshark", args...)
	var stderr SyncBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, &CommandError{Args: append([]string{"tshark"}, args...), Output: strings.TrimSpace(stderr.String()), Err: err}
	}
	return parseDissect(string(out))
}

// parseDissect parses the field output of Dissect.
func parseDissect(out string) ([]Packet, error) {
	var pkts []Packet
	for i, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != len(dissectFields) {
			return nil, &ParseError{What: "tshark", Line: i + 1, Msg: fmt.Sprintf("%d fields, want %d", len(f), len(dissectFields))}
		}
		bad := func(what string) error { return &ParseError{What: "tshark", Line: i + 1, Msg: "bad " + what} }
		var p Packet
		var err error
		if p.Number, err = strconv.Atoi(f[0]); err != nil {
			return nil, bad("frame number " + f[0])
		}
		secs, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			return nil, bad("time " + f[1])
		}
		p.Time = time.Duration(secs * float64(time.Second))
		first := func(s string) string { return strings.Split(s, aggregator)[0] }
		p.Src, p.Dst = first(f[2]), first(f[3])
		if p.Src == "" {
			p.Src, p.Dst = first(f[4]), first(f[5])
		}
		if f[6] != "" {
			p.Protocols = strings.Split(f[6], ":")
		}
		p.Info = f[7]
		p.Malformed = f[8] != ""
		sev, grp, msg := splitAgg(f[9]), splitAgg(f[10]), splitAgg(f[11])
		if len(sev) != len(grp) || len(sev) != len(msg) {
			return nil, bad("expert fields (counts differ)")
		}
		for j := range sev {
			s, err1 := strconv.ParseUint(sev[j], 0, 32)
			g, err2 := strconv.ParseUint(grp[j], 0, 32)
			if err1 != nil || err2 != nil {
				return nil, bad("expert severity/group " + sev[j] + "/" + grp[j])
			}
			p.Expert = append(p.Expert, Expert{Severity: ExpertSeverity(s), Group: uint32(g), Message: msg[j]})
		}
		pkts = append(pkts, p)
	}
	return pkts, nil
}

func splitAgg(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, aggregator)
}

// tshark's names for the ESP algorithms charon reports (Wireshark 4.0 esp_sa UAT).
var (
	tsharkEncr = map[string]string{
		"AES_CBC":  "AES-CBC [RFC3602]",
		"3DES_CBC": "TripleDES-CBC [RFC2451]",
		"DES_CBC":  "DES-CBC [RFC2405]",
		"NULL":     "NULL",
		"AES_CTR":  "AES-CTR [RFC3686]",
	}
	tsharkInteg = map[string]string{
		"HMAC_SHA1_96":      "HMAC-SHA-1-96 [RFC2404]",
		"HMAC_MD5_96":       "HMAC-MD5-96 [RFC2403]",
		"HMAC_SHA2_256_128": "HMAC-SHA-256-128 [RFC4868]",
		"HMAC_SHA2_384_192": "HMAC-SHA-384-192 [RFC4868]",
		"HMAC_SHA2_512_256": "HMAC-SHA-512-256 [RFC4868]",
	}
)

// DecryptArgs returns tshark options that decrypt IKEv1 phase-1 traffic of sa and the ESP
// traffic of its children, from the keys in kl (charon's level-4 log of either peer).
func DecryptArgs(sa *IKESA, kl *KeyLog) ([]string, error) {
	ik := kl.IKEByID(sa.UniqueID)
	if ik == nil || ik.EncKey == nil {
		return nil, fmt.Errorf("lab: no phase-1 key for IKE SA %d in the key log", sa.UniqueID)
	}
	args := []string{
		"-o", fmt.Sprintf("uat:ikev1_decryption_table:%016x,%s", sa.InitiatorSPI, hex.EncodeToString(ik.EncKey)),
		"-o", "esp.enable_encryption_decode:TRUE",
		"-o", "esp.enable_authentication_check:TRUE",
	}
	for _, ch := range sa.Children {
		encr, ok1 := tsharkEncr[ch.EncrAlg]
		integ, ok2 := tsharkInteg[ch.IntegAlg]
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("lab: tshark cannot decrypt ESP %s/%s", ch.EncrAlg, ch.IntegAlg)
		}
		for _, spi := range []uint32{ch.SPIIn, ch.SPIOut} {
			k := kl.ESP(spi)
			if k == nil {
				return nil, fmt.Errorf("lab: no ESP keys for SPI %08x in the key log", spi)
			}
			family := "IPv4"
			if k.Src.Is6() {
				family = "IPv6"
			}
			args = append(args, "-o", fmt.Sprintf(`uat:esp_sa:"%s","%s","%s","0x%08x","%s","0x%x","%s","0x%x"`,
				family, k.Src, k.Dst, spi, encr, k.Enc, integ, k.Integ))
		}
	}
	return args, nil
}
