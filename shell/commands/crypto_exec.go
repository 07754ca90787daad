package commands

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/tunnelbox/tunnelbox/parser"
	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
	"github.com/tunnelbox/tunnelbox/shell"
)

// Exec commands that make traffic and tunnels happen (ios-cli.md §3.1):
//
//	ping A.B.C.D [source IF|A.B.C.D] [repeat N] [size N] [timeout S]   (options in any order)
//	crypto map NAME [SEQ] initiate [aggressive]                        (lab: bring an entry up now)
//
// ping sends ICMP echoes from the router itself (its network namespace), optionally from the
// address of one of its interfaces: the classic lab step "ping from the LAN interface to bring
// the tunnel up", since a packet that matches a crypto ACL line with no SA starts negotiation.

// Ping defaults and limits (IOS 15.x).
const (
	pingRepeat  = 5
	pingSize    = 100 // the whole IP datagram, as IOS counts it
	pingTimeout = 2 * time.Second
	pingMinSize = 36
	pingMaxSize = 18024
	ipICMPHdr   = 28 // IPv4 header (20) + ICMP echo header (8)
)

// RegisterCryptoExec installs ping and the crypto map initiate lab command in EXEC mode.
func RegisterCryptoExec(app *shell.App) error {
	g, ms := app.Grammar(), app.Modes()
	return install(g, ms.Exec, "crypto exec",
		&parser.Command{
			Syntax: "ping A.B.C.D$addr [{source <IFNAME$srcif|A.B.C.D$srcaddr>|repeat (1-2147483647)$repeat|size (36-18024)$size|timeout (0-3600)$timeout}]",
			Help: []string{"Send echo messages", "Ping destination address",
				"Specify source address or name", "Source interface", "Source address",
				"Specify repeat count", "Repeat count",
				"Specify datagram size", "Datagram size",
				"Specify timeout interval", "Timeout in seconds"},
			Priv: 1, Handler: shell.Handler(ping),
		},
		&parser.Command{
			Syntax: "crypto map WORD$map [(1-65535)$seq] initiate [aggressive]$aggressive",
			Help: []string{"Encryption related commands.", "Crypto map", "Crypto map tag",
				"Sequence number of the crypto map entry (all entries when omitted)",
				"Negotiate the entry's IPsec SAs now, without waiting for traffic (lab)",
				"Use Aggressive Mode for phase 1"},
			Priv: 15, Handler: shell.Handler(cryptoMapInitiate),
		},
	)
}

// cryptoMapInitiate asks the engine for every permit line of the entry (or of every entry of
// the map): phase 1 if needed, then one Quick Mode per line. The outcome shows in `debug
// crypto isakmp`, the %CRYPTO log lines and `show crypto isakmp sa` / `show crypto ipsec sa`.
func cryptoMapInitiate(c *shell.Context, a parser.Args) error {
	e := c.App.Engine()
	if e == nil {
		return shell.Msgf("%% ISAKMP is not running: no crypto map is bound to an interface with an IP address")
	}
	seq := 0
	if a.Has("seq") {
		seq = a.Int("seq")
	}
	if err := e.Initiate(a.Str("map"), seq, a.Has("aggressive")); err != nil {
		what := a.Str("map")
		if seq != 0 {
			what = fmt.Sprintf("%s %d", what, seq)
		}
		return shell.Msgf("%% Crypto map %s is not bound to an interface with an IP address, or is incomplete", what)
	}
	return nil
}

// pingJob is one `ping` as typed.
type pingJob struct {
	dst     netip.Addr
	src     netip.Addr // invalid: the kernel chooses
	repeat  int
	size    int
	timeout time.Duration
}

// echoer sends one echo request and waits for its answer: '!' (reply, with the round trip),
// '.' (nothing before the timeout), 'U' (destination unreachable), '&' (TTL exceeded).
type echoer interface {
	echo(seq uint16, timeout time.Duration) (byte, time.Duration)
	Close() error
}

func ping(c *shell.Context, a parser.Args) error {
	j := pingJob{dst: a.IP("addr"), repeat: pingRepeat, size: pingSize, timeout: pingTimeout}
	if a.Has("repeat") {
		j.repeat = a.Int("repeat")
	}
	if a.Has("size") {
		j.size = a.Int("size")
	}
	if a.Has("timeout") {
		j.timeout = time.Duration(a.Int("timeout")) * time.Second
	}
	cfg := c.Config.Running()
	switch {
	case a.Has("srcif"):
		f := cfg.Interface(a.Str("srcif"))
		if f == nil || !f.Address.IsValid() || f.Shutdown {
			return shell.Msgf("%% Invalid source interface - IP not enabled or interface is down")
		}
		j.src = f.Address.Addr()
	case a.Has("srcaddr"):
		j.src = a.IP("srcaddr")
		if !ownAddress(cfg, j.src) {
			return shell.Msgf("%% Invalid source address- IP address not on any of our up interfaces")
		}
	}
	ep, err := newICMPEchoer(j)
	if err != nil {
		if errors.Is(err, errSourceAddr) {
			return shell.Msgf("%% Invalid source address- IP address not on any of our up interfaces")
		}
		return shell.Msgf("%% Unable to send echoes: %v", err)
	}
	defer ep.Close()
	runPing(c.Out, j, ep)
	return nil
}

// ownAddress reports whether a is an address of one of the router's interfaces that is up.
func ownAddress(cfg *runningconfig.Config, a netip.Addr) bool {
	for i := range cfg.Interfaces {
		f := &cfg.Interfaces[i]
		if f.Shutdown {
			continue
		}
		if f.Address.IsValid() && f.Address.Addr() == a {
			return true
		}
		for _, s := range f.Secondary {
			if s.Addr() == a {
				return true
			}
		}
	}
	return false
}

// runPing prints the IOS ping dialogue, one mark per echo as it completes:
//
//	Type escape sequence to abort.
//	Sending 5, 100-byte ICMP Echos to 10.2.2.10, timeout is 2 seconds:
//	Packet sent with a source address of 10.1.1.1
//	.!!!!
//	Success rate is 80 percent (4/5), round-trip min/avg/max = 1/2/4 ms
func runPing(w io.Writer, j pingJob, ep echoer) {
	fmt.Fprintf(w, "Type escape sequence to abort.\n")
	fmt.Fprintf(w, "Sending %d, %d-byte ICMP Echos to %s, timeout is %d seconds:\n", j.repeat, j.size, j.dst, int(j.timeout/time.Second))
	if j.src.IsValid() {
		fmt.Fprintf(w, "Packet sent with a source address of %s \n", j.src)
	}
	ok := 0
	var sum, lo, hi time.Duration
	for i := range j.repeat {
		mark, rtt := ep.echo(uint16(i), j.timeout)
		if mark == '!' {
			if ok == 0 || rtt < lo {
				lo = rtt
			}
			hi = max(hi, rtt)
			sum += rtt
			ok++
		}
		w.Write([]byte{mark})
		if (i+1)%70 == 0 && i+1 < j.repeat {
			io.WriteString(w, "\n")
		}
	}
	io.WriteString(w, "\n")
	pct := ok * 100 / j.repeat
	if ok == 0 {
		fmt.Fprintf(w, "Success rate is %d percent (%d/%d)\n", pct, ok, j.repeat)
		return
	}
	fmt.Fprintf(w, "Success rate is %d percent (%d/%d), round-trip min/avg/max = %d/%d/%d ms\n",
		pct, ok, j.repeat, ms(lo), ms(sum/time.Duration(ok)), ms(hi))
}

// ms rounds a round trip up to whole milliseconds, as IOS shows them (a reply is never 0 ms).
func ms(d time.Duration) int64 {
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

// errSourceAddr: the source address is not one of the host's.
var errSourceAddr = errors.New("commands: source address not local")

// icmpEchoer pings over a raw ICMP socket of the router's network namespace, bound to the
// source address when one is given (so the echoes carry it and leave as the router's own).
type icmpEchoer struct {
	conn    *net.IPConn
	dst     netip.Addr
	id      uint16
	payload []byte
	buf     []byte
}

func newICMPEchoer(j pingJob) (*icmpEchoer, error) {
	laddr := &net.IPAddr{}
	if j.src.IsValid() {
		laddr.IP = j.src.AsSlice()
	}
	conn, err := net.ListenIP("ip4:icmp", laddr)
	if err != nil {
		var se *os.SyscallError
		if errors.As(err, &se) && se.Syscall == "bind" {
			return nil, errSourceAddr
		}
		return nil, err
	}
	p := make([]byte, max(0, j.size-ipICMPHdr))
	for i := range p {
		p[i] = []byte{0xab, 0xcd}[i%2] // IOS's pattern
	}
	return &icmpEchoer{conn: conn, dst: j.dst, id: uint16(rand.Uint32()), payload: p, buf: make([]byte, 65535)}, nil
}

func (p *icmpEchoer) Close() error { return p.conn.Close() }

// echo sends echo request seq and reads until its reply, an error report about it, or the
// timeout. The raw socket sees every ICMP message of the namespace; others are skipped.
func (p *icmpEchoer) echo(seq uint16, timeout time.Duration) (byte, time.Duration) {
	req := make([]byte, 8, 8+len(p.payload))
	req[0] = 8 // echo request
	binary.BigEndian.PutUint16(req[4:], p.id)
	binary.BigEndian.PutUint16(req[6:], seq)
	req = append(req, p.payload...)
	binary.BigEndian.PutUint16(req[2:], icmpChecksum(req))
	start := time.Now()
	deadline := start.Add(timeout)
	if _, err := p.conn.WriteToIP(req, &net.IPAddr{IP: p.dst.AsSlice()}); err != nil {
		// No route (or a refused send) is what IOS shows as unreachable; wait out the timeout
		// only for a real loss.
		return '.', 0
	}
	p.conn.SetReadDeadline(deadline)
	for {
		n, from, err := p.conn.ReadFromIP(p.buf)
		if err != nil {
			return '.', 0
		}
		if mark, ok := p.classify(p.buf[:n], from, seq); ok {
			return mark, time.Since(start)
		}
	}
}

// classify recognises the answer to the echo with this pinger's id: an echo reply from the
// destination, or an ICMP error quoting the request (RFC 792: the original IP header and the
// first 8 octets of its data).
func (p *icmpEchoer) classify(b []byte, from *net.IPAddr, seq uint16) (byte, bool) {
	if len(b) < 8 {
		return 0, false
	}
	switch b[0] {
	case 0: // echo reply
		src, _ := netip.AddrFromSlice(from.IP)
		return '!', src.Unmap() == p.dst && binary.BigEndian.Uint16(b[4:]) == p.id && binary.BigEndian.Uint16(b[6:]) == seq
	case 3, 11: // destination unreachable, time exceeded
		q := b[8:]
		if len(q) < 20 || q[0]>>4 != 4 {
			return 0, false
		}
		hl := int(q[0]&0x0f) * 4
		if len(q) < hl+8 || q[9] != 1 || q[hl] != 8 || binary.BigEndian.Uint16(q[hl+4:]) != p.id ||
			binary.BigEndian.Uint16(q[hl+6:]) != seq {
			return 0, false
		}
		if b[0] == 3 {
			return 'U', true
		}
		return '&', true
	}
	return 0, false
}

// icmpChecksum is the Internet checksum (RFC 1071) of b.
func icmpChecksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}
