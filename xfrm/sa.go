package xfrm

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
)

// Proto is the IPsec protocol of an SA (an IP protocol number).
type Proto uint8

// ProtoESP is the only IPsec protocol Tunnelbox installs (RFC 4303; IP protocol 50).
const ProtoESP Proto = 50

func (p Proto) String() string {
	if p == ProtoESP {
		return "esp"
	}
	return "proto(" + strconv.Itoa(int(p)) + ")"
}

// Mode is the IPsec mode of an SA.
type Mode uint8

// IPsec modes (RFC 4301 §4.1).
const (
	ModeTransport Mode = iota // protects the upper-layer payload of the endpoints' own packets
	ModeTunnel                // protects a whole inner IP packet between security gateways
)

func (m Mode) String() string {
	switch m {
	case ModeTransport:
		return "transport"
	case ModeTunnel:
		return "tunnel"
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// Dir is the direction of an SA or a policy.
type Dir uint8

// Directions. SAs are DirIn or DirOut; policies may also be DirFwd (kernel forwarding policy).
const (
	DirOut Dir = iota
	DirIn
	DirFwd
)

func (d Dir) String() string {
	switch d {
	case DirOut:
		return "out"
	case DirIn:
		return "in"
	case DirFwd:
		return "fwd"
	}
	return "Dir(" + strconv.Itoa(int(d)) + ")"
}

// DefaultReplayWindow is the anti-replay window in packets when SA.ReplayWindow is 0
// (the IOS default, `crypto ipsec security-association replay window-size 64`).
const DefaultReplayWindow = 64

// MaxReplayWindow bounds SA.ReplayWindow (IOS accepts up to 1024).
const MaxReplayWindow = 4096

// Encap is UDP encapsulation of ESP (RFC 3948) for NAT traversal: the outer UDP ports, normally
// 4500 on both sides unless a NAT maps the peer's port.
type Encap struct {
	SrcPort, DstPort uint16
}

// Lifetime holds the soft and hard limits of an SA; zero means no limit. The IKE engine sets the
// hard limits from the negotiated lifetime and the soft ones a little earlier to rekey
// make-before-break. Bytes count the protected payload (the inner packets).
type Lifetime struct {
	SoftSeconds, HardSeconds uint64
	SoftBytes, HardBytes     uint64
	SoftPackets, HardPackets uint64
}

// SAID identifies an SA the way the kernel does: destination, SPI and protocol.
type SAID struct {
	Dst   netip.Addr
	SPI   uint32
	Proto Proto
}

func (id SAID) String() string {
	return fmt.Sprintf("%s spi 0x%08x %s", id.Dst, id.SPI, id.Proto)
}

// SA is one unidirectional IPsec security association, as Quick Mode produces them in pairs.
// Keys come from KEYMAT (RFC 2409 §5.5): encryption key first, then the AEAD salt (GCM), then the
// integrity key.
type SA struct {
	Src, Dst netip.Addr // outer (tunnel) or endpoint (transport) addresses, as on the wire
	SPI      uint32     // chosen by the receiver of this SA (the Dst side)
	Proto    Proto      // ProtoESP
	Mode     Mode
	Reqid    uint32 // ties the SA to the policies whose Template carries the same Reqid
	Dir      Dir    // DirOut: we encrypt; DirIn: we decrypt

	Enc     EncAlg
	EncKey  []byte // without salt
	Salt    []byte // AEAD nonce salt, Enc.SaltLen() octets (RFC 4106 §4)
	Auth    AuthAlg
	AuthKey []byte
	ICVLen  int // integrity ICV length in octets; 0 = the algorithm's standard length

	Encap *Encap // nil: plain ESP (IP protocol 50); else ESP in UDP (RFC 3948)

	ReplayWindow int  // packets; 0 = DefaultReplayWindow
	NoReplay     bool // `replay disable`: no anti-replay check on this inbound SA

	Lifetime Lifetime
}

// ID returns the SA's identity.
func (sa *SA) ID() SAID { return SAID{Dst: sa.Dst, SPI: sa.SPI, Proto: sa.Proto} }

// Window returns the effective anti-replay window (0 when replay protection is disabled).
func (sa *SA) Window() int {
	switch {
	case sa.NoReplay:
		return 0
	case sa.ReplayWindow == 0:
		return DefaultReplayWindow
	}
	return sa.ReplayWindow
}

// EffectiveICVLen returns the ICV length in octets that the SA uses on the wire.
func (sa *SA) EffectiveICVLen() int {
	if sa.Enc.AEAD() {
		return sa.Enc.ICVLen()
	}
	if sa.ICVLen != 0 {
		return sa.ICVLen
	}
	return sa.Auth.ICVLen()
}

// Clone returns a deep copy of sa (keys and Encap are copied).
func (sa *SA) Clone() *SA {
	c := *sa
	c.EncKey = slices.Clone(sa.EncKey)
	c.Salt = slices.Clone(sa.Salt)
	c.AuthKey = slices.Clone(sa.AuthKey)
	if sa.Encap != nil {
		e := *sa.Encap
		c.Encap = &e
	}
	return &c
}

// Validate checks that the SA is complete and self-consistent; errors wrap ErrInvalidSA.
func (sa *SA) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: spi 0x%08x: %s", ErrInvalidSA, sa.SPI, fmt.Sprintf(format, a...))
	}
	switch {
	case !sa.Src.IsValid() || !sa.Dst.IsValid():
		return bad("source and destination addresses required")
	case sa.Src.Unmap().Is4() != sa.Dst.Unmap().Is4():
		return bad("address families differ (%s, %s)", sa.Src, sa.Dst)
	case sa.Proto != ProtoESP:
		return bad("protocol %s not supported", sa.Proto)
	case sa.SPI < 256:
		// RFC 4303 §2.1: SPI values 1..255 are reserved by IANA, 0 is local-only.
		return bad("SPI values 0-255 are reserved")
	case sa.Mode != ModeTunnel && sa.Mode != ModeTransport:
		return bad("unknown mode %d", sa.Mode)
	case sa.Dir != DirIn && sa.Dir != DirOut:
		return bad("direction must be in or out")
	case sa.Enc == EncNone || sa.Enc.KernelName() == "":
		return bad("encryption algorithm required")
	case !slices.Contains(sa.Enc.KeyLens(), len(sa.EncKey)):
		return bad("%s key is %d octets, want one of %v", sa.Enc, len(sa.EncKey), sa.Enc.KeyLens())
	case len(sa.Salt) != sa.Enc.SaltLen():
		return bad("%s salt is %d octets, want %d", sa.Enc, len(sa.Salt), sa.Enc.SaltLen())
	case sa.Enc.AEAD() && sa.Auth != AuthNone:
		return bad("%s carries its own ICV: no integrity algorithm allowed", sa.Enc)
	case sa.Enc == EncNull && sa.Auth == AuthNone:
		// RFC 4303 §3.2: ESP with neither confidentiality nor integrity is not allowed.
		return bad("esp-null needs an integrity algorithm")
	case sa.Auth != AuthNone && sa.Auth.KernelName() == "":
		return bad("unknown integrity algorithm %d", sa.Auth)
	case sa.Auth != AuthNone && len(sa.AuthKey) != sa.Auth.KeyLen():
		return bad("%s key is %d octets, want %d", sa.Auth, len(sa.AuthKey), sa.Auth.KeyLen())
	case sa.Auth == AuthNone && len(sa.AuthKey) != 0:
		return bad("integrity key without an integrity algorithm")
	case sa.ICVLen != 0 && (sa.Enc.AEAD() || sa.Auth == AuthNone || sa.ICVLen < 12 ||
		sa.ICVLen > sa.Auth.KeyLen() || sa.ICVLen%4 != 0):
		return bad("ICV length %d not usable with %s", sa.ICVLen, sa.Auth)
	case sa.ReplayWindow < 0 || sa.ReplayWindow > MaxReplayWindow:
		return bad("replay window %d outside 0..%d", sa.ReplayWindow, MaxReplayWindow)
	case sa.Encap != nil && (sa.Encap.SrcPort == 0 || sa.Encap.DstPort == 0):
		return bad("UDP encapsulation needs both ports")
	}
	l := sa.Lifetime
	for _, p := range [][2]uint64{{l.SoftSeconds, l.HardSeconds}, {l.SoftBytes, l.HardBytes},
		{l.SoftPackets, l.HardPackets}} {
		if p[0] != 0 && p[1] != 0 && p[0] > p[1] {
			return bad("soft lifetime %d beyond hard lifetime %d", p[0], p[1])
		}
	}
	return nil
}
