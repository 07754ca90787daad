package isakmp

import "testing"

// benchMessages returns the MM1 wire octets and the QM1 wire octets and plaintext of the PFS
// vector: a typical Main Mode opener (SA + 5 VIDs) and Quick Mode opener (HASH, SA, Nonce, KE,
// two IDs).
func benchMessages(b *testing.B) (mm1, qm1, qm1Plain []byte) {
	v := loadVector(b, "vector-pfs.json")
	return unhex(b, v.msg("MM1").ISAKMP), unhex(b, v.msg("QM1").ISAKMP), unhex(b, v.msg("QM1").Plaintext)
}

func BenchmarkParseMM1(b *testing.B) {
	mm1, _, _ := benchMessages(b)
	b.SetBytes(int64(len(mm1)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(mm1); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseQM1 parses the encrypted QM1 and decodes its recorded plaintext, as the engine
// does after decryption.
func BenchmarkParseQM1(b *testing.B) {
	_, qm1, plain := benchMessages(b)
	b.SetBytes(int64(len(qm1)))
	b.ReportAllocs()
	for b.Loop() {
		m, err := Parse(qm1)
		if err != nil {
			b.Fatal(err)
		}
		if err := m.Decrypted(plain); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendMarshalMM1(b *testing.B) {
	mm1, _, _ := benchMessages(b)
	m, err := Parse(mm1)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 2048)
	b.SetBytes(int64(len(mm1)))
	b.ReportAllocs()
	for b.Loop() {
		buf = m.AppendMarshal(buf[:0])
	}
}

// BenchmarkAppendMarshalQM1 encodes the QM1 payload chain (the plaintext before encryption).
func BenchmarkAppendMarshalQM1(b *testing.B) {
	_, qm1, plain := benchMessages(b)
	m, err := Parse(qm1)
	if err != nil {
		b.Fatal(err)
	}
	if err := m.Decrypted(plain); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 2048)
	b.SetBytes(int64(len(plain)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendPayloads(buf[:0], m.Payloads)
	}
}
