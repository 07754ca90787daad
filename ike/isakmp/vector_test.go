package isakmp

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

// The vectors are copies of ../shared/vectors/strongswan-mm-qm/vector-*.json: two live
// strongSwan 5.9.8 exchanges (Main Mode + Quick Mode with NAT-T, with and without PFS), every
// packet's wire octets and, for the encrypted ones, the plaintext.

type vecMessage struct {
	Name          string `json:"name"`
	ISAKMP        string `json:"isakmp_message"`
	UDPPayload    string `json:"udp_payload"`
	NonESPMarker  bool   `json:"non_esp_marker"`
	Encrypted     bool   `json:"encrypted"`
	Ciphertext    string `json:"ciphertext"`
	Plaintext     string `json:"plaintext"`
	ChainLength   int    `json:"payload_chain_length"`
	Padding       string `json:"padding"`
	PayloadsField []struct {
		Type   int    `json:"type"`
		Offset int    `json:"offset"`
		Length int    `json:"length"`
		Body   string `json:"body"`
	} `json:"payloads"`
}

type vector struct {
	Messages []vecMessage                    `json:"messages"`
	Values   map[string]struct{ Hex string } `json:"values"`
}

func loadVector(t testing.TB, name string) *vector {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "vectors", name))
	if err != nil {
		t.Fatal(err)
	}
	var v vector
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Messages) != 11 {
		t.Fatalf("%s: %d messages, want 11", name, len(v.Messages))
	}
	return &v
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (v *vector) val(t testing.TB, k string) []byte {
	t.Helper()
	x, ok := v.Values[k]
	if !ok {
		t.Fatalf("vector has no value %q", k)
	}
	return unhex(t, x.Hex)
}

func (v *vector) msg(name string) *vecMessage {
	for i := range v.Messages {
		if v.Messages[i].Name == name {
			return &v.Messages[i]
		}
	}
	return nil
}

// parseVector parses a vector message and, when it is encrypted, its recorded plaintext.
func parseVector(t testing.TB, vm *vecMessage) *Message {
	t.Helper()
	wire := unhex(t, vm.ISAKMP)
	m, err := Parse(wire)
	if err != nil {
		t.Fatalf("%s: Parse: %v", vm.Name, err)
	}
	if vm.Encrypted {
		if !bytes.Equal(m.Ciphertext, unhex(t, vm.Ciphertext)) {
			t.Fatalf("%s: ciphertext differs", vm.Name)
		}
		if err := m.Decrypted(unhex(t, vm.Plaintext)); err != nil {
			t.Fatalf("%s: Decrypted: %v", vm.Name, err)
		}
	}
	return m
}

func TestVectorsRoundTrip(t *testing.T) {
	for _, file := range []string{"vector-pfs.json", "vector-nopfs.json"} {
		v := loadVector(t, file)
		for _, vm := range v.Messages {
			t.Run(file+"/"+vm.Name, func(t *testing.T) {
				wire := unhex(t, vm.ISAKMP)
				udp := unhex(t, vm.UDPPayload)
				if msg, ok := StripNonESPMarker(udp); ok != vm.NonESPMarker || (ok && !bytes.Equal(msg, wire)) {
					t.Fatalf("StripNonESPMarker = %v, marker recorded %v", ok, vm.NonESPMarker)
				} else if ok && !bytes.Equal(AppendNonESPMarker(nil), udp[:NonESPMarkerLen]) {
					t.Fatal("AppendNonESPMarker")
				}
				m := parseVector(t, &vm)
				if got := m.AppendMarshal(nil); !bytes.Equal(got, wire) {
					t.Fatalf("re-marshal differs:\n got %x\nwant %x", got, wire)
				}
				if len(m.Payloads) != len(vm.PayloadsField) {
					t.Fatalf("%d payloads, want %d (%v)", len(m.Payloads), len(vm.PayloadsField), m)
				}
				for i, want := range vm.PayloadsField {
					p := m.Payloads[i]
					if int(p.Type()) != want.Type {
						t.Errorf("payload %d type %v, want %d", i, p.Type(), want.Type)
					}
					body := unhex(t, want.Body)
					if !bytes.Equal(Body(p), body) {
						t.Errorf("payload %d (%v) received body %x, want %x", i, p.Type(), Body(p), body)
					}
					if enc := p.AppendMarshal(nil); !bytes.Equal(enc, body) {
						t.Errorf("payload %d (%v) re-encodes to %x, want %x", i, p.Type(), enc, body)
					}
					if len(p.Raw()) != want.Length {
						t.Errorf("payload %d raw length %d, want %d", i, len(p.Raw()), want.Length)
					}
				}
				if !vm.Encrypted {
					return
				}
				plain := unhex(t, vm.Plaintext)
				chain := AppendPayloads(nil, m.Payloads)
				if len(chain) != vm.ChainLength || !bytes.Equal(chain, plain[:vm.ChainLength]) {
					t.Errorf("chain re-encodes to %x, want %x", chain, plain[:vm.ChainLength])
				}
				if !bytes.Equal(m.Padding, unhex(t, vm.Padding)) {
					t.Errorf("padding %x, want %s", m.Padding, vm.Padding)
				}
				if !bytes.Equal(m.ChainFrom(0), plain[:vm.ChainLength]) {
					t.Errorf("ChainFrom(0) is not the received chain")
				}
			})
		}
	}
}

func prf(key []byte, parts ...[]byte) []byte {
	h := hmac.New(sha256.New, key)
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

// TestVectorSemantics checks decoded fields against the values strongSwan logged, and that the
// retained octets are exactly what the RFC 2409 hashes cover (HASH(1), HASH(2), Informational).
func TestVectorSemantics(t *testing.T) {
	for _, tc := range []struct {
		file string
		pfs  bool
	}{{"vector-pfs.json", true}, {"vector-nopfs.json", false}} {
		t.Run(tc.file, func(t *testing.T) {
			v := loadVector(t, tc.file)
			ickyB, rckyB := v.val(t, "CKY_I"), v.val(t, "CKY_R")
			var icky, rcky Cookie
			copy(icky[:], ickyB)
			copy(rcky[:], rckyB)

			mm1 := parseVector(t, v.msg("MM1"))
			if mm1.Header.ICookie != icky || !mm1.Header.RCookie.IsZero() || mm1.Header.Exchange != ExchangeIdentityProt {
				t.Errorf("MM1 header %v", mm1.Header)
			}
			sa := mm1.Payloads[0].(*SA)
			if !bytes.Equal(Body(sa), v.val(t, "SAi_b")) {
				t.Errorf("SAi_b %x", Body(sa))
			}
			if len(sa.Proposals) != 1 || sa.Proposals[0].Protocol != ProtocolISAKMP || len(sa.Proposals[0].Transforms) != 1 {
				t.Fatalf("MM1 SA %+v", sa)
			}
			tr := sa.Proposals[0].Transforms[0]
			p1, err := tr.IKEAttributes()
			if err != nil {
				t.Fatal(err)
			}
			want1 := IKEAttributes{Encryption: EncryptionAES, KeyLength: 256, Hash: HashSHA2256,
				AuthMethod: AuthPreSharedKey, Group: GroupMODP2048, LifeSeconds: 15840}
			if p1 != want1 {
				t.Errorf("phase-1 attributes %+v, want %+v", p1, want1)
			}
			if enc := appendAttributes(nil, p1.Attributes()); !bytes.Equal(enc, appendAttributes(nil, tr.Attributes)) {
				t.Errorf("IKEAttributes.Attributes encodes %x, want %x", enc, appendAttributes(nil, tr.Attributes))
			}
			var vids []string
			for _, p := range mm1.Payloads[1:] {
				vids = append(vids, VendorName(p.(*VendorID).Data))
			}
			wantVIDs := []string{"XAUTH", "DPD", "FRAGMENTATION", "RFC 3947 NAT-T", `draft-ietf-ipsec-nat-t-ike-02\n`}
			if len(vids) != len(wantVIDs) {
				t.Fatalf("VIDs %q", vids)
			}
			for i := range vids {
				if vids[i] != wantVIDs[i] {
					t.Errorf("VID %d = %q, want %q", i, vids[i], wantVIDs[i])
				}
			}
			if !HasVendorID(mm1.Payloads, VendorIDFragmentationCap) || !HasVendorID(mm1.Payloads, VendorIDRFC3947) {
				t.Error("HasVendorID misses MM1 vendor IDs")
			}

			mm3 := parseVector(t, v.msg("MM3"))
			if ke := mm3.Find(PayloadKE).(*KE); !bytes.Equal(ke.Data, v.val(t, "g_xi")) {
				t.Error("MM3 KE is not g^xi")
			}
			if n := mm3.Find(PayloadNonce).(*Nonce); !bytes.Equal(n.Data, v.val(t, "Ni_b")) {
				t.Error("MM3 nonce is not Ni_b")
			}
			if mm3.Count(PayloadNATD) != 2 || !bytes.Equal(mm3.Payloads[2].(*NATD).Hash, v.val(t, "NATD_MM3_1")) ||
				!bytes.Equal(mm3.Payloads[3].(*NATD).Hash, v.val(t, "NATD_MM3_2")) {
				t.Error("MM3 NAT-D payloads differ from NATD_MM3_1/2")
			}

			mm5 := parseVector(t, v.msg("MM5"))
			id := mm5.Payloads[0].(*ID)
			if a, err := id.Addr(); err != nil || a != netip.MustParseAddr("192.0.2.1") || !bytes.Equal(Body(id), v.val(t, "IDii_b")) {
				t.Errorf("MM5 ID %v (%v)", id, err)
			}
			if h := mm5.Payloads[1].(*Hash); !bytes.Equal(h.Data, v.val(t, "HASH_I")) {
				t.Error("MM5 HASH is not HASH_I")
			}
			ic := mm5.Payloads[2].(*Notify)
			if want := NewISAKMPNotify(NotifyInitialContact, icky, rcky, nil); !bytes.Equal(ic.AppendMarshal(nil), want.AppendMarshal(nil)) {
				t.Errorf("INITIAL-CONTACT %v, want %v", ic, want)
			}

			skeyidA := v.val(t, "SKEYID_a")
			mid := v.val(t, "QM_MID")
			qm1 := parseVector(t, v.msg("QM1"))
			if qm1.Header.MessageID != binary.BigEndian.Uint32(mid) || qm1.Header.Exchange != ExchangeQuick {
				t.Errorf("QM1 header %v", qm1.Header)
			}
			if h := qm1.Payloads[0].(*Hash); !bytes.Equal(h.Data, v.val(t, "HASH1")) ||
				!bytes.Equal(prf(skeyidA, mid, qm1.ChainFrom(1)), h.Data) {
				t.Error("HASH(1) does not verify over ChainFrom(1)")
			}
			qsa := qm1.Payloads[1].(*SA)
			prop := qsa.Proposals[0]
			if prop.Protocol != ProtocolESP || !bytes.Equal(prop.SPI, v.val(t, "SPI_i")) || prop.Transforms[0].ID != ESPAES {
				t.Errorf("QM1 proposal %+v", prop)
			}
			p2, err := prop.Transforms[0].IPsecAttributes(prop.Protocol)
			if err != nil {
				t.Fatal(err)
			}
			want2 := IPsecAttributes{Encapsulation: EncapsulationUDPTunnel, AuthAlgorithm: AuthAlgHMACSHA1,
				KeyLength: 256, LifeSeconds: 3960}
			if tc.pfs {
				want2.Group = GroupMODP2048
			}
			if p2 != want2 {
				t.Errorf("phase-2 attributes %+v, want %+v", p2, want2)
			}
			if enc := appendAttributes(nil, p2.Attributes()); !bytes.Equal(enc, appendAttributes(nil, prop.Transforms[0].Attributes)) {
				t.Errorf("IPsecAttributes.Attributes encodes %x, want %x", enc, appendAttributes(nil, prop.Transforms[0].Attributes))
			}
			if got := qm1.Count(PayloadKE); got != map[bool]int{true: 1, false: 0}[tc.pfs] {
				t.Errorf("QM1 has %d KE payloads", got)
			}
			ids := []*ID{}
			for _, p := range qm1.Payloads {
				if p, ok := p.(*ID); ok {
					ids = append(ids, p)
				}
			}
			if len(ids) != 2 || !bytes.Equal(Body(ids[0]), v.val(t, "IDci_b")) || !bytes.Equal(Body(ids[1]), v.val(t, "IDcr_b")) {
				t.Fatalf("QM1 IDs %v", ids)
			}
			if p, err := ids[0].Prefix(); err != nil || p != netip.MustParsePrefix("10.1.1.0/24") {
				t.Errorf("IDci prefix %v %v", p, err)
			}

			qm2 := parseVector(t, v.msg("QM2"))
			if h := qm2.Payloads[0].(*Hash); !bytes.Equal(prf(skeyidA, mid, v.val(t, "qm_Ni_b"), qm2.ChainFrom(1)), h.Data) {
				t.Error("HASH(2) does not verify over Ni_b | ChainFrom(1)")
			}
			if spi := qm2.Payloads[1].(*SA).Proposals[0].SPI; !bytes.Equal(spi, v.val(t, "SPI_r")) {
				t.Errorf("QM2 SPI %x", spi)
			}

			info1 := parseVector(t, v.msg("INFO1"))
			if !bytes.Equal(prf(skeyidA, v.val(t, "INFO1_MID"), info1.ChainFrom(1)), v.val(t, "HASH_INFO1")) {
				t.Error("INFO1 HASH does not verify over ChainFrom(1)")
			}
			d := info1.Payloads[1].(*Delete)
			if d.Protocol != ProtocolESP || len(d.SPIs) != 1 || !bytes.Equal(d.SPIs[0], v.val(t, "SPI_i")) {
				t.Errorf("INFO1 delete %v", d)
			}
			info2 := parseVector(t, v.msg("INFO2"))
			d2 := info2.Payloads[1].(*Delete)
			if want := NewDeleteISAKMP(icky, rcky); !bytes.Equal(d2.AppendMarshal(nil), want.AppendMarshal(nil)) {
				t.Errorf("INFO2 delete %v, want %v", d2, want)
			}
		})
	}
}
