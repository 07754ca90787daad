package isakmp

import "strconv"

// TransformID is the Transform-Id of a transform payload. Its namespace is the proposal's
// protocol: KEY_IKE for ISAKMP (RFC 2407 §4.4.2), ESP (§4.4.4, RFC 4106, RFC 4543), AH (§4.4.3)
// or IPComp (§4.4.5).
type TransformID uint8

// Transform identifiers.
const (
	TransformKeyIKE TransformID = 1 // the only phase-1 transform

	ESPDES          TransformID = 2
	ESP3DES         TransformID = 3
	ESPNull         TransformID = 11
	ESPAES          TransformID = 12 // AES-CBC, RFC 3602 (Key Length attribute required)
	ESPAESCTR       TransformID = 13
	ESPAESCCM8      TransformID = 14
	ESPAESCCM12     TransformID = 15
	ESPAESCCM16     TransformID = 16
	ESPAESGCM8      TransformID = 18 // RFC 4106
	ESPAESGCM12     TransformID = 19
	ESPAESGCM16     TransformID = 20
	ESPNullAESGMAC  TransformID = 23 // RFC 4543
	AHMD5           TransformID = 2
	AHSHA           TransformID = 3
	AHSHA2256       TransformID = 5
	AHSHA2384       TransformID = 6
	AHSHA2512       TransformID = 7
	IPCompOUI       TransformID = 1
	IPCompDeflate   TransformID = 2
	IPCompLZS       TransformID = 3
	transformIDNone TransformID = 0
)

var espTransformNames = map[TransformID]string{
	ESPDES: "ESP_DES", ESP3DES: "ESP_3DES", ESPNull: "ESP_NULL", ESPAES: "ESP_AES",
	ESPAESCTR: "ESP_AES-CTR", ESPAESCCM8: "ESP_AES-CCM_8", ESPAESCCM12: "ESP_AES-CCM_12",
	ESPAESCCM16: "ESP_AES-CCM_16", ESPAESGCM8: "ESP_AES-GCM_8", ESPAESGCM12: "ESP_AES-GCM_12",
	ESPAESGCM16: "ESP_AES-GCM_16", ESPNullAESGMAC: "ESP_NULL_AUTH_AES-GMAC",
}

var ahTransformNames = map[TransformID]string{
	AHMD5: "AH_MD5", AHSHA: "AH_SHA", AHSHA2256: "AH_SHA2-256", AHSHA2384: "AH_SHA2-384", AHSHA2512: "AH_SHA2-512",
}

var ipcompTransformNames = map[TransformID]string{IPCompOUI: "IPCOMP_OUI", IPCompDeflate: "IPCOMP_DEFLATE", IPCompLZS: "IPCOMP_LZS"}

// TransformName names transform id within protocol p.
func TransformName(p ProtocolID, id TransformID) string {
	switch p {
	case ProtocolISAKMP:
		return name(map[TransformID]string{TransformKeyIKE: "KEY_IKE"}, "TRANSFORM", id)
	case ProtocolESP:
		return name(espTransformNames, "ESP", id)
	case ProtocolAH:
		return name(ahTransformNames, "AH", id)
	case ProtocolIPComp:
		return name(ipcompTransformNames, "IPCOMP", id)
	}
	return name(nil, "TRANSFORM", id)
}

// EncryptionAlgorithm is the phase-1 Encryption Algorithm attribute value (RFC 2409 App. A, RFC 3602).
type EncryptionAlgorithm uint16

// Phase-1 encryption algorithms.
const (
	EncryptionDES      EncryptionAlgorithm = 1
	EncryptionIDEA     EncryptionAlgorithm = 2
	EncryptionBlowfish EncryptionAlgorithm = 3
	EncryptionRC5      EncryptionAlgorithm = 4
	Encryption3DES     EncryptionAlgorithm = 5
	EncryptionCAST     EncryptionAlgorithm = 6
	EncryptionAES      EncryptionAlgorithm = 7 // AES-CBC, Key Length attribute 128/192/256
	EncryptionCamellia EncryptionAlgorithm = 8
)

var encryptionNames = map[EncryptionAlgorithm]string{
	EncryptionDES: "DES-CBC", EncryptionIDEA: "IDEA-CBC", EncryptionBlowfish: "Blowfish-CBC",
	EncryptionRC5: "RC5-R16-B64-CBC", Encryption3DES: "3DES-CBC", EncryptionCAST: "CAST-CBC",
	EncryptionAES: "AES-CBC", EncryptionCamellia: "CAMELLIA-CBC",
}

func (e EncryptionAlgorithm) String() string { return name(encryptionNames, "ENCR", e) }

// HashAlgorithm is the phase-1 Hash Algorithm attribute value (RFC 2409 App. A, RFC 4868).
type HashAlgorithm uint16

// Phase-1 hash algorithms.
const (
	HashMD5     HashAlgorithm = 1
	HashSHA1    HashAlgorithm = 2
	HashTiger   HashAlgorithm = 3
	HashSHA2256 HashAlgorithm = 4
	HashSHA2384 HashAlgorithm = 5
	HashSHA2512 HashAlgorithm = 6
)

var hashNames = map[HashAlgorithm]string{
	HashMD5: "MD5", HashSHA1: "SHA", HashTiger: "Tiger", HashSHA2256: "SHA2-256",
	HashSHA2384: "SHA2-384", HashSHA2512: "SHA2-512",
}

func (h HashAlgorithm) String() string { return name(hashNames, "HASH", h) }

// AuthMethod is the phase-1 Authentication Method attribute value (RFC 2409 App. A, plus the
// XAUTH values of draft-ietf-ipsec-isakmp-xauth-06 §6 that Cisco peers send).
type AuthMethod uint16

// Phase-1 authentication methods.
const (
	AuthPreSharedKey      AuthMethod = 1
	AuthDSS               AuthMethod = 2
	AuthRSASig            AuthMethod = 3
	AuthRSAEnc            AuthMethod = 4
	AuthRSARevisedEnc     AuthMethod = 5
	AuthECDSASHA256       AuthMethod = 9 // RFC 4754
	AuthECDSASHA384       AuthMethod = 10
	AuthECDSASHA521       AuthMethod = 11
	AuthHybridInitRSA     AuthMethod = 64221
	AuthXAUTHInitPreShare AuthMethod = 65001
	AuthXAUTHRespPreShare AuthMethod = 65002
	AuthXAUTHInitRSA      AuthMethod = 65005
	AuthXAUTHRespRSA      AuthMethod = 65006
)

var authNames = map[AuthMethod]string{
	AuthPreSharedKey: "pre-shared key", AuthDSS: "DSS signatures", AuthRSASig: "RSA signatures",
	AuthRSAEnc: "RSA encryption", AuthRSARevisedEnc: "revised RSA encryption",
	AuthECDSASHA256: "ECDSA-SHA256", AuthECDSASHA384: "ECDSA-SHA384", AuthECDSASHA521: "ECDSA-SHA521",
	AuthHybridInitRSA: "HybridInitRSA", AuthXAUTHInitPreShare: "XAUTHInitPreShared",
	AuthXAUTHRespPreShare: "XAUTHRespPreShared", AuthXAUTHInitRSA: "XAUTHInitRSA",
	AuthXAUTHRespRSA: "XAUTHRespRSA",
}

func (a AuthMethod) String() string { return name(authNames, "AUTH", a) }

// Group is a Group Description attribute value: the IANA "IKE Group Description" registry
// shared by phase 1 (RFC 2409 App. A) and phase-2 PFS (RFC 2407 §4.5).
type Group uint16

// Diffie-Hellman groups IOS and its peers use.
const (
	GroupNone         Group = 0
	GroupMODP768      Group = 1
	GroupMODP1024     Group = 2
	GroupMODP1536     Group = 5
	GroupMODP2048     Group = 14
	GroupMODP3072     Group = 15
	GroupMODP4096     Group = 16
	GroupMODP6144     Group = 17
	GroupMODP8192     Group = 18
	GroupECP256       Group = 19
	GroupECP384       Group = 20
	GroupECP521       Group = 21
	GroupMODP1024S160 Group = 22
	GroupMODP2048S224 Group = 23
	GroupMODP2048S256 Group = 24
	GroupCurve25519   Group = 31
)

func (g Group) String() string {
	if g == GroupNone {
		return "none"
	}
	return "group" + strconv.Itoa(int(g))
}

// LifeType is the phase-1 Life Type or phase-2 SA Life Type value (RFC 2409 App. A, RFC 2407 §4.5).
type LifeType uint16

// Life types.
const (
	LifeSeconds   LifeType = 1
	LifeKilobytes LifeType = 2
)

func (l LifeType) String() string {
	return name(map[LifeType]string{LifeSeconds: "seconds", LifeKilobytes: "kilobytes"}, "LIFE", l)
}

// EncapsulationMode is the phase-2 Encapsulation Mode value (RFC 2407 §4.5, RFC 3947 §5.1, and
// the values of draft-ietf-ipsec-nat-t-ike-00..03 that older peers still send).
type EncapsulationMode uint16

// Encapsulation modes.
const (
	EncapsulationTunnel            EncapsulationMode = 1
	EncapsulationTransport         EncapsulationMode = 2
	EncapsulationUDPTunnel         EncapsulationMode = 3 // RFC 3947
	EncapsulationUDPTransport      EncapsulationMode = 4 // RFC 3947
	EncapsulationUDPTunnelDraft    EncapsulationMode = 61443
	EncapsulationUDPTransportDraft EncapsulationMode = 61444
)

var encapNames = map[EncapsulationMode]string{
	EncapsulationTunnel: "Tunnel", EncapsulationTransport: "Transport",
	EncapsulationUDPTunnel: "UDP-Encapsulated-Tunnel", EncapsulationUDPTransport: "UDP-Encapsulated-Transport",
	EncapsulationUDPTunnelDraft: "UDP-Encapsulated-Tunnel(draft)", EncapsulationUDPTransportDraft: "UDP-Encapsulated-Transport(draft)",
}

func (e EncapsulationMode) String() string { return name(encapNames, "ENCAP", e) }

// Tunnel reports whether e is one of the tunnel modes.
func (e EncapsulationMode) Tunnel() bool {
	return e == EncapsulationTunnel || e == EncapsulationUDPTunnel || e == EncapsulationUDPTunnelDraft
}

// UDP reports whether e is one of the UDP-encapsulated (NAT-T) modes.
func (e EncapsulationMode) UDP() bool {
	switch e {
	case EncapsulationUDPTunnel, EncapsulationUDPTransport, EncapsulationUDPTunnelDraft, EncapsulationUDPTransportDraft:
		return true
	}
	return false
}

// AuthAlgorithm is the phase-2 Authentication Algorithm value (RFC 2407 §4.5, RFC 4868, RFC 4543).
type AuthAlgorithm uint16

// Phase-2 authentication algorithms.
const (
	AuthAlgNone       AuthAlgorithm = 0 // attribute absent (AEAD or ESP without integrity)
	AuthAlgHMACMD5    AuthAlgorithm = 1
	AuthAlgHMACSHA1   AuthAlgorithm = 2
	AuthAlgDESMAC     AuthAlgorithm = 3
	AuthAlgKPDK       AuthAlgorithm = 4
	AuthAlgHMACSHA256 AuthAlgorithm = 5
	AuthAlgHMACSHA384 AuthAlgorithm = 6
	AuthAlgHMACSHA512 AuthAlgorithm = 7
	AuthAlgHMACRIPEMD AuthAlgorithm = 8
	AuthAlgAESXCBC    AuthAlgorithm = 9
	AuthAlgSigRSA     AuthAlgorithm = 10
	AuthAlgAES128GMAC AuthAlgorithm = 11
	AuthAlgAES192GMAC AuthAlgorithm = 12
	AuthAlgAES256GMAC AuthAlgorithm = 13
)

var authAlgNames = map[AuthAlgorithm]string{
	AuthAlgNone: "none", AuthAlgHMACMD5: "HMAC-MD5", AuthAlgHMACSHA1: "HMAC-SHA", AuthAlgDESMAC: "DES-MAC",
	AuthAlgKPDK: "KPDK", AuthAlgHMACSHA256: "HMAC-SHA2-256", AuthAlgHMACSHA384: "HMAC-SHA2-384",
	AuthAlgHMACSHA512: "HMAC-SHA2-512", AuthAlgHMACRIPEMD: "HMAC-RIPEMD", AuthAlgAESXCBC: "AES-XCBC-MAC",
	AuthAlgSigRSA: "SIG-RSA", AuthAlgAES128GMAC: "AES-128-GMAC", AuthAlgAES192GMAC: "AES-192-GMAC",
	AuthAlgAES256GMAC: "AES-256-GMAC",
}

func (a AuthAlgorithm) String() string { return name(authAlgNames, "AUTH-ALG", a) }
