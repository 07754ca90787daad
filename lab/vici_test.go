package lab

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

func sampleMessage() *ViciMessage {
	var child ViciMessage
	child.Set("name", "net")
	child.Set("local-ts", []string{"10.1.1.0/24", "10.1.3.0/24"})
	child.Set("empty", []string{})
	var children ViciMessage
	children.Set("net-1", &child)
	var m ViciMessage
	m.Set("uniqueid", "1")
	m.Set("state", "ESTABLISHED")
	m.Set("child-sas", &children)
	m.Set("blank", "")
	return &m
}

func TestViciRoundTrip(t *testing.T) {
	m := sampleMessage()
	b, err := m.MarshalVici()
	if err != nil {
		t.Fatal(err)
	}
	// Hand-checked encoding of the first element: KEY_VALUE, name "uniqueid", value "1".
	want := append([]byte{viciKeyValue, 8}, "uniqueid"...)
	want = append(want, 0, 1, '1')
	if !bytes.HasPrefix(b, want) {
		t.Fatalf("encoding starts % x, want % x", b[:len(want)], want)
	}
	got, err := UnmarshalVici(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, m)
	}
	if got.Section("child-sas").Section("net-1").List("local-ts")[1] != "10.1.3.0/24" {
		t.Fatal("nested list lost")
	}
	if got.Get("child-sas") != "" || got.List("state") != nil || got.Section("state") != nil {
		t.Fatal("typed getters must not convert between kinds")
	}
}

func TestUnmarshalViciRejects(t *testing.T) {
	kv := func(name, val string) []byte {
		b := append([]byte{viciKeyValue, byte(len(name))}, name...)
		b = append(b, byte(len(val)>>8), byte(len(val)))
		return append(b, val...)
	}
	deep := []byte{}
	for range viciMaxDepth + 1 {
		deep = append(deep, viciSectionStart, 1, 's')
	}
	tests := []struct {
		name string
		in   []byte
	}{
		{"unknown element", []byte{9}},
		{"truncated name length", []byte{viciKeyValue}},
		{"empty name", []byte{viciKeyValue, 0, 0, 0}},
		{"name past end", []byte{viciKeyValue, 5, 'a', 'b'}},
		{"truncated value length", []byte{viciKeyValue, 1, 'a', 0}},
		{"value past end", []byte{viciKeyValue, 1, 'a', 0, 4, 'x'}},
		{"section end without start", []byte{viciSectionEnd}},
		{"section not closed", []byte{viciSectionStart, 1, 's'}},
		{"list not closed", []byte{viciListStart, 1, 'l', viciListItem, 0, 0}},
		{"list item outside list", []byte{viciListItem, 0, 0}},
		{"list end without start", []byte{viciListEnd}},
		{"key inside list", append([]byte{viciListStart, 1, 'l'}, kv("a", "b")...)},
		{"duplicate key", append(kv("a", "1"), kv("a", "2")...)},
		{"too deep", deep},
	}
	for _, tc := range tests {
		_, err := UnmarshalVici(tc.in)
		var ve *ViciError
		if !errors.As(err, &ve) {
			t.Errorf("%s: error %v, want *ViciError", tc.name, err)
		}
	}
}

func TestParseViciPacket(t *testing.T) {
	tests := []struct {
		in      []byte
		typ     byte
		name    string
		data    []byte
		wantErr bool
	}{
		{[]byte{viciEvent, 7, 'l', 'i', 's', 't', '-', 's', 'a', 1, 2}, viciEvent, "list-sa", []byte{1, 2}, false},
		{[]byte{viciCmdResponse, 3, 1, 'k'}, viciCmdResponse, "", []byte{3, 1, 'k'}, false},
		{[]byte{viciEventConfirm}, viciEventConfirm, "", []byte{}, false},
		{[]byte{}, 0, "", nil, true},
		{[]byte{viciEvent}, 0, "", nil, true},
		{[]byte{viciEvent, 4, 'a'}, 0, "", nil, true},
		{[]byte{42}, 0, "", nil, true},
	}
	for _, tc := range tests {
		typ, name, data, err := parseViciPacket(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("% x: error %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		if err == nil && (typ != tc.typ || name != tc.name || !bytes.Equal(data, tc.data)) {
			t.Errorf("% x: got %d %q % x, want %d %q % x", tc.in, typ, name, data, tc.typ, tc.name, tc.data)
		}
	}
}

func TestMarshalViciRejects(t *testing.T) {
	var m ViciMessage
	m.Set(string(make([]byte, 256)), "x")
	if _, err := m.MarshalVici(); err == nil {
		t.Error("256-byte name encoded")
	}
	var m2 ViciMessage
	m2.Set("k", string(make([]byte, 0x10000)))
	if _, err := m2.MarshalVici(); err == nil {
		t.Error("65536-byte value encoded")
	}
}

func FuzzUnmarshalVici(f *testing.F) {
	b, _ := sampleMessage().MarshalVici()
	f.Add(b)
	f.Add([]byte{viciSectionStart, 1, 's', viciSectionEnd})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := UnmarshalVici(data)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to something that decodes to the same message.
		enc, err := m.MarshalVici()
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		m2, err := UnmarshalVici(enc)
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("re-decode: %v\n%+v\n%+v", err, m, m2)
		}
	})
}

func TestParseIKESA(t *testing.T) {
	var child ViciMessage
	for k, v := range map[string]string{"name": "net", "uniqueid": "2", "reqid": "1", "state": "INSTALLED",
		"mode": "TUNNEL", "protocol": "ESP", "encap": "yes", "spi-in": "6fe11b9b", "spi-out": "d47db33c",
		"encr-alg": "AES_CBC", "encr-keysize": "256", "integ-alg": "HMAC_SHA1_96", "dh-group": "MODP_2048",
		"bytes-in": "168", "packets-in": "2", "rekey-time": "3375", "life-time": "3959", "install-time": "1"} {
		child.Set(k, v)
	}
	child.Set("local-ts", []string{"10.1.1.0/24"})
	var children ViciMessage
	children.Set("net-2", &child)
	var m ViciMessage
	for k, v := range map[string]string{"uniqueid": "1", "version": "1", "state": "ESTABLISHED",
		"local-host": "192.0.2.1", "local-port": "4500", "remote-host": "192.0.2.2", "remote-port": "4500",
		"initiator": "yes", "initiator-spi": "f56bb1d354da2c18", "responder-spi": "a281405e29ba7372",
		"nat-remote": "yes", "encr-alg": "AES_CBC", "encr-keysize": "256", "established": "7", "rekey-time": "14349"} {
		m.Set(k, v)
	}
	m.Set("child-sas", &children)
	sa, err := parseIKESA("lab", &m)
	if err != nil {
		t.Fatal(err)
	}
	ch := sa.Child("net")
	if sa.InitiatorSPI != 0xf56bb1d354da2c18 || sa.ResponderSPI != 0xa281405e29ba7372 || !sa.Initiator ||
		sa.LocalPort != 4500 || sa.RemoteHost.String() != "192.0.2.2" || !sa.NATRemote || sa.NATLocal ||
		sa.RekeyIn.Seconds() != 14349 || ch == nil || ch.SPIIn != 0x6fe11b9b || ch.SPIOut != 0xd47db33c ||
		!ch.Encap || ch.UniqueID != 2 || ch.LifeIn.Seconds() != 3959 || ch.LocalTS[0] != "10.1.1.0/24" {
		t.Fatalf("parsed %+v", sa)
	}

	for key, bad := range map[string]string{"initiator-spi": "xyz", "local-port": "70000", "initiator": "maybe",
		"local-host": "192.0.2", "established": "-1"} {
		var m2 ViciMessage
		m2.Set(key, bad)
		if _, err := parseIKESA("lab", &m2); err == nil {
			t.Errorf("%s=%q accepted", key, bad)
		}
	}
	var m3 ViciMessage
	var c3 ViciMessage
	c3.Set("spi-in", "123456789")
	var cs3 ViciMessage
	cs3.Set("x-1", &c3)
	m3.Set("child-sas", &cs3)
	if _, err := parseIKESA("lab", &m3); err == nil {
		t.Error("9-digit SPI accepted")
	}
}
