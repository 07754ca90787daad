package sshd

import (
	"bytes"
	"crypto/ed25519"
	"encoding/pem"
	"fmt"

	"golang.org/x/crypto/ssh"
)

// HostSigners decodes host key material as kept in the store into SSH signers.
//
// Accepted forms: one or more PEM blocks (OpenSSH "OPENSSH PRIVATE KEY", PKCS#8, PKCS#1
// RSA, SEC 1 EC), in any mix, so that an ed25519 and an RSA key can be kept together; or a
// bare ed25519 key, either the 32-byte seed or the 64-byte private key of crypto/ed25519.
// Encrypted keys are rejected. At most one signer per key type is kept (the first).
func HostSigners(material []byte) ([]ssh.Signer, error) {
	switch len(material) {
	case ed25519.SeedSize:
		return bareEd25519(ed25519.NewKeyFromSeed(material))
	case ed25519.PrivateKeySize:
		if !bytes.Contains(material, []byte("-----BEGIN")) {
			return bareEd25519(ed25519.PrivateKey(bytes.Clone(material)))
		}
	}
	var signers []ssh.Signer
	seen := map[string]bool{}
	rest := material
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		s, err := ssh.ParsePrivateKey(pem.EncodeToMemory(block))
		if err != nil {
			return nil, fmt.Errorf("sshd: host key %q block: %w", block.Type, err)
		}
		if t := s.PublicKey().Type(); !seen[t] {
			seen[t] = true
			signers = append(signers, s)
		}
	}
	if len(signers) == 0 {
		return nil, ErrNoHostKey
	}
	return signers, nil
}

func bareEd25519(k ed25519.PrivateKey) ([]ssh.Signer, error) {
	// A 64-byte key carries its public half; check it matches the seed so that a
	// corrupted record fails here and not as a handshake clients reject.
	if !bytes.Equal(ed25519.NewKeyFromSeed(k.Seed()), k) {
		return nil, fmt.Errorf("sshd: ed25519 host key: public half does not match seed: %w", ErrNoHostKey)
	}
	s, err := ssh.NewSignerFromKey(k)
	if err != nil {
		return nil, fmt.Errorf("sshd: ed25519 host key: %w", err)
	}
	return []ssh.Signer{s}, nil
}
