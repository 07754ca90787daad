package xfrm

import (
	"errors"
	"net/netip"
	"testing"
)

func TestLookupTransform(t *testing.T) {
	tests := []struct {
		in      string
		want    Transform
		wantErr bool
	}{
		{in: "esp-aes", want: Transform{Name: "esp-aes", Enc: EncAESCBC, KeyBits: 128}},
		{in: "ESP-AES 256", want: Transform{Name: "esp-aes", Enc: EncAESCBC, KeyBits: 256}},
		{in: "esp-gcm 192", want: Transform{Name: "esp-gcm", Enc: EncAESGCM16, KeyBits: 192}},
		{in: "esp-3des", want: Transform{Name: "esp-3des", Enc: Enc3DES, KeyBits: 192}},
		{in: "esp-null", want: Transform{Name: "esp-null", Enc: EncNull}},
		{in: "esp-sha-hmac", want: Transform{Name: "esp-sha-hmac", Auth: AuthHMACSHA1}},
		{in: "esp-sha512-hmac", want: Transform{Name: "esp-sha512-hmac", Auth: AuthHMACSHA512}},
		{in: "esp-aes 512", wantErr: true},
		{in: "esp-3des 128", wantErr: true},
		{in: "esp-sha", wantErr: true},
		{in: "", wantErr: true},
		{in: "esp-aes 128 x", wantErr: true},
	}
	for _, tt := range tests {
		got, err := LookupTransform(tt.in)
		if (err != nil) != tt.wantErr || (!tt.wantErr && got != tt.want) {
			t.Errorf("LookupTransform(%q) = %+v, %v; want %+v (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestAlgorithmNames(t *testing.T) {
	enc := []struct {
		a           EncAlg
		kernel      string
		ike         uint8
		salt, icv   int
		keyLens     int
		firstKeyLen int
	}{
		{EncNull, "ecb(cipher_null)", 11, 0, 0, 1, 0},
		{EncDES, "cbc(des)", 2, 0, 0, 1, 8},
		{Enc3DES, "cbc(des3_ede)", 3, 0, 0, 1, 24},
		{EncAESCBC, "cbc(aes)", 12, 0, 0, 3, 16},
		{EncAESGCM16, "rfc4106(gcm(aes))", 20, 4, 16, 3, 16},
	}
	for _, e := range enc {
		if e.a.KernelName() != e.kernel || e.a.IKETransformID() != e.ike || e.a.SaltLen() != e.salt ||
			e.a.ICVLen() != e.icv || len(e.a.KeyLens()) != e.keyLens || e.a.KeyLens()[0] != e.firstKeyLen {
			t.Errorf("%s: kernel %q ike %d salt %d icv %d keys %v", e.a, e.a.KernelName(), e.a.IKETransformID(),
				e.a.SaltLen(), e.a.ICVLen(), e.a.KeyLens())
		}
	}
	auth := []struct {
		a           AuthAlg
		kernel      string
		attr        uint16
		key, icvBit int
	}{
		{AuthHMACMD5, "hmac(md5)", 1, 16, 96},
		{AuthHMACSHA1, "hmac(sha1)", 2, 20, 96},
		{AuthHMACSHA256, "hmac(sha256)", 5, 32, 128},
		{AuthHMACSHA384, "hmac(sha384)", 6, 48, 192},
		{AuthHMACSHA512, "hmac(sha512)", 7, 64, 256},
	}
	for _, a := range auth {
		if a.a.KernelName() != a.kernel || a.a.IKEAuthAttr() != a.attr || a.a.KeyLen() != a.key ||
			a.a.ICVLen()*8 != a.icvBit {
			t.Errorf("%s: kernel %q attr %d key %d icv %d bits", a.a, a.a.KernelName(), a.a.IKEAuthAttr(),
				a.a.KeyLen(), a.a.ICVLen()*8)
		}
	}
}

func goodSA() *SA {
	return &SA{Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2"), SPI: 0x1000,
		Proto: ProtoESP, Mode: ModeTunnel, Dir: DirOut, Enc: EncAESCBC, EncKey: make([]byte, 32),
		Auth: AuthHMACSHA256, AuthKey: make([]byte, 32)}
}

func TestSAValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*SA)
		ok   bool
	}{
		{"good", func(*SA) {}, true},
		{"gcm", func(s *SA) { s.Enc, s.Salt, s.Auth, s.AuthKey = EncAESGCM16, make([]byte, 4), AuthNone, nil }, true},
		{"gcm without salt", func(s *SA) { s.Enc, s.Auth, s.AuthKey = EncAESGCM16, AuthNone, nil }, false},
		{"gcm with auth", func(s *SA) { s.Enc, s.Salt = EncAESGCM16, make([]byte, 4) }, false},
		{"null without auth", func(s *SA) { s.Enc, s.EncKey, s.Auth, s.AuthKey = EncNull, nil, AuthNone, nil }, false},
		{"reserved SPI", func(s *SA) { s.SPI = 200 }, false},
		{"mixed families", func(s *SA) { s.Dst = netip.MustParseAddr("2001:db8::1") }, false},
		{"short auth key", func(s *SA) { s.AuthKey = s.AuthKey[:20] }, false},
		{"ICV 96 of sha256", func(s *SA) { s.ICVLen = 12 }, true},
		{"ICV 10", func(s *SA) { s.ICVLen = 10 }, false},
		{"window too big", func(s *SA) { s.ReplayWindow = MaxReplayWindow + 1 }, false},
		{"encap without port", func(s *SA) { s.Encap = &Encap{SrcPort: 4500} }, false},
		{"soft beyond hard", func(s *SA) { s.Lifetime = Lifetime{SoftBytes: 10, HardBytes: 5} }, false},
		{"fwd direction", func(s *SA) { s.Dir = DirFwd }, false},
	}
	for _, tt := range tests {
		s := goodSA()
		tt.edit(s)
		if err := s.Validate(); (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalidSA)) {
			t.Errorf("%s: Validate = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
	s := goodSA()
	if s.Window() != DefaultReplayWindow || s.EffectiveICVLen() != 16 {
		t.Errorf("window %d ICV %d", s.Window(), s.EffectiveICVLen())
	}
	s.NoReplay = true
	if s.Window() != 0 {
		t.Errorf("replay disabled: window %d", s.Window())
	}
	c := s.Clone()
	c.EncKey[0] = 1
	if s.EncKey[0] != 0 {
		t.Error("Clone shares the key")
	}
}

func TestPolicy(t *testing.T) {
	p := &Policy{Src: netip.MustParsePrefix("10.1.1.0/24"), Dst: netip.MustParsePrefix("10.2.2.0/24"),
		Proto: 6, DstPort: 443, Dir: DirOut, Action: ActionProtect,
		Tmpl: Template{Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2"),
			Proto: ProtoESP, Mode: ModeTunnel, Reqid: 7}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	a, b := netip.MustParseAddr("10.1.1.5"), netip.MustParseAddr("10.2.2.5")
	matches := []struct {
		f    Flow
		want bool
	}{
		{Flow{Src: a, Dst: b, Proto: 6, SrcPort: 5000, DstPort: 443}, true},
		{Flow{Src: a, Dst: b, Proto: 6, SrcPort: 5000, DstPort: 80}, false},
		{Flow{Src: a, Dst: b, Proto: 17, DstPort: 443}, false},
		{Flow{Src: b, Dst: a, Proto: 6, DstPort: 443}, false},
	}
	for _, m := range matches {
		if p.Matches(m.f) != m.want {
			t.Errorf("Matches(%s) = %v", m.f, !m.want)
		}
	}
	bad := *p
	bad.Proto = 0
	if err := bad.Validate(); !errors.Is(err, ErrInvalidPolicy) {
		t.Errorf("ports without protocol: %v", err)
	}
	bad = *p
	bad.Tmpl.Dst = netip.Addr{}
	if err := bad.Validate(); !errors.Is(err, ErrInvalidPolicy) {
		t.Errorf("tunnel without peer: %v", err)
	}
	q := *p
	q.Src = netip.MustParsePrefix("10.1.1.77/24")
	if q.ID() != p.ID() {
		t.Error("ID does not mask the prefix")
	}
}

func TestClassify4500(t *testing.T) {
	ike := append([]byte{0, 0, 0, 0}, make([]byte, 28)...)
	ike[4] = 0xaa
	tests := []struct {
		name string
		b    []byte
		kind UDPKind
		rest int
	}{
		{"keepalive", []byte{0xff}, UDPKeepalive, 0},
		{"one other octet", []byte{0x00}, UDPInvalid, 0},
		{"short", []byte{1, 2, 3, 4, 5, 6, 7}, UDPInvalid, 0},
		{"ike", ike, UDPIKE, 28},
		{"esp", []byte{0, 0, 0x10, 0, 0, 0, 0, 1, 9}, UDPESP, 9},
	}
	for _, tt := range tests {
		kind, rest := Classify4500(tt.b)
		if kind != tt.kind || len(rest) != tt.rest {
			t.Errorf("%s: %v %d octets, want %v %d", tt.name, kind, len(rest), tt.kind, tt.rest)
		}
	}
	if _, rest := Classify4500(ike); rest[0] != 0xaa {
		t.Error("IKE message does not start after the marker")
	}
}
