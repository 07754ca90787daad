package esp

import (
	"bytes"
	"testing"

	"github.com/tunnelbox/tunnelbox/xfrm"
)

// FuzzOpen feeds arbitrary datagrams to inbound states of each kind: Open must never panic,
// never append on error, and only accept what the matching outbound state sealed.
func FuzzOpen(f *testing.F) {
	outs := map[string]*State{}
	for _, ac := range algCases {
		out, _ := pair(f, xfrm.ModeTunnel, ac.enc, ac.keyLen, ac.auth)
		outs[ac.name] = out
		for _, n := range []int{0, 20, 100} {
			pkt, err := out.Seal(nil, bytes.Repeat([]byte{0x45}, n), 4)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(pkt)
		}
	}
	f.Add([]byte{})
	f.Add([]byte{0xc0, 0xff, 0xee, 0x01, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, pkt []byte) {
		for _, ac := range algCases {
			_, in := pair(t, xfrm.ModeTunnel, ac.enc, ac.keyLen, ac.auth)
			dst := []byte("pre")
			got, _, err := in.Open(dst, pkt)
			if err != nil && string(got) != "pre" {
				t.Fatalf("%s: error %v but appended %x", ac.name, err, got[3:])
			}
			if err == nil && ac.auth == xfrm.AuthNone && !ac.enc.AEAD() {
				continue // no integrity: any well-formed packet decrypts to something
			}
			if c := in.Counters(); err != nil && c.Errors() == 0 && c.Decaps == 0 {
				t.Fatalf("%s: drop %v not counted", ac.name, err)
			}
		}
	})
}
