package interop

import (
	"encoding/hex"
	"net/netip"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tunnelbox/tunnelbox/lab"
)

// detailCounters reads the receive-side counters of gwR's (only) SA pair from `show crypto ipsec
// sa detail`.
func detailCounters(t *testing.T, r *Router) (decaps, verifyFailed, replayFailed int) {
	t.Helper()
	out := r.MustExec(t, "show crypto ipsec sa detail")
	get := func(re string) int {
		m := regexp.MustCompile(re).FindAllStringSubmatch(out, -1)
		if len(m) != 1 {
			t.Fatalf("%s: %q found %d times in:\n%s", r.Name, re, len(m), out)
		}
		n, _ := strconv.Atoi(m[0][1])
		return n
	}
	return get(`#pkts decaps: (\d+)`), get(`#pkts verify failed: (\d+)`), get(`##pkts replay failed \(rcv\): (\d+)`)
}

// TestTamperedESP injects ESP datagrams derived from real ones onto the outer link, from gwL's
// address (the receiving SA checks the sender): a replay, bit flips (in the authenticated
// sequence number and in the ciphertext, under a fresh sequence number), and an unknown SPI.
// gwR drops them all: the replay and the forgeries are counted on its SA (`show crypto ipsec sa
// detail`), none is decapsulated, and the tunnel keeps working.
func TestTamperedESP(t *testing.T) {
	requireLab(t)
	lab.RequireTshark(t)
	lab.RequireCommands(t, "/usr/bin/python3")
	l, r := fourNode(t)
	gwL, gwR := StartRouter(t, l.Gw, "gwL"), StartRouter(t, r.Gw, "gwR")
	gwL.MustExec(t, siteConfig("gwL", l, r, 0).Lines()...)
	gwR.MustExec(t, siteConfig("gwR", r, l, 0).Lines()...)
	hostPing(t, l.Host, r.HostAddr, 3)

	// Genuine ESP datagrams from gwL, as gwR received them.
	capR, err := lab.StartCapture(t, r.Gw, "eth0", "", "udp port 4500")
	if err != nil {
		t.Fatal(err)
	}
	if n := hostPing(t, l.Host, r.HostAddr, 3); n != 3 {
		t.Fatalf("tunnel not up: %d of 3 replies", n)
	}
	if err := capR.Stop(); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("tshark", "-r", capR.Path, "-n", "-Y", "esp && ip.src=="+l.Outer.String(), "-T", "fields", "-e", "udp.payload").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	var esp [][]byte
	for _, line := range strings.Fields(string(out)) {
		b, err := hex.DecodeString(strings.ReplaceAll(line, ":", ""))
		if err != nil || len(b) < 40 {
			t.Fatalf("captured ESP %q: %v", line, err)
		}
		esp = append(esp, b)
	}
	if len(esp) < 3 {
		t.Fatalf("captured %d ESP datagrams from gwL, want 3", len(esp))
	}
	genuine := esp[len(esp)-1]
	seqPlus := func(b []byte, n uint32) []byte {
		c := append([]byte(nil), b...)
		s := uint32(c[4])<<24 | uint32(c[5])<<16 | uint32(c[6])<<8 | uint32(c[7]) + n
		c[4], c[5], c[6], c[7] = byte(s>>24), byte(s>>16), byte(s>>8), byte(s)
		return c
	}
	flipped := seqPlus(genuine, 1000)
	flipped[len(flipped)/2] ^= 0x01
	wrongSPI := append([]byte(nil), genuine...)
	wrongSPI[0] ^= 0xff
	forged := map[string][]byte{
		"replay":               genuine,
		"sequence number flip": seqPlus(genuine, 100),
		"ciphertext flip":      flipped,
		"unknown SPI":          wrongSPI,
	}
	d0, v0, r0 := detailCounters(t, gwR)
	for name, b := range forged {
		if err := l.Gw.SendUDP(netip.AddrPortFrom(r.Outer, 4500), b); err != nil {
			t.Fatalf("inject %s: %v", name, err)
		}
	}
	// A valid echo after the forgeries: once its reply is back, gwR has handled them (same
	// socket, in order).
	if n := hostPing(t, l.Host, r.HostAddr, 1); n != 1 {
		t.Errorf("tunnel after the forgeries: %d of 1 replies", n)
	}
	d1, v1, r1 := detailCounters(t, gwR)
	if d1-d0 != 1 || v1-v0 != 2 || r1-r0 != 1 {
		t.Errorf("gwR after 4 forged datagrams and 1 echo: decaps +%d (want +1, the echo), verify failed +%d (want +2), replay failed +%d (want +1)",
			d1-d0, v1-v0, r1-r0)
	}
}
