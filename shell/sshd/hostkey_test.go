package sshd

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"testing"

	"golang.org/x/crypto/ssh"
)

func pemOf(t *testing.T, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func TestHostSigners(t *testing.T) {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i)
	}
	edKey := ed25519.NewKeyFromSeed(seed)
	openssh, err := ssh.MarshalPrivateKey(edKey, "")
	if err != nil {
		t.Fatal(err)
	}
	encrypted, err := ssh.MarshalPrivateKeyWithPassphrase(edKey, "", []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	corrupt := append([]byte(nil), edKey...)
	corrupt[40] ^= 1
	both := append(pem.EncodeToMemory(openssh), pemOf(t, rsaKey)...)
	twice := append(pem.EncodeToMemory(openssh), pem.EncodeToMemory(openssh)...)

	tests := []struct {
		name    string
		in      []byte
		types   []string
		wantErr bool
	}{
		{"ed25519 seed", seed, []string{ssh.KeyAlgoED25519}, false},
		{"ed25519 private key", edKey, []string{ssh.KeyAlgoED25519}, false},
		{"ed25519 corrupt public half", corrupt, nil, true},
		{"openssh pem", pem.EncodeToMemory(openssh), []string{ssh.KeyAlgoED25519}, false},
		{"pkcs8 rsa", pemOf(t, rsaKey), []string{ssh.KeyAlgoRSA}, false},
		{"pkcs8 ecdsa", pemOf(t, ecKey), []string{ssh.KeyAlgoECDSA256}, false},
		{"ed25519 and rsa", both, []string{ssh.KeyAlgoED25519, ssh.KeyAlgoRSA}, false},
		{"same type twice keeps one", twice, []string{ssh.KeyAlgoED25519}, false},
		{"encrypted", pem.EncodeToMemory(encrypted), nil, true},
		{"empty", nil, nil, true},
		{"garbage", []byte("not a key at all"), nil, true},
		{"bad pem body", []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := HostSigners(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("HostSigners = %d signers, want error", len(got))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var types []string
			for _, s := range got {
				types = append(types, s.PublicKey().Type())
			}
			if len(types) != len(tt.types) {
				t.Fatalf("types %v, want %v", types, tt.types)
			}
			for i := range types {
				if types[i] != tt.types[i] {
					t.Fatalf("types %v, want %v", types, tt.types)
				}
			}
		})
	}
	if _, err := HostSigners([]byte("x")); !errors.Is(err, ErrNoHostKey) {
		t.Errorf("garbage: err = %v, want ErrNoHostKey", err)
	}
}
