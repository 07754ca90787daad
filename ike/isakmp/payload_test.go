package isakmp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"reflect"
	"testing"
)

// clearReceived forgets the received octets of ps so decoded payloads compare equal to built ones.
func clearReceived(ps []Payload) {
	for _, p := range ps {
		switch p := p.(type) {
		case *SA:
			p.received = received{}
		case *KE:
			p.received = received{}
		case *ID:
			p.received = received{}
		case *Certificate:
			p.received = received{}
		case *CertRequest:
			p.received = received{}
		case *Hash:
			p.received = received{}
		case *Signature:
			p.received = received{}
		case *Nonce:
			p.received = received{}
		case *Notify:
			p.received = received{}
		case *Delete:
			p.received = received{}
		case *VendorID:
			p.received = received{}
		case *ModeCfg:
			p.received = received{}
		case *NATD:
			p.received = received{}
		case *NATOA:
			p.received = received{}
		case *Fragment:
			p.received = received{}
		case *Unknown:
			p.received = received{}
		default:
			panic("clearReceived: unhandled payload type")
		}
	}
}

var (
	testICky = Cookie{1, 2, 3, 4, 5, 6, 7, 8}
	testRCky = Cookie{9, 10, 11, 12, 13, 14, 15, 16}
)

// samplePayloads has one payload of every type, each with its fields set.
func samplePayloads() []Payload {
	p1 := IKEAttributes{Encryption: EncryptionAES, KeyLength: 256, Hash: HashSHA2256, AuthMethod: AuthPreSharedKey,
		Group: GroupMODP2048, LifeSeconds: 86400, LifeKilobytes: 1 << 33}
	p2 := IPsecAttributes{Encapsulation: EncapsulationUDPTunnelDraft, AuthAlgorithm: AuthAlgHMACSHA256, KeyLength: 128,
		Group: GroupECP256, LifeSeconds: 3600, LifeKilobytes: 4608000}
	return []Payload{
		&SA{DOI: DOIIPsec, Situation: SituationIdentityOnly, Proposals: []*Proposal{
			{Number: 1, Protocol: ProtocolISAKMP, Transforms: []*Transform{
				{Number: 1, ID: TransformKeyIKE, Attributes: p1.Attributes()},
				{Number: 2, ID: TransformKeyIKE, Attributes: []Attribute{BasicAttr(IKEAttrEncryption, uint16(Encryption3DES)),
					VarAttr(IKEAttrLifeDuration, []byte{0, 0, 0, 0, 0, 1, 0x51, 0x80})}},
			}},
		}},
		&SA{DOI: DOIIPsec, Situation: SituationIdentityOnly, Proposals: []*Proposal{
			{Number: 1, Protocol: ProtocolESP, SPI: []byte{0xde, 0xad, 0xbe, 0xef}, Transforms: []*Transform{
				{Number: 1, ID: ESPAESGCM16, Attributes: p2.Attributes()},
			}},
			{Number: 1, Protocol: ProtocolIPComp, SPI: []byte{0x12, 0x34}, Transforms: []*Transform{
				{Number: 1, ID: IPCompDeflate},
			}},
			{Number: 2, Protocol: ProtocolAH, SPI: []byte{1, 2, 3, 4}, Transforms: []*Transform{
				{Number: 1, ID: AHSHA2256, Attributes: []Attribute{BasicAttr(IPsecAttrEncapsulation, uint16(EncapsulationTransport))}},
			}},
		}},
		&KE{Data: bytes.Repeat([]byte{0xab}, 256)},
		&Nonce{Data: bytes.Repeat([]byte{0x11}, 32)},
		IDAddr(netip.MustParseAddr("192.0.2.1"), 17, 500),
		IDPrefix(netip.MustParsePrefix("10.1.1.0/24"), 6, 80),
		IDRange(netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.9"), 0, 0),
		IDPrefix(netip.MustParsePrefix("2001:db8::/48"), 0, 0),
		IDName(IDFQDN, "router.example.net"),
		IDName(IDUserFQDN, "admin@example.net"),
		IDName(IDKeyID, "\x00\x01key"),
		&Certificate{Encoding: 4, Data: []byte("x509")},
		&CertRequest{CertType: 4, Authority: []byte("ca")},
		&Hash{Data: bytes.Repeat([]byte{0x22}, 20)},
		&Signature{Data: []byte{1, 2, 3}},
		NewISAKMPNotify(NotifyInitialContact, testICky, testRCky, nil),
		NewDPD(NotifyRUThere, testICky, testRCky, 0x01020304),
		NewResponderLifetime(ProtocolESP, []byte{0xde, 0xad, 0xbe, 0xef}, 1800, 100000),
		&Notify{DOI: DOIISAKMP, Protocol: ProtocolNone, NotifyType: NotifyPayloadMalformed, SPI: []byte{}, Data: []byte{}},
		&Delete{DOI: DOIIPsec, Protocol: ProtocolESP, SPIs: [][]byte{{1, 2, 3, 4}, {5, 6, 7, 8}}},
		NewDeleteISAKMP(testICky, testRCky),
		&VendorID{Data: []byte(VendorIDDPD)},
		&ModeCfg{CfgType: 1, Identifier: 7, Attributes: []Attribute{BasicAttr(16520, 0), VarAttr(16521, []byte("user"))}},
		&NATD{Hash: bytes.Repeat([]byte{0x33}, 20)},
		&NATD{Draft: true, Hash: bytes.Repeat([]byte{0x44}, 16)},
		&NATOA{Addr: netip.MustParseAddr("192.168.1.2")},
		&NATOA{Draft: true, Addr: netip.MustParseAddr("2001:db8::1")},
		&Unknown{PayloadType: 40, Data: []byte("ikev2 SK")},
	}
}

func TestPayloadRoundTrip(t *testing.T) {
	for _, p := range samplePayloads() {
		t.Run(p.Type().String(), func(t *testing.T) {
			m := &Message{Header: HeaderFields{ICookie: testICky, RCookie: testRCky, Exchange: ExchangeInformational},
				Payloads: []Payload{p, &Nonce{Data: []byte("12345678")}}}
			wire := m.AppendMarshal(nil)
			got, err := Parse(wire)
			if err != nil {
				t.Fatalf("Parse: %v\n%x", err, wire)
			}
			if !bytes.Equal(got.Raw(), wire) || !bytes.Equal(got.AppendMarshal(nil), wire) {
				t.Fatal("re-marshal differs")
			}
			if !bytes.Equal(Body(got.Payloads[0]), p.AppendMarshal(nil)) {
				t.Error("received body differs from the encoded body")
			}
			clearReceived(got.Payloads)
			if !reflect.DeepEqual(normalize(got.Payloads[0]), normalize(p)) {
				t.Errorf("decoded %#v\nwant    %#v", got.Payloads[0], p)
			}
			if u := got.Unknown(); (u != nil) != (p.Type() == 40) {
				t.Errorf("Unknown() = %v", u)
			}
		})
	}
}

// normalize maps nil and empty slices to one form so DeepEqual compares values, not allocations.
func normalize(p Payload) Payload {
	switch p := p.(type) {
	case *Notify:
		c := *p
		if len(c.SPI) == 0 {
			c.SPI = nil
		}
		if len(c.Data) == 0 {
			c.Data = nil
		}
		return &c
	case *SA:
		c := *p
		c.Proposals = nil
		for _, pr := range p.Proposals {
			cp := *pr
			if len(cp.SPI) == 0 {
				cp.SPI = nil
			}
			cp.Transforms = nil
			for _, tr := range pr.Transforms {
				ct := *tr
				if len(ct.Attributes) == 0 {
					ct.Attributes = nil
				}
				cp.Transforms = append(cp.Transforms, &ct)
			}
			c.Proposals = append(c.Proposals, &cp)
		}
		return &c
	}
	return p
}

func TestHeaderView(t *testing.T) {
	f := HeaderFields{ICookie: testICky, RCookie: testRCky, NextPayload: PayloadHash, Exchange: ExchangeQuick,
		Flags: FlagEncryption | FlagCommit, MessageID: 0xc8d9cfa4, Length: 76}
	b := f.AppendMarshal(nil)
	if len(b) != HeaderLen {
		t.Fatalf("header of %d octets", len(b))
	}
	h := Header(b)
	if !h.IsValid() || Header(b[:27]).IsValid() {
		t.Fatal("IsValid")
	}
	want := f
	want.Version = Version
	if got := h.Fields(); got != want {
		t.Errorf("Fields() = %v, want %v", got, want)
	}
	if h.MajorVersion() != 1 || h.MinorVersion() != 0 || h.Flags().String() != "E|C" {
		t.Errorf("version %d.%d flags %v", h.MajorVersion(), h.MinorVersion(), h.Flags())
	}
}

func TestIDAccessors(t *testing.T) {
	for _, tc := range []struct {
		name string
		id   *ID
		want string
		err  NotifyType
	}{
		{"addr", IDAddr(netip.MustParseAddr("192.0.2.2"), 0, 0), "ID_IPV4_ADDR 192.0.2.2 proto=0 port=0", 0},
		{"subnet", IDPrefix(netip.MustParsePrefix("10.2.2.7/24"), 17, 500), "ID_IPV4_ADDR_SUBNET 10.2.2.0/24 proto=17 port=500", 0},
		{"host subnet", IDPrefix(netip.MustParsePrefix("10.2.2.7/32"), 0, 0), "ID_IPV4_ADDR_SUBNET 10.2.2.7/32 proto=0 port=0", 0},
		{"zero subnet", IDPrefix(netip.MustParsePrefix("0.0.0.0/0"), 0, 0), "ID_IPV4_ADDR_SUBNET 0.0.0.0/0 proto=0 port=0", 0},
		{"range", IDRange(netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.5"), 0, 0), "ID_IPV4_ADDR_RANGE 10.0.0.1-10.0.0.5 proto=0 port=0", 0},
		{"fqdn", IDName(IDFQDN, "hub"), `ID_FQDN "hub" proto=0 port=0`, 0},
		{"non-contiguous mask", &ID{IDType: IDIPv4AddrSubnet, Data: []byte{10, 0, 0, 0, 255, 0, 255, 0}}, "", NotifyInvalidIDInformation},
		{"host bits", &ID{IDType: IDIPv4AddrSubnet, Data: []byte{10, 0, 0, 1, 255, 255, 255, 0}}, "", NotifyInvalidIDInformation},
		{"reversed range", &ID{IDType: IDIPv4AddrRange, Data: []byte{10, 0, 0, 9, 10, 0, 0, 1}}, "", NotifyInvalidIDInformation},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err != 0 {
				var err error
				if tc.id.IDType == IDIPv4AddrRange {
					_, _, err = tc.id.Range()
				} else {
					_, err = tc.id.Prefix()
				}
				if nt, ok := NotifyTypeOf(err); !ok || nt != tc.err {
					t.Fatalf("err %v, want %v", err, tc.err)
				}
				return
			}
			if got := tc.id.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
		})
	}
	if _, err := IDName(IDFQDN, "x").Addr(); !errors.Is(err, errIDType) {
		t.Errorf("Addr on FQDN: %v", err)
	}
}

func TestNotifyHelpers(t *testing.T) {
	n := NewDPD(NotifyRUThereAck, testICky, testRCky, 42)
	if seq, err := n.DPDSequence(); err != nil || seq != 42 {
		t.Errorf("DPDSequence = %d, %v", seq, err)
	}
	short := &Notify{NotifyType: NotifyRUThere, SPI: make([]byte, 16), Data: []byte{1, 2}}
	if _, err := short.DPDSequence(); err == nil {
		t.Error("DPD with 2 octets of data accepted")
	}
	rl := NewResponderLifetime(ProtocolESP, []byte{1, 2, 3, 4}, 3600, 1<<40)
	if s, kb, err := rl.ResponderLifetime(); err != nil || s != 3600 || kb != 1<<40 {
		t.Errorf("ResponderLifetime = %d, %d, %v", s, kb, err)
	}
	bad := &Notify{NotifyType: NotifyResponderLifetime, Data: appendAttributes(nil, []Attribute{BasicAttr(IPsecAttrLifeDuration, 5)})}
	if _, _, err := bad.ResponderLifetime(); err == nil {
		t.Error("duration without life type accepted")
	}
	if !NotifyInvalidCookie.IsError() || NotifyInitialContact.IsError() {
		t.Error("IsError")
	}
}

func TestAttributeUint(t *testing.T) {
	for _, tc := range []struct {
		a    Attribute
		want uint64
		ok   bool
	}{
		{BasicAttr(IKEAttrLifeDuration, 3960), 3960, true},
		{VarAttr(IKEAttrLifeDuration, []byte{0, 1, 0x51, 0x80}), 86400, true},
		{VarAttr(IKEAttrLifeDuration, []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7}), 7, true}, // longer than 8, leading zeros
		{VarAttr(IKEAttrLifeDuration, []byte{1, 0, 0, 0, 0, 0, 0, 0, 0}), 0, false},
		{VarAttr(IKEAttrLifeDuration, nil), 0, false},
		{UintAttr(IKEAttrLifeDuration, 1<<40), 1 << 40, true},
	} {
		got, err := tc.a.Uint()
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("%v.Uint() = %d, %v", tc.a, got, err)
		}
	}
	if a := UintAttr(1, 70000); a.Basic || len(a.Data) != 4 || binary.BigEndian.Uint32(a.Data) != 70000 {
		t.Errorf("UintAttr(70000) = %v", a)
	}
}

func TestTransformAttributeErrors(t *testing.T) {
	ok := []Attribute{BasicAttr(IKEAttrEncryption, 7), BasicAttr(IKEAttrKeyLength, 128), BasicAttr(IKEAttrHash, 2),
		BasicAttr(IKEAttrGroupDesc, 14), BasicAttr(IKEAttrAuthMethod, 1)}
	with := func(extra ...Attribute) []Attribute { return append(append([]Attribute(nil), ok...), extra...) }
	for _, tc := range []struct {
		name  string
		attrs []Attribute
		ok    bool
	}{
		{"minimal", ok, true},
		{"life pairs", with(BasicAttr(IKEAttrLifeType, 1), BasicAttr(IKEAttrLifeDuration, 60), BasicAttr(IKEAttrLifeType, 2), VarAttr(IKEAttrLifeDuration, []byte{0, 1, 0, 0})), true},
		{"duration first", with(BasicAttr(IKEAttrLifeDuration, 60)), false},
		{"type without duration", with(BasicAttr(IKEAttrLifeType, 1)), false},
		{"zero duration", with(BasicAttr(IKEAttrLifeType, 1), BasicAttr(IKEAttrLifeDuration, 0)), false},
		{"huge duration", with(BasicAttr(IKEAttrLifeType, 1), VarAttr(IKEAttrLifeDuration, bytes.Repeat([]byte{0xff}, 9))), false},
		{"seconds twice", with(BasicAttr(IKEAttrLifeType, 1), BasicAttr(IKEAttrLifeDuration, 6), BasicAttr(IKEAttrLifeType, 1), BasicAttr(IKEAttrLifeDuration, 7)), false},
		{"bad life type", with(BasicAttr(IKEAttrLifeType, 3), BasicAttr(IKEAttrLifeDuration, 7)), false},
		{"duplicate hash", with(BasicAttr(IKEAttrHash, 1)), false},
		{"unknown attribute", with(BasicAttr(200, 1)), false},
		{"group prime", with(VarAttr(IKEAttrGroupPrime, []byte{1})), false},
		{"missing group", ok[:3], false},
		{"AES without key length", []Attribute{ok[0], ok[2], ok[3], ok[4]}, false},
		{"3DES with key length", []Attribute{BasicAttr(IKEAttrEncryption, 5), ok[1], ok[2], ok[3], ok[4]}, false},
	} {
		_, err := (&Transform{ID: TransformKeyIKE, Attributes: tc.attrs}).IKEAttributes()
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v", tc.name, err)
		}
		if err != nil {
			if nt, _ := NotifyTypeOf(err); nt != NotifyAttributesNotSupported {
				t.Errorf("%s: notify %v", tc.name, nt)
			}
		}
	}
	for _, tc := range []struct {
		name string
		id   TransformID
		a    []Attribute
		ok   bool
	}{
		{"aes", ESPAES, []Attribute{BasicAttr(IPsecAttrKeyLength, 256), BasicAttr(IPsecAttrEncapsulation, 61443)}, true},
		{"aes without key length", ESPAES, []Attribute{BasicAttr(IPsecAttrEncapsulation, 1)}, false},
		{"3des", ESP3DES, []Attribute{BasicAttr(IPsecAttrEncapsulation, 2), BasicAttr(IPsecAttrAuthAlgorithm, 1)}, true},
		{"bad encapsulation", ESP3DES, []Attribute{BasicAttr(IPsecAttrEncapsulation, 5)}, false},
		{"unknown", ESP3DES, []Attribute{BasicAttr(99, 5)}, false},
	} {
		_, err := (&Transform{ID: tc.id, Attributes: tc.a}).IPsecAttributes(ProtocolESP)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v", tc.name, err)
		}
	}
}

func TestVendorName(t *testing.T) {
	for id, want := range map[string]string{
		VendorIDCiscoUnity:                         "Cisco Unity",
		VendorIDCiscoUnity[:14] + "\x01\x01":       "Cisco Unity",
		VendorIDFragmentation + "\xc0\x00\x00\x00": "FRAGMENTATION",
		VendorIDNATTDraft03:                        "draft-ietf-ipsec-nat-t-ike-03",
		VendorIDStrongSwan:                         "strongSwan",
		"\x01\x02":                                 "0102",
	} {
		if got := VendorName([]byte(id)); got != want {
			t.Errorf("VendorName(%x) = %q, want %q", id, got, want)
		}
	}
}

func TestStrings(t *testing.T) {
	for got, want := range map[string]string{
		ExchangeIdentityProt.String():                      "ID_PROT",
		ExchangeType(34).String():                          "EXCHANGE(34)",
		PayloadNATDDraft.String():                          "NAT-D(draft)",
		PayloadType(46).String():                           "IKEv2(46)",
		NotifyRUThereAck.String():                          "R-U-THERE-ACK",
		NotifyType(9999).String():                          "NOTIFY(9999)",
		Flags(0x09).String():                               "E|0x8",
		Flags(0).String():                                  "none",
		GroupMODP2048.String():                             "group14",
		EncapsulationUDPTunnel.String():                    "UDP-Encapsulated-Tunnel",
		TransformName(ProtocolESP, ESPAES):                 "ESP_AES",
		AttributeName(ProtocolISAKMP, IKEAttrKeyLength):    "Key Length",
		AttributeName(ProtocolESP, IPsecAttrEncapsulation): "Encapsulation Mode",
		IDIPv4AddrSubnet.String():                          "ID_IPV4_ADDR_SUBNET",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}
