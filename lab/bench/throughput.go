package bench

import (
	"fmt"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tunnelbox/tunnelbox/lab"
)

// Suite is one ESP algorithm pair of the throughput benchmark, in both products' spelling.
type Suite struct {
	Name      string // "aes128-gcm"
	SwanESP   string // strongSwan esp_proposals without the DH group: "aes128gcm16"
	Transform string // IOS transform set: "esp-gcm 128"
}

// Suites are the throughput benchmark's algorithms.
var Suites = []Suite{
	{Name: "aes128-gcm", SwanESP: "aes128gcm16", Transform: "esp-gcm 128"},
	{Name: "aes256-sha1", SwanESP: "aes256-sha1", Transform: "esp-aes 256 esp-sha-hmac"},
}

// ThroughputResult is one iperf3 run through one tunnel.
type ThroughputResult struct {
	Impl  string
	Suite string
	Iperf3Result
	GwCPU [2]time.Duration // CPU time of the left and right gateway process during iperf3
	// Drops during iperf3 on the gateways (both together): ESP-in-UDP datagrams their UDP layer
	// dropped for a full receive buffer, and packets the TUN device dropped because the
	// gateway did not read them fast enough (tx_dropped).
	UDPDrops, TUNDrops uint64
}

const tputPSK = "bench-tput-psk-0123456789"

// RunThroughputStrongSwan brings up one strongSwan <-> strongSwan tunnel (kernel-libipsec,
// IKEv1 Main Mode aes256-sha256-modp2048, ESP s.SwanESP with PFS group 14) on the standard four-node
// topology and runs iperf3 from hostL to hostR for d.
func RunThroughputStrongSwan(t testing.TB, s Suite, d time.Duration) (ThroughputResult, error) {
	t.Helper()
	res := ThroughputResult{Impl: StrongSwan, Suite: s.Name}
	f := lab.NewFourNode(t, nil)
	left, err := lab.StartCharon(t, f.L.Gw, nil)
	if err != nil {
		return res, err
	}
	right, err := lab.StartCharon(t, f.R.Gw, nil)
	if err != nil {
		return res, err
	}
	peer := func(l, r lab.Site) *lab.PeerConfig {
		return &lab.PeerConfig{LocalAddr: l.Outer, RemoteAddr: r.Outer, PSK: tputPSK,
			IKEProposal: rateIKE, ESPProposal: s.SwanESP, PFSGroup: "modp2048",
			LocalTS: []netip.Prefix{l.LAN}, RemoteTS: []netip.Prefix{r.LAN}}
	}
	if err := left.Load(peer(f.L, f.R)); err != nil {
		return res, err
	}
	if err := right.Load(peer(f.R, f.L)); err != nil {
		return res, err
	}
	if err := left.Initiate("net", 0); err != nil {
		return res, err
	}
	if _, err := right.WaitInstalled("net", 10*time.Second); err != nil {
		return res, err
	}
	if err := waitPing(f.L.Host, f.R.HostAddr, 10*time.Second); err != nil {
		return res, fmt.Errorf("bench: no ping through the strongSwan tunnel: %w", err)
	}
	return measure(t, res, f.L.Host, f.R.Host, f.R.HostAddr, [2]int{left.Proc.Pid, right.Proc.Pid},
		[2]*lab.Netns{f.L.Gw, f.R.Gw}, "ipsec0", d)
}

// RunThroughputTunnelbox brings up one Tunnelbox <-> Tunnelbox tunnel (userspace ESP data
// plane; both routers configured through their consoles, the tunnel started by traffic from
// hostL as on IOS) and runs iperf3 from hostL to hostR for d.
func RunThroughputTunnelbox(t testing.TB, bin string, s Suite, d time.Duration) (ThroughputResult, error) {
	t.Helper()
	res := ThroughputResult{Impl: Tunnelbox, Suite: s.Name}
	f, err := NewPortTopology(t)
	if err != nil {
		return res, err
	}
	var pids [2]int
	for i, side := range [2]struct{ me, peer lab.Site }{{f.L, f.R}, {f.R, f.L}} {
		r, err := lab.StartRouter(t, side.me.Gw, side.me.Gw.Role, lab.RouterOptions{Binary: bin, Dataplane: "userspace"})
		if err != nil {
			return res, err
		}
		if err := r.Configure(GatewayConf(side.me, side.peer, s.Transform)...); err != nil {
			return res, err
		}
		if err := checkAddr(side.me.Gw, "eth0", netip.PrefixFrom(side.me.Outer, side.me.OuterNet.Bits())); err != nil {
			return res, err
		}
		if err := checkAddr(side.me.Gw, "eth1", netip.PrefixFrom(side.me.Inner, side.me.LAN.Bits())); err != nil {
			return res, err
		}
		pids[i] = r.Pid
	}
	// The first packets start IKE and are dropped meanwhile (IOS does the same).
	if err := waitPing(f.L.Host, f.R.HostAddr, 20*time.Second); err != nil {
		return res, fmt.Errorf("bench: no ping through the Tunnelbox tunnel: %w", err)
	}
	return measure(t, res, f.L.Host, f.R.Host, f.R.HostAddr, pids, [2]*lab.Netns{f.L.Gw, f.R.Gw}, "tbx0", d)
}

// ProfileDir, when set, makes every measurement record a perf CPU profile of the processes
// measured: both gateways of a throughput run (<impl>-<suite>-<L|R>.perf.data) and the
// responder of a setup-rate run (rate-<responder>.perf.data). Read them with `perf report -i`.
var ProfileDir string

// startProfile starts `perf record` on pid into ProfileDir/name.perf.data and returns the
// function that stops it (SIGINT makes perf write its file). Without ProfileDir, or if perf
// cannot start, it does nothing.
func startProfile(t testing.TB, pid int, name string) (stop func()) {
	if ProfileDir == "" {
		return func() {}
	}
	out := filepath.Join(ProfileDir, name+".perf.data")
	cmd := exec.Command("perf", "record", "-q", "-F", "499", "-g", "-p", strconv.Itoa(pid), "-o", out)
	if err := cmd.Start(); err != nil {
		t.Logf("perf record: %v", err)
		return func() {}
	}
	return func() {
		cmd.Process.Signal(syscall.SIGINT)
		if err := cmd.Wait(); err != nil {
			t.Logf("perf record %s: %v", name, err)
		}
	}
}

func measure(t testing.TB, res ThroughputResult, client, server *lab.Netns, addr netip.Addr, pids [2]int,
	gws [2]*lab.Netns, tun string, d time.Duration) (ThroughputResult, error) {
	var c0 [2]time.Duration
	for i, p := range pids {
		c0[i], _ = ProcCPU(p)
	}
	udp0, tun0 := gwDrops(gws, tun)
	for i, p := range pids {
		defer startProfile(t, p, fmt.Sprintf("%s-%s-%s", res.Impl, res.Suite, [2]string{"L", "R"}[i]))()
	}
	ir, err := Iperf3(t, client, server, addr, d)
	if err != nil {
		return res, err
	}
	res.Iperf3Result = ir
	for i, p := range pids {
		c1, _ := ProcCPU(p)
		res.GwCPU[i] = c1 - c0[i]
	}
	udp1, tun1 := gwDrops(gws, tun)
	res.UDPDrops, res.TUNDrops = udp1-udp0, tun1-tun0
	return res, nil
}

// gwDrops sums the gateways' UDP receive drops and their TUN device's tx_dropped (0 for what
// cannot be read).
func gwDrops(gws [2]*lab.Netns, tun string) (udp, tunDrops uint64) {
	for _, ns := range gws {
		if st, err := NetnsUDP(ns); err == nil {
			udp += st.RcvbufErrors + st.InErrors
		}
		if out, err := ns.Run("cat", "/sys/class/net/"+tun+"/statistics/tx_dropped"); err == nil {
			if n, err := strconv.ParseUint(strings.TrimSpace(out), 10, 64); err == nil {
				tunDrops += n
			}
		}
	}
	return udp, tunDrops
}

// NewPortTopology builds the four-node topology of lab.NewFourNode with the gateways' links
// named as Tunnelbox ports (eth0 = GigabitEthernet0/0 outside, eth1 = GigabitEthernet0/1 inside)
// and no addresses on the gateways: their CLI configures them. Hosts are addressed and route the
// other LAN via their gateway; the gateways forward.
func NewPortTopology(t testing.TB) (*lab.FourNode, error) {
	t.Helper()
	f := &lab.FourNode{}
	outer := netip.MustParsePrefix("192.0.2.0/24")
	sites := []*lab.Site{&f.L, &f.R}
	for i, lan := range []string{"10.1.1.0/24", "10.2.2.0/24"} {
		p := netip.MustParsePrefix(lan)
		s := sites[i]
		suffix := [2]string{"L", "R"}[i]
		*s = lab.Site{LAN: p, OuterNet: outer,
			Outer:    netip.AddrFrom4([4]byte{192, 0, 2, byte(i + 1)}),
			Inner:    p.Addr().Next(),
			HostAddr: netip.AddrFrom4([4]byte{10, byte(i + 1), byte(i + 1), 10}),
			Gw:       lab.NewNetns(t, "tbgw"+suffix), Host: lab.NewNetns(t, "tbhost"+suffix)}
		if err := lab.Veth(s.Gw, "eth1", s.Host, lab.HostDev); err != nil {
			return nil, err
		}
		if err := s.Host.AddAddr(lab.HostDev, netip.PrefixFrom(s.HostAddr, p.Bits())); err != nil {
			return nil, err
		}
		if err := s.Gw.Sysctl("net.ipv4.ip_forward", "1"); err != nil {
			return nil, err
		}
	}
	if err := lab.Veth(f.L.Gw, "eth0", f.R.Gw, "eth0"); err != nil {
		return nil, err
	}
	if err := f.L.Host.AddRoute(f.R.LAN, f.L.Inner); err != nil {
		return nil, err
	}
	if err := f.R.Host.AddRoute(f.L.LAN, f.R.Inner); err != nil {
		return nil, err
	}
	return f, nil
}

// GatewayConf returns one site-to-site gateway's configuration lines: me's ports, the ISAKMP
// policy (aes256 sha256 group 14, pre-share), the key for the peer, a transform set of
// transform, and crypto map CMAP protecting me's LAN to the peer's with PFS group 14.
func GatewayConf(me, peer lab.Site, transform string) []string {
	mask := func(p netip.Prefix) string {
		m := ^uint32(0) << (32 - p.Bits())
		return fmt.Sprintf("%d.%d.%d.%d", byte(m>>24), byte(m>>16), byte(m>>8), byte(m))
	}
	wild := func(p netip.Prefix) string {
		w := ^uint32(0) >> p.Bits()
		return fmt.Sprintf("%d.%d.%d.%d", byte(w>>24), byte(w>>16), byte(w>>8), byte(w))
	}
	return []string{
		"crypto isakmp policy 10",
		"encryption aes 256",
		"hash sha256",
		"authentication pre-share",
		"group 14",
		"exit",
		"crypto isakmp key " + tputPSK + " address " + peer.Outer.String(),
		"crypto ipsec transform-set TS " + transform,
		"mode tunnel",
		"exit",
		fmt.Sprintf("access-list 101 permit ip %s %s %s %s", me.LAN.Addr(), wild(me.LAN), peer.LAN.Addr(), wild(peer.LAN)),
		"crypto map CMAP 10 ipsec-isakmp",
		"set peer " + peer.Outer.String(),
		"set transform-set TS",
		"set pfs group14",
		"match address 101",
		"exit",
		"interface GigabitEthernet0/0",
		"ip address " + me.Outer.String() + " " + mask(me.OuterNet),
		"crypto map CMAP",
		"no shutdown",
		"exit",
		"interface GigabitEthernet0/1",
		"ip address " + me.Inner.String() + " " + mask(me.LAN),
		"no shutdown",
		"exit",
	}
}
