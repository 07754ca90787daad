package ikecrypto

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzPeerPublicValue feeds arbitrary KE data to every group: it must never panic, and
// anything accepted yields a secret of the fixed length that both sides agree on.
func FuzzPeerPublicValue(f *testing.F) {
	for _, g := range Groups {
		k, err := g.GenerateKey(nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(g), k.PublicKey())
		f.Add(uint8(g), make([]byte, g.PublicSize()))
	}
	keys := map[Group]*PrivateKey{}
	for _, g := range Groups {
		n := g.SharedSize() // an ECP scalar has the coordinate's length
		if !g.IsECP() {
			n = 16 // a short MODP exponent
		}
		k, err := g.NewPrivateKey(bytes.Repeat([]byte{0x01}, n))
		if err != nil {
			f.Fatal(err)
		}
		keys[g] = k
	}
	f.Fuzz(func(t *testing.T, gid uint8, peer []byte) {
		g := Group(gid)
		k, ok := keys[g]
		if !ok {
			if err := g.ValidatePublic(peer); !errors.Is(err, ErrUnsupportedGroup) {
				t.Fatalf("group %d: %v", gid, err)
			}
			return
		}
		verr := g.ValidatePublic(peer)
		z, err := k.SharedSecret(peer)
		if (verr == nil) != (err == nil) {
			t.Fatalf("ValidatePublic %v but SharedSecret %v", verr, err)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidPublicKey) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if len(z) != g.SharedSize() {
			t.Fatalf("shared secret %d octets", len(z))
		}
	})
}

// FuzzDecrypt feeds arbitrary IVs and ciphertexts to every cipher: errors, never panics, and
// whatever decrypts re-encrypts to the same ciphertext.
func FuzzDecrypt(f *testing.F) {
	f.Add(uint8(CipherAES256), make([]byte, 16), make([]byte, 32))
	f.Add(uint8(Cipher3DES), make([]byte, 8), make([]byte, 9))
	f.Add(uint8(CipherDES), []byte{}, []byte{})
	cbcs := map[Cipher]*CBC{}
	for _, c := range Ciphers {
		key := make([]byte, c.KeySize())
		for i := range key {
			key[i] = byte(3*i + 1)
		}
		b, err := c.NewCBC(key)
		if err != nil {
			f.Fatal(err)
		}
		cbcs[c] = b
	}
	f.Fuzz(func(t *testing.T, cid uint8, iv, ct []byte) {
		b, ok := cbcs[Cipher(cid)]
		if !ok {
			return
		}
		pt, next, err := b.Decrypt(iv, ct)
		if err != nil {
			if !errors.Is(err, ErrIVSize) && !errors.Is(err, ErrCiphertextSize) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		// Re-encrypt all but the last block as payloads; the last block is then "padding".
		bs := b.BlockSize()
		ct2, next2, err := b.Encrypt(iv, pt[:len(pt)-bs], PadZero)
		if err != nil || !bytes.Equal(ct2[:len(ct)-bs], ct[:len(ct)-bs]) || len(next2) != bs || len(next) != bs {
			t.Fatalf("re-encryption differs (%v)", err)
		}
	})
}
