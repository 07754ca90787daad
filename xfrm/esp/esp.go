package esp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"hash"
	"math"
	"sync"

	"github.com/tunnelbox/tunnelbox/xfrm"
)

// Sizes of the fixed ESP fields (RFC 4303 §2).
const (
	HeaderLen  = 8   // SPI (4) + sequence number (4)
	TrailerLen = 2   // pad length (1) + next header (1)
	gcmIVLen   = 8   // RFC 4106 §3.1 explicit IV
	gcmNonce   = 12  // salt (4) | explicit IV (8)
	maxPadding = 255 // the pad length octet
	// MaxOverhead bounds the octets Seal adds to a payload for any supported algorithm:
	// header, a 16-octet IV, up to 15 octets of padding, the trailer and a 32-octet ICV.
	MaxOverhead = HeaderLen + aes.BlockSize + aes.BlockSize - 1 + TrailerLen + sha512.Size/2
)

// IP protocol numbers used as ESP next-header values.
const (
	protoIPv4 = 4  // IP-in-IP: tunnel mode, inner IPv4
	protoIPv6 = 41 // tunnel mode, inner IPv6
	protoNone = 59 // IPv6-NoNxt: dummy packet (RFC 4303 §2.6)
)

// ivBatch is how many octets of randomness a CBC State reads from crypto/rand at a time.
const ivBatch = 1024

// Options tune a State.
type Options struct {
	// OnExpire is called (outside the State's lock) once when a soft byte or packet limit is
	// reached and once when a hard one is, or when the sequence number is exhausted. It must
	// not block.
	OnExpire func(hard bool, cause xfrm.ExpireCause)
}

// State is the live ESP state of one SA: keys, sequence number or replay window, counters,
// lifetime accounting.
type State struct {
	spi      uint32
	outbound bool
	tunnel   bool
	ivLen    int // explicit IV octets on the wire
	align    int // the ciphertext (payload | padding | trailer) is a multiple of this
	icvLen   int
	life     xfrm.Lifetime
	onExpire func(bool, xfrm.ExpireCause)

	mu       sync.Mutex // guards everything below and serializes use of the ciphers
	aead     cipher.AEAD
	enc, dec cipher.BlockMode // CBC; nil for NULL and GCM
	mac      hash.Hash        // nil for AEAD
	nonce    [gcmNonce]byte   // salt | explicit IV (GCM)
	sum      [sha512.Size]byte
	ivs      []byte // unused random IV octets (CBC outbound)
	ivBuf    [ivBatch]byte
	seq      uint64 // last sequence number sent (outbound)
	replay   *replayWindow
	cnt      xfrm.Counters
	softSent bool
	dead     bool // a hard limit was reached
}

// setIV is implemented by the standard library's CBC modes (crypto/cipher and its AES fast
// path); it lets one BlockMode serve every packet.
type setIV interface{ SetIV([]byte) }

// New builds the ESP state for sa, which must pass sa.Validate.
func New(sa *xfrm.SA, opt Options) (*State, error) {
	if err := sa.Validate(); err != nil {
		return nil, fmt.Errorf("esp: %w", err)
	}
	s := &State{
		spi:      sa.SPI,
		outbound: sa.Dir == xfrm.DirOut,
		tunnel:   sa.Mode == xfrm.ModeTunnel,
		icvLen:   sa.EffectiveICVLen(),
		life:     sa.Lifetime,
		onExpire: opt.OnExpire,
	}
	if w := sa.Window(); !s.outbound && w > 0 {
		s.replay = newReplayWindow(w)
	}
	var block cipher.Block
	var err error
	switch sa.Enc {
	case xfrm.EncNull:
		s.align = 4
	case xfrm.EncDES:
		block, err = des.NewCipher(sa.EncKey)
	case xfrm.Enc3DES:
		block, err = des.NewTripleDESCipher(sa.EncKey)
	case xfrm.EncAESCBC, xfrm.EncAESGCM16:
		block, err = aes.NewCipher(sa.EncKey)
	default:
		return nil, fmt.Errorf("esp: encryption %s not supported", sa.Enc)
	}
	if err != nil {
		return nil, fmt.Errorf("esp: %s key: %w", sa.Enc, err)
	}
	switch {
	case sa.Enc == xfrm.EncAESGCM16:
		if s.aead, err = cipher.NewGCM(block); err != nil {
			return nil, fmt.Errorf("esp: gcm: %w", err)
		}
		copy(s.nonce[:4], sa.Salt)
		s.ivLen, s.align = gcmIVLen, 4 // RFC 4106 §3.2: 4-octet alignment
	case block != nil:
		bs := block.BlockSize()
		zero := make([]byte, bs)
		s.enc, s.dec = cipher.NewCBCEncrypter(block, zero), cipher.NewCBCDecrypter(block, zero)
		if _, ok := s.enc.(setIV); !ok {
			return nil, fmt.Errorf("esp: %s: CBC mode cannot change its IV", sa.Enc)
		}
		if _, ok := s.dec.(setIV); !ok {
			return nil, fmt.Errorf("esp: %s: CBC mode cannot change its IV", sa.Enc)
		}
		s.ivLen, s.align = bs, bs
	}
	if sa.Auth != xfrm.AuthNone {
		var h func() hash.Hash
		switch sa.Auth {
		case xfrm.AuthHMACMD5:
			h = md5.New
		case xfrm.AuthHMACSHA1:
			h = sha1.New
		case xfrm.AuthHMACSHA256:
			h = sha256.New
		case xfrm.AuthHMACSHA384:
			h = sha512.New384
		case xfrm.AuthHMACSHA512:
			h = sha512.New
		default:
			return nil, fmt.Errorf("esp: integrity %s not supported", sa.Auth)
		}
		s.mac = hmac.New(h, sa.AuthKey)
	}
	return s, nil
}

// SPI returns the SA's SPI.
func (s *State) SPI() uint32 { return s.spi }

// SealedLen returns the length of the ESP packet Seal produces for an n-octet payload.
func (s *State) SealedLen(n int) int {
	return HeaderLen + s.ivLen + s.ctLen(n) + s.icvLen
}

// ctLen is the encrypted part's length: payload, padding to the alignment, trailer.
func (s *State) ctLen(n int) int {
	m := n + TrailerLen
	return m + (s.align-m%s.align)%s.align
}

// Counters returns a snapshot of the SA's counters.
func (s *State) Counters() xfrm.Counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cnt
}

// Seal appends to dst the ESP packet (header through ICV) that carries payload with the given
// next header (4 or 41 for a tunnel-mode inner packet, the upper-layer protocol in transport
// mode). It uses the next sequence number. On error nothing is appended.
func (s *State) Seal(dst, payload []byte, nextHeader byte) ([]byte, error) {
	if !s.outbound {
		return dst, fmt.Errorf("esp: Seal on inbound SA 0x%08x", s.spi)
	}
	ct := s.ctLen(len(payload))
	total := HeaderLen + s.ivLen + ct + s.icvLen
	if total > math.MaxUint16 {
		s.mu.Lock()
		s.cnt.ErrOther++
		s.mu.Unlock()
		return dst, ErrTooLong
	}
	s.mu.Lock()
	if s.dead {
		s.cnt.ErrOther++
		s.mu.Unlock()
		return dst, ErrExpired
	}
	if s.seq == math.MaxUint32 {
		s.cnt.ErrReplay++
		s.dead = true
		s.mu.Unlock()
		s.expire(true, xfrm.ExpirePackets)
		return dst, ErrSeqOverflow
	}
	s.seq++
	out, pkt := grow(dst, total)
	binary.BigEndian.PutUint32(pkt[0:], s.spi)
	binary.BigEndian.PutUint32(pkt[4:], uint32(s.seq))
	iv := pkt[HeaderLen : HeaderLen+s.ivLen]
	body := pkt[HeaderLen+s.ivLen : HeaderLen+s.ivLen+ct]
	n := copy(body, payload)
	pad := ct - n - TrailerLen
	for i := range pad {
		body[n+i] = byte(i + 1) // RFC 4303 §2.4 default padding: 1, 2, 3, ...
	}
	body[ct-2] = byte(pad)
	body[ct-1] = nextHeader
	switch {
	case s.aead != nil:
		binary.BigEndian.PutUint64(iv, s.seq) // RFC 4106 §3.1: a counter IV, unique per key
		copy(s.nonce[4:], iv)
		s.aead.Seal(body[:0], s.nonce[:], body, pkt[:HeaderLen])
	default:
		if s.enc != nil {
			s.randomIV(iv)
			s.enc.(setIV).SetIV(iv)
			s.enc.CryptBlocks(body, body)
		}
		if s.mac != nil {
			s.mac.Reset()
			s.mac.Write(pkt[:HeaderLen+s.ivLen+ct])
			copy(pkt[HeaderLen+s.ivLen+ct:], s.mac.Sum(s.sum[:0])[:s.icvLen])
		}
	}
	s.cnt.Encaps++
	soft, hard, cause := s.account(len(payload))
	s.mu.Unlock()
	s.report(soft, hard, cause)
	return out, nil
}

// Open checks and decrypts the ESP packet pkt (SPI through ICV) and appends its payload to dst,
// returning the extended slice and the next header. On error nothing is appended and the drop
// is counted; ErrDummy marks an authentic dummy packet that is dropped silently. dst must not
// overlap pkt.
func (s *State) Open(dst, pkt []byte) ([]byte, byte, error) {
	if s.outbound {
		return dst, 0, fmt.Errorf("esp: Open on outbound SA 0x%08x", s.spi)
	}
	s.mu.Lock()
	out, nh, err := s.open(dst, pkt)
	var soft, hard bool
	var cause xfrm.ExpireCause
	if err == nil {
		soft, hard, cause = s.account(len(out) - len(dst))
	}
	s.mu.Unlock()
	s.report(soft, hard, cause)
	return out, nh, err
}

// open is Open under the lock.
func (s *State) open(dst, pkt []byte) ([]byte, byte, error) {
	ctStart := HeaderLen + s.ivLen
	ct := len(pkt) - ctStart - s.icvLen
	if ct < TrailerLen || ct%s.align != 0 || binary.BigEndian.Uint32(pkt) != s.spi {
		s.cnt.ErrOther++
		return dst, 0, ErrMalformed
	}
	if s.dead {
		s.cnt.ErrOther++
		return dst, 0, ErrExpired
	}
	seq := uint64(binary.BigEndian.Uint32(pkt[4:]))
	if s.replay != nil && !s.replay.check(seq) {
		s.cnt.ErrReplay++
		return dst, 0, ErrReplay
	}
	var body []byte
	out := dst
	switch {
	case s.aead != nil:
		copy(s.nonce[4:], pkt[HeaderLen:ctStart])
		var err error
		out, err = s.aead.Open(dst, s.nonce[:], pkt[ctStart:], pkt[:HeaderLen])
		if err != nil {
			s.cnt.ErrAuth++
			return dst, 0, ErrAuth
		}
		body = out[len(dst):]
	default:
		if s.mac != nil {
			s.mac.Reset()
			s.mac.Write(pkt[:ctStart+ct])
			sum := s.mac.Sum(s.sum[:0])[:s.icvLen]
			if subtle.ConstantTimeCompare(sum, pkt[ctStart+ct:]) != 1 {
				s.cnt.ErrAuth++
				return dst, 0, ErrAuth
			}
		}
		out, body = grow(dst, ct)
		if s.dec != nil {
			s.dec.(setIV).SetIV(pkt[HeaderLen:ctStart])
			s.dec.CryptBlocks(body, pkt[ctStart:ctStart+ct])
		} else {
			copy(body, pkt[ctStart:ctStart+ct])
		}
	}
	// Authentic: only now may the window move (RFC 4303 §3.4.3).
	if s.replay != nil && !s.replay.update(seq) {
		s.cnt.ErrReplay++
		return dst, 0, ErrReplay
	}
	pad, nh := int(body[ct-2]), body[ct-1]
	if pad+TrailerLen > ct {
		s.cnt.ErrDecrypt++
		return dst, 0, ErrPadding
	}
	n := ct - TrailerLen - pad
	for i := range pad {
		if body[n+i] != byte(i+1) {
			s.cnt.ErrDecrypt++
			return dst, 0, ErrPadding
		}
	}
	switch {
	case nh == protoNone:
		s.cnt.Decaps++
		return dst, 0, ErrDummy
	case s.tunnel && nh != protoIPv4 && nh != protoIPv6:
		s.cnt.ErrDecrypt++
		return dst, 0, ErrPadding
	}
	s.cnt.Decaps++
	return out[:len(dst)+n], nh, nil
}

// account adds one packet of n payload octets and says which limits it reached now.
// Called with the lock held.
func (s *State) account(n int) (soft, hard bool, cause xfrm.ExpireCause) {
	s.cnt.Packets++
	s.cnt.Bytes += uint64(n)
	l := &s.life
	switch {
	case l.HardBytes != 0 && s.cnt.Bytes >= l.HardBytes:
		hard, cause = true, xfrm.ExpireBytes
	case l.HardPackets != 0 && s.cnt.Packets >= l.HardPackets:
		hard, cause = true, xfrm.ExpirePackets
	case s.softSent:
	case l.SoftBytes != 0 && s.cnt.Bytes >= l.SoftBytes:
		soft, cause = true, xfrm.ExpireBytes
	case l.SoftPackets != 0 && s.cnt.Packets >= l.SoftPackets:
		soft, cause = true, xfrm.ExpirePackets
	}
	if hard {
		s.dead = true
	}
	if soft {
		s.softSent = true
	}
	return soft, hard, cause
}

func (s *State) report(soft, hard bool, cause xfrm.ExpireCause) {
	if soft || hard {
		s.expire(hard, cause)
	}
}

func (s *State) expire(hard bool, cause xfrm.ExpireCause) {
	if s.onExpire != nil {
		s.onExpire(hard, cause)
	}
}

// Expire marks the State dead (a hard time limit, or the SA's removal): later packets are
// refused with ErrExpired.
func (s *State) Expire() {
	s.mu.Lock()
	s.dead = true
	s.mu.Unlock()
}

// randomIV fills iv with fresh random octets. Called with the lock held.
func (s *State) randomIV(iv []byte) {
	if len(s.ivs) < len(iv) {
		rand.Read(s.ivBuf[:]) // never fails (crypto/rand crashes the program instead)
		s.ivs = s.ivBuf[:]
	}
	copy(iv, s.ivs)
	clear(s.ivs[:len(iv)]) // do not keep used IV material around
	s.ivs = s.ivs[len(iv):]
}

// grow extends b by n octets, reallocating only when its capacity is short, and returns the
// extended slice and the new tail.
func grow(b []byte, n int) (all, tail []byte) {
	l := len(b)
	if cap(b)-l < n {
		nb := make([]byte, l, l+n)
		copy(nb, b)
		b = nb
	}
	b = b[:l+n]
	return b, b[l:]
}
