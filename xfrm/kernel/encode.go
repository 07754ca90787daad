package kernel

import (
	"fmt"
	"math"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/tunnelbox/tunnelbox/xfrm"
)

// PriorityBase is added to xfrm.Policy.Priority to form the kernel policy priority, leaving
// the values below it to the IKE bypass policies.
const PriorityBase = 1024

// BypassPriority is the kernel priority of the bypass policies that keep IKE (UDP 500 and
// 4500 between the gateways) out of the tunnels. Lower values win in the kernel.
const BypassPriority = 512

// IKE ports kept out of the tunnels (RFC 2408, RFC 3947).
var ikePorts = [...]uint16{500, 4500}

const udpEncapESPInUDP = unix.UDP_ENCAP_ESPINUDP // RFC 3948, linux/udp.h

func kernelPriority(p uint32) uint32 {
	if p > math.MaxUint32-PriorityBase {
		return math.MaxUint32
	}
	return p + PriorityBase
}

func family(a netip.Addr) uint16 {
	if a.Unmap().Is4() {
		return unix.AF_INET
	}
	return unix.AF_INET6
}

func ipOf(a netip.Addr) net.IP {
	if !a.IsValid() {
		return nil
	}
	return net.IP(a.Unmap().AsSlice())
}

func netOf(p netip.Prefix) *net.IPNet {
	p = p.Masked()
	a := p.Addr().Unmap()
	bits := p.Bits()
	if p.Addr().Is4In6() {
		bits -= 96
	}
	return &net.IPNet{IP: net.IP(a.AsSlice()), Mask: net.CIDRMask(bits, a.BitLen())}
}

func addrOf(ip net.IP) netip.Addr {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return netip.Addr{}
	}
	return a.Unmap()
}

// xfrmAddr decodes a kernel xfrm_address_t of the given family.
func xfrmAddr(b *nl.XfrmAddress, fam uint16) netip.Addr {
	if fam == unix.AF_INET {
		return netip.AddrFrom4([4]byte(b[:4]))
	}
	return netip.AddrFrom16(*b)
}

func setXfrmAddr(dst *nl.XfrmAddress, a netip.Addr) {
	*dst = nl.XfrmAddress{}
	a = a.Unmap()
	if a.Is4() {
		b := a.As4()
		copy(dst[:4], b[:])
		return
	}
	*dst = a.As16()
}

func saString(sa *xfrm.SA) string { return sa.ID().String() }

// stateAttrs builds the xfrm_usersa_info and the attributes of an XFRM_MSG_NEWSA for sa.
func stateRequest(sa *xfrm.SA) *nl.NetlinkRequest {
	req := nl.NewNetlinkRequest(nl.XFRM_MSG_NEWSA, unix.NLM_F_CREATE|unix.NLM_F_EXCL|unix.NLM_F_ACK)
	msg := &nl.XfrmUsersaInfo{}
	fam := family(sa.Dst)
	msg.Family = fam
	setXfrmAddr(&msg.Id.Daddr, sa.Dst)
	setXfrmAddr(&msg.Saddr, sa.Src)
	msg.Id.Spi = nl.Swap32(sa.SPI)
	msg.Id.Proto = uint8(sa.Proto)
	msg.Reqid = sa.Reqid
	msg.Sel.Family = fam
	if sa.Mode == xfrm.ModeTunnel {
		msg.Mode = uint8(netlink.XFRM_MODE_TUNNEL)
	} else {
		// A transport-mode state only ever carries the two endpoints' own packets.
		msg.Mode = uint8(netlink.XFRM_MODE_TRANSPORT)
		setXfrmAddr(&msg.Sel.Daddr, sa.Dst)
		setXfrmAddr(&msg.Sel.Saddr, sa.Src)
		msg.Sel.PrefixlenD = uint8(sa.Dst.Unmap().BitLen())
		msg.Sel.PrefixlenS = uint8(sa.Src.Unmap().BitLen())
	}
	inf := func(v uint64) uint64 {
		if v == 0 {
			return nl.XFRM_INF
		}
		return v
	}
	l := sa.Lifetime
	msg.Lft = nl.XfrmLifetimeCfg{
		SoftByteLimit: inf(l.SoftBytes), HardByteLimit: inf(l.HardBytes),
		SoftPacketLimit: inf(l.SoftPackets), HardPacketLimit: inf(l.HardPackets),
		SoftAddExpiresSeconds: l.SoftSeconds, HardAddExpiresSeconds: l.HardSeconds,
	}
	req.AddData(msg)

	switch {
	case sa.Enc.AEAD():
		key := append(append([]byte(nil), sa.EncKey...), sa.Salt...)
		a := nl.XfrmAlgoAEAD{AlgKeyLen: uint32(len(key) * 8), AlgICVLen: uint32(sa.Enc.ICVLen() * 8), AlgKey: key}
		copy(a.AlgName[:63], sa.Enc.KernelName())
		req.AddData(nl.NewRtAttr(nl.XFRMA_ALG_AEAD, a.Serialize()))
	default:
		a := nl.XfrmAlgo{AlgKeyLen: uint32(len(sa.EncKey) * 8), AlgKey: append([]byte(nil), sa.EncKey...)}
		copy(a.AlgName[:63], sa.Enc.KernelName())
		req.AddData(nl.NewRtAttr(nl.XFRMA_ALG_CRYPT, a.Serialize()))
		if sa.Auth != xfrm.AuthNone {
			t := nl.XfrmAlgoAuth{AlgKeyLen: uint32(len(sa.AuthKey) * 8),
				AlgTruncLen: uint32(sa.EffectiveICVLen() * 8), AlgKey: append([]byte(nil), sa.AuthKey...)}
			copy(t.AlgName[:63], sa.Auth.KernelName())
			req.AddData(nl.NewRtAttr(nl.XFRMA_ALG_AUTH_TRUNC, t.Serialize()))
		}
	}
	if sa.Encap != nil {
		b := make([]byte, nl.SizeofXfrmEncapTmpl)
		e := nl.DeserializeXfrmEncapTmpl(b)
		e.EncapType = udpEncapESPInUDP
		e.EncapSport = nl.Swap16(sa.Encap.SrcPort)
		e.EncapDport = nl.Swap16(sa.Encap.DstPort)
		req.AddData(nl.NewRtAttr(nl.XFRMA_ENCAP, b))
	}
	if w := sa.Window(); w > 0 {
		req.AddData(nl.NewRtAttr(nl.XFRMA_REPLAY_ESN_VAL, replayESN(uint32(w))))
	}
	return req
}

// replayESN encodes struct xfrm_replay_state_esn with an all-clear bitmap for window w. Without
// the ESN flag the kernel runs it as a plain 32-bit sequence with a w-packet bitmap.
func replayESN(w uint32) []byte {
	words := (w + 31) / 32
	b := make([]byte, 24+4*words)
	ne := nl.NativeEndian()
	ne.PutUint32(b[0:], words) // bmp_len
	// oseq, seq, oseq_hi, seq_hi stay 0
	ne.PutUint32(b[20:], w) // replay_window
	return b
}

// policyOf converts p to the library's policy for add and delete.
func policyOf(p *xfrm.Policy) *netlink.XfrmPolicy {
	np := &netlink.XfrmPolicy{
		Src: netOf(p.Src), Dst: netOf(p.Dst), Proto: netlink.Proto(p.Proto),
		SrcPort: int(p.SrcPort), DstPort: int(p.DstPort),
		Priority: int(kernelPriority(p.Priority)),
	}
	switch p.Dir {
	case xfrm.DirOut:
		np.Dir = netlink.XFRM_DIR_OUT
	case xfrm.DirIn:
		np.Dir = netlink.XFRM_DIR_IN
	default:
		np.Dir = netlink.XFRM_DIR_FWD
	}
	switch p.Action {
	case xfrm.ActionDiscard:
		np.Action = netlink.XFRM_POLICY_BLOCK
	case xfrm.ActionProtect:
		t := p.Tmpl
		mode := netlink.XFRM_MODE_TRANSPORT
		if t.Mode == xfrm.ModeTunnel {
			mode = netlink.XFRM_MODE_TUNNEL
		}
		np.Tmpls = []netlink.XfrmPolicyTmpl{{Src: ipOf(t.Src), Dst: ipOf(t.Dst), Proto: netlink.XFRM_PROTO_ESP,
			Mode: mode, Reqid: int(t.Reqid)}}
		if t.Mode != xfrm.ModeTunnel && !t.Dst.IsValid() {
			// Transport template without endpoints: the kernel takes them from the flow, but
			// the library derives the template family from Dst.
			np.Tmpls[0].Dst = make(net.IP, len(np.Src.IP))
			np.Tmpls[0].Src = make(net.IP, len(np.Src.IP))
		}
	}
	return np
}

// gatewayPair returns the two gateway addresses (local first for out, remote first for in/fwd:
// as the template names them) a protecting policy runs between, if known.
func gatewayPair(p *xfrm.Policy) (src, dst netip.Addr, ok bool) {
	if p.Action != xfrm.ActionProtect {
		return src, dst, false
	}
	if p.Tmpl.Src.IsValid() && p.Tmpl.Dst.IsValid() {
		return p.Tmpl.Src.Unmap(), p.Tmpl.Dst.Unmap(), true
	}
	if p.Src.IsSingleIP() && p.Dst.IsSingleIP() {
		return p.Src.Addr().Unmap(), p.Dst.Addr().Unmap(), true
	}
	return src, dst, false
}

// bypassKey identifies one set of IKE bypass policies: a direction and the packet's source and
// destination gateway.
type bypassKey struct {
	dir      xfrm.Dir
	src, dst netip.Addr
}

// bypassPolicies returns the kernel policies that let IKE between k.src and k.dst pass in clear:
// UDP with either port 500 or 4500 on our side (the source port outbound, the destination
// port inbound; the peer's port may be NAT-mapped).
func bypassPolicies(k bypassKey) []*netlink.XfrmPolicy {
	var out []*netlink.XfrmPolicy
	bits := k.src.BitLen()
	for _, port := range ikePorts {
		p := &netlink.XfrmPolicy{
			Src: netOf(netip.PrefixFrom(k.src, bits)), Dst: netOf(netip.PrefixFrom(k.dst, bits)),
			Proto: netlink.Proto(unix.IPPROTO_UDP), Priority: BypassPriority, Action: netlink.XFRM_POLICY_ALLOW,
		}
		if k.dir == xfrm.DirOut {
			p.Dir, p.SrcPort = netlink.XFRM_DIR_OUT, int(port)
		} else {
			p.Dir, p.DstPort = netlink.XFRM_DIR_IN, int(port)
		}
		out = append(out, p)
	}
	return out
}

func policyString(p *netlink.XfrmPolicy) string {
	return fmt.Sprintf("%s %s -> %s proto %d ports %d/%d", p.Dir, p.Src, p.Dst, p.Proto, p.SrcPort, p.DstPort)
}

// statsToCounters maps a kernel state's statistics (`ip -s xfrm state`) to xfrm.Counters.
// Packets and bytes are the state's lifetime counters (curlft); the kernel counts integrity
// failures and replay drops per state, other drops only in /proc/net/xfrm_stat.
func statsToCounters(s netlink.XfrmStateStats, dir xfrm.Dir) xfrm.Counters {
	c := xfrm.Counters{Packets: s.Packets, Bytes: s.Bytes,
		ErrReplay: uint64(s.Replay) + uint64(s.ReplayWindow), ErrAuth: uint64(s.Failed)}
	if dir == xfrm.DirOut {
		c.Encaps = s.Packets
	} else {
		c.Decaps = s.Packets
	}
	return c
}
