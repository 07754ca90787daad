package ikecrypto

import (
	"bytes"
	"errors"
	"testing"
)

func TestESPTransforms(t *testing.T) {
	tests := []struct {
		name            string
		tr              ESPTransform
		enc, auth, icvN int
	}{
		{"esp-aes esp-sha-hmac", ESPTransform{ESPAES, 128, AuthHMACSHA1}, 16, 20, 12},
		{"esp-aes 192 esp-sha384-hmac", ESPTransform{ESPAES, 192, AuthHMACSHA384}, 24, 48, 24},
		{"esp-aes 256 esp-sha256-hmac", ESPTransform{ESPAES, 256, AuthHMACSHA256}, 32, 32, 16},
		{"esp-aes 256 esp-sha512-hmac", ESPTransform{ESPAES, 256, AuthHMACSHA512}, 32, 64, 32},
		{"esp-aes 256", ESPTransform{ESPAES, 256, AuthNone}, 32, 0, 0},
		{"esp-gcm 128", ESPTransform{ESPAESGCM16, 128, AuthNone}, 20, 0, 16},
		{"esp-gcm 192", ESPTransform{ESPAESGCM16, 192, AuthNone}, 28, 0, 16},
		{"esp-gcm 256", ESPTransform{ESPAESGCM16, 256, AuthNone}, 36, 0, 16},
		{"esp-3des esp-md5-hmac", ESPTransform{ESP3DES, 0, AuthHMACMD5}, 24, 16, 12},
		{"esp-des esp-sha-hmac", ESPTransform{ESPDES, 0, AuthHMACSHA1}, 8, 20, 12},
		{"esp-null esp-sha-hmac", ESPTransform{ESPNull, 0, AuthHMACSHA1}, 0, 20, 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := tt.tr
			if err := tr.Validate(); err != nil {
				t.Fatal(err)
			}
			if tr.EncKeySize() != tt.enc || tr.AuthKeySize() != tt.auth || tr.KeymatLen() != tt.enc+tt.auth || tr.ICVSize() != tt.icvN {
				t.Fatalf("sizes enc %d auth %d icv %d, want %d %d %d", tr.EncKeySize(), tr.AuthKeySize(), tr.ICVSize(), tt.enc, tt.auth, tt.icvN)
			}
			km := make([]byte, tr.KeymatLen())
			for i := range km {
				km[i] = byte(i)
			}
			k, err := tr.Split(km)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(k.Enc, km[:tt.enc]) || !bytes.Equal(k.Auth, km[tt.enc:]) {
				t.Errorf("split %x | %x", k.Enc, k.Auth)
			}
			if _, err := tr.Split(append(km, 0)); !errors.Is(err, ErrKeymatLength) {
				t.Errorf("long KEYMAT accepted: %v", err)
			}
			// The IOS names map back.
			if e, err := ParseESPEncr(tr.Encr.String()); err != nil || e != tr.Encr {
				t.Errorf("ParseESPEncr(%q) = %v, %v", tr.Encr, e, err)
			}
			if tr.Auth != AuthNone {
				if a, err := ParseESPAuth(tr.Auth.String()); err != nil || a != tr.Auth {
					t.Errorf("ParseESPAuth(%q) = %v, %v", tr.Auth, a, err)
				}
			}
		})
	}
}

func TestESPTransformInvalid(t *testing.T) {
	bad := []ESPTransform{
		{ESPAESGCM16, 256, AuthHMACSHA1}, // integrity with a combined-mode cipher
		{ESPNull, 0, AuthNone},           // neither confidentiality nor integrity
		{ESPAES, 0, AuthHMACSHA1},        // AES needs a key length
		{ESPAES, 512, AuthHMACSHA1},
		{ESPDES, 128, AuthHMACSHA1}, // fixed-length cipher with a key length
		{ESPEncr(99), 0, AuthHMACSHA1},
		{ESPAES, 128, ESPAuth(3)}, // DES-MAC
	}
	p := &Phase1{Hash: HashSHA1, SKEYIDd: make([]byte, 20)}
	for _, tr := range bad {
		if err := tr.Validate(); !errors.Is(err, ErrInvalidTransform) {
			t.Errorf("%+v: Validate = %v", tr, err)
		}
		if _, err := tr.Split(nil); !errors.Is(err, ErrInvalidTransform) {
			t.Errorf("%+v: Split = %v", tr, err)
		}
		if _, err := p.ESPKeymat(tr, nil, []byte{1, 2, 3, 4}, nil, nil); !errors.Is(err, ErrInvalidTransform) {
			t.Errorf("%+v: ESPKeymat = %v", tr, err)
		}
	}
	for _, name := range []string{"esp-aes-256", "ah-sha-hmac", ""} {
		if _, err := ParseESPEncr(name); err == nil {
			t.Errorf("ParseESPEncr(%q) succeeded", name)
		}
		if _, err := ParseESPAuth(name); err == nil {
			t.Errorf("ParseESPAuth(%q) succeeded", name)
		}
	}
}

func TestKeymatErrors(t *testing.T) {
	p := &Phase1{Hash: HashSHA256, SKEYIDd: make([]byte, 32)}
	for _, spi := range [][]byte{nil, {1, 2, 3}, {1, 2, 3, 4, 5}} {
		if _, err := p.Keymat(32, nil, ProtoESP, spi, nil, nil); !errors.Is(err, ErrSPISize) {
			t.Errorf("SPI %x: %v", spi, err)
		}
	}
	if _, err := p.Keymat(-1, nil, ProtoESP, []byte{1, 2, 3, 4}, nil, nil); !errors.Is(err, ErrKeymatLength) {
		t.Errorf("negative length: %v", err)
	}
	// A prefix of a longer KEYMAT is the shorter KEYMAT, and the protocol octet matters.
	long, _ := p.Keymat(100, nil, ProtoESP, []byte{1, 2, 3, 4}, []byte("ni"), []byte("nr"))
	short, _ := p.Keymat(40, nil, ProtoESP, []byte{1, 2, 3, 4}, []byte("ni"), []byte("nr"))
	ah, _ := p.Keymat(40, nil, ProtoAH, []byte{1, 2, 3, 4}, []byte("ni"), []byte("nr"))
	if !bytes.Equal(long[:40], short) || bytes.Equal(short, ah) {
		t.Error("KEYMAT prefix/protocol property violated")
	}
}

func TestNewPhase1Errors(t *testing.T) {
	var c Cookie
	if _, err := NewPhase1(Hash(3), CipherAES128, []byte("k"), []byte("g"), c, c); !errors.Is(err, ErrUnsupportedHash) {
		t.Errorf("hash 3: %v", err)
	}
	if _, err := NewPhase1(HashSHA1, Cipher(0), []byte("k"), []byte("g"), c, c); !errors.Is(err, ErrUnsupportedCipher) {
		t.Errorf("cipher 0: %v", err)
	}
	// MD5 gives a 16-octet SKEYID_e: AES-256 needs the Appendix B expansion.
	p, err := NewPhase1(HashMD5, CipherAES256, []byte("k"), []byte("g"), c, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.EncKey) != 32 || !bytes.Equal(p.EncKey, ExpandKey(HashMD5, p.SKEYIDe, 32)) || bytes.Equal(p.EncKey[:16], p.SKEYIDe) {
		t.Errorf("EncKey %x not expanded from SKEYID_e %x", p.EncKey, p.SKEYIDe)
	}
	if got := p.Phase1IV([]byte("a"), []byte("b")); len(got) != 16 {
		t.Errorf("IV length %d", len(got))
	}
	var bare Phase1
	if _, _, err := bare.Encrypt(make([]byte, 16), nil, PadZero); !errors.Is(err, ErrNotKeyed) {
		t.Errorf("Encrypt on a bare Phase1: %v", err)
	}
	if _, _, err := bare.Decrypt(make([]byte, 16), make([]byte, 16)); !errors.Is(err, ErrNotKeyed) {
		t.Errorf("Decrypt on a bare Phase1: %v", err)
	}
}
