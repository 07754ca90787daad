package esp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"

	"github.com/tunnelbox/tunnelbox/xfrm"
)

// nullPacket builds an ESP-NULL + HMAC-SHA-256-128 packet around an arbitrary body (payload,
// padding and trailer as given), independently of Seal, so bad trailers can carry good ICVs.
func nullPacket(sa *xfrm.SA, seq uint32, body []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, sa.SPI)
	b = binary.BigEndian.AppendUint32(b, seq)
	b = append(b, body...)
	m := hmac.New(sha256.New, sa.AuthKey)
	m.Write(b)
	return append(b, m.Sum(nil)[:16]...)
}

func TestTrailerChecks(t *testing.T) {
	inner := []byte{0x45, 0, 0, 20, 0, 0, 0, 0, 64, 1, 0, 0, 10, 1, 1, 1, 10, 2, 2, 2}
	tests := []struct {
		name  string
		mode  xfrm.Mode
		body  []byte
		err   error
		count func(xfrm.Counters) uint64
	}{
		{"good", xfrm.ModeTunnel, append(append([]byte{}, inner...), 1, 2, 2, 4), nil, nil},
		{"pad bytes not 1,2,...", xfrm.ModeTunnel, append(append([]byte{}, inner...), 1, 3, 2, 4),
			ErrPadding, func(c xfrm.Counters) uint64 { return c.ErrDecrypt }},
		{"pad length past payload", xfrm.ModeTunnel, []byte{1, 2, 3, 4, 5, 6, 200, 4},
			ErrPadding, func(c xfrm.Counters) uint64 { return c.ErrDecrypt }},
		{"tunnel carrying TCP", xfrm.ModeTunnel, append(append([]byte{}, inner...), 1, 2, 2, 6),
			ErrPadding, func(c xfrm.Counters) uint64 { return c.ErrDecrypt }},
		{"transport carrying TCP", xfrm.ModeTransport, append(append([]byte{}, inner...), 1, 2, 2, 6), nil, nil},
		{"dummy packet", xfrm.ModeTunnel, []byte{0xde, 0xad, 0, 59}, ErrDummy,
			func(c xfrm.Counters) uint64 { return c.Decaps }},
		{"not 4-aligned", xfrm.ModeTunnel, append(append([]byte{}, inner...), 1, 2, 4),
			ErrMalformed, func(c xfrm.Counters) uint64 { return c.ErrOther }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sa := testSA(xfrm.DirIn, tt.mode, xfrm.EncNull, 0, xfrm.AuthHMACSHA256)
			in, err := New(sa, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := in.Open(nil, nullPacket(sa, 1, tt.body))
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if tt.err != nil {
				if len(got) != 0 {
					t.Fatalf("delivered %x", got)
				}
				if n := tt.count(in.Counters()); n != 1 {
					t.Fatalf("counter = %d, want 1 (%+v)", n, in.Counters())
				}
			} else if string(got) != string(inner) {
				t.Fatalf("payload %x", got)
			}
		})
	}
}

func TestLifetimes(t *testing.T) {
	type ev struct {
		hard  bool
		cause xfrm.ExpireCause
	}
	tests := []struct {
		name string
		life xfrm.Lifetime
		want []ev // after 10 packets of 100 octets
		sent int  // packets Seal accepts
	}{
		{"packets soft and hard", xfrm.Lifetime{SoftPackets: 3, HardPackets: 5},
			[]ev{{false, xfrm.ExpirePackets}, {true, xfrm.ExpirePackets}}, 5},
		{"bytes soft only", xfrm.Lifetime{SoftBytes: 250}, []ev{{false, xfrm.ExpireBytes}}, 10},
		{"bytes hard", xfrm.Lifetime{SoftBytes: 250, HardBytes: 700},
			[]ev{{false, xfrm.ExpireBytes}, {true, xfrm.ExpireBytes}}, 7},
		{"no limits", xfrm.Lifetime{}, nil, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []ev
			sa := testSA(xfrm.DirOut, xfrm.ModeTunnel, xfrm.EncAESGCM16, 16, xfrm.AuthNone)
			sa.Lifetime = tt.life
			out, err := New(sa, Options{OnExpire: func(hard bool, c xfrm.ExpireCause) {
				got = append(got, ev{hard, c})
			}})
			if err != nil {
				t.Fatal(err)
			}
			sent := 0
			for range 10 {
				if _, err := out.Seal(nil, make([]byte, 100), 4); err == nil {
					sent++
				} else if !errors.Is(err, ErrExpired) {
					t.Fatal(err)
				}
			}
			if sent != tt.sent || len(got) != len(tt.want) {
				t.Fatalf("sent %d events %v, want %d %v", sent, got, tt.sent, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("events %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestSequenceExhausted(t *testing.T) {
	var hard []xfrm.ExpireCause
	out, err := New(testSA(xfrm.DirOut, xfrm.ModeTunnel, xfrm.EncAESGCM16, 16, xfrm.AuthNone),
		Options{OnExpire: func(h bool, c xfrm.ExpireCause) {
			if h {
				hard = append(hard, c)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	out.seq = 1<<32 - 2
	pkt, err := out.Seal(nil, []byte{1}, 4)
	if err != nil || binary.BigEndian.Uint32(pkt[4:]) != 1<<32-1 {
		t.Fatalf("last number: %v", err)
	}
	if _, err := out.Seal(nil, []byte{1}, 4); !errors.Is(err, ErrSeqOverflow) {
		t.Fatalf("err = %v, want ErrSeqOverflow", err)
	}
	if _, err := out.Seal(nil, []byte{1}, 4); !errors.Is(err, ErrExpired) {
		t.Fatalf("after overflow: err = %v", err)
	}
	if len(hard) != 1 {
		t.Fatalf("hard expiries %v, want one", hard)
	}
}

func TestNewRejects(t *testing.T) {
	bad := []func(*xfrm.SA){
		func(sa *xfrm.SA) { sa.EncKey = sa.EncKey[:5] },
		func(sa *xfrm.SA) { sa.Auth = xfrm.AuthNone; sa.AuthKey = nil; sa.Enc = xfrm.EncNull; sa.EncKey = nil },
		func(sa *xfrm.SA) { sa.SPI = 255 },
		func(sa *xfrm.SA) { sa.Src = netip.Addr{} },
		func(sa *xfrm.SA) { sa.ICVLen = 10 },
		func(sa *xfrm.SA) { sa.ReplayWindow = -1 },
	}
	for i, f := range bad {
		sa := testSA(xfrm.DirIn, xfrm.ModeTunnel, xfrm.EncAESCBC, 16, xfrm.AuthHMACSHA1)
		f(sa)
		if _, err := New(sa, Options{}); !errors.Is(err, xfrm.ErrInvalidSA) {
			t.Errorf("case %d: err = %v, want ErrInvalidSA", i, err)
		}
	}
}
