package kernelpair

import (
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tunnelbox/tunnelbox/lab"
	"github.com/tunnelbox/tunnelbox/xfrm/kernel"
)

// inVM is set by lab/vm's TestInVM: there the kernel has ESP and every test must pick
// the kernel data plane.
var inVM = os.Getenv("TUNNELBOX_IN_VM") == "1"

func TestMain(m *testing.M) { os.Exit(lab.RunTests(m)) }

// requireLab stops t unless namespaces can be made and the binary exists.
func requireLab(t *testing.T) {
	t.Helper()
	lab.RequireShort(t)
	lab.RequireRoot(t)
	lab.RequireCommands(t, "ip", "ping")
	lab.TunnelboxBinary(t, lab.BuildOptions{}) // TUNNELBOX_BIN in the VM
}

// wantPlane is the data plane `--dataplane auto` must pick here: kernel where the kernel takes
// ESP states (always inside the VM), userspace otherwise (the build host).
func wantPlane(t *testing.T, n *lab.Netns) string {
	t.Helper()
	err := kernel.Probe("/run/netns/" + n.Name)
	switch {
	case err == nil:
		return "kernel"
	case inVM:
		t.Fatalf("the VM's kernel refuses ESP states: %v", err)
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		lab.Unavailable(t, "no ESP in this kernel and no /dev/net/tun for the userspace data plane")
	}
	return "userspace"
}

// startRouter runs the binary in ns with a fresh store, SSH off, the default --dataplane (auto)
// and env added to the environment. Cleanup closes the console (the router sends deletes and
// removes its SAs and policies) and kills it by PID if it lingers. The guards are long: TCG is
// slow.
func startRouter(t *testing.T, ns *lab.Netns, name string, env ...string) *lab.Router {
	t.Helper()
	return lab.MustStartRouter(t, ns, name, lab.RouterOptions{Env: env, Timeout: 90 * time.Second, StopWait: 10 * time.Second})
}

// Site is a gateway namespace (eth0 outer = GigabitEthernet0/0, eth1 inner = GigabitEthernet0/1)
// with a host behind it.
type Site struct {
	Gw, Host               *lab.Netns
	Outer, Inner, HostAddr netip.Addr
	LAN                    netip.Prefix
}

var (
	lanL   = netip.MustParsePrefix("10.1.1.0/24")
	lanR   = netip.MustParsePrefix("10.2.2.0/24")
	outerL = netip.MustParseAddr("192.0.2.1")
	outerR = netip.MustParseAddr("192.0.2.2")
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

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
	must(t, s.Gw.AddAddr("eth1", netip.PrefixFrom(s.Inner, lan.Bits())))
	must(t, s.Host.AddAddr("eth0", netip.PrefixFrom(s.HostAddr, lan.Bits())))
	must(t, s.Gw.Sysctl("net.ipv4.ip_forward", "1"))
	return s
}

// fourNode is hostL -- gwL ==eth0== gwR -- hostR.
func fourNode(t *testing.T) (l, r Site) {
	t.Helper()
	l, r = newSite(t, "L", lanL, outerL), newSite(t, "R", lanR, outerR)
	must(t, lab.Veth(l.Gw, "eth0", r.Gw, "eth0"))
	must(t, l.Gw.AddAddr("eth0", netip.PrefixFrom(l.Outer, 24)))
	must(t, r.Gw.AddAddr("eth0", netip.PrefixFrom(r.Outer, 24)))
	must(t, l.Host.AddRoute(lanR, l.Inner))
	must(t, r.Host.AddRoute(lanL, r.Inner))
	// Each gateway routes the other's LAN via the other's outer address through the `ip route`
	// line of its configuration (see config): the router programs it into its namespace. The
	// kernel data plane needs the route: as on IOS, it protects what routing sends out of the
	// interface. The userspace plane routes the protected networks into its TUN device whatever
	// the table says.
	return l, r
}

// transformSet is the transform set of every test: AES-256-CBC with HMAC-SHA-256, which the
// kernel shows as cbc(aes) with a 256-bit key and hmac(sha256) truncated to 128 bits.
const transformSet = "esp-aes 256 esp-sha256-hmac"

// config is the one CLI configuration of a gateway, the same on every data plane: interfaces,
// an ISAKMP policy with a pre-shared key, a transform set, a crypto ACL and a crypto map bound
// to the outer interface. lifetime 0 keeps the default SA lifetime.
func config(name string, s, peer Site, lifetime int) []string {
	wild := func(p netip.Prefix) string { return dotted(^(^uint32(0) << (32 - p.Bits()))) }
	l := []string{"enable", "configure terminal", "hostname " + name,
		"interface GigabitEthernet0/0", " ip address " + s.Outer.String() + " 255.255.255.0", " no shutdown",
		"interface GigabitEthernet0/1", " ip address " + s.Inner.String() + " 255.255.255.0", " no shutdown",
		"crypto isakmp policy 10", " encryption aes 256", " hash sha256", " authentication pre-share", " group 14",
		"crypto isakmp key kernel-lab-psk address " + peer.Outer.String(),
		"crypto ipsec transform-set TS " + transformSet,
		fmt.Sprintf("access-list 101 permit ip %s %s %s %s", s.LAN.Addr(), wild(s.LAN), peer.LAN.Addr(), wild(peer.LAN)),
		"crypto map CMAP 10 ipsec-isakmp", " set peer " + peer.Outer.String(), " set transform-set TS", " match address 101"}
	if lifetime != 0 {
		l = append(l, fmt.Sprintf(" set security-association lifetime seconds %d", lifetime))
	}
	return append(l, "interface GigabitEthernet0/0", " crypto map CMAP",
		fmt.Sprintf("ip route %s %s %s", peer.LAN.Addr(), mask(peer.LAN), peer.Outer), "end")
}

// checkRoute checks that the router programmed its static route to the peer's LAN (config)
// into its namespace, marked as its own (protocol 84, metric = distance 1).
func checkRoute(t *testing.T, s, peer Site) {
	t.Helper()
	out := s.Gw.MustRun(t, "ip", "-4", "route", "show", peer.LAN.String())
	want := fmt.Sprintf("%s via %s dev eth0 proto 84 metric 1", peer.LAN, peer.Outer)
	if !strings.Contains(out, want) {
		t.Fatalf("%s: no %q in the routing table:\n%s", s.Gw, want, out)
	}
}

func dotted(m uint32) string {
	return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}).String()
}

func mask(p netip.Prefix) string { return dotted(^uint32(0) << (32 - p.Bits())) }

// waitConsole waits until the router's console holds substr.
func waitConsole(t *testing.T, r *lab.Router, substr string, d time.Duration) {
	t.Helper()
	for end := time.Now().Add(d); !strings.Contains(r.Output(), substr); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("%s: no %q on the console:\n%s", r.Name, substr, lab.Tail(r.Output(), 40))
		}
	}
}

// checkPlane checks the data plane the router announced when ISAKMP started.
func checkPlane(t *testing.T, r *lab.Router, want string) {
	t.Helper()
	waitConsole(t, r, "%CRYPTO-6-DATAPLANE: IPsec data plane: ", 30*time.Second)
	line := regexp.MustCompile(`%CRYPTO-6-DATAPLANE: IPsec data plane: (\w+)[^\n]*`).FindStringSubmatch(r.Output())
	if line[1] != want {
		t.Fatalf("%s: %s, want %s", r.Name, line[0], want)
	}
	t.Logf("%s: %s", r.Name, line[0])
}

var pingRE = regexp.MustCompile(`(\d+) packets transmitted, (\d+) (?:packets )?received`)

// ping pings from a host namespace (busybox ping in the VM, iputils on the host: both take
// -c -i -W and print the same summary) and returns echoes sent and replies received.
func ping(t *testing.T, from *lab.Netns, to netip.Addr, count int, interval string) (sent, recv int) {
	t.Helper()
	out, _ := from.Run("ping", "-c", strconv.Itoa(count), "-i", interval, "-W", "2", to.String())
	m := pingRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("ping output:\n%s", out)
	}
	sent, _ = strconv.Atoi(m[1])
	recv, _ = strconv.Atoi(m[2])
	return sent, recv
}

// bringUp pings from l's host until a reply comes back through the tunnel: the first echoes
// start the negotiation and are dropped meanwhile, as on IOS.
func bringUp(t *testing.T, l, r Site) {
	t.Helper()
	for end := time.Now().Add(60 * time.Second); ; {
		if _, recv := ping(t, l.Host, r.HostAddr, 1, "1"); recv == 1 {
			return
		}
		if time.Now().After(end) {
			t.Fatal("no echo reply through the tunnel within 60 s")
		}
	}
}
