package isakmp

import (
	"bytes"
	"math/rand"
	"net/netip"
	"reflect"
	"testing"
	"testing/quick"
)

// randMessage is a random, valid clear message for testing/quick.
type randMessage struct{ m *Message }

func randBytes(r *rand.Rand, min, max int) []byte {
	b := make([]byte, min+r.Intn(max-min+1))
	r.Read(b)
	return b
}

func randAttrs(r *rand.Rand, p ProtocolID) []Attribute {
	var as []Attribute
	for i, n := 0, r.Intn(8); i < n; i++ {
		t := AttributeType(1 + r.Intn(20))
		if basicOnly(p, t) || r.Intn(2) == 0 {
			as = append(as, BasicAttr(t, uint16(r.Intn(1<<16))))
		} else {
			as = append(as, VarAttr(t, randBytes(r, 0, 12)))
		}
	}
	return as
}

func randSA(r *rand.Rand) *SA {
	sa := &SA{DOI: DOIIPsec, Situation: SituationIdentityOnly}
	num := uint8(1)
	for i, n := 0, 1+r.Intn(4); i < n; i++ {
		protos := []ProtocolID{ProtocolISAKMP, ProtocolAH, ProtocolESP, ProtocolIPComp}
		p := &Proposal{Number: num, Protocol: protos[r.Intn(len(protos))]}
		num += uint8(r.Intn(2))
		switch p.Protocol {
		case ProtocolISAKMP:
			if r.Intn(2) == 0 {
				p.SPI = randBytes(r, 16, 16)
			}
		case ProtocolIPComp:
			p.SPI = randBytes(r, 2, 2)
		default:
			p.SPI = randBytes(r, 4, 4)
		}
		for j, m := 0, 1+r.Intn(5); j < m; j++ {
			p.Transforms = append(p.Transforms, &Transform{Number: uint8(j + 1), ID: TransformID(r.Intn(256)), Attributes: randAttrs(r, p.Protocol)})
		}
		sa.Proposals = append(sa.Proposals, p)
	}
	return sa
}

func randAddr(r *rand.Rand) netip.Addr {
	if r.Intn(2) == 0 {
		return netip.AddrFrom4([4]byte(randBytes(r, 4, 4)))
	}
	return netip.AddrFrom16([16]byte(randBytes(r, 16, 16)))
}

func randPayload(r *rand.Rand) Payload {
	var icky, rcky Cookie
	r.Read(icky[:])
	r.Read(rcky[:])
	switch r.Intn(17) {
	case 0:
		return randSA(r)
	case 1:
		return &KE{Data: randBytes(r, 1, 300)}
	case 2:
		return &Nonce{Data: randBytes(r, MinNonceLen, MaxNonceLen)}
	case 3:
		return &Hash{Data: randBytes(r, 1, 64)}
	case 4:
		a := randAddr(r)
		switch r.Intn(4) {
		case 0:
			return IDAddr(a, uint8(r.Intn(256)), uint16(r.Intn(1<<16)))
		case 1:
			return IDPrefix(netip.PrefixFrom(a, r.Intn(a.BitLen()+1)), uint8(r.Intn(256)), 0)
		case 2:
			return IDRange(a, a, 0, uint16(r.Intn(1<<16)))
		}
		return IDName(IDType([]IDType{IDFQDN, IDUserFQDN, IDKeyID, IDDERASN1DN}[r.Intn(4)]), string(randBytes(r, 1, 40)))
	case 5:
		return &Certificate{Encoding: uint8(r.Intn(256)), Data: randBytes(r, 0, 50)}
	case 6:
		return &CertRequest{CertType: uint8(r.Intn(256)), Authority: randBytes(r, 0, 50)}
	case 7:
		return &Signature{Data: randBytes(r, 1, 64)}
	case 8:
		return &Notify{DOI: DOI(r.Intn(2)), Protocol: ProtocolID(r.Intn(5)), NotifyType: NotifyType(r.Intn(1 << 16)),
			SPI: randBytes(r, 0, 16), Data: randBytes(r, 0, 20)}
	case 9:
		if r.Intn(2) == 0 {
			return NewDeleteISAKMP(icky, rcky)
		}
		d := &Delete{DOI: DOIIPsec, Protocol: ProtocolESP}
		for i, n := 0, 1+r.Intn(5); i < n; i++ {
			d.SPIs = append(d.SPIs, randBytes(r, 4, 4))
		}
		return d
	case 10:
		return &VendorID{Data: randBytes(r, 0, 24)}
	case 11:
		return &ModeCfg{CfgType: uint8(r.Intn(5)), Identifier: uint16(r.Intn(1 << 16)), Attributes: randAttrs(r, ProtocolESP)}
	case 12:
		return &NATD{Draft: r.Intn(2) == 0, Hash: randBytes(r, 1, 32)}
	case 13:
		return &NATOA{Draft: r.Intn(2) == 0, Addr: randAddr(r)}
	case 14:
		return &Fragment{ID: uint16(r.Intn(1 << 16)), Number: uint8(1 + r.Intn(255)), Flags: uint8(r.Intn(2)), Data: randBytes(r, 0, 100)}
	case 15:
		return NewDPD(NotifyRUThere, icky, rcky, r.Uint32())
	}
	return &Unknown{PayloadType: PayloadType([]int{15, 22, 33, 46, 99, 200}[r.Intn(6)]), Data: randBytes(r, 0, 30)}
}

// Generate implements quick.Generator.
func (randMessage) Generate(r *rand.Rand, size int) reflect.Value {
	m := &Message{Header: HeaderFields{
		NextPayload: PayloadNone,
		Exchange:    []ExchangeType{ExchangeIdentityProt, ExchangeAggressive, ExchangeInformational, ExchangeQuick}[r.Intn(4)],
		Flags:       Flags(r.Intn(8)) &^ FlagEncryption,
		MessageID:   r.Uint32(),
	}}
	r.Read(m.Header.ICookie[:])
	m.Header.ICookie[0] |= 1
	r.Read(m.Header.RCookie[:])
	for i, n := 0, r.Intn(1+min(size, 10)); i < n; i++ {
		m.Payloads = append(m.Payloads, randPayload(r))
	}
	return reflect.ValueOf(randMessage{m})
}

func TestQuickRoundTrip(t *testing.T) {
	f := func(rm randMessage) bool {
		wire := rm.m.AppendMarshal(nil)
		got, err := Parse(wire)
		if err != nil {
			t.Logf("Parse(%v): %v", rm.m, err)
			return false
		}
		if !bytes.Equal(got.AppendMarshal(nil), wire) {
			t.Logf("re-marshal differs for %v", rm.m)
			return false
		}
		clearReceived(got.Payloads)
		if len(got.Payloads) != len(rm.m.Payloads) {
			return false
		}
		for i := range got.Payloads {
			if !reflect.DeepEqual(normalizeAll(got.Payloads[i]), normalizeAll(rm.m.Payloads[i])) {
				t.Logf("payload %d: got %#v\nwant %#v", i, got.Payloads[i], rm.m.Payloads[i])
				return false
			}
		}
		return true
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 2000}); err != nil {
		t.Fatal(err)
	}
}

// TestQuickEncrypted: an encrypted message keeps its ciphertext through a round trip, and the
// plaintext chain with padding decodes to the payloads it was built from.
func TestQuickEncrypted(t *testing.T) {
	f := func(rm randMessage, pad uint8) bool {
		chain := AppendPayloads(nil, rm.m.Payloads)
		padding := make([]byte, int(pad)%MaxPadding)
		m := &Message{Header: rm.m.Header, Ciphertext: append(append([]byte{}, chain...), padding...)}
		m.Header.Flags |= FlagEncryption
		if len(rm.m.Payloads) > 0 {
			m.Header.NextPayload = rm.m.Payloads[0].Type()
		}
		wire := m.AppendMarshal(nil)
		got, err := Parse(wire)
		if len(m.Ciphertext) == 0 {
			return err != nil
		}
		if err != nil || !bytes.Equal(got.Ciphertext, m.Ciphertext) || !bytes.Equal(got.AppendMarshal(nil), wire) {
			return false
		}
		if err := got.Decrypted(m.Ciphertext); err != nil {
			t.Logf("Decrypted: %v", err)
			return false
		}
		return len(got.Payloads) == len(rm.m.Payloads) && bytes.Equal(got.Padding, padding) &&
			bytes.Equal(got.ChainFrom(0), chain) && bytes.Equal(got.AppendMarshal(nil), wire)
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 500}); err != nil {
		t.Fatal(err)
	}
}

func normalizeAll(p Payload) Payload {
	switch p := p.(type) {
	case *Certificate:
		c := *p
		if len(c.Data) == 0 {
			c.Data = nil
		}
		return &c
	case *CertRequest:
		c := *p
		if len(c.Authority) == 0 {
			c.Authority = nil
		}
		return &c
	case *VendorID:
		c := *p
		if len(c.Data) == 0 {
			c.Data = nil
		}
		return &c
	case *Unknown:
		c := *p
		if len(c.Data) == 0 {
			c.Data = nil
		}
		return &c
	case *Fragment:
		c := *p
		if len(c.Data) == 0 {
			c.Data = nil
		}
		return &c
	case *ModeCfg:
		c := *p
		c.Attributes = normAttrs(c.Attributes)
		return &c
	case *SA:
		c := normalize(p).(*SA)
		for _, pr := range c.Proposals {
			for _, tr := range pr.Transforms {
				tr.Attributes = normAttrs(tr.Attributes)
			}
		}
		return c
	}
	return normalize(p)
}

func normAttrs(as []Attribute) []Attribute {
	if len(as) == 0 {
		return nil
	}
	out := make([]Attribute, len(as))
	for i, a := range as {
		if !a.Basic && len(a.Data) == 0 {
			a.Data = nil
		}
		out[i] = a
	}
	return out
}
