package ikecrypto

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// NIST SP 800-135 / CAVP IKEv1 KDF (HMAC-SHA1): SKEYID for PSK and signatures, SKEYID_d/_a/_e.
func TestNISTIKEv1KDF(t *testing.T) {
	secs := readSections(t, "ikev1-kdf.txt")
	for _, name := range []string{"PSK", "SIG"} {
		t.Run(name, func(t *testing.T) {
			v := secs[name]
			if v == nil {
				t.Fatalf("section %s missing", name)
			}
			ni, nr, gxy := unhex(t, v["Ni"]), unhex(t, v["Nr"]), unhex(t, v["g^xy"])
			var skeyid []byte
			if name == "PSK" {
				skeyid = SKEYIDPreShared(HashSHA1, unhex(t, v["psk"]), ni, nr)
			} else {
				skeyid = SKEYIDSignature(HashSHA1, ni, nr, gxy)
			}
			p, err := NewPhase1(HashSHA1, CipherAES128, skeyid, gxy, cookie(t, v["CKY_I"]), cookie(t, v["CKY_R"]))
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				key string
				got []byte
			}{{"SKEYID", p.SKEYID}, {"SKEYID_d", p.SKEYIDd}, {"SKEYID_a", p.SKEYIDa}, {"SKEYID_e", p.SKEYIDe}} {
				if want := unhex(t, v[c.key]); !bytes.Equal(c.got, want) {
					t.Errorf("%s = %x, want %x", c.key, c.got, want)
				}
			}
			if !bytes.Equal(p.EncKey, p.SKEYIDe[:16]) {
				t.Errorf("AES-128 key %x is not the first 16 octets of SKEYID_e", p.EncKey)
			}
		})
	}
}

// RFC 2202 (HMAC-MD5, HMAC-SHA1) and RFC 4231 (HMAC-SHA2) test cases 1 and 2 through Hash.PRF.
func TestHMACVectors(t *testing.T) {
	key1 := bytes.Repeat([]byte{0x0b}, 20)
	data1 := []byte("Hi There")
	key2, data2 := []byte("Jefe"), []byte("what do ya want for nothing?")
	tests := []struct {
		name string
		h    Hash
		key  []byte
		data []byte
		want string
	}{
		{"rfc2202-md5-1", HashMD5, key1[:16], data1, "9294727a3638bb1c13f48ef8158bfc9d"},
		{"rfc2202-md5-2", HashMD5, key2, data2, "750c783e6ab0b503eaa86e310a5db738"},
		{"rfc2202-sha1-1", HashSHA1, key1, data1, "b617318655057264e28bc0b6fb378c8ef146be00"},
		{"rfc2202-sha1-2", HashSHA1, key2, data2, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
		{"rfc4231-sha256-1", HashSHA256, key1, data1, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
		{"rfc4231-sha256-2", HashSHA256, key2, data2, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
		{"rfc4231-sha384-1", HashSHA384, key1, data1, "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6"},
		{"rfc4231-sha384-2", HashSHA384, key2, data2, "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649"},
		{"rfc4231-sha512-1", HashSHA512, key1, data1, "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"},
		{"rfc4231-sha512-2", HashSHA512, key2, data2, "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Split the data in two to check that PRF concatenates its arguments.
			got := tt.h.PRF(tt.key, tt.data[:3], tt.data[3:])
			if want := unhex(t, tt.want); !bytes.Equal(got, want) {
				t.Errorf("got %x, want %x", got, want)
			}
			if len(got) != tt.h.Size() {
				t.Errorf("len %d, Size() %d", len(got), tt.h.Size())
			}
		})
	}
}

func TestHashNames(t *testing.T) {
	for _, h := range Hashes {
		got, err := ParseHash(h.String())
		if err != nil || got != h {
			t.Errorf("ParseHash(%q) = %v, %v", h.String(), got, err)
		}
	}
	if _, err := ParseHash("tiger"); err == nil {
		t.Error("ParseHash(tiger) succeeded")
	}
	if Hash(3).Valid() {
		t.Error("Tiger (3) reported valid")
	}
}

// FIPS-197 Appendix C, RFC 3602 §4 case 1, and the classic DES example, through CBC.
func TestBlockCipherVectors(t *testing.T) {
	tests := []struct {
		name          string
		c             Cipher
		key, iv       string
		plain, cipher string
	}{
		{"fips197-c1", CipherAES128, "000102030405060708090a0b0c0d0e0f", "00000000000000000000000000000000",
			"00112233445566778899aabbccddeeff", "69c4e0d86a7b0430d8cdb78070b4c55a"},
		{"fips197-c2", CipherAES192, "000102030405060708090a0b0c0d0e0f1011121314151617", "00000000000000000000000000000000",
			"00112233445566778899aabbccddeeff", "dda97ca4864cdfe06eaf70a0ec0d7191"},
		{"fips197-c3", CipherAES256, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "00000000000000000000000000000000",
			"00112233445566778899aabbccddeeff", "8ea2b7ca516745bfeafc49904b496089"},
		{"rfc3602-case1", CipherAES128, "06a9214036b8a15b512e03d534120006", "3dafba429d9eb430b422da802c9fac41",
			"53696e676c6520626c6f636b206d7367", "e353779c1079aeb82708942dbe77181a"},
		{"des-textbook", CipherDES, "133457799bbcdff1", "0000000000000000",
			"0123456789abcdef", "85e813540f0ab405"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.c.NewCBC(unhex(t, tt.key))
			if err != nil {
				t.Fatal(err)
			}
			plain, want := unhex(t, tt.plain), unhex(t, tt.cipher)
			// A block-aligned chain gets one whole padding block; the first block is the vector.
			ct, next, err := b.Encrypt(unhex(t, tt.iv), plain, PadZero)
			if err != nil {
				t.Fatal(err)
			}
			if len(ct) != len(plain)+b.BlockSize() || !bytes.Equal(ct[:len(want)], want) {
				t.Errorf("ciphertext %x, want %x + one padding block", ct, want)
			}
			if !bytes.Equal(next, ct[len(ct)-b.BlockSize():]) {
				t.Errorf("next IV %x is not the last block", next)
			}
			pt, next2, err := b.Decrypt(unhex(t, tt.iv), want)
			if err != nil || !bytes.Equal(pt, plain) || !bytes.Equal(next2, want[len(want)-b.BlockSize():]) {
				t.Errorf("Decrypt = %x, %x, %v", pt, next2, err)
			}
		})
	}
}

// RFC 2409 Appendix B expansion and multi-block KEYMAT for every hash, against
// testdata/appendix-b.txt (computed by testdata/appendix-b.py, a separate implementation).
func TestAppendixBVectors(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "appendix-b.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var expands, keymats, pkes int
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		fs := strings.Fields(line)
		h, err := ParseHash(fs[1])
		if err != nil {
			t.Fatal(err)
		}
		switch fs[0] {
		case "expand":
			n, _ := strconv.Atoi(fs[3])
			if got, want := ExpandKey(h, unhex(t, fs[2]), n), unhex(t, fs[4]); !bytes.Equal(got, want) {
				t.Errorf("%s expand to %d: got %x, want %x", h, n, got, want)
			}
			expands++
		case "keymat":
			var gqm []byte
			if fs[3] != "-" {
				gqm = unhex(t, fs[3])
			}
			n, _ := strconv.Atoi(fs[7])
			p := &Phase1{Hash: h, SKEYIDd: unhex(t, fs[2])}
			got, err := p.Keymat(n, gqm, ProtoESP, unhex(t, fs[4]), unhex(t, fs[5]), unhex(t, fs[6]))
			if err != nil {
				t.Fatal(err)
			}
			if want := unhex(t, fs[8]); !bytes.Equal(got, want) {
				t.Errorf("%s keymat (pfs=%v) %d octets: got %x, want %x", h, gqm != nil, n, got, want)
			}
			keymats++
		case "skeyid-pke":
			got := SKEYIDPublicKey(h, unhex(t, fs[2]), unhex(t, fs[3]), cookie(t, fs[4]), cookie(t, fs[5]))
			if want := unhex(t, fs[6]); !bytes.Equal(got, want) {
				t.Errorf("%s SKEYID (public key encryption): got %x, want %x", h, got, want)
			}
			pkes++
		default:
			t.Fatalf("unknown line %q", line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if expands != 15 || keymats != 10 || pkes != 5 {
		t.Errorf("read %d expand, %d keymat, %d skeyid-pke vectors, want 15, 10, 5", expands, keymats, pkes)
	}
}
