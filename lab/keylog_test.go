package lab

import (
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ToLower(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readKeyLog(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The two logs are one strongSwan 5.9.8 Main Mode + Quick Mode (PFS modp2048) exchange seen from
// both peers; the expected values were read off the hex dumps by hand.
func TestParseKeyLog(t *testing.T) {
	const (
		skeyidD = "5B0B0DACDCB33BE275F142FFCEF08873B5C8852660A540AB065FA025E2130821"
		ka      = "B4188BAA0804E8D73768E04D96E9E79371DCC04EE9C7B3BE747D6794C131B00E"
		encI    = "F7B9B522E33607F9EF6D5E55F2B1F7FCF4327CBE99623D8FBB2D6A6438F6B239" // protects SPI d47db33c
		intI    = "0165A4B599ABC9E8037F63A02C1250D0F9374D91"
		encR    = "00416EB5856058057A136A03816F9FFADF74BFC2578668864EFE7D315B80B31F" // protects SPI 6fe11b9b
		intR    = "222710A50CA259A8B73F0E0EF1CEB4516EF1F6BE"
	)
	for _, tc := range []struct {
		file    string
		in, out uint32
	}{
		{"charon-keylog-initiator.log", 0x6fe11b9b, 0xd47db33c},
		{"charon-keylog-responder.log", 0xd47db33c, 0x6fe11b9b},
	} {
		kl, err := ParseKeyLog(strings.NewReader(readKeyLog(t, tc.file)))
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if len(kl.IKE) != 1 || len(kl.Children) != 1 {
			t.Fatalf("%s: %d IKE SAs, %d children; want 1, 1", tc.file, len(kl.IKE), len(kl.Children))
		}
		ik := kl.IKEByID(1)
		if ik == nil || ik.Conn != "lab" || hex.EncodeToString(ik.SKEYIDd) != strings.ToLower(skeyidD) ||
			hex.EncodeToString(ik.EncKey) != strings.ToLower(ka) || len(ik.DH) != 256 || len(ik.SKEYID) != 32 ||
			len(ik.SKEYIDa) != 32 || len(ik.SKEYIDe) != 32 || len(ik.InitIV) != 16 {
			t.Errorf("%s: IKE keys %+v", tc.file, ik)
		}
		ch := kl.Children[0]
		if ch.Child != "net" || ch.ChildID != 1 || ch.In.SPI != tc.in || ch.Out.SPI != tc.out || len(ch.PFS) != 256 {
			t.Errorf("%s: child %+v", tc.file, ch)
		}
		i, r := kl.ESP(0xd47db33c), kl.ESP(0x6fe11b9b)
		if i == nil || r == nil {
			t.Fatalf("%s: SPIs missing", tc.file)
		}
		if string(i.Enc) != string(unhex(t, encI)) || string(i.Integ) != string(unhex(t, intI)) ||
			string(r.Enc) != string(unhex(t, encR)) || string(r.Integ) != string(unhex(t, intR)) {
			t.Errorf("%s: ESP keys bound to the wrong SPIs: %x/%x %x/%x", tc.file, i.Enc, i.Integ, r.Enc, r.Integ)
		}
		if i.Src.String() != "192.0.2.1" || i.Dst.String() != "192.0.2.2" || r.Src.String() != "192.0.2.2" {
			t.Errorf("%s: addresses %s>%s %s>%s", tc.file, i.Src, i.Dst, r.Src, r.Dst)
		}
		var hash3 *Chunk
		for j := range kl.Chunks {
			if kl.Chunks[j].Label == "Hash(3)" {
				hash3 = &kl.Chunks[j]
			}
		}
		if hash3 == nil || !hash3.Complete || len(hash3.Data) != 32 || hash3.Conn != "lab" {
			t.Errorf("%s: Hash(3) chunk %+v", tc.file, hash3)
		}
	}
}

func TestParseKeyLogRejects(t *testing.T) {
	log := readKeyLog(t, "charon-keylog-initiator.log")
	tests := []struct {
		name     string
		old, new string
	}{
		{"dump offset skips", "<lab|1>   16: 1C CE E8 52", "<lab|1>   17: 1C CE E8 52"},
		{"more bytes than announced", "SKEYID => 32 bytes", "SKEYID => 31 bytes"},
		{"SPI not in the KEYMAT seed", "SPIs 6fe11b9b_i d47db33c_o", "SPIs 6fe11b9c_i d47db33c_o"},
		{"SPI line without direction", "adding inbound ESP SA", "adding something"},
		{"no seed", "initiator SA seed =>", "initiator SA sead =>"},
		{"huge chunk", "SKEYID_a => 32 bytes", "SKEYID_a => 99999999 bytes"},
	}
	for _, tc := range tests {
		if !strings.Contains(log, tc.old) {
			t.Fatalf("%s: fixture lacks %q", tc.name, tc.old)
		}
		_, err := ParseKeyLog(strings.NewReader(strings.Replace(log, tc.old, tc.new, 1)))
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%s: error %v, want *ParseError", tc.name, err)
		}
	}
}

func TestParseKeyLogPartial(t *testing.T) {
	// A log cut in the middle of a dump keeps the partial chunk, unmarked, and no keys.
	log := readKeyLog(t, "charon-keylog-initiator.log")
	cut := log[:strings.Index(log, "SKEYID_d =>")+200]
	cut = cut[:strings.LastIndex(cut, "\n")+1]
	kl, err := ParseKeyLog(strings.NewReader(cut))
	if err != nil {
		t.Fatal(err)
	}
	last := kl.Chunks[len(kl.Chunks)-1]
	if last.Label != "SKEYID_d" || last.Complete || kl.IKE[0].SKEYIDd != nil || kl.IKE[0].SKEYID == nil {
		t.Errorf("partial: last chunk %+v, keys %+v", last, kl.IKE[0])
	}
	// No key lines at all: an empty result, not an error.
	kl, err = ParseKeyLog(strings.NewReader("12:00:00.000 00[DMN] Starting IKE charon daemon\n\nrandom text\n"))
	if err != nil || len(kl.Chunks) != 0 || len(kl.IKE) != 0 {
		t.Errorf("plain log: %+v %v", kl, err)
	}
}

func FuzzParseKeyLog(f *testing.F) {
	b, err := os.ReadFile("testdata/charon-keylog-initiator.log")
	if err != nil {
		f.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	f.Add(strings.Join(lines[60:90], "\n"))
	f.Add(strings.Join(lines[220:310], "\n"))
	f.Fuzz(func(t *testing.T, s string) {
		kl, err := ParseKeyLog(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, c := range kl.Chunks {
			if len(c.Data) > c.Size || c.Complete != (len(c.Data) == c.Size) {
				t.Fatalf("chunk %q: %d of %d bytes, complete=%v", c.Label, len(c.Data), c.Size, c.Complete)
			}
		}
	})
}
