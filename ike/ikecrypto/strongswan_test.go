package ikecrypto

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// The strongSwan 5.9.8 Main Mode (PSK, AES-CBC-256, SHA2-256, group 14) + Quick Mode (ESP
// AES-256 + HMAC-SHA1, with and without PFS) exchanges of testdata/vector-*.json, copied from
// vectors/strongswan-mm-qm. Every stored value must be recomputed here and be equal.

type swVector struct {
	Secrets struct {
		PSK     struct{ Hex string } `json:"psk"`
		XI      string               `json:"x_i"`
		XR      string               `json:"x_r"`
		QMXI    string               `json:"qm_x_i"`
		QMXR    string               `json:"qm_x_r"`
		LogGxy  string               `json:"logged_g_xy"`
		LogQGxy string               `json:"logged_qm_g_xy"`
	} `json:"secrets"`
	Messages []swMessage `json:"messages"`
	ESP      []struct {
		Frame      int    `json:"frame"`
		SA         string `json:"sa"`
		UDPPayload string `json:"udp_payload"`
		Plaintext  string `json:"plaintext"`
	} `json:"esp_packets"`
	Values map[string]struct{ Hex string } `json:"values"`
}

type swMessage struct {
	Name   string `json:"name"`
	Src    string `json:"src"`
	Dst    string `json:"dst"`
	ISAKMP string `json:"isakmp_message"`
	Header struct {
		NextPayload int    `json:"next_payload"`
		MessageID   uint32 `json:"message_id"`
	} `json:"header"`
	Encrypted  bool   `json:"encrypted"`
	IV         string `json:"iv"`
	Ciphertext string `json:"ciphertext"`
	Plaintext  string `json:"plaintext"`
	ChainLen   int    `json:"payload_chain_length"`
}

// payload is one generic payload (RFC 2408 §3.2) of a chain.
type payload struct {
	typ       int
	raw, body []byte
}

// walkChain splits a payload chain; it stops at next payload 0, so padding is left out.
func walkChain(t *testing.T, first int, b []byte) (pls []payload, end int) {
	t.Helper()
	for typ := first; typ != 0; {
		if len(b)-end < 4 {
			t.Fatalf("truncated chain at %d", end)
		}
		n := int(binary.BigEndian.Uint16(b[end+2:]))
		if n < 4 || end+n > len(b) {
			t.Fatalf("bad payload length %d at %d", n, end)
		}
		pls = append(pls, payload{typ, b[end : end+n], b[end+4 : end+n]})
		typ = int(b[end])
		end += n
	}
	return pls, end
}

func findPayload(t *testing.T, pls []payload, typ, idx int) []byte {
	t.Helper()
	for _, p := range pls {
		if p.typ == typ {
			if idx == 0 {
				return p.body
			}
			idx--
		}
	}
	t.Fatalf("payload type %d missing", typ)
	return nil
}

const (
	plSA, plKE, plID, plHash, plNonce, plNATD = 1, 4, 5, 8, 10, 20
)

func TestStrongSwanVectors(t *testing.T) {
	for _, name := range []string{"vector-pfs.json", "vector-nopfs.json"} {
		t.Run(name, func(t *testing.T) { checkStrongSwanVector(t, name) })
	}
}

func checkStrongSwanVector(t *testing.T, file string) {
	raw, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var v swVector
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	checked := map[string]bool{}
	val := func(name string) []byte {
		t.Helper()
		s, ok := v.Values[name]
		if !ok {
			t.Fatalf("value %s missing", name)
		}
		return unhex(t, s.Hex)
	}
	check := func(name string, got []byte) {
		t.Helper()
		checked[name] = true
		if want := val(name); !bytes.Equal(got, want) {
			t.Errorf("%s\n got %x\nwant %x", name, got, want)
		}
	}
	msgs := map[string]swMessage{}
	for _, m := range v.Messages {
		msgs[m.Name] = m
	}
	clear := func(name string) (isakmp []byte, pls []payload) {
		m := msgs[name]
		isakmp = unhex(t, m.ISAKMP)
		pls, _ = walkChain(t, m.Header.NextPayload, isakmp[28:])
		return isakmp, pls
	}

	// Main Mode 1-4 in clear: cookies, SA, KE, nonces, NAT-D.
	mm1, mm1pls := clear("MM1")
	mm2, _ := clear("MM2")
	_, mm3pls := clear("MM3")
	_, mm4pls := clear("MM4")
	ckyI, ckyR := Cookie(mm1[:8]), Cookie(mm2[8:16])
	check("CKY_I", ckyI[:])
	check("CKY_R", ckyR[:])
	saiB := findPayload(t, mm1pls, plSA, 0)
	check("SAi_b", saiB)
	gxi, gxr := findPayload(t, mm3pls, plKE, 0), findPayload(t, mm4pls, plKE, 0)
	niB, nrB := findPayload(t, mm3pls, plNonce, 0), findPayload(t, mm4pls, plNonce, 0)
	check("g_xi", gxi)
	check("g_xr", gxr)
	check("Ni_b", niB)
	check("Nr_b", nrB)
	for _, c := range []struct {
		msg string
		pls []payload
	}{{"MM3", mm3pls}, {"MM4", mm4pls}} {
		// First NAT-D: hash of the packet's destination; the second one is faked by strongSwan
		// (README "NAT-T"), so it must differ from the sender's real hash.
		dst := netip.MustParseAddrPort(msgs[c.msg].Dst)
		src := netip.MustParseAddrPort(msgs[c.msg].Src)
		nd1, nd2 := findPayload(t, c.pls, plNATD, 0), findPayload(t, c.pls, plNATD, 1)
		check("NATD_"+c.msg+"_1", NATD(HashSHA256, ckyI, ckyR, dst.Addr(), dst.Port()))
		check("NATD_"+c.msg+"_2", nd2)
		if !bytes.Equal(nd1, val("NATD_"+c.msg+"_1")) || bytes.Equal(nd2, NATD(HashSHA256, ckyI, ckyR, src.Addr(), src.Port())) {
			t.Errorf("%s NAT-D payloads inconsistent with the stored values", c.msg)
		}
	}

	// Diffie-Hellman group 14 from the recorded private exponents.
	ki, err := Group14.NewPrivateKey(unhex(t, v.Secrets.XI))
	if err != nil {
		t.Fatal(err)
	}
	kr, err := Group14.NewPrivateKey(unhex(t, v.Secrets.XR))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ki.PublicKey(), gxi) || !bytes.Equal(kr.PublicKey(), gxr) {
		t.Fatal("g^x from the recorded exponents differs from the KE payloads")
	}
	gxy, err := ki.SharedSecret(gxr)
	if err != nil {
		t.Fatal(err)
	}
	gxy2, err := kr.SharedSecret(gxi)
	if err != nil || !bytes.Equal(gxy, gxy2) || !bytes.Equal(gxy, unhex(t, v.Secrets.LogGxy)) {
		t.Fatalf("g^xy mismatch between sides or with strongSwan's log (%v)", err)
	}
	check("g_xy", gxy)

	// Phase 1 keys.
	skeyid := SKEYIDPreShared(HashSHA256, unhex(t, v.Secrets.PSK.Hex), niB, nrB)
	p1, err := NewPhase1(HashSHA256, CipherAES256, skeyid, gxy, ckyI, ckyR)
	if err != nil {
		t.Fatal(err)
	}
	check("SKEYID", p1.SKEYID)
	check("SKEYID_d", p1.SKEYIDd)
	check("SKEYID_a", p1.SKEYIDa)
	check("SKEYID_e", p1.SKEYIDe)
	check("Ka", p1.EncKey)

	// decrypt checks one encrypted message: IV, ciphertext, plaintext, and that re-encrypting
	// the payload chain with PadZero reproduces strongSwan's ciphertext. It returns the
	// payloads, the plaintext chain and the next IV.
	decrypt := func(name string, iv []byte) ([]payload, []byte, []byte) {
		t.Helper()
		m := msgs[name]
		if !m.Encrypted || !bytes.Equal(iv, unhex(t, m.IV)) {
			t.Fatalf("%s: IV %x, stored %s", name, iv, m.IV)
		}
		body := unhex(t, m.ISAKMP)[28:]
		if !bytes.Equal(body, unhex(t, m.Ciphertext)) {
			t.Fatalf("%s: ciphertext is not the message body", name)
		}
		pt, next, err := p1.Decrypt(iv, body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(pt, unhex(t, m.Plaintext)) {
			t.Fatalf("%s: plaintext\n got %x\nwant %s", name, pt, m.Plaintext)
		}
		pls, end := walkChain(t, m.Header.NextPayload, pt)
		if end != m.ChainLen {
			t.Fatalf("%s: chain %d octets, stored %d", name, end, m.ChainLen)
		}
		ct, next2, err := p1.Encrypt(iv, pt[:end], PadZero)
		if err != nil || !bytes.Equal(ct, body) || !bytes.Equal(next, next2) {
			t.Errorf("%s: re-encryption differs from the wire (%v)", name, err)
		}
		return pls, pt[:end], next
	}

	// MM5/MM6: IV chaining and HASH_I/HASH_R.
	iv := p1.Phase1IV(gxi, gxr)
	check("IV_MM5", iv)
	mm5, _, iv := decrypt("MM5", iv)
	check("IV_MM6", iv)
	mm6, _, last := decrypt("MM6", iv)
	check("phase1_last_block", last)
	idiiB, idirB := findPayload(t, mm5, plID, 0), findPayload(t, mm6, plID, 0)
	check("IDii_b", idiiB)
	check("IDir_b", idirB)
	check("HASH_I_data", bytes.Join([][]byte{gxi, gxr, ckyI[:], ckyR[:], saiB, idiiB}, nil))
	check("HASH_R_data", bytes.Join([][]byte{gxr, gxi, ckyR[:], ckyI[:], saiB, idirB}, nil))
	hashI := p1.HashI(gxi, gxr, ckyI, ckyR, saiB, idiiB)
	hashR := p1.HashR(gxi, gxr, ckyI, ckyR, saiB, idirB)
	check("HASH_I", hashI)
	check("HASH_R", hashR)
	if !bytes.Equal(hashI, findPayload(t, mm5, plHash, 0)) || !bytes.Equal(hashR, findPayload(t, mm6, plHash, 0)) {
		t.Error("HASH_I/HASH_R differ from the HASH payloads on the wire")
	}

	// Quick Mode.
	mid := msgs["QM1"].Header.MessageID
	check("QM_MID", be32(mid))
	iv = p1.Phase2IV(last, mid)
	check("IV_QM1", iv)
	qm1, qm1chain, iv := decrypt("QM1", iv)
	check("IV_QM2", iv)
	qm2, qm2chain, iv := decrypt("QM2", iv)
	check("IV_QM3", iv)
	qm3, _, _ := decrypt("QM3", iv)
	qNi, qNr := findPayload(t, qm1, plNonce, 0), findPayload(t, qm2, plNonce, 0)
	check("qm_Ni_b", qNi)
	check("qm_Nr_b", qNr)
	check("IDci_b", findPayload(t, qm1, plID, 0))
	check("IDcr_b", findPayload(t, qm1, plID, 1))
	spiI, spiR := findPayload(t, qm1, plSA, 0)[16:20], findPayload(t, qm2, plSA, 0)[16:20] // after DOI, situation, 8-octet proposal header
	check("SPI_i", spiI)
	check("SPI_r", spiR)
	h1 := p1.Hash1(mid, qm1chain[len(qm1[0].raw):])
	h2 := p1.Hash2(mid, qNi, qm2chain[len(qm2[0].raw):])
	h3 := p1.Hash3(mid, qNi, qNr)
	check("HASH1", h1)
	check("HASH2", h2)
	check("HASH3", h3)
	if qm1[0].typ != plHash || !bytes.Equal(h1, qm1[0].body) || !bytes.Equal(h2, qm2[0].body) || !bytes.Equal(h3, qm3[0].body) {
		t.Error("HASH(1..3) differ from the HASH payloads on the wire")
	}

	var gqm []byte
	if v.Secrets.QMXI != "" {
		qi, err := Group14.NewPrivateKey(unhex(t, v.Secrets.QMXI))
		if err != nil {
			t.Fatal(err)
		}
		qr, err := Group14.NewPrivateKey(unhex(t, v.Secrets.QMXR))
		if err != nil {
			t.Fatal(err)
		}
		check("qm_g_xi", qi.PublicKey())
		check("qm_g_xr", qr.PublicKey())
		if !bytes.Equal(qi.PublicKey(), findPayload(t, qm1, plKE, 0)) || !bytes.Equal(qr.PublicKey(), findPayload(t, qm2, plKE, 0)) {
			t.Error("QM KE payloads differ from the recorded exponents")
		}
		gqm, err = qi.SharedSecret(qr.PublicKey())
		if err != nil {
			t.Fatal(err)
		}
		if z, err := qr.SharedSecret(qi.PublicKey()); err != nil || !bytes.Equal(z, gqm) || !bytes.Equal(z, unhex(t, v.Secrets.LogQGxy)) {
			t.Errorf("g(qm)^xy mismatch (%v)", err)
		}
		check("qm_g_xy", gqm)
	}

	// KEYMAT per direction: the SPI is the one the receiving side chose.
	esp := ESPTransform{Encr: ESPAES, KeyBits: 256, Auth: AuthHMACSHA1}
	keys := map[string]ESPKeys{}
	for _, d := range []struct {
		tag string
		spi []byte
	}{{"I2R", spiR}, {"R2I", spiI}} {
		check("KEYMAT_seed_"+d.tag, keymatSeed(gqm, ProtoESP, d.spi, qNi, qNr))
		k12, err := p1.Keymat(64, gqm, ProtoESP, d.spi, qNi, qNr)
		if err != nil {
			t.Fatal(err)
		}
		check("KEYMAT_"+d.tag+"_K1", k12[:32])
		check("KEYMAT_"+d.tag+"_K2", k12[32:])
		km, err := p1.Keymat(esp.KeymatLen(), gqm, ProtoESP, d.spi, qNi, qNr)
		if err != nil {
			t.Fatal(err)
		}
		check("KEYMAT_"+d.tag, km)
		k, err := p1.ESPKeymat(esp, gqm, d.spi, qNi, qNr)
		if err != nil {
			t.Fatal(err)
		}
		check("ESP_encr_"+d.tag, k.Enc)
		check("ESP_integ_"+d.tag, k.Auth)
		keys[d.tag] = k
	}

	// The ESP packets verify and decrypt with those keys (RFC 4303, RFC 2404 ICV).
	if len(v.ESP) != 2 {
		t.Fatalf("%d ESP packets, want 2", len(v.ESP))
	}
	for _, e := range v.ESP {
		pkt := unhex(t, e.UDPPayload)
		k := keys[e.SA]
		icv := esp.ICVSize()
		if mac := esp.Auth.Hash().PRF(k.Auth, pkt[:len(pkt)-icv])[:icv]; !bytes.Equal(mac, pkt[len(pkt)-icv:]) {
			t.Errorf("frame %d: ICV does not verify with the %s integrity key", e.Frame, e.SA)
		}
		cbc, err := CipherAES256.NewCBC(k.Enc)
		if err != nil {
			t.Fatal(err)
		}
		pt, _, err := cbc.Decrypt(pkt[8:24], pkt[24:len(pkt)-icv])
		if err != nil || !bytes.Equal(pt, unhex(t, e.Plaintext)) {
			t.Errorf("frame %d: does not decrypt with the %s encryption key (%v)", e.Frame, e.SA, err)
		}
	}

	// Informational exchanges restart from the Phase 1 block, not from Quick Mode.
	for _, name := range []string{"INFO1", "INFO2"} {
		mid := msgs[name].Header.MessageID
		check(name+"_MID", be32(mid))
		iv := p1.Phase2IV(last, mid)
		check("IV_"+name, iv)
		pls, chain, _ := decrypt(name, iv)
		h := p1.InfoHash(mid, chain[len(pls[0].raw):])
		check("HASH_"+name, h)
		if !bytes.Equal(h, pls[0].body) {
			t.Errorf("%s: HASH differs from the wire", name)
		}
	}

	var missing []string
	for name := range v.Values {
		if !checked[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("stored values not recomputed: %v", missing)
	}
	if len(checked) != len(v.Values) {
		t.Errorf("checked %d of %d stored values", len(checked), len(v.Values))
	}
}
