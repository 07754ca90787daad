package lab

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseDissect(t *testing.T) {
	rs := aggregator
	out := strings.Join([]string{
		"1\t0.000000000\t192.0.2.1\t192.0.2.2\t\t\teth:ethertype:ip:udp:isakmp\tIdentity Protection (Main Mode)\t\t\t\t",
		"2\t0.5\t\t\tfe80::1\tff02::16\teth:ethertype:ipv6:icmpv6\tMulticast Listener Report\t\t\t\t",
		"3\t1.25\t192.0.2.2" + rs + "192.0.2.1\t192.0.2.1" + rs + "192.0.2.2\t\t\teth:ethertype:ip:udp:isakmp\tQuick Mode[Malformed Packet]\t[Malformed Packet: ISAKMP]" + rs + "_ws.malformed\t8388608" + rs + "6291456\t117440512" + rs + "16777216\tMalformed Packet (Exception occurred)" + rs + "Bad checksum; see RFC",
		"",
	}, "\n")
	pkts, err := parseDissect(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkts) != 3 {
		t.Fatalf("%d packets", len(pkts))
	}
	p1, p2, p3 := pkts[0], pkts[1], pkts[2]
	if p1.Src != "192.0.2.1" || !p1.Has("isakmp") || p1.Has("esp") || p1.Bad() || p1.Time != 0 {
		t.Errorf("frame 1: %+v", p1)
	}
	if p2.Src != "fe80::1" || p2.Dst != "ff02::16" || p2.Time != 500*time.Millisecond {
		t.Errorf("frame 2: %+v", p2)
	}
	if !p3.Malformed || !p3.Bad() || p3.Src != "192.0.2.2" || len(p3.Expert) != 2 || len(p3.Errors()) != 1 ||
		p3.Expert[1].Severity != SeverityWarn || p3.Expert[1].Message != "Bad checksum; see RFC" ||
		p3.Expert[0].Group != 0x07000000 || p3.Expert[0].Severity.String() != "error" {
		t.Errorf("frame 3: %+v", p3)
	}
	for name, bad := range map[string]string{
		"too few fields":  "1\t0.0\tx",
		"bad number":      "x\t0.0\t\t\t\t\t\t\t\t\t\t",
		"bad time":        "1\tsoon\t\t\t\t\t\t\t\t\t\t",
		"expert mismatch": "1\t0.0\t\t\t\t\t\t\t\t8388608" + rs + "1\t1\ta",
		"bad severity":    "1\t0.0\t\t\t\t\t\t\t\terror\t1\ta",
	} {
		_, err := parseDissect(bad + "\n")
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%s: error %v, want *ParseError", name, err)
		}
	}
}

func TestDecryptArgs(t *testing.T) {
	kl, err := ParseKeyLog(strings.NewReader(readKeyLog(t, "charon-keylog-initiator.log")))
	if err != nil {
		t.Fatal(err)
	}
	sa := &IKESA{UniqueID: 1, InitiatorSPI: 0xf56bb1d354da2c18, Children: []ChildSA{{
		Name: "net", SPIIn: 0x6fe11b9b, SPIOut: 0xd47db33c, EncrAlg: "AES_CBC", IntegAlg: "HMAC_SHA1_96"}}}
	args, err := DecryptArgs(sa, kl)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(args, " ")
	for _, want := range []string{
		"uat:ikev1_decryption_table:f56bb1d354da2c18,b4188baa0804e8d73768e04d96e9e79371dcc04ee9c7b3be747d6794c131b00e",
		`uat:esp_sa:"IPv4","192.0.2.1","192.0.2.2","0xd47db33c","AES-CBC [RFC3602]","0xf7b9b522e33607f9ef6d5e55f2b1f7fcf4327cbe99623d8fbb2d6a6438f6b239","HMAC-SHA-1-96 [RFC2404]","0x0165a4b599abc9e8037f63a02c1250d0f9374d91"`,
		`uat:esp_sa:"IPv4","192.0.2.2","192.0.2.1","0x6fe11b9b",`,
		"esp.enable_authentication_check:TRUE",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("missing %s in\n%s", want, joined)
		}
	}
	sa.Children[0].EncrAlg = "CAMELLIA_CBC"
	if _, err := DecryptArgs(sa, kl); err == nil {
		t.Error("unknown ESP algorithm accepted")
	}
	sa.UniqueID = 9
	if _, err := DecryptArgs(sa, kl); err == nil {
		t.Error("unknown IKE SA accepted")
	}
}
