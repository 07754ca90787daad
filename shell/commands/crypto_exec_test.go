package commands

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tunnelbox/tunnelbox/lab"
	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
	"github.com/tunnelbox/tunnelbox/shell"
)

// scripted is an echoer that answers from a script: one mark and round trip per echo.
type scripted struct {
	marks string
	rtts  []time.Duration
	seqs  []uint16
	waits []time.Duration
}

func (s *scripted) echo(seq uint16, timeout time.Duration) (byte, time.Duration) {
	i := len(s.seqs)
	s.seqs = append(s.seqs, seq)
	s.waits = append(s.waits, timeout)
	return s.marks[i], s.rtts[i]
}

func (s *scripted) Close() error { return nil }

func TestRunPingOutput(t *testing.T) {
	msec := func(v ...float64) []time.Duration {
		var out []time.Duration
		for _, x := range v {
			out = append(out, time.Duration(x*float64(time.Millisecond)))
		}
		return out
	}
	dst, src := netip.MustParseAddr("10.2.2.10"), netip.MustParseAddr("10.1.1.1")
	for _, c := range []struct {
		name string
		job  pingJob
		ep   *scripted
		want string
	}{
		{"all", pingJob{dst: dst, repeat: 5, size: 100, timeout: 2 * time.Second},
			&scripted{marks: "!!!!!", rtts: msec(1, 2, 4, 1, 2)},
			"Type escape sequence to abort.\n" +
				"Sending 5, 100-byte ICMP Echos to 10.2.2.10, timeout is 2 seconds:\n" +
				"!!!!!\n" +
				"Success rate is 100 percent (5/5), round-trip min/avg/max = 1/2/4 ms\n"},
		{"first lost while the tunnel comes up", pingJob{dst: dst, src: src, repeat: 5, size: 100, timeout: 2 * time.Second},
			&scripted{marks: ".!!!!", rtts: msec(0, 0.3, 2, 4, 1.5)},
			"Type escape sequence to abort.\n" +
				"Sending 5, 100-byte ICMP Echos to 10.2.2.10, timeout is 2 seconds:\n" +
				"Packet sent with a source address of 10.1.1.1 \n" +
				".!!!!\n" +
				"Success rate is 80 percent (4/5), round-trip min/avg/max = 1/2/4 ms\n"},
		{"none", pingJob{dst: dst, repeat: 3, size: 36, timeout: time.Second},
			&scripted{marks: ".U.", rtts: msec(0, 0, 0)},
			"Type escape sequence to abort.\n" +
				"Sending 3, 36-byte ICMP Echos to 10.2.2.10, timeout is 1 seconds:\n" +
				".U.\n" +
				"Success rate is 0 percent (0/3)\n"},
		{"one third", pingJob{dst: dst, repeat: 3, size: 100, timeout: 2 * time.Second},
			&scripted{marks: "!..", rtts: msec(7, 0, 0)},
			"Type escape sequence to abort.\n" +
				"Sending 3, 100-byte ICMP Echos to 10.2.2.10, timeout is 2 seconds:\n" +
				"!..\n" +
				"Success rate is 33 percent (1/3), round-trip min/avg/max = 7/7/7 ms\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b strings.Builder
			runPing(&b, c.job, c.ep)
			if b.String() != c.want {
				t.Errorf("got\n%s\nwant\n%s", b.String(), c.want)
			}
			for i, s := range c.ep.seqs {
				if int(s) != i || c.ep.waits[i] != c.job.timeout {
					t.Errorf("echo %d sent with seq %d timeout %v", i, s, c.ep.waits[i])
				}
			}
		})
	}
	// 100 echoes wrap after 70 marks, as IOS does.
	ep := &scripted{marks: strings.Repeat("!", 100), rtts: make([]time.Duration, 100)}
	var b strings.Builder
	runPing(&b, pingJob{dst: dst, repeat: 100, size: 100, timeout: time.Second}, ep)
	if !strings.Contains(b.String(), "\n"+strings.Repeat("!", 70)+"\n"+strings.Repeat("!", 30)+"\n") {
		t.Errorf("marks not wrapped at 70:\n%s", b.String())
	}
}

// TestClassifyICMP feeds the reply matcher the answers a raw socket can see.
func TestClassifyICMP(t *testing.T) {
	p := &icmpEchoer{dst: netip.MustParseAddr("10.2.2.10"), id: 0x4242}
	echo := func(typ byte, id, seq uint16) []byte {
		b := make([]byte, 8)
		b[0] = typ
		binary.BigEndian.PutUint16(b[4:], id)
		binary.BigEndian.PutUint16(b[6:], seq)
		return b
	}
	quoted := func(typ byte, id, seq uint16) []byte {
		ip := []byte{0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0, 0, 10, 1, 1, 1, 10, 2, 2, 10}
		return append(append(make([]byte, 8), ip...), echo(8, id, seq)...)
	}
	withType := func(b []byte, t byte) []byte { b[0] = t; return b }
	from := &net.IPAddr{IP: net.IPv4(10, 2, 2, 10)}
	other := &net.IPAddr{IP: net.IPv4(10, 9, 9, 9)}
	for _, c := range []struct {
		name string
		b    []byte
		from *net.IPAddr
		mark byte
		ok   bool
	}{
		{"reply", echo(0, 0x4242, 3), from, '!', true},
		{"reply to an earlier echo", echo(0, 0x4242, 2), from, 0, false},
		{"another pinger's reply", echo(0, 0x4343, 3), from, 0, false},
		{"reply from elsewhere", echo(0, 0x4242, 3), other, 0, false},
		{"our own request (pinging ourselves)", echo(8, 0x4242, 3), from, 0, false},
		{"unreachable", withType(quoted(3, 0x4242, 3), 3), other, 'U', true},
		{"ttl exceeded", withType(quoted(11, 0x4242, 3), 11), other, '&', true},
		{"unreachable for another pinger", withType(quoted(3, 0x4343, 3), 3), other, 0, false},
		{"truncated quote", withType(quoted(3, 0x4242, 3)[:30], 3), other, 0, false},
		{"runt", []byte{0, 0, 0}, from, 0, false},
	} {
		mark, ok := p.classify(c.b, c.from, 3)
		if ok != c.ok || (ok && mark != c.mark) {
			t.Errorf("%s: got %q %v, want %q %v", c.name, mark, ok, c.mark, c.ok)
		}
	}
	// RFC 1071 example bytes: 0001 f203 f4f5 f6f7 sum to 0xddf2, checksum 0x220d.
	if got := icmpChecksum([]byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}); got != 0x220d {
		t.Errorf("checksum %04x, want 220d", got)
	}
}

// TestPingCommand runs `ping` through the CLI against the router's own loopback address: the
// grammar, the source checks and a real raw ICMP socket.
func TestPingCommand(t *testing.T) {
	mgr := runningconfig.NewManager(runningconfig.Default())
	st, err := runningconfig.OpenStore(filepath.Join(t.TempDir(), "t.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mgr.Close(); st.Close() })
	app, err := shell.NewApp(shell.Options{Config: mgr, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	if err := Register(app); err != nil {
		t.Fatal(err)
	}
	run := func(input string) string {
		s := app.NewSession(shell.SessionOptions{Line: "con 0"})
		defer s.Close()
		var out bytes.Buffer
		if err := s.RunTranscript(strings.NewReader(input), &out); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	out := run("enable\nconfigure terminal\ninterface Loopback0\nip address 127.0.0.1 255.255.255.255\nend\n" +
		"ping 127.0.0.1 source GigabitEthernet0/3\nping 127.0.0.1 source 10.9.9.9\ncrypto map CMAP 10 initiate\n")
	for _, want := range []string{
		"% Invalid source interface - IP not enabled or interface is down",
		"% Invalid source address- IP address not on any of our up interfaces",
		"% ISAKMP is not running",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}

	lab.RequireRoot(t) // raw ICMP socket
	out = run("ping 127.0.0.1 repeat 3 size 200 timeout 5 source Loopback0\n")
	for _, want := range []string{
		"Sending 3, 200-byte ICMP Echos to 127.0.0.1, timeout is 5 seconds:\n",
		"Packet sent with a source address of 127.0.0.1 \n",
		"!!!\nSuccess rate is 100 percent (3/3), round-trip min/avg/max = ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
}
