package kernel

import (
	"errors"
	"math"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/tunnelbox/tunnelbox/xfrm"
)

func TestErrorText(t *testing.T) {
	for _, tc := range []struct {
		op    string
		err   error
		want  string
		is    []error
		isNot []error
	}{
		{"add SA", syscall.EPROTONOSUPPORT, "kernel: add SA X: kernel has no ESP support (protocol not supported)", []error{ErrNoESP, syscall.EPROTONOSUPPORT}, []error{xfrm.ErrExists}},
		{"add SA", &extack{syscall.EPROTONOSUPPORT, "Requested type not found"}, "kernel: add SA X: kernel has no ESP support (Requested type not found)", []error{ErrNoESP}, nil},
		{"add SA", syscall.ENOSYS, "algorithm not available in the kernel", []error{ErrNoAlgorithm}, []error{ErrNoESP}},
		{"add SA", syscall.EEXIST, "kernel: add SA X: file exists", []error{xfrm.ErrExists}, nil},
		{"delete SA", syscall.ESRCH, "kernel: delete SA X: no such process", []error{xfrm.ErrNotFound}, nil},
		{"delete policy", syscall.ENOENT, "no such file or directory", []error{xfrm.ErrNotFound}, []error{ErrNoESP}},
		{"delete policy", syscall.EPROTONOSUPPORT, "kernel: delete policy X: protocol not supported", nil, []error{ErrNoESP}},
		{"add policy", errors.New("boom"), "kernel: add policy X: boom", nil, []error{xfrm.ErrExists}},
	} {
		err := kernelError(tc.op, "X", tc.err)
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: %q, want it to contain %q", tc.op, tc.err, err, tc.want)
		}
		for _, e := range tc.is {
			if !errors.Is(err, e) {
				t.Errorf("%s %v: %v is not %v", tc.op, tc.err, err, e)
			}
		}
		for _, e := range tc.isNot {
			if errors.Is(err, e) {
				t.Errorf("%s %v: %v must not be %v", tc.op, tc.err, err, e)
			}
		}
	}
	if kernelError("x", "y", nil) != nil {
		t.Error("nil error became non-nil")
	}
}

// extack renders an errno with the kernel's message as the nl package does: "errno: message".
type extack struct {
	errno syscall.Errno
	msg   string
}

func (e *extack) Error() string { return e.errno.Error() + ": " + e.msg }
func (e *extack) Unwrap() error { return e.errno }

func TestExtackMessage(t *testing.T) {
	err := kernelError("add SA", "X", &extack{syscall.EINVAL, "Kernel was unable to initialize cryptographic operations"})
	var ke *Error
	if !errors.As(err, &ke) || ke.Msg != "Kernel was unable to initialize cryptographic operations" || ke.Errno != syscall.EINVAL {
		t.Fatalf("got %#v", err)
	}
	if got, want := err.Error(), "kernel: add SA X: Kernel was unable to initialize cryptographic operations"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}

func TestReplayESN(t *testing.T) {
	for _, tc := range []struct {
		w     uint32
		words uint32
	}{{1, 1}, {32, 1}, {33, 2}, {64, 2}, {1024, 32}, {4096, 128}} {
		b := replayESN(tc.w)
		ne := nl.NativeEndian()
		if len(b) != 24+4*int(tc.words) || ne.Uint32(b[0:]) != tc.words || ne.Uint32(b[20:]) != tc.w {
			t.Errorf("window %d: %d octets, bmp_len %d, window %d", tc.w, len(b), ne.Uint32(b[0:]), ne.Uint32(b[20:]))
		}
	}
}

func TestKernelPriority(t *testing.T) {
	for _, tc := range []struct{ in, want uint32 }{{0, PriorityBase}, {5, PriorityBase + 5},
		{math.MaxUint32 - PriorityBase, math.MaxUint32}, {math.MaxUint32, math.MaxUint32}} {
		if got := kernelPriority(tc.in); got != tc.want {
			t.Errorf("kernelPriority(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
	if BypassPriority >= PriorityBase {
		t.Error("bypass policies must come before every mapped priority")
	}
}

func TestStatsToCounters(t *testing.T) {
	s := netlink.XfrmStateStats{Packets: 7, Bytes: 700, Replay: 2, ReplayWindow: 1, Failed: 3}
	if c := statsToCounters(s, xfrm.DirIn); c != (xfrm.Counters{Packets: 7, Bytes: 700, Decaps: 7, ErrReplay: 3, ErrAuth: 3}) {
		t.Errorf("in: %+v", c)
	}
	if c := statsToCounters(s, xfrm.DirOut); c.Encaps != 7 || c.Decaps != 0 {
		t.Errorf("out: %+v", c)
	}
}

func TestBypassPolicies(t *testing.T) {
	p := &xfrm.Policy{Src: netip.MustParsePrefix("0.0.0.0/0"), Dst: netip.MustParsePrefix("0.0.0.0/0"),
		Dir: xfrm.DirOut, Action: xfrm.ActionProtect, Tmpl: xfrm.Template{Src: netip.MustParseAddr("192.0.2.1"),
			Dst: netip.MustParseAddr("192.0.2.2"), Proto: xfrm.ProtoESP, Mode: xfrm.ModeTunnel}}
	keys := bypassKeys(p)
	if len(keys) != 1 {
		t.Fatalf("keys %v", keys)
	}
	var got []string
	for _, bp := range bypassPolicies(keys[0]) {
		got = append(got, policyString(bp))
		if bp.Priority != BypassPriority || bp.Action != netlink.XFRM_POLICY_ALLOW || len(bp.Tmpls) != 0 {
			t.Errorf("%+v", bp)
		}
	}
	want := "dir out 192.0.2.1/32 -> 192.0.2.2/32 proto 17 ports 500/0,dir out 192.0.2.1/32 -> 192.0.2.2/32 proto 17 ports 4500/0"
	if strings.Join(got, ",") != want {
		t.Errorf("got %s\nwant %s", strings.Join(got, ","), want)
	}
	p.Dir = xfrm.DirFwd
	if len(bypassKeys(p)) != 0 {
		t.Error("fwd policies need no bypass")
	}
	// Transport mode without template endpoints: the host selector names the gateways.
	q := &xfrm.Policy{Src: netip.MustParsePrefix("192.0.2.2/32"), Dst: netip.MustParsePrefix("192.0.2.1/32"),
		Dir: xfrm.DirIn, Action: xfrm.ActionProtect, Tmpl: xfrm.Template{Proto: xfrm.ProtoESP, Mode: xfrm.ModeTransport}}
	if k := bypassKeys(q); len(k) != 1 || k[0].src.String() != "192.0.2.2" || policyString(bypassPolicies(k[0])[1]) != "dir in 192.0.2.2/32 -> 192.0.2.1/32 proto 17 ports 0/4500" {
		t.Errorf("transport: %v", k)
	}
	q.Src = netip.MustParsePrefix("10.0.0.0/8")
	if len(bypassKeys(q)) != 0 {
		t.Error("a subnet selector without endpoints names no gateways")
	}
}

// acquireBytes builds an XFRM_MSG_ACQUIRE body as the kernel does (xfrm_user_acquire).
func acquireBytes(flow xfrm.Flow, pol xfrm.PolicyID, peer netip.Addr) []byte {
	b := make([]byte, sizeofUserAcquire)
	id := nl.DeserializeXfrmId(b[:nl.SizeofXfrmId])
	setXfrmAddr(&id.Daddr, peer)
	id.Proto = unix.IPPROTO_ESP
	sel := nl.DeserializeXfrmSelector(b[offAcquireSel:])
	sel.Family = family(flow.Src)
	setXfrmAddr(&sel.Saddr, flow.Src)
	setXfrmAddr(&sel.Daddr, flow.Dst)
	sel.PrefixlenS, sel.PrefixlenD = uint8(flow.Src.BitLen()), uint8(flow.Dst.BitLen())
	sel.Proto, sel.Sport, sel.Dport = flow.Proto, nl.Swap16(flow.SrcPort), nl.Swap16(flow.DstPort)
	pi := nl.DeserializeXfrmUserpolicyInfo(b[offAcquirePolicy:])
	pi.Sel.Family = family(pol.Src.Addr())
	setXfrmAddr(&pi.Sel.Saddr, pol.Src.Addr())
	setXfrmAddr(&pi.Sel.Daddr, pol.Dst.Addr())
	pi.Sel.PrefixlenS, pi.Sel.PrefixlenD = uint8(pol.Src.Bits()), uint8(pol.Dst.Bits())
	pi.Sel.Proto, pi.Sel.Sport, pi.Sel.Dport = pol.Proto, nl.Swap16(pol.SrcPort), nl.Swap16(pol.DstPort)
	pi.Dir = map[xfrm.Dir]uint8{xfrm.DirIn: 0, xfrm.DirOut: 1, xfrm.DirFwd: 2}[pol.Dir]
	return b
}

func TestParseAcquire(t *testing.T) {
	flow := xfrm.Flow{Src: netip.MustParseAddr("10.1.1.10"), Dst: netip.MustParseAddr("10.2.2.10"), Proto: 1, SrcPort: 8}
	pol := xfrm.PolicyID{Src: netip.MustParsePrefix("10.1.1.0/24"), Dst: netip.MustParsePrefix("10.2.2.0/24"), Dir: xfrm.DirOut}
	peer := netip.MustParseAddr("192.0.2.2")
	b := acquireBytes(flow, pol, peer)
	a, err := parseAcquire(append(b, 0, 0, 0, 0)) // attributes follow; ignored
	if err != nil {
		t.Fatal(err)
	}
	if a.flow != flow || a.policy != pol || a.peer != peer {
		t.Errorf("got %+v", a)
	}
	flow6 := xfrm.Flow{Src: netip.MustParseAddr("2001:db8:1::10"), Dst: netip.MustParseAddr("2001:db8:2::10"), Proto: 6, SrcPort: 4000, DstPort: 80}
	pol6 := xfrm.PolicyID{Src: netip.MustParsePrefix("2001:db8:1::/48"), Dst: netip.MustParsePrefix("2001:db8:2::/48"), Proto: 6, DstPort: 80, Dir: xfrm.DirOut}
	if a, err := parseAcquire(acquireBytes(flow6, pol6, netip.MustParseAddr("2001:db8::2"))); err != nil || a.flow != flow6 || a.policy != pol6 {
		t.Errorf("v6: %+v %v", a, err)
	}
	for _, n := range []int{0, 1, sizeofUserAcquire - 1} {
		if _, err := parseAcquire(b[:n]); !errors.Is(err, ErrBadMessage) {
			t.Errorf("%d octets: %v", n, err)
		}
	}
	bad := append([]byte(nil), b...)
	nl.DeserializeXfrmSelector(bad[offAcquireSel:]).Family = 99
	if _, err := parseAcquire(bad); !errors.Is(err, ErrBadMessage) {
		t.Errorf("bad family: %v", err)
	}
	bad = append([]byte(nil), b...)
	nl.DeserializeXfrmUserpolicyInfo(bad[offAcquirePolicy:]).Sel.PrefixlenS = 33
	if _, err := parseAcquire(bad); !errors.Is(err, ErrBadMessage) {
		t.Errorf("bad prefix: %v", err)
	}
}

func expireBytes(hard bool, lft nl.XfrmLifetimeCfg, cur nl.XfrmLifetimeCur) []byte {
	b := make([]byte, nl.SizeofXfrmUserExpire)
	m := nl.DeserializeXfrmUserExpire(b)
	m.XfrmUsersaInfo.Family = unix.AF_INET
	setXfrmAddr(&m.XfrmUsersaInfo.Id.Daddr, netip.MustParseAddr("192.0.2.2"))
	setXfrmAddr(&m.XfrmUsersaInfo.Saddr, netip.MustParseAddr("192.0.2.1"))
	m.XfrmUsersaInfo.Id.Spi = nl.Swap32(0x1234)
	m.XfrmUsersaInfo.Id.Proto = unix.IPPROTO_ESP
	m.XfrmUsersaInfo.Reqid = 9
	m.XfrmUsersaInfo.Lft, m.XfrmUsersaInfo.Curlft = lft, cur
	if hard {
		m.Hard = 1
	}
	return b
}

func TestParseExpire(t *testing.T) {
	inf := nl.XFRM_INF
	none := nl.XfrmLifetimeCfg{SoftByteLimit: inf, HardByteLimit: inf, SoftPacketLimit: inf, HardPacketLimit: inf, SoftAddExpiresSeconds: 10, HardAddExpiresSeconds: 20}
	bytes := none
	bytes.SoftByteLimit, bytes.HardByteLimit = 1000, 2000
	pkts := none
	pkts.SoftPacketLimit, pkts.HardPacketLimit = 10, 20
	for _, tc := range []struct {
		name  string
		hard  bool
		lft   nl.XfrmLifetimeCfg
		cur   nl.XfrmLifetimeCur
		cause xfrm.ExpireCause
	}{
		{"soft time", false, none, nl.XfrmLifetimeCur{Bytes: 5}, xfrm.ExpireTime},
		{"hard time", true, none, nl.XfrmLifetimeCur{}, xfrm.ExpireTime},
		{"soft bytes", false, bytes, nl.XfrmLifetimeCur{Bytes: 1000}, xfrm.ExpireBytes},
		{"hard bytes", true, bytes, nl.XfrmLifetimeCur{Bytes: 2100}, xfrm.ExpireBytes},
		{"soft bytes reached, hard time", true, bytes, nl.XfrmLifetimeCur{Bytes: 1500}, xfrm.ExpireTime},
		{"soft packets", false, pkts, nl.XfrmLifetimeCur{Packets: 10}, xfrm.ExpirePackets},
	} {
		e, err := parseExpire(expireBytes(tc.hard, tc.lft, tc.cur))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		want := xfrm.SAID{Dst: netip.MustParseAddr("192.0.2.2"), SPI: 0x1234, Proto: xfrm.ProtoESP}
		if e.id != want || e.src.String() != "192.0.2.1" || e.reqid != 9 || e.hard != tc.hard || e.cause != tc.cause {
			t.Errorf("%s: %+v", tc.name, e)
		}
	}
	if _, err := parseExpire(make([]byte, nl.SizeofXfrmUserExpire-1)); !errors.Is(err, ErrBadMessage) {
		t.Errorf("short: %v", err)
	}
	if _, err := parseExpire(make([]byte, nl.SizeofXfrmUserExpire)); !errors.Is(err, ErrBadMessage) {
		t.Errorf("family 0: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(acquireBytes(xfrm.Flow{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2")},
		xfrm.PolicyID{Src: netip.MustParsePrefix("10.0.0.0/8"), Dst: netip.MustParsePrefix("10.0.0.0/8")}, netip.MustParseAddr("192.0.2.2")))
	f.Add(expireBytes(true, nl.XfrmLifetimeCfg{}, nl.XfrmLifetimeCur{}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if a, err := parseAcquire(b); err == nil {
			if !a.flow.Src.IsValid() || !a.policy.Src.IsValid() {
				t.Fatalf("accepted acquire with invalid addresses: %+v", a)
			}
		}
		if e, err := parseExpire(b); err == nil && !e.id.Dst.IsValid() {
			t.Fatalf("accepted expire with invalid address: %+v", e)
		}
	})
}

func TestAligned(t *testing.T) {
	b := aligned([]byte{1, 2, 3}, 16)
	if len(b) != 16 || b[2] != 3 || uintptr(unsafe.Pointer(&b[0]))%8 != 0 {
		t.Errorf("%v", b)
	}
}
