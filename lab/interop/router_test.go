package interop

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tunnelbox/tunnelbox/lab"
)

func TestMain(m *testing.M) { os.Exit(lab.RunTests(m)) }

// requireLab stops t unless the lab can run here (root, ip, ping, /dev/net/tun) and the binary
// was built.
func requireLab(t *testing.T) {
	t.Helper()
	lab.RequireShort(t)
	lab.RequireRoot(t)
	lab.RequireCommands(t, "ip", "ping")
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		lab.Unavailable(t, "needs /dev/net/tun for the userspace data plane")
	}
	lab.TunnelboxBinary(t, lab.BuildOptions{})
}

// Router is one Tunnelbox appliance (lab.Router) that logs its SA keys.
type Router struct {
	*lab.Router
	Keylog string // TUNNELBOX_KEYLOG file
}

// StartRouter runs tunnelbox in ns with a fresh store, SSH off and a key log. Cleanup ends it
// by closing its console (it exits at end of input, sending deletes to its peers) and, if it
// lingers, SIGTERM then SIGKILL by PID.
func StartRouter(t *testing.T, ns *lab.Netns, name string) *Router {
	t.Helper()
	keylog := filepath.Join(t.TempDir(), "keylog")
	r := lab.MustStartRouter(t, ns, name, lab.RouterOptions{Env: []string{"TUNNELBOX_KEYLOG=" + keylog}})
	return &Router{Router: r, Keylog: keylog}
}

// KeyLine is one SA of the router's key log (TUNNELBOX_KEYLOG).
type KeyLine struct {
	SPI       uint32
	Src, Dst  netip.Addr
	In        bool
	Transform string
	Enc, Auth []byte
}

var keyRE = regexp.MustCompile(`^ESP spi=0x([0-9a-f]{8}) src=(\S+) dst=(\S+) dir=(in|out) transform=(\S+) enckey=([0-9a-f]*) authkey=([0-9a-f]*)$`)

// Keys parses the router's key log, by SPI.
func (r *Router) Keys(t *testing.T) map[uint32]KeyLine {
	t.Helper()
	f, err := os.Open(r.Keylog)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[uint32]KeyLine{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		g := keyRE.FindStringSubmatch(sc.Text())
		if g == nil {
			t.Fatalf("%s key log: bad line %q", r.Name, sc.Text())
		}
		spi, _ := strconv.ParseUint(g[1], 16, 32)
		k := KeyLine{SPI: uint32(spi), Src: netip.MustParseAddr(g[2]), Dst: netip.MustParseAddr(g[3]), In: g[4] == "in", Transform: g[5]}
		fmt.Sscanf(g[6], "%x", &k.Enc)
		fmt.Sscanf(g[7], "%x", &k.Auth)
		m[k.SPI] = k
	}
	return m
}

// Site is a gateway namespace with a host behind it. The gateway's eth0 is the outer interface
// (GigabitEthernet0/0), eth1 the inner one (GigabitEthernet0/1); the host's only link is eth0.
type Site struct {
	Gw, Host *lab.Netns
	Outer    netip.Addr
	Inner    netip.Addr
	HostAddr netip.Addr
	LAN      netip.Prefix
}

// newSite creates gw<name> and host<name> with LAN lan (gateway .1, host .10) and outer
// address outer/24 for the gateway's eth0 (which the caller links). The harness puts addresses
// on the host only: a Tunnelbox gateway puts its own on its links from its configuration (the
// links are its ports); a strongSwan gateway gets them from charonAddrs.
func newSite(t *testing.T, name string, lan netip.Prefix, outer netip.Addr) Site {
	t.Helper()
	s := Site{LAN: lan, Outer: outer}
	b := lan.Addr().As4()
	b[3] = 1
	s.Inner = netip.AddrFrom4(b)
	b[3] = 10
	s.HostAddr = netip.AddrFrom4(b)
	s.Gw, s.Host = lab.NewNetns(t, "gw"+name), lab.NewNetns(t, "host"+name)
	must(t, lab.Veth(s.Gw, "eth1", s.Host, "eth0"))
	must(t, s.Host.AddAddr("eth0", netip.PrefixFrom(s.HostAddr, lan.Bits())))
	must(t, s.Gw.Sysctl("net.ipv4.ip_forward", "1"))
	return s
}

// charonAddrs gives a gateway that runs strongSwan instead of Tunnelbox its outer and inner
// addresses (Tunnelbox configures its own links).
func charonAddrs(t *testing.T, s Site) {
	t.Helper()
	must(t, s.Gw.AddAddr("eth0", netip.PrefixFrom(s.Outer, 24)))
	must(t, s.Gw.AddAddr("eth1", netip.PrefixFrom(s.Inner, s.LAN.Bits())))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// mask renders a prefix length as a dotted mask, wildcard as its inverse.
func mask(p netip.Prefix) string {
	m := ^uint32(0) << (32 - p.Bits())
	return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}).String()
}

func wildcard(p netip.Prefix) string {
	m := ^(^uint32(0) << (32 - p.Bits()))
	return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}).String()
}

// GatewayConfig is the IOS configuration of one Tunnelbox gateway with one crypto map.
type GatewayConfig struct {
	Hostname     string
	Outer, Inner netip.Prefix // GigabitEthernet0/0 and 0/1 addresses
	Entries      []MapEntry   // crypto map CMAP entries, in sequence order
	PSKs         map[netip.Addr]string
	Policy       string // ISAKMP policy 10 body lines; default aes 256 / sha256 / pre-share / group 14
	Transform    string // transform-set TS; default "esp-aes esp-sha-hmac" (AES-128)
}

// MapEntry is one crypto map entry with its own ACL (one permit line per pair).
type MapEntry struct {
	Seq    int
	Peer   netip.Addr
	Pairs  [][2]netip.Prefix // local, remote
	PFS    int               // 0: none
	LifeS  int               // 0: default
	ACLNum int
}

// Lines renders the configuration as console input, from exec mode back to exec mode.
func (g *GatewayConfig) Lines() []string {
	l := []string{"enable", "configure terminal", "hostname " + g.Hostname,
		"interface GigabitEthernet0/0", fmt.Sprintf(" ip address %s %s", g.Outer.Addr(), mask(g.Outer)), " no shutdown",
		"interface GigabitEthernet0/1", fmt.Sprintf(" ip address %s %s", g.Inner.Addr(), mask(g.Inner)), " no shutdown",
		"crypto isakmp policy 10"}
	pol := g.Policy
	if pol == "" {
		pol = "encryption aes 256\nhash sha256\nauthentication pre-share\ngroup 14"
	}
	for _, s := range strings.Split(pol, "\n") {
		l = append(l, " "+s)
	}
	for peer, key := range g.PSKs {
		l = append(l, fmt.Sprintf("crypto isakmp key %s address %s", key, peer))
	}
	ts := g.Transform
	if ts == "" {
		ts = "esp-aes esp-sha-hmac"
	}
	l = append(l, "crypto ipsec transform-set TS "+ts)
	for _, e := range g.Entries {
		for _, p := range e.Pairs {
			l = append(l, fmt.Sprintf("access-list %d permit ip %s %s %s %s", e.ACLNum,
				p[0].Addr(), wildcard(p[0]), p[1].Addr(), wildcard(p[1])))
		}
		l = append(l, fmt.Sprintf("crypto map CMAP %d ipsec-isakmp", e.Seq),
			" set peer "+e.Peer.String(), " set transform-set TS", fmt.Sprintf(" match address %d", e.ACLNum))
		if e.PFS != 0 {
			l = append(l, fmt.Sprintf(" set pfs group%d", e.PFS))
		}
		if e.LifeS != 0 {
			l = append(l, fmt.Sprintf(" set security-association lifetime seconds %d", e.LifeS))
		}
	}
	return append(l, "interface GigabitEthernet0/0", " crypto map CMAP", "end")
}

// pingResult parses the IOS ping summary: successes and attempts.
var pingRE = regexp.MustCompile(`Success rate is (\d+) percent \((\d+)/(\d+)\)`)

func pingResult(t *testing.T, out string) (ok, sent int) {
	t.Helper()
	g := pingRE.FindStringSubmatch(out)
	if g == nil {
		t.Fatalf("no ping summary in:\n%s", out)
	}
	ok, _ = strconv.Atoi(g[2])
	sent, _ = strconv.Atoi(g[3])
	return ok, sent
}

// hostPing pings from a host namespace with the system ping and returns the replies received.
func hostPing(t *testing.T, from *lab.Netns, to netip.Addr, count int) int {
	t.Helper()
	out, _ := from.Run("ping", "-c", strconv.Itoa(count), "-i", "0.2", "-W", "2", to.String())
	m := regexp.MustCompile(`(\d+) received`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("ping output:\n%s", out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
