package ikecrypto

import (
	"bytes"
	"errors"
	"testing"
)

func TestCipherAttrs(t *testing.T) {
	for _, c := range Ciphers {
		alg, bits := c.Attrs()
		got, err := CipherFromAttrs(alg, bits)
		if err != nil || got != c {
			t.Errorf("%v: attrs (%d, %d) map back to %v, %v", c, alg, bits, got, err)
		}
		if c.KeySize() == 0 || c.BlockSize() == 0 {
			t.Errorf("%v: zero sizes", c)
		}
	}
	bad := []struct{ alg, bits uint16 }{{EncrAttrAES, 0}, {EncrAttrAES, 64}, {EncrAttrDES, 128}, {EncrAttr3DES, 128}, {2, 0}, {0, 0}}
	for _, b := range bad {
		if _, err := CipherFromAttrs(b.alg, b.bits); !errors.Is(err, ErrUnsupportedCipher) {
			t.Errorf("CipherFromAttrs(%d, %d) = %v", b.alg, b.bits, err)
		}
	}
	if got, err := CipherFromAttrs(EncrAttr3DES, 192); err != nil || got != Cipher3DES {
		t.Errorf("3DES with explicit 192-bit length: %v, %v", got, err)
	}
}

// Encrypt/Decrypt round trips for every cipher, padding style and length around block
// boundaries; padding is 1..blocksize octets as specified.
func TestCBCPadding(t *testing.T) {
	for _, c := range Ciphers {
		key := make([]byte, c.KeySize())
		for i := range key {
			key[i] = byte(i*37 + 11)
		}
		b, err := c.NewCBC(key)
		if err != nil {
			t.Fatalf("%v: %v", c, err)
		}
		bs := c.BlockSize()
		iv := bytes.Repeat([]byte{0xa5}, bs)
		for _, pad := range []Padding{PadZero, PadCount} {
			for n := 0; n <= 3*bs; n++ {
				plain := bytes.Repeat([]byte{0x5a}, n)
				ct, next, err := b.Encrypt(iv, plain, pad)
				if err != nil {
					t.Fatal(err)
				}
				padLen := bs - n%bs
				if len(ct) != n+padLen || !bytes.Equal(next, ct[len(ct)-bs:]) {
					t.Fatalf("%v pad %d len %d: ciphertext %d octets", c, pad, n, len(ct))
				}
				pt, next2, err := b.Decrypt(iv, ct)
				if err != nil || !bytes.Equal(next2, next) || !bytes.Equal(pt[:n], plain) {
					t.Fatalf("%v pad %d len %d: round trip failed (%v)", c, pad, n, err)
				}
				wantPad := make([]byte, padLen)
				if pad == PadCount {
					wantPad[padLen-1] = byte(padLen)
				}
				if !bytes.Equal(pt[n:], wantPad) {
					t.Fatalf("%v pad %d len %d: padding %x, want %x", c, pad, n, pt[n:], wantPad)
				}
			}
		}
	}
}

func TestCBCErrors(t *testing.T) {
	b, err := CipherAES128.NewCBC(make([]byte, 16))
	if err != nil {
		t.Fatal(err)
	}
	iv := make([]byte, 16)
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"encrypt-short-iv", third(b.Encrypt(iv[:8], []byte("x"), PadZero)), ErrIVSize},
		{"decrypt-short-iv", third(b.Decrypt(iv[:15], make([]byte, 16))), ErrIVSize},
		{"decrypt-empty", third(b.Decrypt(iv, nil)), ErrCiphertextSize},
		{"decrypt-partial-block", third(b.Decrypt(iv, make([]byte, 17))), ErrCiphertextSize},
		{"key-short", second(CipherAES256.NewCBC(make([]byte, 16))), ErrKeySize},
		{"key-long", second(CipherDES.NewCBC(make([]byte, 16))), ErrKeySize},
		{"unsupported", second(Cipher(9).NewCBC(make([]byte, 16))), ErrUnsupportedCipher},
		{"des-weak", second(CipherDES.NewCBC(unhex(t, "0101010101010101"))), ErrWeakKey},
		{"des-weak-parity", second(CipherDES.NewCBC(unhex(t, "0000000000000000"))), ErrWeakKey},
		{"des-semi-weak", second(CipherDES.NewCBC(unhex(t, "01fe01fe01fe01fe"))), ErrWeakKey},
		{"3des-k1-k2", second(Cipher3DES.NewCBC(unhex(t, "0123456789abcdef0123456789abcdeffedcba9876543210"))), ErrWeakKey},
		{"3des-k2-k3", second(Cipher3DES.NewCBC(unhex(t, "fedcba98765432100123456789abcdef0123456789abcdef"))), ErrWeakKey},
		{"3des-weak-part", second(Cipher3DES.NewCBC(unhex(t, "0123456789abcdefe0e0e0e0f1f1f1f1fedcba9876543210"))), ErrWeakKey},
		{"3des-ok", second(Cipher3DES.NewCBC(unhex(t, "0123456789abcdeffedcba987654321089abcdef01234567"))), nil},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.want) || (tt.want == nil) != (tt.err == nil) {
			t.Errorf("%s: err = %v, want %v", tt.name, tt.err, tt.want)
		}
	}
}

func second[A any](_ A, err error) error { return err }

func third[A, B any](_ A, _ B, err error) error { return err }
