//go:build unix

package ikecrypto

import (
	"bytes"
	"syscall"
	"testing"
	"time"
)

// cpuTime returns the CPU time (user + system) the process has used so far. Benchmarks report
// it per operation as "cpu-ns/op": on a shared machine wall time per op is inflated by other
// load, while the budget is stated in CPU time.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkDH measures one side's Diffie-Hellman work per group: key generation (g^x) and the
// shared secret (peer^x, including validation of the peer's value).
func BenchmarkDH(b *testing.B) {
	for _, g := range Groups {
		peer, err := g.GenerateKey(nil)
		if err != nil {
			b.Fatal(err)
		}
		peerPub := peer.PublicKey()
		b.Run(g.String()+"/keygen", func(b *testing.B) {
			g.GenerateKey(nil) // builds the fixed-base table outside the measurement
			start := cpuTime(b)
			defer reportCPU(b, start)
			for b.Loop() {
				if _, err := g.GenerateKey(nil); err != nil {
					b.Fatal(err)
				}
			}
		})
		k, err := g.GenerateKey(nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(g.String()+"/shared", func(b *testing.B) {
			start := cpuTime(b)
			defer reportCPU(b, start)
			for b.Loop() {
				if _, err := k.SharedSecret(peerPub); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkResponderMMQM is all the cryptography a responder does for one Main Mode + Quick
// Mode (PSK, AES-256, SHA2-256, group 14, ESP AES-256 + HMAC-SHA1), with and without PFS: the
// DH operations, the key schedule, HASH_I/HASH_R, decrypting MM5, QM1, QM3 and encrypting MM6
// and QM2, HASH(1..3) and KEYMAT for both SAs. The budget is 2.5 ms of CPU.
func BenchmarkResponderMMQM(b *testing.B) {
	for _, pfs := range []bool{false, true} {
		name := "group14/nopfs"
		if pfs {
			name = "group14/pfs"
		}
		b.Run(name, func(b *testing.B) { benchResponder(b, Group14, pfs) })
	}
	b.Run("group19/pfs", func(b *testing.B) { benchResponder(b, Group19, true) })
	b.Run("derivation-only", func(b *testing.B) { benchResponder(b, 0, false) })
}

func benchResponder(b *testing.B, g Group, pfs bool) {
	var (
		ckyI, ckyR = Cookie{1, 2, 3, 4, 5, 6, 7, 8}, Cookie{8, 7, 6, 5, 4, 3, 2, 1}
		psk        = []byte("interop-lab-psk-0123456789")
		ni, nr     = bytes.Repeat([]byte{0x11}, 32), bytes.Repeat([]byte{0x22}, 32)
		sai        = bytes.Repeat([]byte{0x33}, 52)
		idii, idir = []byte{1, 0, 0, 0, 192, 0, 2, 1}, []byte{1, 0, 0, 0, 192, 0, 2, 2}
		qmRest     = bytes.Repeat([]byte{0x44}, 400) // SA | Nonce | KE | IDci | IDcr
		spiI, spiR = []byte{0x9d, 0xe3, 0xf3, 0x1a}, []byte{0xe8, 0x01, 0x55, 0x29}
		esp        = ESPTransform{ESPAES, 256, AuthHMACSHA1}
		mid        = uint32(0xc8d9cfa4)
	)
	dhGroup := g
	if dhGroup == 0 {
		dhGroup = Group14
	}
	initiator, err := dhGroup.GenerateKey(nil)
	if err != nil {
		b.Fatal(err)
	}
	gxi := initiator.PublicKey()
	qmInitiator, err := dhGroup.GenerateKey(nil)
	if err != nil {
		b.Fatal(err)
	}
	fixed, err := dhGroup.GenerateKey(nil) // stands in for the responder's key in derivation-only
	if err != nil {
		b.Fatal(err)
	}
	fixedGxy, err := fixed.SharedSecret(gxi)
	if err != nil {
		b.Fatal(err)
	}
	// Wire messages the responder receives, encrypted once with the real keys.
	p0, err := NewPhase1(HashSHA256, CipherAES256, SKEYIDPreShared(HashSHA256, psk, ni, nr), fixedGxy, ckyI, ckyR)
	if err != nil {
		b.Fatal(err)
	}
	mm5, _, _ := p0.Encrypt(make([]byte, 16), bytes.Repeat([]byte{0x55}, 76), PadZero)
	qm1, _, _ := p0.Encrypt(make([]byte, 16), bytes.Repeat([]byte{0x66}, 436), PadZero)
	qm3, _, _ := p0.Encrypt(make([]byte, 16), bytes.Repeat([]byte{0x77}, 36), PadZero)

	start := cpuTime(b)
	defer reportCPU(b, start)
	for b.Loop() {
		var gxr, gxy []byte
		if g == 0 {
			gxr, gxy = fixed.PublicKey(), fixedGxy
		} else {
			r, err := g.GenerateKey(nil)
			if err != nil {
				b.Fatal(err)
			}
			gxr = r.PublicKey()
			if gxy, err = r.SharedSecret(gxi); err != nil {
				b.Fatal(err)
			}
		}
		p, err := NewPhase1(HashSHA256, CipherAES256, SKEYIDPreShared(HashSHA256, psk, ni, nr), gxy, ckyI, ckyR)
		if err != nil {
			b.Fatal(err)
		}
		iv := p.Phase1IV(gxi, gxr)
		_, iv, _ = p.Decrypt(iv, mm5)
		_ = p.HashI(gxi, gxr, ckyI, ckyR, sai, idii)
		hr := p.HashR(gxi, gxr, ckyI, ckyR, sai, idir)
		_, last, _ := p.Encrypt(iv, append(append([]byte(nil), idir...), hr...), PadZero)

		iv = p.Phase2IV(last, mid)
		_, iv, _ = p.Decrypt(iv, qm1)
		_ = p.Hash1(mid, qmRest)
		var gqm []byte
		if pfs {
			q, err := dhGroup.GenerateKey(nil)
			if err != nil {
				b.Fatal(err)
			}
			if gqm, err = q.SharedSecret(qmInitiator.PublicKey()); err != nil {
				b.Fatal(err)
			}
		}
		_ = p.Hash2(mid, ni, qmRest)
		_, iv, _ = p.Encrypt(iv, bytes.Repeat([]byte{0x88}, 436), PadZero)
		_, _, _ = p.Decrypt(iv, qm3)
		_ = p.Hash3(mid, ni, nr)
		if _, err := p.ESPKeymat(esp, gqm, spiR, ni, nr); err != nil {
			b.Fatal(err)
		}
		if _, err := p.ESPKeymat(esp, gqm, spiI, ni, nr); err != nil {
			b.Fatal(err)
		}
	}
}
