package esp

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"testing"

	"github.com/tunnelbox/tunnelbox/xfrm"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func loadJSON(t testing.TB, name string, v any) {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// testSA returns an SA with deterministic keys for the algorithms.
func testSA(dir xfrm.Dir, mode xfrm.Mode, enc xfrm.EncAlg, keyLen int, auth xfrm.AuthAlg) *xfrm.SA {
	sa := &xfrm.SA{
		Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2"),
		SPI: 0xc0ffee01, Proto: xfrm.ProtoESP, Mode: mode, Dir: dir, Reqid: 1,
		Enc: enc, EncKey: bytes.Repeat([]byte{0x11}, keyLen), Auth: auth,
	}
	if n := enc.SaltLen(); n > 0 {
		sa.Salt = bytes.Repeat([]byte{0x22}, n)
	}
	if n := auth.KeyLen(); n > 0 {
		sa.AuthKey = bytes.Repeat([]byte{0x33}, n)
	}
	return sa
}

func pair(t testing.TB, mode xfrm.Mode, enc xfrm.EncAlg, keyLen int, auth xfrm.AuthAlg) (out, in *State) {
	t.Helper()
	var err error
	if out, err = New(testSA(xfrm.DirOut, mode, enc, keyLen, auth), Options{}); err != nil {
		t.Fatal(err)
	}
	if in, err = New(testSA(xfrm.DirIn, mode, enc, keyLen, auth), Options{}); err != nil {
		t.Fatal(err)
	}
	return out, in
}

// TestStrongSwanKAT opens the ESP packets strongSwan sent in the shared live vectors, and seals
// their inner packets with the same IV to the same bytes (aes256 + hmac-sha1-96, tunnel mode).
func TestStrongSwanKAT(t *testing.T) {
	var v struct {
		Packets []struct {
			Name, SPI, IV, ESP, Inner string
			EncKey                    string `json:"enc_key"`
			AuthKey                   string `json:"auth_key"`
			Seq                       int
			NextHeader                int `json:"next_header"`
		}
	}
	loadJSON(t, "strongswan-esp.json", &v)
	if len(v.Packets) == 0 {
		t.Fatal("no vectors")
	}
	for _, p := range v.Packets {
		t.Run(p.Name, func(t *testing.T) {
			sa := &xfrm.SA{
				Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2"),
				SPI: binary.BigEndian.Uint32(unhex(t, p.SPI)), Proto: xfrm.ProtoESP,
				Mode: xfrm.ModeTunnel, Dir: xfrm.DirIn, Enc: xfrm.EncAESCBC,
				EncKey: unhex(t, p.EncKey), Auth: xfrm.AuthHMACSHA1, AuthKey: unhex(t, p.AuthKey),
				Encap: &xfrm.Encap{SrcPort: 4500, DstPort: 4500},
			}
			in, err := New(sa, Options{})
			if err != nil {
				t.Fatal(err)
			}
			wire, inner := unhex(t, p.ESP), unhex(t, p.Inner)
			got, nh, err := in.Open(nil, wire)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !bytes.Equal(got, inner) || int(nh) != p.NextHeader {
				t.Fatalf("Open = %x nh %d, want %x nh %d", got, nh, inner, p.NextHeader)
			}
			sa.Dir = xfrm.DirOut
			out, err := New(sa, Options{})
			if err != nil {
				t.Fatal(err)
			}
			out.seq = uint64(p.Seq - 1)
			out.ivs = unhex(t, p.IV) // the IV strongSwan drew
			sealed, err := out.Seal(nil, inner, byte(p.NextHeader))
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			if !bytes.Equal(sealed, wire) {
				t.Fatalf("Seal =\n%x\nwant\n%x", sealed, wire)
			}
		})
	}
}

// TestGCMDraftKAT opens the AES-GCM ESP packets of draft-mcgrew-gcm-test-01.
func TestGCMDraftKAT(t *testing.T) {
	var v struct {
		Cases []struct {
			Name, Key, Salt, SPI, IV, ESP, Payload string
			Seq                                    int
			NextHeader                             int `json:"next_header"`
		}
	}
	loadJSON(t, "draft-mcgrew-gcm-test-01.json", &v)
	if len(v.Cases) == 0 {
		t.Fatal("no vectors")
	}
	for _, c := range v.Cases {
		t.Run(c.Name, func(t *testing.T) {
			sa := &xfrm.SA{
				Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2"),
				SPI: binary.BigEndian.Uint32(unhex(t, c.SPI)), Proto: xfrm.ProtoESP,
				Mode: xfrm.ModeTransport, Dir: xfrm.DirIn, Enc: xfrm.EncAESGCM16,
				EncKey: unhex(t, c.Key), Salt: unhex(t, c.Salt),
			}
			in, err := New(sa, Options{})
			if err != nil {
				t.Fatal(err)
			}
			wire := unhex(t, c.ESP)
			got, nh, err := in.Open(nil, wire)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if want := unhex(t, c.Payload); !bytes.Equal(got, want) || int(nh) != c.NextHeader {
				t.Fatalf("Open = %x nh %d, want %x nh %d", got, nh, want, c.NextHeader)
			}
			// The same bytes again are a replay; one flipped ICV bit is an auth failure.
			if _, _, err := in.Open(nil, wire); !errors.Is(err, ErrReplay) {
				t.Errorf("replay: err = %v", err)
			}
			wire[len(wire)-1] ^= 1
			if _, _, err := in.Open(nil, wire); !errors.Is(err, ErrAuth) && !errors.Is(err, ErrReplay) {
				t.Errorf("tampered: err = %v", err)
			}
		})
	}
}

type algCase struct {
	name   string
	enc    xfrm.EncAlg
	keyLen int
	auth   xfrm.AuthAlg
}

var algCases = []algCase{
	{"aes128-sha1", xfrm.EncAESCBC, 16, xfrm.AuthHMACSHA1},
	{"aes192-md5", xfrm.EncAESCBC, 24, xfrm.AuthHMACMD5},
	{"aes256-sha256", xfrm.EncAESCBC, 32, xfrm.AuthHMACSHA256},
	{"aes256-sha384", xfrm.EncAESCBC, 32, xfrm.AuthHMACSHA384},
	{"aes256-sha512", xfrm.EncAESCBC, 32, xfrm.AuthHMACSHA512},
	{"aes128-none", xfrm.EncAESCBC, 16, xfrm.AuthNone},
	{"gcm128", xfrm.EncAESGCM16, 16, xfrm.AuthNone},
	{"gcm192", xfrm.EncAESGCM16, 24, xfrm.AuthNone},
	{"gcm256", xfrm.EncAESGCM16, 32, xfrm.AuthNone},
	{"3des-sha1", xfrm.Enc3DES, 24, xfrm.AuthHMACSHA1},
	{"des-md5", xfrm.EncDES, 8, xfrm.AuthHMACMD5},
	{"null-sha256", xfrm.EncNull, 0, xfrm.AuthHMACSHA256},
}

func TestRoundTrip(t *testing.T) {
	for _, ac := range algCases {
		for _, mode := range []xfrm.Mode{xfrm.ModeTunnel, xfrm.ModeTransport} {
			t.Run(fmt.Sprintf("%s/%s", ac.name, mode), func(t *testing.T) {
				out, in := pair(t, mode, ac.enc, ac.keyLen, ac.auth)
				nh := byte(4)
				if mode == xfrm.ModeTransport {
					nh = 17
				}
				var bytesIn uint64
				for i, n := range []int{0, 1, 13, 14, 15, 16, 17, 100, 1400, 9000} {
					payload := make([]byte, n)
					for j := range payload {
						payload[j] = byte(j*7 + n)
					}
					prefix := []byte("keep")
					pkt, err := out.Seal(prefix, payload, nh)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(pkt[:4], prefix) || len(pkt)-4 != out.SealedLen(n) {
						t.Fatalf("len %d: sealed %d octets, SealedLen says %d", n, len(pkt)-4, out.SealedLen(n))
					}
					esp := pkt[4:]
					if seq := binary.BigEndian.Uint32(esp[4:]); seq != uint32(i+1) {
						t.Fatalf("sequence number %d, want %d", seq, i+1)
					}
					if ac.enc.AEAD() && binary.BigEndian.Uint64(esp[8:]) != uint64(i+1) {
						t.Fatalf("GCM IV %x is not the counter %d", esp[8:16], i+1)
					}
					if n >= 16 && ac.enc != xfrm.EncNull && bytes.Contains(esp, payload[:16]) {
						t.Fatalf("plaintext visible in the ESP packet")
					}
					got, gotNH, err := in.Open([]byte("x"), esp)
					if err != nil {
						t.Fatalf("len %d: Open: %v", n, err)
					}
					if !bytes.Equal(got[1:], payload) || gotNH != nh {
						t.Fatalf("len %d: round trip changed the payload", n)
					}
					bytesIn += uint64(n)
				}
				co, ci := out.Counters(), in.Counters()
				if co.Encaps != 10 || ci.Decaps != 10 || ci.Packets != 10 || ci.Bytes != bytesIn ||
					co.Bytes != bytesIn || ci.Errors() != 0 {
					t.Fatalf("counters out %+v in %+v", co, ci)
				}
			})
		}
	}
}

// TestTamper flips every bit of a sealed packet, truncates it at every length, replays it and
// sends it to the wrong SA: each copy must be dropped, counted, and deliver nothing.
func TestTamper(t *testing.T) {
	for _, ac := range algCases {
		if ac.auth == xfrm.AuthNone && !ac.enc.AEAD() {
			continue // no integrity: tampering is undetectable by design
		}
		t.Run(ac.name, func(t *testing.T) {
			out, in := pair(t, xfrm.ModeTunnel, ac.enc, ac.keyLen, ac.auth)
			payload := bytes.Repeat([]byte{0x45, 1, 2, 3}, 10)
			pkt, err := out.Seal(nil, payload, 4)
			if err != nil {
				t.Fatal(err)
			}
			var want xfrm.Counters
			open := func(what string, b []byte) error {
				t.Helper()
				dst := make([]byte, 0, 2048)
				got, _, err := in.Open(dst, b)
				if len(got) != 0 {
					t.Fatalf("%s: delivered %d octets", what, len(got))
				}
				return err
			}
			check := func(what string, b []byte, werr error) {
				t.Helper()
				if err := open(what, b); !errors.Is(err, werr) {
					t.Fatalf("%s: err = %v, want %v", what, err, werr)
				}
			}
			for i := range len(pkt) * 8 {
				b := bytes.Clone(pkt)
				b[i/8] ^= 1 << (i % 8)
				werr := ErrAuth
				switch {
				case i < 32:
					werr, want.ErrOther = ErrMalformed, want.ErrOther+1 // SPI
				case i < 64 && b[7] == 0 && b[6] == 0 && b[5] == 0 && b[4] == 0:
					werr, want.ErrReplay = ErrReplay, want.ErrReplay+1 // sequence number 0
				default:
					want.ErrAuth++
				}
				check(fmt.Sprintf("bit %d", i), b, werr)
			}
			for n := range len(pkt) {
				// Lengths the algorithm cannot produce are malformed; aligned ones fail the ICV.
				switch err := open(fmt.Sprintf("truncated to %d", n), pkt[:n]); {
				case errors.Is(err, ErrMalformed):
					want.ErrOther++
				case errors.Is(err, ErrAuth):
					want.ErrAuth++
				default:
					t.Fatalf("truncated to %d: err = %v", n, err)
				}
			}
			if got, _, err := in.Open(nil, pkt); err != nil || !bytes.Equal(got, payload) {
				t.Fatalf("genuine packet after the tampered ones: %v", err)
			}
			check("replay", pkt, ErrReplay)
			want.ErrReplay++
			want.Decaps, want.Packets, want.Bytes = 1, 1, uint64(len(payload))
			if c := in.Counters(); c != want {
				t.Fatalf("counters %+v, want %+v", c, want)
			}
		})
	}
}

// TestRFC3602KAT opens the AES-CBC ESP packets of RFC 3602 section 4 (cases 5-8, no
// integrity) and seals their payloads with the RFC's IVs to the same bytes.
func TestRFC3602KAT(t *testing.T) {
	var v struct {
		Cases []struct {
			Name, Key, Mode, ESP, Payload string
			NextHeader                    int `json:"next_header"`
		}
	}
	loadJSON(t, "rfc3602-esp.json", &v)
	if len(v.Cases) != 4 {
		t.Fatalf("%d vectors, want 4", len(v.Cases))
	}
	for _, c := range v.Cases {
		t.Run(c.Name, func(t *testing.T) {
			wire, payload := unhex(t, c.ESP), unhex(t, c.Payload)
			mode := xfrm.ModeTransport
			if c.Mode == "tunnel" {
				mode = xfrm.ModeTunnel
			}
			sa := &xfrm.SA{
				Src: netip.MustParseAddr("192.168.123.3"), Dst: netip.MustParseAddr("192.168.123.100"),
				SPI: binary.BigEndian.Uint32(wire), Proto: xfrm.ProtoESP, Mode: mode, Dir: xfrm.DirIn,
				Enc: xfrm.EncAESCBC, EncKey: unhex(t, c.Key),
			}
			in, err := New(sa, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got, nh, err := in.Open(nil, wire)
			if err != nil || !bytes.Equal(got, payload) || int(nh) != c.NextHeader {
				t.Fatalf("Open = %x nh %d err %v, want %x nh %d", got, nh, err, payload, c.NextHeader)
			}
			sa.Dir = xfrm.DirOut
			out, err := New(sa, Options{})
			if err != nil {
				t.Fatal(err)
			}
			out.seq = uint64(binary.BigEndian.Uint32(wire[4:]) - 1)
			out.ivs = bytes.Clone(wire[HeaderLen : HeaderLen+16])
			sealed, err := out.Seal(nil, payload, byte(c.NextHeader))
			if err != nil || !bytes.Equal(sealed, wire) {
				t.Fatalf("Seal = %x (%v)\nwant %x", sealed, err, wire)
			}
		})
	}
}
