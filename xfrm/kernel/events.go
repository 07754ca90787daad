package kernel

import (
	"fmt"
	"net/netip"
	"unsafe"

	"github.com/vishvananda/netlink"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/tunnelbox/tunnelbox/xfrm"
)

// Sizes of the kernel structures the event reader decodes (linux/xfrm.h, x86-64 and every
// other Linux ABI: the structures hold u64 fields and are 8-aligned).
const (
	sizeofUserAcquire = nl.SizeofXfrmId + nl.SizeofXfrmAddress + nl.SizeofXfrmSelector +
		nl.SizeofXfrmUserpolicyInfo + 4*4 // id, saddr, sel, policy, aalgos ealgos calgos seq
	offAcquireSel    = nl.SizeofXfrmId + nl.SizeofXfrmAddress
	offAcquirePolicy = offAcquireSel + nl.SizeofXfrmSelector
)

// acquireMsg is a decoded XFRM_MSG_ACQUIRE: the triggering flow and the policy's identity.
type acquireMsg struct {
	flow   xfrm.Flow
	policy xfrm.PolicyID
	peer   netip.Addr // the template's destination (xfrm_user_acquire.id.daddr)
}

// expireMsg is a decoded XFRM_MSG_EXPIRE.
type expireMsg struct {
	id    xfrm.SAID
	src   netip.Addr
	reqid uint32
	hard  bool
	cause xfrm.ExpireCause
}

// selectorFlow decodes the flow selector the kernel builds from the packet for an acquire
// (full-length prefixes; for ICMP the type and code sit in the port fields).
func selectorFlow(sel *nl.XfrmSelector) (xfrm.Flow, bool) {
	if sel.Family != unix.AF_INET && sel.Family != unix.AF_INET6 {
		return xfrm.Flow{}, false
	}
	return xfrm.Flow{
		Src: xfrmAddr(&sel.Saddr, sel.Family), Dst: xfrmAddr(&sel.Daddr, sel.Family),
		Proto: sel.Proto, SrcPort: nl.Swap16(sel.Sport), DstPort: nl.Swap16(sel.Dport),
	}, true
}

// selectorPolicyID decodes a policy selector and direction into the identity AddPolicy keeps.
func selectorPolicyID(sel *nl.XfrmSelector, dir uint8) (xfrm.PolicyID, bool) {
	if sel.Family != unix.AF_INET && sel.Family != unix.AF_INET6 {
		return xfrm.PolicyID{}, false
	}
	s, err1 := xfrmAddr(&sel.Saddr, sel.Family).Prefix(int(sel.PrefixlenS))
	d, err2 := xfrmAddr(&sel.Daddr, sel.Family).Prefix(int(sel.PrefixlenD))
	if err1 != nil || err2 != nil {
		return xfrm.PolicyID{}, false
	}
	id := xfrm.PolicyID{Src: s, Dst: d, Proto: sel.Proto, SrcPort: nl.Swap16(sel.Sport), DstPort: nl.Swap16(sel.Dport)}
	switch dir {
	case uint8(netlink.XFRM_DIR_OUT):
		id.Dir = xfrm.DirOut
	case uint8(netlink.XFRM_DIR_IN):
		id.Dir = xfrm.DirIn
	case uint8(netlink.XFRM_DIR_FWD):
		id.Dir = xfrm.DirFwd
	default:
		return xfrm.PolicyID{}, false
	}
	return id, true
}

// parseAcquire decodes the body of an XFRM_MSG_ACQUIRE (struct xfrm_user_acquire).
func parseAcquire(b []byte) (acquireMsg, error) {
	if len(b) < sizeofUserAcquire {
		return acquireMsg{}, fmt.Errorf("%w: acquire of %d octets, want %d", ErrBadMessage, len(b), sizeofUserAcquire)
	}
	// Copy into aligned values before reinterpreting (the nl helpers cast in place).
	raw := aligned(b, sizeofUserAcquire)
	id := nl.DeserializeXfrmId(raw[:nl.SizeofXfrmId])
	sel := nl.DeserializeXfrmSelector(raw[offAcquireSel : offAcquireSel+nl.SizeofXfrmSelector])
	pol := nl.DeserializeXfrmUserpolicyInfo(raw[offAcquirePolicy : offAcquirePolicy+nl.SizeofXfrmUserpolicyInfo])
	flow, ok := selectorFlow(sel)
	if !ok {
		return acquireMsg{}, fmt.Errorf("%w: acquire with address family %d", ErrBadMessage, sel.Family)
	}
	pid, ok := selectorPolicyID(&pol.Sel, pol.Dir)
	if !ok {
		return acquireMsg{}, fmt.Errorf("%w: acquire for a policy with family %d dir %d", ErrBadMessage, pol.Sel.Family, pol.Dir)
	}
	return acquireMsg{flow: flow, policy: pid, peer: xfrmAddr(&id.Daddr, sel.Family)}, nil
}

// parseExpire decodes the body of an XFRM_MSG_EXPIRE (struct xfrm_user_expire). The kernel does
// not say which limit was reached: the cause is the first limit the current counters meet.
func parseExpire(b []byte) (expireMsg, error) {
	if len(b) < nl.SizeofXfrmUserExpire {
		return expireMsg{}, fmt.Errorf("%w: expire of %d octets, want %d", ErrBadMessage, len(b), nl.SizeofXfrmUserExpire)
	}
	raw := aligned(b, nl.SizeofXfrmUserExpire)
	m := nl.DeserializeXfrmUserExpire(raw[:])
	info := &m.XfrmUsersaInfo
	if info.Family != unix.AF_INET && info.Family != unix.AF_INET6 {
		return expireMsg{}, fmt.Errorf("%w: expire with address family %d", ErrBadMessage, info.Family)
	}
	e := expireMsg{
		id:    xfrm.SAID{Dst: xfrmAddr(&info.Id.Daddr, info.Family), SPI: nl.Swap32(info.Id.Spi), Proto: xfrm.Proto(info.Id.Proto)},
		src:   xfrmAddr(&info.Saddr, info.Family),
		reqid: info.Reqid,
		hard:  m.Hard != 0,
		cause: xfrm.ExpireTime,
	}
	byteLim, pktLim := info.Lft.SoftByteLimit, info.Lft.SoftPacketLimit
	if e.hard {
		byteLim, pktLim = info.Lft.HardByteLimit, info.Lft.HardPacketLimit
	}
	switch {
	case byteLim != nl.XFRM_INF && info.Curlft.Bytes >= byteLim:
		e.cause = xfrm.ExpireBytes
	case pktLim != nl.XFRM_INF && info.Curlft.Packets >= pktLim:
		e.cause = xfrm.ExpirePackets
	}
	return e, nil
}

// aligned copies the first n octets of b into 8-aligned memory, so that the nl package's
// in-place casts to structures holding u64 fields are aligned.
func aligned(b []byte, n int) []byte {
	words := make([]uint64, (n+7)/8)
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), n)
	copy(raw, b)
	return raw
}
