package runningconfig

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// The crypto configuration (ios-cli.md §3.4-3.6): ISAKMP policies and keys, global IPsec settings,
// transform sets and crypto map entries. It is the configuration part "crypto". The IKE engine
// reads it through the typed accessors at the end of this file and never parses text.

// PartCrypto is the name under which the crypto configuration is stored on a Config.
const PartCrypto = "crypto"

// ErrCrypto is wrapped by the crypto configuration errors of this file.
var ErrCrypto = errors.New("running-config: crypto")

// Phase-1 encryption algorithms (`encryption des|3des|aes [128|192|256]`).
type Encryption uint8

// Encryption algorithms; EncrDES is the IOS default.
const (
	EncrDES Encryption = iota
	Encr3DES
	EncrAES
)

// Hash algorithms (`hash md5|sha|sha256|sha384|sha512`); HashSHA is the IOS default.
type Hash uint8

// Hash algorithms.
const (
	HashSHA Hash = iota
	HashMD5
	HashSHA256
	HashSHA384
	HashSHA512
)

var hashNames = [...]string{"sha", "md5", "sha256", "sha384", "sha512"}

func (h Hash) String() string { return hashNames[h] }

// ParseHash parses an IOS hash keyword.
func ParseHash(s string) (Hash, bool) {
	i := slices.Index(hashNames[:], s)
	return Hash(i), i >= 0
}

// AuthMethod is the phase-1 authentication method; AuthRSASig is the IOS default.
type AuthMethod uint8

// Authentication methods.
const (
	AuthRSASig AuthMethod = iota
	AuthPreShare
	AuthRSAEncr
)

var authNames = [...]string{"rsa-sig", "pre-share", "rsa-encr"}

func (a AuthMethod) String() string { return authNames[a] }

// ParseAuth parses an IOS authentication keyword.
func ParseAuth(s string) (AuthMethod, bool) {
	i := slices.Index(authNames[:], s)
	return AuthMethod(i), i >= 0
}

// DHGroups lists the Diffie-Hellman groups IOS offers, in `group ?` order of meaning.
var DHGroups = []int{1, 2, 5, 14, 15, 16, 19, 20, 21, 24}

// ValidDHGroup reports whether g is a group IOS accepts.
func ValidDHGroup(g int) bool { return slices.Contains(DHGroups, g) }

// DHGroupBits is the `group ?` help and `show crypto isakmp policy` description of group g.
func DHGroupBits(g int) string {
	switch g {
	case 1:
		return "768 bit"
	case 2:
		return "1024 bit"
	case 5:
		return "1536 bit"
	case 14:
		return "2048 bit"
	case 15:
		return "3072 bit"
	case 16:
		return "4096 bit"
	case 19:
		return "256 bit ecp"
	case 20:
		return "384 bit ecp"
	case 21:
		return "521 bit ecp"
	case 24:
		return "2048 bit, 256 bit subgroup"
	}
	return ""
}

// Policy defaults (IOS): des, sha, rsa-sig, group 1, 86400 s.
const (
	DefaultISAKMPLifetime = 86400
	DefaultDHGroup        = 1
)

// ISAKMPPolicy is one `crypto isakmp policy N` block.
type ISAKMPPolicy struct {
	Priority   int // 1-10000 (65507+ for the built-in suites)
	Encryption Encryption
	KeyBits    int // AES key size 128/192/256; 0 for des/3des
	Hash       Hash
	Auth       AuthMethod
	Group      int
	Lifetime   int // seconds, 60-86400
}

// NewISAKMPPolicy returns a policy with the IOS defaults.
func NewISAKMPPolicy(priority int) ISAKMPPolicy {
	return ISAKMPPolicy{Priority: priority, Group: DefaultDHGroup, Lifetime: DefaultISAKMPLifetime}
}

// EncryptionKeyword renders the policy's cipher as the `encr` line does: `aes 256`, `aes`
// (128), `3des`, `des`.
func (p *ISAKMPPolicy) EncryptionKeyword() string {
	switch p.Encryption {
	case Encr3DES:
		return "3des"
	case EncrAES:
		if p.KeyBits == 0 || p.KeyBits == 128 {
			return "aes"
		}
		return "aes " + strconv.Itoa(p.KeyBits)
	}
	return "des"
}

// CipherKeyBits is the policy's encryption key length in bits (des 64 with parity, 3des 192).
func (p *ISAKMPPolicy) CipherKeyBits() int {
	switch p.Encryption {
	case Encr3DES:
		return 192
	case EncrAES:
		if p.KeyBits == 0 {
			return 128
		}
		return p.KeyBits
	}
	return 64
}

// DefaultISAKMPPolicies are the suites IOS 15.x uses when no policy is configured (§4.3).
func DefaultISAKMPPolicies() []ISAKMPPolicy {
	var out []ISAKMPPolicy
	prio := 65507
	for _, enc := range []struct {
		e     Encryption
		bits  int
		group int
	}{{EncrAES, 128, 5}, {Encr3DES, 0, 2}} {
		for _, h := range []Hash{HashSHA, HashMD5} {
			for _, a := range []AuthMethod{AuthRSASig, AuthPreShare} {
				out = append(out, ISAKMPPolicy{Priority: prio, Encryption: enc.e, KeyBits: enc.bits,
					Hash: h, Auth: a, Group: enc.group, Lifetime: DefaultISAKMPLifetime})
				prio++
			}
		}
	}
	return out
}

// ISAKMPKey is one `crypto isakmp key KEY {address A [MASK] | hostname NAME} [no-xauth]`.
type ISAKMPKey struct {
	Key      string
	Addr     netip.Addr // zero for a hostname key
	Mask     netip.Addr // zero or 255.255.255.255 for a host entry
	Hostname string
	NoXauth  bool
}

// prefix is the address range the key covers.
func (k *ISAKMPKey) prefix() (netip.Prefix, bool) {
	if !k.Addr.IsValid() {
		return netip.Prefix{}, false
	}
	bits := 32
	if k.Mask.IsValid() {
		bits = maskBits(k.Mask)
		if bits < 0 {
			return netip.Prefix{}, false
		}
	}
	return netip.PrefixFrom(k.Addr, bits).Masked(), true
}

func maskBits(m netip.Addr) int {
	v := addrU32(m)
	n := 0
	for v&0x80000000 != 0 {
		n++
		v <<= 1
	}
	if v != 0 {
		return -1
	}
	return n
}

// Line renders the key as the running-config does: the address is left-justified in 15 columns
// (so a host entry ends in spaces), then the mask unless it is a host mask, then no-xauth.
func (k *ISAKMPKey) Line() string {
	if k.Hostname != "" {
		s := "crypto isakmp key " + k.Key + " hostname " + k.Hostname
		if k.NoXauth {
			s += " no-xauth"
		}
		return s
	}
	s := fmt.Sprintf("crypto isakmp key %s address %-15s", k.Key, k.Addr)
	if k.Mask.IsValid() && k.Mask != netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		s += " " + k.Mask.String()
	}
	if k.NoXauth {
		s += " no-xauth"
	}
	return s
}

// Keepalive is `crypto isakmp keepalive SECONDS [RETRY] [periodic|on-demand]` (DPD).
type Keepalive struct {
	Interval int // 10-3600
	Retry    int // 2-60, default 2
	Periodic bool
}

// IPsec defaults (§3.5).
const (
	DefaultSALifetimeSeconds  = 3600
	DefaultSALifetimeKilobyte = 4608000
)

// Transform names (§3.5) by role.
var (
	ESPCiphers = []string{"esp-3des", "esp-aes", "esp-des", "esp-gcm", "esp-gmac", "esp-null", "esp-seal"}
	ESPAuths   = []string{"esp-md5-hmac", "esp-sha-hmac", "esp-sha256-hmac", "esp-sha384-hmac", "esp-sha512-hmac"}
	AHAuths    = []string{"ah-md5-hmac", "ah-sha-hmac", "ah-sha256-hmac", "ah-sha384-hmac", "ah-sha512-hmac"}
	Comps      = []string{"comp-lzs"}
)

// TransformSet is one `crypto ipsec transform-set NAME T1 [T2 [T3 [T4]]]` with its mode.
type TransformSet struct {
	Name       string
	AH         string // ah-*-hmac or ""
	ESPCipher  string // esp-aes, esp-gcm, esp-3des, ... or ""
	ESPKeyBits int    // 128/192/256 for esp-aes/esp-gcm/esp-gmac when typed; 0 = default 128
	ESPAuth    string // esp-*-hmac or ""
	Comp       string // comp-lzs or ""
	Transport  bool   // `mode transport`; tunnel is the default

	order uint64 // creation order (running-config and show order)
}

// ErrTransform is returned for an invalid combination of transforms.
var ErrTransform = fmt.Errorf("%w: invalid transform combination", ErrCrypto)

// TransformError is one violated transform rule; Msg is the explanation without prefix
// ("more than one ESP encryption transform").
type TransformError struct{ Msg string }

func (e *TransformError) Error() string {
	return "running-config: crypto: invalid transform combination: " + e.Msg
}

// Unwrap makes errors.Is(err, ErrTransform) true.
func (e *TransformError) Unwrap() error { return ErrTransform }

func transformErr(format string, args ...any) error {
	return &TransformError{Msg: fmt.Sprintf(format, args...)}
}

// SetTransforms fills the set from the typed transform list (key sizes following esp-aes /
// esp-gcm / esp-gmac as separate tokens), enforcing IOS's rules: at most one AH, one ESP cipher,
// one ESP auth, one compression; GCM/GMAC not combined with an ESP HMAC; at least one ESP or AH
// transform. On error t is unchanged (*TransformError).
func (t *TransformSet) SetTransforms(tokens []string) error {
	n := TransformSet{Name: t.Name, Transport: t.Transport, order: t.order}
	for i := 0; i < len(tokens); i++ {
		tok := tokens[i]
		switch {
		case slices.Contains(ESPCiphers, tok):
			if n.ESPCipher != "" {
				return transformErr("more than one ESP encryption transform (%s, %s)", n.ESPCipher, tok)
			}
			n.ESPCipher = tok
			if i+1 < len(tokens) && (tok == "esp-aes" || tok == "esp-gcm" || tok == "esp-gmac") {
				if b, err := strconv.Atoi(tokens[i+1]); err == nil {
					if b != 128 && b != 192 && b != 256 {
						return transformErr("key size %d", b)
					}
					n.ESPKeyBits = b
					i++
				}
			}
		case slices.Contains(ESPAuths, tok):
			if n.ESPAuth != "" {
				return transformErr("more than one ESP authentication transform (%s, %s)", n.ESPAuth, tok)
			}
			n.ESPAuth = tok
		case slices.Contains(AHAuths, tok):
			if n.AH != "" {
				return transformErr("more than one AH transform (%s, %s)", n.AH, tok)
			}
			n.AH = tok
		case slices.Contains(Comps, tok):
			if n.Comp != "" {
				return transformErr("more than one compression transform")
			}
			n.Comp = tok
		default:
			return transformErr("unknown transform %q", tok)
		}
	}
	if (n.ESPCipher == "esp-gcm" || n.ESPCipher == "esp-gmac") && n.ESPAuth != "" {
		return transformErr("%s cannot be combined with %s", n.ESPCipher, n.ESPAuth)
	}
	if n.ESPCipher == "" && n.ESPAuth == "" && n.AH == "" {
		return transformErr("no ESP or AH transform")
	}
	*t = n
	return nil
}

// Transforms returns the transform list as typed in the running-config: `esp-aes 256
// esp-sha-hmac`.
func (t *TransformSet) Transforms() []string {
	var out []string
	if t.AH != "" {
		out = append(out, t.AH)
	}
	if t.ESPCipher != "" {
		c := t.ESPCipher
		if t.ESPKeyBits != 0 {
			c += " " + strconv.Itoa(t.ESPKeyBits)
		}
		out = append(out, c)
	}
	if t.ESPAuth != "" {
		out = append(out, t.ESPAuth)
	}
	if t.Comp != "" {
		out = append(out, t.Comp)
	}
	return out
}

// ShowTransforms returns the transform list as show commands print it: `esp-256-aes
// esp-sha-hmac` (key size folded into the cipher name, 128 bits implied).
func (t *TransformSet) ShowTransforms() []string {
	var out []string
	if t.AH != "" {
		out = append(out, t.AH)
	}
	if t.ESPCipher != "" {
		c := t.ESPCipher
		if t.ESPKeyBits == 192 || t.ESPKeyBits == 256 {
			c = "esp-" + strconv.Itoa(t.ESPKeyBits) + "-" + strings.TrimPrefix(c, "esp-")
		}
		out = append(out, c)
	}
	if t.ESPAuth != "" {
		out = append(out, t.ESPAuth)
	}
	if t.Comp != "" {
		out = append(out, t.Comp)
	}
	return out
}

// ShowGroups returns the transform list as `show crypto ipsec transform-set` groups it: the
// AH transform, the ESP transforms and compression each form one `{ ... }` group.
func (t *TransformSet) ShowGroups() [][]string {
	var out [][]string
	show := t.ShowTransforms()
	i := 0
	if t.AH != "" {
		out = append(out, show[:1])
		i = 1
	}
	j := len(show)
	if t.Comp != "" {
		j--
	}
	if j > i {
		out = append(out, show[i:j])
	}
	if t.Comp != "" {
		out = append(out, show[j:])
	}
	return out
}

// ESPKeyLen is the ESP cipher key length in bits (AES default 128).
func (t *TransformSet) ESPKeyLen() int {
	switch t.ESPCipher {
	case "esp-aes", "esp-gcm", "esp-gmac":
		if t.ESPKeyBits == 0 {
			return 128
		}
		return t.ESPKeyBits
	case "esp-3des":
		return 192
	case "esp-des":
		return 64
	}
	return 0
}

// DefaultTransformSet is IOS 15's built-in transform set `default` (esp-aes esp-sha-hmac,
// transport mode) that `show crypto ipsec transform-set` lists first.
func DefaultTransformSet() TransformSet {
	return TransformSet{Name: "default", ESPCipher: "esp-aes", ESPAuth: "esp-sha-hmac", Transport: true}
}

// Limits of the crypto commands (IOS ranges).
const (
	MaxTransformSetsPerEntry = 6
	MaxKeyLen                = 128
	MinSALifetimeSeconds     = 120
	MaxSALifetimeSeconds     = 2592000
	MinSALifetimeKB          = 2560
	MaxSALifetimeKB          = 4294967295
	MinIdleTime              = 60
	MaxIdleTime              = 86400
)

// CryptoMapEntry is one `crypto map NAME SEQ ipsec-isakmp` entry. Its slices are shared
// between configuration snapshots: replace them, never write into them.
type CryptoMapEntry struct {
	Map           string
	Seq           int    // 1-65535
	DynamicMap    string // `ipsec-isakmp dynamic DMAP`
	Description   string
	Peers         []string // addresses (or host names) in priority order, as typed
	TransformSets []string // 1-6 names in priority order
	MatchACL      string   // `match address ACL`
	PFSGroup      int      // 0: no PFS; `set pfs` alone is group 1
	LifetimeSecs  int      // 0: the global value
	LifetimeKB    int64    // 0: the global value
	KBDisable     bool     // `set security-association lifetime kilobytes disable`
	PerHost       bool     // `set security-association level per-host`
	IdleTime      int      // `set security-association idle-time` seconds; 0 off
	ReverseRoute  bool
	RRIStatic     bool // `reverse-route static`
}

// PeerAddrs returns the entry's peers that are addresses, in order.
func (e *CryptoMapEntry) PeerAddrs() []netip.Addr {
	var out []netip.Addr
	for _, p := range e.Peers {
		if a, err := netip.ParseAddr(p); err == nil {
			out = append(out, a)
		}
	}
	return out
}

// check validates an entry on its own.
func (e *CryptoMapEntry) check() error {
	bad := func(what string) error {
		return fmt.Errorf("%w: crypto map %s %d: %s", ErrInvalidValue, e.Map, e.Seq, what)
	}
	switch {
	case e.Map == "" || strings.ContainsAny(e.Map, " \t\x00"):
		return bad("map name")
	case e.Seq < 1 || e.Seq > 65535:
		return bad("sequence number")
	case len(e.TransformSets) > MaxTransformSetsPerEntry:
		return bad("more than 6 transform sets")
	case e.PFSGroup != 0 && !ValidDHGroup(e.PFSGroup):
		return bad("pfs group " + strconv.Itoa(e.PFSGroup))
	case e.LifetimeSecs != 0 && (e.LifetimeSecs < MinSALifetimeSeconds || e.LifetimeSecs > MaxSALifetimeSeconds):
		return bad("lifetime seconds")
	case e.LifetimeKB != 0 && (e.LifetimeKB < MinSALifetimeKB || e.LifetimeKB > MaxSALifetimeKB):
		return bad("lifetime kilobytes")
	case e.IdleTime != 0 && (e.IdleTime < MinIdleTime || e.IdleTime > MaxIdleTime):
		return bad("idle-time")
	case len(e.Description) > MaxDescriptionLen:
		return bad("description too long")
	case e.RRIStatic && !e.ReverseRoute:
		return bad("reverse-route static without reverse-route")
	}
	for i, p := range e.Peers {
		if p == "" || slices.Contains(e.Peers[:i], p) {
			return bad("peer " + p)
		}
	}
	for i, t := range e.TransformSets {
		if slices.Contains(e.TransformSets[:i], t) {
			return bad("transform set " + t + " listed twice")
		}
	}
	return nil
}

// Crypto is the crypto configuration part. Transform sets and crypto map entries are kept in
// copy-on-write collections: ClonePart is O(1) and an edit copies one chunk, so a
// configuration with thousands of entries replays in linear time.
type Crypto struct {
	Policies           []ISAKMPPolicy // ascending priority
	Keys               []ISAKMPKey    // configuration order
	Keepalive          *Keepalive
	NATKeepalive       int    // `crypto isakmp nat keepalive` seconds; 0 off
	Identity           string // `crypto isakmp identity`: "" (address, default), "hostname", "dn"
	AggressiveDisabled bool   // `crypto isakmp aggressive-mode disable`
	ISAKMPDisabled     bool   // `no crypto isakmp`

	SALifetimeSecs int    // `crypto ipsec security-association lifetime seconds`; 0 default
	SALifetimeKB   int64  // `... lifetime kilobytes`; 0 default
	DFBit          string // `crypto ipsec df-bit`: "" or "copy" (default), "clear", "set"
	ReplayWindow   int    // `crypto ipsec security-association replay window-size N`; 0 default (64)

	sets    cow[TransformSet]   // by name
	setNext uint64              // creation counter of sets
	maps    cow[CryptoMapEntry] // by mapKey(name, seq): name order, then sequence
}

// Crypto returns the crypto part of c, or nil when nothing crypto is configured.
func (c *Config) Crypto() *Crypto {
	p, _ := c.Part(PartCrypto).(*Crypto)
	return p
}

// EnsureCrypto returns the crypto part of c, creating an empty one (on a config being edited).
func (c *Config) EnsureCrypto() *Crypto {
	if p := c.Crypto(); p != nil {
		return p
	}
	p := &Crypto{}
	c.SetPart(PartCrypto, p)
	return p
}

// Policy returns the policy with the given priority, or nil.
func (k *Crypto) Policy(prio int) *ISAKMPPolicy {
	i, ok := slices.BinarySearchFunc(k.Policies, prio, func(p ISAKMPPolicy, n int) int { return cmp.Compare(p.Priority, n) })
	if !ok {
		return nil
	}
	return &k.Policies[i]
}

// EnsurePolicy returns the policy with the given priority, creating it with defaults; created
// reports whether it is new.
func (k *Crypto) EnsurePolicy(prio int) (p *ISAKMPPolicy, created bool) {
	i, ok := slices.BinarySearchFunc(k.Policies, prio, func(p ISAKMPPolicy, n int) int { return cmp.Compare(p.Priority, n) })
	if !ok {
		k.Policies = slices.Insert(k.Policies, i, NewISAKMPPolicy(prio))
	}
	return &k.Policies[i], !ok
}

// DeletePolicy removes a policy and reports whether it existed.
func (k *Crypto) DeletePolicy(prio int) bool {
	n := len(k.Policies)
	k.Policies = slices.DeleteFunc(k.Policies, func(p ISAKMPPolicy) bool { return p.Priority == prio })
	return n != len(k.Policies)
}

// SetKey adds a pre-shared key or replaces the key for the same address/mask or hostname.
func (k *Crypto) SetKey(key ISAKMPKey) {
	for i := range k.Keys {
		o := &k.Keys[i]
		if o.Hostname == key.Hostname && o.Addr == key.Addr && sameMask(o.Mask, key.Mask) {
			*o = key
			return
		}
	}
	k.Keys = append(k.Keys, key)
}

func sameMask(a, b netip.Addr) bool {
	host := netip.AddrFrom4([4]byte{255, 255, 255, 255})
	if !a.IsValid() {
		a = host
	}
	if !b.IsValid() {
		b = host
	}
	return a == b
}

// Key returns the key configured for addr/mask (or hostname), or nil.
func (k *Crypto) Key(addr, mask netip.Addr, hostname string) *ISAKMPKey {
	for i := range k.Keys {
		o := &k.Keys[i]
		if o.Hostname == hostname && o.Addr == addr && sameMask(o.Mask, mask) {
			return o
		}
	}
	return nil
}

// DeleteKey removes the key for addr/mask (or hostname) and reports whether it existed.
func (k *Crypto) DeleteKey(addr, mask netip.Addr, hostname string) bool {
	n := len(k.Keys)
	k.Keys = slices.DeleteFunc(k.Keys, func(o ISAKMPKey) bool {
		return o.Hostname == hostname && o.Addr == addr && sameMask(o.Mask, mask)
	})
	return n != len(k.Keys)
}

// TransformSet returns the set called name, or nil. The set is read only: use
// EditTransformSet on a configuration being edited.
func (k *Crypto) TransformSet(name string) *TransformSet { return k.sets.get(name) }

// EditTransformSet returns the set called name for editing (its mode), or nil.
func (k *Crypto) EditTransformSet(name string) *TransformSet { return k.sets.mut(name) }

// TransformSets returns every transform set in creation order.
func (k *Crypto) TransformSets() []TransformSet {
	out := make([]TransformSet, 0, k.sets.len())
	k.sets.each(func(_ string, t *TransformSet) bool { out = append(out, *t); return true })
	slices.SortFunc(out, func(a, b TransformSet) int { return cmp.Compare(a.order, b.order) })
	return out
}

// SetTransformSet creates or replaces the transforms of the set called name (its mode is kept)
// and returns it for editing. On error (*TransformError) nothing changes.
func (k *Crypto) SetTransformSet(name string, tokens []string) (*TransformSet, error) {
	n := TransformSet{Name: name}
	if t := k.sets.get(name); t != nil {
		n.Transport, n.order = t.Transport, t.order
	} else {
		k.setNext++
		n.order = k.setNext
	}
	if err := n.SetTransforms(tokens); err != nil {
		return nil, err
	}
	if t := k.sets.mut(name); t != nil {
		*t = n
		return t, nil
	}
	return k.sets.insert(name, n), nil
}

// TransformSetInUseError refuses to delete a transform set a crypto map entry names.
type TransformSetInUseError struct {
	Set string
	Map string
	Seq int
}

func (e *TransformSetInUseError) Error() string {
	return fmt.Sprintf("running-config: crypto: transform set %s is in use by crypto map %s %d", e.Set, e.Map, e.Seq)
}

// Unwrap makes errors.Is(err, ErrCrypto) true.
func (e *TransformSetInUseError) Unwrap() error { return ErrCrypto }

// DeleteTransformSet removes the set called name and reports whether it existed. A set that a
// crypto map entry names is refused with *TransformSetInUseError.
func (k *Crypto) DeleteTransformSet(name string) (bool, error) {
	if k.sets.get(name) == nil {
		return false, nil
	}
	var inUse error
	k.maps.each(func(_ string, e *CryptoMapEntry) bool {
		if slices.Contains(e.TransformSets, name) {
			inUse = &TransformSetInUseError{Set: name, Map: e.Map, Seq: e.Seq}
			return false
		}
		return true
	})
	if inUse != nil {
		return false, inUse
	}
	return k.sets.delete(name), nil
}

// mapKey orders crypto map entries by map name, then sequence number.
func mapKey(name string, seq int) string {
	var b [5]byte
	for i := 4; i >= 0; i-- {
		b[i] = byte('0' + seq%10)
		seq /= 10
	}
	return name + "\x00" + string(b[:])
}

// MapEntry returns the crypto map entry NAME SEQ, or nil. Read only: use EnsureMapEntry on a
// configuration being edited.
func (k *Crypto) MapEntry(name string, seq int) *CryptoMapEntry {
	if seq < 1 || seq > 65535 {
		return nil
	}
	return k.maps.get(mapKey(name, seq))
}

// EnsureMapEntry returns the entry NAME SEQ for editing, creating it; created reports whether
// it is new (the shell prints the NOTE of §3.6 then). The pointer is valid until the next entry
// is created or deleted.
func (k *Crypto) EnsureMapEntry(name string, seq int) (e *CryptoMapEntry, created bool) {
	key := mapKey(name, seq)
	if e := k.maps.mut(key); e != nil {
		return e, false
	}
	return k.maps.insert(key, CryptoMapEntry{Map: name, Seq: seq}), true
}

// DeleteMap removes one entry (seq > 0) or every entry of the map (seq 0) and reports whether
// anything was removed.
func (k *Crypto) DeleteMap(name string, seq int) bool {
	if seq > 0 {
		return seq <= 65535 && k.maps.delete(mapKey(name, seq))
	}
	var keys []string
	k.maps.from(name+"\x00", func(key string, e *CryptoMapEntry) bool {
		if e.Map != name {
			return false
		}
		keys = append(keys, key)
		return true
	})
	for _, key := range keys {
		k.maps.delete(key)
	}
	return len(keys) > 0
}

// MapEntries returns the entries of the map called name in sequence order.
func (k *Crypto) MapEntries(name string) []CryptoMapEntry {
	var out []CryptoMapEntry
	k.maps.from(name+"\x00", func(_ string, e *CryptoMapEntry) bool {
		if e.Map != name {
			return false
		}
		out = append(out, *e)
		return true
	})
	return out
}

// Maps returns every crypto map entry ordered by map name, then sequence number (the order of
// the running-config and of `show crypto map`).
func (k *Crypto) Maps() []CryptoMapEntry {
	out := make([]CryptoMapEntry, 0, k.maps.len())
	k.maps.each(func(_ string, e *CryptoMapEntry) bool { out = append(out, *e); return true })
	return out
}

// MapLen is the number of crypto map entries.
func (k *Crypto) MapLen() int { return k.maps.len() }

// ClonePart implements Part. The collections are shared until edited (O(1)); the small
// slices are copied.
func (k *Crypto) ClonePart() Part {
	n := *k
	n.Policies = slices.Clone(k.Policies)
	n.Keys = slices.Clone(k.Keys)
	if k.Keepalive != nil {
		ka := *k.Keepalive
		n.Keepalive = &ka
	}
	n.sets = k.sets.clone()
	n.maps = k.maps.clone()
	return &n
}

// ValidatePart implements Part: values in their IOS ranges, no duplicates, map entries naming
// existing transform sets. Policies, keys and global values are checked in full; transform
// sets and map entries as far as they were touched since the clone. (A map entry may name an
// ACL that does not exist yet: IOS accepts it and shows the entry as incomplete.)
func (k *Crypto) ValidatePart(_ *Config) error {
	for i, p := range k.Policies {
		if i > 0 && p.Priority <= k.Policies[i-1].Priority {
			return fmt.Errorf("%w: isakmp policy %d", ErrUnsorted, p.Priority)
		}
		if err := p.check(); err != nil {
			return err
		}
	}
	for i := range k.Keys {
		if err := k.Keys[i].check(); err != nil {
			return err
		}
	}
	if err := k.checkGlobals(); err != nil {
		return err
	}
	if err := k.sets.checkDirty(func(name string, t *TransformSet) error {
		if t.Name != name {
			return fmt.Errorf("%w: transform set %s renamed to %s", ErrInvalidValue, name, t.Name)
		}
		c := TransformSet{Name: t.Name, Transport: t.Transport, order: t.order}
		if err := c.SetTransforms(strings.Fields(strings.Join(t.Transforms(), " "))); err != nil || c != *t {
			return fmt.Errorf("transform set %s: %w", name, ErrTransform)
		}
		return nil
	}); err != nil {
		return err
	}
	return k.maps.checkDirty(func(key string, e *CryptoMapEntry) error {
		if mapKey(e.Map, e.Seq) != key {
			return fmt.Errorf("%w: crypto map entry %q renamed to %s %d", ErrInvalidValue, key, e.Map, e.Seq)
		}
		if err := e.check(); err != nil {
			return err
		}
		for _, t := range e.TransformSets {
			if k.sets.get(t) == nil {
				return fmt.Errorf("%w: crypto map %s %d: transform set %s does not exist", ErrCrypto, e.Map, e.Seq, t)
			}
		}
		return nil
	})
}

func (p *ISAKMPPolicy) check() error {
	bad := func(what string) error {
		return fmt.Errorf("%w: isakmp policy %d: %s", ErrInvalidValue, p.Priority, what)
	}
	switch {
	case p.Priority < 1 || p.Priority > 10000:
		return bad("priority")
	case p.Encryption > EncrAES:
		return bad("encryption")
	case p.Encryption == EncrAES && p.KeyBits != 0 && p.KeyBits != 128 && p.KeyBits != 192 && p.KeyBits != 256,
		p.Encryption != EncrAES && p.KeyBits != 0:
		return bad("key length")
	case int(p.Hash) >= len(hashNames):
		return bad("hash")
	case int(p.Auth) >= len(authNames):
		return bad("authentication")
	case !ValidDHGroup(p.Group):
		return bad("group")
	case p.Lifetime < 60 || p.Lifetime > 86400:
		return bad("lifetime")
	}
	return nil
}

func (k *ISAKMPKey) check() error {
	bad := func(what string) error { return fmt.Errorf("%w: isakmp key: %s", ErrInvalidValue, what) }
	switch {
	case k.Key == "" || len(k.Key) > MaxKeyLen || strings.ContainsAny(k.Key, " \t"):
		return bad("key must be 1-128 characters without spaces")
	case (k.Hostname == "") == !k.Addr.IsValid():
		return bad("exactly one of address and hostname")
	case k.Addr.IsValid() && !k.Addr.Is4(), k.Mask.IsValid() && !k.Mask.Is4():
		return bad("address")
	case k.Mask.IsValid() && maskBits(k.Mask) < 0:
		return bad("mask")
	}
	return nil
}

func (k *Crypto) checkGlobals() error {
	bad := func(what string) error { return fmt.Errorf("%w: crypto %s", ErrInvalidValue, what) }
	if ka := k.Keepalive; ka != nil && (ka.Interval < 10 || ka.Interval > 3600 || ka.Retry != 0 && (ka.Retry < 2 || ka.Retry > 60)) {
		return bad("isakmp keepalive")
	}
	switch {
	case k.NATKeepalive != 0 && (k.NATKeepalive < 5 || k.NATKeepalive > 3600):
		return bad("isakmp nat keepalive")
	case k.Identity != "" && k.Identity != "address" && k.Identity != "hostname" && k.Identity != "dn":
		return bad("isakmp identity")
	case k.SALifetimeSecs != 0 && (k.SALifetimeSecs < MinSALifetimeSeconds || k.SALifetimeSecs > MaxSALifetimeSeconds):
		return bad("ipsec security-association lifetime seconds")
	case k.SALifetimeKB != 0 && (k.SALifetimeKB < MinSALifetimeKB || k.SALifetimeKB > MaxSALifetimeKB):
		return bad("ipsec security-association lifetime kilobytes")
	case k.DFBit != "" && k.DFBit != "copy" && k.DFBit != "clear" && k.DFBit != "set":
		return bad("ipsec df-bit")
	case k.ReplayWindow != 0 && !slices.Contains(ReplayWindows, k.ReplayWindow):
		return bad("ipsec replay window-size")
	}
	return nil
}

// ReplayWindows are the sizes `crypto ipsec security-association replay window-size` accepts.
var ReplayWindows = []int{64, 128, 256, 512, 1024}

// RenderSlot implements Part in the order of §4.11 and the block layouts of §3.4-3.6.
func (k *Crypto) RenderSlot(s Slot, w *Writer) {
	switch s {
	case SlotCryptoISAKMP:
		k.renderISAKMP(w)
	case SlotCryptoIPsec:
		k.renderIPsec(w)
	case SlotCryptoMap:
		k.renderMaps(w)
	}
}

func (k *Crypto) renderISAKMP(w *Writer) {
	for i := range k.Policies {
		p := &k.Policies[i]
		w.Line("crypto isakmp policy " + strconv.Itoa(p.Priority))
		if p.Encryption != EncrDES {
			w.Line(" encr " + p.EncryptionKeyword())
		}
		if p.Hash != HashSHA {
			w.Line(" hash " + p.Hash.String())
		}
		if p.Auth != AuthRSASig {
			w.Line(" authentication " + p.Auth.String())
		}
		if p.Group != DefaultDHGroup {
			w.Line(" group " + strconv.Itoa(p.Group))
		}
		if p.Lifetime != DefaultISAKMPLifetime {
			w.Line(" lifetime " + strconv.Itoa(p.Lifetime))
		}
	}
	for i := range k.Keys {
		w.Line(k.Keys[i].Line())
	}
	if ka := k.Keepalive; ka != nil {
		s := "crypto isakmp keepalive " + strconv.Itoa(ka.Interval)
		if ka.Retry != 0 && ka.Retry != 2 {
			s += " " + strconv.Itoa(ka.Retry)
		}
		if ka.Periodic {
			s += " periodic"
		}
		w.Line(s)
	}
	if k.NATKeepalive != 0 {
		w.Line("crypto isakmp nat keepalive " + strconv.Itoa(k.NATKeepalive))
	}
	if k.Identity != "" && k.Identity != "address" {
		w.Line("crypto isakmp identity " + k.Identity)
	}
	if k.AggressiveDisabled {
		w.Line("crypto isakmp aggressive-mode disable")
	}
	if k.ISAKMPDisabled {
		w.Line("no crypto isakmp")
	}
}

func (k *Crypto) renderIPsec(w *Writer) {
	global := false
	if k.SALifetimeSecs != 0 {
		w.Line("crypto ipsec security-association lifetime seconds " + strconv.Itoa(k.SALifetimeSecs))
		global = true
	}
	if k.SALifetimeKB != 0 {
		w.Line("crypto ipsec security-association lifetime kilobytes " + strconv.FormatInt(k.SALifetimeKB, 10))
		global = true
	}
	if k.ReplayWindow != 0 && k.ReplayWindow != 64 {
		w.Line("crypto ipsec security-association replay window-size " + strconv.Itoa(k.ReplayWindow))
		global = true
	}
	if k.DFBit != "" && k.DFBit != "copy" {
		w.Line("crypto ipsec df-bit " + k.DFBit)
		global = true
	}
	sets := k.TransformSets()
	if global && len(sets) > 0 {
		w.Bang()
	}
	for i := range sets {
		t := &sets[i]
		if i > 0 {
			w.Bang()
		}
		w.Line("crypto ipsec transform-set " + t.Name + " " + strings.Join(t.Transforms(), " ") + " ")
		if t.Transport {
			w.Line(" mode transport")
		} else {
			w.Line(" mode tunnel")
		}
	}
}

func (k *Crypto) renderMaps(w *Writer) {
	first := true
	k.maps.each(func(_ string, e *CryptoMapEntry) bool {
		if !first {
			w.Bang()
		}
		first = false
		head := "crypto map " + e.Map + " " + strconv.Itoa(e.Seq) + " ipsec-isakmp "
		if e.DynamicMap != "" {
			head += "dynamic " + e.DynamicMap + " "
		}
		w.Line(head)
		if e.Description != "" {
			w.Line(" description " + e.Description)
		}
		for _, p := range e.Peers {
			w.Line(" set peer " + p)
		}
		if e.LifetimeSecs != 0 {
			w.Line(" set security-association lifetime seconds " + strconv.Itoa(e.LifetimeSecs))
		}
		if e.KBDisable {
			w.Line(" set security-association lifetime kilobytes disable")
		} else if e.LifetimeKB != 0 {
			w.Line(" set security-association lifetime kilobytes " + strconv.FormatInt(e.LifetimeKB, 10))
		}
		if e.PerHost {
			w.Line(" set security-association level per-host")
		}
		if e.IdleTime != 0 {
			w.Line(" set security-association idle-time " + strconv.Itoa(e.IdleTime))
		}
		if len(e.TransformSets) > 0 {
			w.Line(" set transform-set " + strings.Join(e.TransformSets, " ") + " ")
		}
		if e.PFSGroup != 0 {
			w.Line(" set pfs group" + strconv.Itoa(e.PFSGroup))
		}
		if e.MatchACL != "" {
			w.Line(" match address " + e.MatchACL)
		}
		if e.ReverseRoute {
			if e.RRIStatic {
				w.Line(" reverse-route static")
			} else {
				w.Line(" reverse-route")
			}
		}
		return true
	})
}

var _ Part = (*Crypto)(nil)

// ---- what the IKE engine reads

// ISAKMPPolicies returns the policies negotiation uses, in ascending priority: the configured
// ones, or IOS's default suites when none is configured.
func (c *Config) ISAKMPPolicies() []ISAKMPPolicy {
	if k := c.Crypto(); k != nil && len(k.Policies) > 0 {
		return k.Policies
	}
	return DefaultISAKMPPolicies()
}

// PreSharedKey returns the pre-shared key for peer: the entry whose address range holds the
// peer with the longest mask (most specific first, as IOS looks keys up).
func (c *Config) PreSharedKey(peer netip.Addr) (string, bool) {
	k := c.Crypto()
	if k == nil {
		return "", false
	}
	best, bestBits := "", -1
	for i := range k.Keys {
		p, ok := k.Keys[i].prefix()
		if ok && p.Contains(peer) && p.Bits() > bestBits {
			best, bestBits = k.Keys[i].Key, p.Bits()
		}
	}
	return best, bestBits >= 0
}

// SALifetime returns the IPsec SA lifetime of entry e: its own values or the global ones, with
// the IOS defaults underneath. kb 0 means no volume limit (`kilobytes disable`).
func (c *Config) SALifetime(e *CryptoMapEntry) (secs int, kb int64) {
	secs, kb = DefaultSALifetimeSeconds, DefaultSALifetimeKilobyte
	if k := c.Crypto(); k != nil {
		if k.SALifetimeSecs != 0 {
			secs = k.SALifetimeSecs
		}
		if k.SALifetimeKB != 0 {
			kb = k.SALifetimeKB
		}
	}
	if e.LifetimeSecs != 0 {
		secs = e.LifetimeSecs
	}
	switch {
	case e.KBDisable:
		kb = 0
	case e.LifetimeKB != 0:
		kb = e.LifetimeKB
	}
	return secs, kb
}

// ResolvedEntry is a crypto map entry with its references resolved, as negotiation needs it.
type ResolvedEntry struct {
	Entry         CryptoMapEntry
	Interface     string       // the interface the map is bound to
	LocalAddr     netip.Addr   // that interface's primary address
	Peers         []netip.Addr // address peers in priority order
	ACL           *ACL         // the `match address` list (extended)
	TransformSets []TransformSet
	LifetimeSecs  int
	LifetimeKB    int64
}

// Incomplete reports why an entry cannot be negotiated: missing peer, ACL, or transform set
// (IOS ignores such entries and `show crypto map` flags them). "" when complete.
func (c *Config) Incomplete(e *CryptoMapEntry) string {
	switch {
	case len(e.PeerAddrs()) == 0 && e.DynamicMap == "":
		return "missing peer"
	case e.MatchACL == "":
		return "no matching address list set"
	case c.ACL(e.MatchACL) == nil || c.ACL(e.MatchACL).Kind != ACLExtended:
		return "access list " + e.MatchACL + " is not an extended list"
	case len(e.TransformSets) == 0:
		return "no transform set"
	}
	return ""
}

// ActiveMapEntries returns every complete entry of every crypto map bound to an interface, in
// interface order then sequence order: what the engine negotiates.
func (c *Config) ActiveMapEntries() []ResolvedEntry {
	k := c.Crypto()
	if k == nil {
		return nil
	}
	var out []ResolvedEntry
	for i := range c.Interfaces {
		f := &c.Interfaces[i]
		if f.CryptoMap == "" {
			continue
		}
		for _, e := range k.MapEntries(f.CryptoMap) {
			if c.Incomplete(&e) != "" {
				continue
			}
			r := ResolvedEntry{Entry: e, Interface: f.Name, Peers: e.PeerAddrs(), ACL: c.ACL(e.MatchACL)}
			if f.Address.IsValid() {
				r.LocalAddr = f.Address.Addr()
			}
			for _, n := range e.TransformSets {
				if t := k.TransformSet(n); t != nil {
					r.TransformSets = append(r.TransformSets, *t)
				}
			}
			r.LifetimeSecs, r.LifetimeKB = c.SALifetime(&e)
			out = append(out, r)
		}
	}
	return out
}

// MapInterfaces returns the interfaces a crypto map is bound to, in IOS order.
func (c *Config) MapInterfaces(name string) []string {
	var out []string
	for i := range c.Interfaces {
		if c.Interfaces[i].CryptoMap == name {
			out = append(out, c.Interfaces[i].Name)
		}
	}
	return out
}

// ---- copy-on-write ordered collection

// cow is an ordered collection of V keyed by string, shared between configuration snapshots.
// Items live in chunks of at most cowMax; a clone shares every chunk and the chunk list, and
// the first edit of a chunk (or of the list) copies it, so cloning is O(1) and an edit costs
// O(n/cowMax + cowMax) instead of O(n). Chunks and the list carry the owner token of the clone
// that made them: only those are written in place.
//
// A cow is not safe for concurrent writes; snapshots that are never edited may be read by any
// number of goroutines. Pointers handed out by mut and insert are valid until the next insert
// or delete. Every key handed out for editing is remembered (dirty) so that validation can
// look at what changed since the clone instead of at everything.
type cow[V any] struct {
	owner     *cowOwner
	rootOwned bool
	chunks    []*cowChunk[V]
	n         int
	dirty     []string
}

// cowOwner identifies one clone; it has a size so that new() returns distinct pointers.
type cowOwner struct{ _ byte }

type cowChunk[V any] struct {
	owner *cowOwner
	items []cowItem[V]
}

type cowItem[V any] struct {
	key string
	val V
}

const (
	cowMax  = 64 // a chunk splits when it grows past this
	cowHalf = cowMax / 2
)

// clone returns a collection sharing everything with c; either may then be edited.
func (c *cow[V]) clone() cow[V] { return cow[V]{chunks: c.chunks, n: c.n} }

func (c *cow[V]) len() int { return c.n }

// locate finds key: the chunk and position where it is or would be inserted.
func (c *cow[V]) locate(key string) (ci, i int, found bool) {
	ci, _ = slices.BinarySearchFunc(c.chunks, key, func(ch *cowChunk[V], k string) int {
		return strings.Compare(ch.items[len(ch.items)-1].key, k)
	})
	if ci == len(c.chunks) {
		if ci == 0 {
			return 0, 0, false
		}
		ci--
		return ci, len(c.chunks[ci].items), false
	}
	i, found = slices.BinarySearchFunc(c.chunks[ci].items, key, func(it cowItem[V], k string) int {
		return strings.Compare(it.key, k)
	})
	return ci, i, found
}

// get returns the item for key (read only), or nil.
func (c *cow[V]) get(key string) *V {
	ci, i, ok := c.locate(key)
	if !ok {
		return nil
	}
	return &c.chunks[ci].items[i].val
}

// writable makes chunk ci (and the chunk list) owned by c and returns it.
func (c *cow[V]) writable(ci int) *cowChunk[V] {
	if c.owner == nil {
		c.owner = new(cowOwner)
	}
	if !c.rootOwned {
		c.chunks = slices.Clone(c.chunks)
		c.rootOwned = true
	}
	ch := c.chunks[ci]
	if ch.owner != c.owner {
		ch = &cowChunk[V]{owner: c.owner, items: slices.Clone(ch.items)}
		c.chunks[ci] = ch
	}
	return ch
}

// mut returns the item for key for editing, or nil when it does not exist.
func (c *cow[V]) mut(key string) *V {
	ci, i, ok := c.locate(key)
	if !ok {
		return nil
	}
	c.dirty = append(c.dirty, key)
	return &c.writable(ci).items[i].val
}

// insert adds v under key, which must not exist, and returns it for editing.
func (c *cow[V]) insert(key string, v V) *V {
	c.dirty = append(c.dirty, key)
	c.n++
	if len(c.chunks) == 0 {
		if c.owner == nil {
			c.owner = new(cowOwner)
		}
		c.chunks = []*cowChunk[V]{{owner: c.owner, items: []cowItem[V]{{key, v}}}}
		c.rootOwned = true
		return &c.chunks[0].items[0].val
	}
	ci, i, _ := c.locate(key)
	ch := c.writable(ci)
	ch.items = slices.Insert(ch.items, i, cowItem[V]{key, v})
	if len(ch.items) <= cowMax {
		return &ch.items[i].val
	}
	right := &cowChunk[V]{owner: c.owner, items: slices.Clone(ch.items[cowHalf:])}
	ch.items = slices.Clip(ch.items[:cowHalf])
	c.chunks = slices.Insert(c.chunks, ci+1, right)
	if i < cowHalf {
		return &ch.items[i].val
	}
	return &right.items[i-cowHalf].val
}

// delete removes key and reports whether it existed.
func (c *cow[V]) delete(key string) bool {
	ci, i, ok := c.locate(key)
	if !ok {
		return false
	}
	ch := c.writable(ci)
	ch.items = slices.Delete(ch.items, i, i+1)
	if len(ch.items) == 0 {
		c.chunks = slices.Delete(c.chunks, ci, ci+1)
	}
	c.n--
	return true
}

// each calls f for every item in key order until f returns false.
func (c *cow[V]) each(f func(key string, v *V) bool) {
	for _, ch := range c.chunks {
		for i := range ch.items {
			if !f(ch.items[i].key, &ch.items[i].val) {
				return
			}
		}
	}
}

// from calls f for every item with a key >= start, in key order, until f returns false.
func (c *cow[V]) from(start string, f func(key string, v *V) bool) {
	ci, i, _ := c.locate(start)
	for ; ci < len(c.chunks); ci, i = ci+1, 0 {
		items := c.chunks[ci].items
		for ; i < len(items); i++ {
			if !f(items[i].key, &items[i].val) {
				return
			}
		}
	}
}

// checkDirty runs check on every item handed out for editing since the clone that still
// exists. It does not modify c.
func (c *cow[V]) checkDirty(check func(key string, v *V) error) error {
	var seen map[string]bool
	if len(c.dirty) > 8 {
		seen = make(map[string]bool, len(c.dirty))
	}
	for j, key := range c.dirty {
		if seen != nil {
			if seen[key] {
				continue
			}
			seen[key] = true
		} else if slices.Contains(c.dirty[:j], key) {
			continue
		}
		if v := c.get(key); v != nil {
			if err := check(key, v); err != nil {
				return err
			}
		}
	}
	return nil
}
