package isakmp

import (
	"encoding/hex"
	"strings"
)

// Well-known Vendor IDs (RFC 2408 §3.16). Most are MD5 hashes of a string, some truncated or
// followed by version or capability octets. Values checked against the hashes and against the
// IDs strongSwan 5.9 sends (testdata/vectors).
const (
	// VendorIDRFC3947 announces NAT-T as specified: MD5("RFC 3947").
	VendorIDRFC3947 = "\x4a\x13\x1c\x81\x07\x03\x58\x45\x5c\x57\x28\xf2\x0e\x95\x45\x2f"
	// VendorIDNATTDraft02 is MD5("draft-ietf-ipsec-nat-t-ike-02").
	VendorIDNATTDraft02 = "\xcd\x60\x46\x43\x35\xdf\x21\xf8\x7c\xfd\xb2\xfc\x68\xb6\xa4\x48"
	// VendorIDNATTDraft02N is MD5("draft-ietf-ipsec-nat-t-ike-02\n"), the variant with a newline
	// that many implementations send.
	VendorIDNATTDraft02N = "\x90\xcb\x80\x91\x3e\xbb\x69\x6e\x08\x63\x81\xb5\xec\x42\x7b\x1f"
	// VendorIDNATTDraft03 is MD5("draft-ietf-ipsec-nat-t-ike-03").
	VendorIDNATTDraft03 = "\x7d\x94\x19\xa6\x53\x10\xca\x6f\x2c\x17\x9d\x92\x15\x52\x9d\x56"
	// VendorIDDPD announces Dead Peer Detection, RFC 3706 §4 (version 1.0 in the last two octets).
	VendorIDDPD = "\xaf\xca\xd7\x13\x68\xa1\xf1\xc9\x6b\x86\x96\xfc\x77\x57\x01\x00"
	// VendorIDCiscoUnity is the first 14 octets of MD5("CISCO-UNITY") and version 1.0.
	VendorIDCiscoUnity = "\x12\xf5\xf2\x8c\x45\x71\x68\xa9\x70\x2d\x9f\xe2\x74\xcc\x01\x00"
	// VendorIDXAUTH is the first 8 octets of MD5("draft-ietf-ipsra-isakmp-xauth-06.txt").
	VendorIDXAUTH = "\x09\x00\x26\x89\xdf\xd6\xb7\x12"
	// VendorIDStrongSwan is MD5("strongSwan").
	VendorIDStrongSwan = "\x88\x2f\xe5\x6d\x6f\xd2\x0d\xbc\x22\x51\x61\x3b\x2e\xbe\x5b\xeb"
	// VendorIDFragmentation is MD5("FRAGMENTATION"); it is usually followed by four capability
	// octets: 0x80000000 (Main/Aggressive Mode fragmentation, strongSwan) or 0xc0000000 (Cisco).
	VendorIDFragmentation = "\x40\x48\xb7\xd5\x6e\xbc\xe8\x85\x25\xe7\xde\x7f\x00\xd6\xc2\xd3"
	// VendorIDFragmentationCap is VendorIDFragmentation with the capability strongSwan sends.
	VendorIDFragmentationCap = VendorIDFragmentation + "\x80\x00\x00\x00"
)

var vendorNames = []struct {
	id, name string
	prefix   bool // id is a prefix of the vendor ID (version or capability octets follow or vary)
}{
	{VendorIDRFC3947, "RFC 3947 NAT-T", false},
	{VendorIDNATTDraft02, "draft-ietf-ipsec-nat-t-ike-02", false},
	{VendorIDNATTDraft02N, `draft-ietf-ipsec-nat-t-ike-02\n`, false},
	{VendorIDNATTDraft03, "draft-ietf-ipsec-nat-t-ike-03", false},
	{VendorIDDPD, "DPD", false},
	{VendorIDCiscoUnity[:14], "Cisco Unity", true},
	{VendorIDXAUTH, "XAUTH", false},
	{VendorIDStrongSwan, "strongSwan", false},
	{VendorIDFragmentation, "FRAGMENTATION", true},
}

// VendorName names a Vendor ID, or returns its hex form when it is not one of the well-known IDs.
func VendorName(id []byte) string {
	for _, v := range vendorNames {
		if string(id) == v.id || (v.prefix && strings.HasPrefix(string(id), v.id)) {
			return v.name
		}
	}
	return hex.EncodeToString(id)
}

// HasVendorID reports whether ps contains a Vendor ID payload equal to id.
func HasVendorID(ps []Payload, id string) bool {
	for _, p := range ps {
		if v, ok := p.(*VendorID); ok && string(v.Data) == id {
			return true
		}
	}
	return false
}
