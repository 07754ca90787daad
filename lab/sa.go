package lab

import (
	"fmt"
	"net/netip"
	"strconv"
	"time"
)

// IKESA is one IKE SA as charon's vici list-sas reports it.
type IKESA struct {
	Name                       string // connection name
	UniqueID                   uint32
	Version                    int
	State                      string // "ESTABLISHED", "CONNECTING", ...
	LocalHost, RemoteHost      netip.Addr
	LocalPort, RemotePort      uint16
	LocalID, RemoteID          string
	Initiator                  bool
	InitiatorSPI, ResponderSPI uint64 // the ISAKMP cookies
	NATLocal, NATRemote        bool   // NAT detected (kernel-libipsec: faked, see NATFake)
	NATFake, NATAny            bool
	EncrAlg                    string        // "AES_CBC"
	EncrKeySize                int           // bits
	IntegAlg, PRFAlg, DHGroup  string        // "HMAC_SHA2_256_128", "PRF_HMAC_SHA2_256", "MODP_2048"
	Established                time.Duration // age
	RekeyIn, ReauthIn          time.Duration // 0 when not scheduled
	Children                   []ChildSA
}

// ChildSA is one CHILD SA (an IPsec SA pair) of an IKESA.
type ChildSA struct {
	Name                       string
	UniqueID, ReqID            uint32
	State                      string // "INSTALLED", ...
	Mode                       string // "TUNNEL"
	Protocol                   string // "ESP"
	Encap                      bool   // UDP encapsulation (NAT-T)
	SPIIn, SPIOut              uint32
	EncrAlg                    string
	EncrKeySize                int
	IntegAlg                   string
	IntegKeySize               int
	DHGroup                    string // PFS group, "" without PFS
	BytesIn, PacketsIn         uint64
	BytesOut, PacketsOut       uint64
	RekeyIn, LifeIn, Installed time.Duration
	LocalTS, RemoteTS          []string
}

// Child returns the CHILD SA whose configured name is name, or nil.
func (s *IKESA) Child(name string) *ChildSA {
	for i := range s.Children {
		if s.Children[i].Name == name {
			return &s.Children[i]
		}
	}
	return nil
}

// saFields reads typed values out of a vici section, keeping the first error.
type saFields struct {
	m   *ViciMessage
	sec string
	err error
}

func (f *saFields) fail(key, val, want string) {
	if f.err == nil {
		f.err = &ViciError{Op: "list-sas", Msg: fmt.Sprintf("%s: %s=%q is not %s", f.sec, key, val, want)}
	}
}

func (f *saFields) str(key string) string { return f.m.Get(key) }

func (f *saFields) uint(key string, bits int, base int) uint64 {
	s := f.m.Get(key)
	if s == "" {
		return 0
	}
	v, err := strconv.ParseUint(s, base, bits)
	if err != nil {
		f.fail(key, s, fmt.Sprintf("a %d-bit base-%d number", bits, base))
	}
	return v
}

func (f *saFields) int(key string) int { return int(f.uint(key, 31, 10)) }

func (f *saFields) secs(key string) time.Duration {
	return time.Duration(f.uint(key, 32, 10)) * time.Second
}

func (f *saFields) bool(key string) bool {
	switch s := f.m.Get(key); s {
	case "yes":
		return true
	case "", "no":
		return false
	default:
		f.fail(key, s, "yes or no")
		return false
	}
}

func (f *saFields) addr(key string) netip.Addr {
	s := f.m.Get(key)
	if s == "" {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		f.fail(key, s, "an IP address")
	}
	return a
}

// parseIKESA converts one IKE SA section of a list-sa event.
func parseIKESA(name string, m *ViciMessage) (IKESA, error) {
	if m == nil {
		return IKESA{}, &ViciError{Op: "list-sas", Msg: name + ": not a section"}
	}
	f := &saFields{m: m, sec: name}
	sa := IKESA{
		Name:         name,
		UniqueID:     uint32(f.uint("uniqueid", 32, 10)),
		Version:      f.int("version"),
		State:        f.str("state"),
		LocalHost:    f.addr("local-host"),
		RemoteHost:   f.addr("remote-host"),
		LocalPort:    uint16(f.uint("local-port", 16, 10)),
		RemotePort:   uint16(f.uint("remote-port", 16, 10)),
		LocalID:      f.str("local-id"),
		RemoteID:     f.str("remote-id"),
		Initiator:    f.bool("initiator"),
		InitiatorSPI: f.uint("initiator-spi", 64, 16),
		ResponderSPI: f.uint("responder-spi", 64, 16),
		NATLocal:     f.bool("nat-local"),
		NATRemote:    f.bool("nat-remote"),
		NATFake:      f.bool("nat-fake"),
		NATAny:       f.bool("nat-any"),
		EncrAlg:      f.str("encr-alg"),
		EncrKeySize:  f.int("encr-keysize"),
		IntegAlg:     f.str("integ-alg"),
		PRFAlg:       f.str("prf-alg"),
		DHGroup:      f.str("dh-group"),
		Established:  f.secs("established"),
		RekeyIn:      f.secs("rekey-time"),
		ReauthIn:     f.secs("reauth-time"),
	}
	if f.err != nil {
		return sa, f.err
	}
	children := m.Section("child-sas")
	for _, key := range children.Keys() {
		cm := children.Section(key)
		if cm == nil {
			return sa, &ViciError{Op: "list-sas", Msg: name + ": child " + key + ": not a section"}
		}
		cf := &saFields{m: cm, sec: name + "/" + key}
		ch := ChildSA{
			Name:         cf.str("name"),
			UniqueID:     uint32(cf.uint("uniqueid", 32, 10)),
			ReqID:        uint32(cf.uint("reqid", 32, 10)),
			State:        cf.str("state"),
			Mode:         cf.str("mode"),
			Protocol:     cf.str("protocol"),
			Encap:        cf.bool("encap"),
			SPIIn:        uint32(cf.uint("spi-in", 32, 16)),
			SPIOut:       uint32(cf.uint("spi-out", 32, 16)),
			EncrAlg:      cf.str("encr-alg"),
			EncrKeySize:  cf.int("encr-keysize"),
			IntegAlg:     cf.str("integ-alg"),
			IntegKeySize: cf.int("integ-keysize"),
			DHGroup:      cf.str("dh-group"),
			BytesIn:      cf.uint("bytes-in", 64, 10),
			PacketsIn:    cf.uint("packets-in", 64, 10),
			BytesOut:     cf.uint("bytes-out", 64, 10),
			PacketsOut:   cf.uint("packets-out", 64, 10),
			RekeyIn:      cf.secs("rekey-time"),
			LifeIn:       cf.secs("life-time"),
			Installed:    cf.secs("install-time"),
			LocalTS:      cm.List("local-ts"),
			RemoteTS:     cm.List("remote-ts"),
		}
		if cf.err != nil {
			return sa, cf.err
		}
		if ch.Name == "" {
			return sa, &ViciError{Op: "list-sas", Msg: name + ": child " + key + " has no name"}
		}
		sa.Children = append(sa.Children, ch)
	}
	return sa, nil
}
