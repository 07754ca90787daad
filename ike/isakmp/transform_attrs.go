package isakmp

// lifetimes collects Life Type / Life Duration pairs (RFC 2409 App. A, RFC 2407 §4.5): a
// duration applies to the life type before it; seconds and kilobytes may both appear once.
type lifetimes struct {
	pending LifeType // life type waiting for its duration
	seconds uint64
	kbytes  uint64
}

func (l *lifetimes) typ(a Attribute) error {
	if l.pending != 0 {
		return notifyf(NotifyAttributesNotSupported, "life type %v without a duration", l.pending)
	}
	lt := LifeType(a.Value)
	switch {
	case lt == LifeSeconds && l.seconds == 0, lt == LifeKilobytes && l.kbytes == 0:
	case lt == LifeSeconds || lt == LifeKilobytes:
		return notifyf(NotifyAttributesNotSupported, "life type %v given twice", lt)
	default:
		return notifyf(NotifyAttributesNotSupported, "life type %d", a.Value)
	}
	l.pending = lt
	return nil
}

func (l *lifetimes) duration(a Attribute) error {
	if l.pending == 0 {
		return notifyf(NotifyAttributesNotSupported, "life duration without a life type before it")
	}
	v, err := a.Uint()
	if err != nil {
		return &NotifyError{Type: NotifyAttributesNotSupported, Err: err}
	}
	if v == 0 {
		return notifyf(NotifyAttributesNotSupported, "life duration of zero %v", l.pending)
	}
	if l.pending == LifeSeconds {
		l.seconds = v
	} else {
		l.kbytes = v
	}
	l.pending = 0
	return nil
}

func (l *lifetimes) done() error {
	if l.pending != 0 {
		return notifyf(NotifyAttributesNotSupported, "life type %v without a duration", l.pending)
	}
	return nil
}

// appendLifetimes appends the life pairs the way IOS and strongSwan order them.
func appendLifetimes(attrs []Attribute, typ, dur AttributeType, seconds, kbytes uint64) []Attribute {
	if seconds != 0 {
		attrs = append(attrs, BasicAttr(typ, uint16(LifeSeconds)), UintAttr(dur, seconds))
	}
	if kbytes != 0 {
		attrs = append(attrs, BasicAttr(typ, uint16(LifeKilobytes)), UintAttr(dur, kbytes))
	}
	return attrs
}

// seen tracks attribute types already met, to reject duplicates.
type seen uint64

func (s *seen) add(t AttributeType) error {
	if t < 64 {
		if *s&(1<<t) != 0 {
			return notifyf(NotifyAttributesNotSupported, "attribute %d given twice", t)
		}
		*s |= 1 << t
	}
	return nil
}

// IKEAttributes is a phase-1 transform's attribute set decoded (RFC 2409 §5 and App. A).
// Zero means absent.
type IKEAttributes struct {
	Encryption    EncryptionAlgorithm
	KeyLength     uint16 // bits; required for AES, forbidden for fixed-key ciphers
	Hash          HashAlgorithm
	AuthMethod    AuthMethod
	Group         Group
	PRF           uint16 // RFC 2409 defines none; absent means HMAC with Hash
	LifeSeconds   uint64
	LifeKilobytes uint64
}

// IKEAttributes decodes the attributes of a phase-1 (KEY_IKE) transform. It fails with
// ATTRIBUTES-NOT-SUPPORTED on unknown or repeated attributes, a life duration without its type
// or of zero, a missing mandatory attribute (encryption, hash, authentication, group: RFC 2409
// §5), an AES transform without a key length, or a key length on a fixed-key cipher.
func (t *Transform) IKEAttributes() (IKEAttributes, error) {
	var (
		a    IKEAttributes
		life lifetimes
		got  seen
	)
	for _, at := range t.Attributes {
		if at.Type != IKEAttrLifeType && at.Type != IKEAttrLifeDuration {
			if err := got.add(at.Type); err != nil {
				return a, err
			}
		}
		var err error
		switch at.Type {
		case IKEAttrEncryption:
			a.Encryption = EncryptionAlgorithm(at.Value)
		case IKEAttrHash:
			a.Hash = HashAlgorithm(at.Value)
		case IKEAttrAuthMethod:
			a.AuthMethod = AuthMethod(at.Value)
		case IKEAttrGroupDesc:
			a.Group = Group(at.Value)
		case IKEAttrPRF:
			a.PRF = at.Value
		case IKEAttrKeyLength:
			a.KeyLength = at.Value
		case IKEAttrLifeType:
			err = life.typ(at)
		case IKEAttrLifeDuration:
			err = life.duration(at)
		default:
			err = notifyf(NotifyAttributesNotSupported, "%s (%d)", AttributeName(ProtocolISAKMP, at.Type), at.Type)
		}
		if err != nil {
			return a, err
		}
	}
	if err := life.done(); err != nil {
		return a, err
	}
	a.LifeSeconds, a.LifeKilobytes = life.seconds, life.kbytes
	switch {
	case a.Encryption == 0, a.Hash == 0, a.AuthMethod == 0, a.Group == 0:
		return a, notifyf(NotifyAttributesNotSupported, "mandatory attribute missing (encryption %d, hash %d, auth %d, group %d)",
			a.Encryption, a.Hash, a.AuthMethod, a.Group)
	case a.Encryption == EncryptionAES && a.KeyLength == 0:
		return a, notifyf(NotifyAttributesNotSupported, "AES without a key length")
	case (a.Encryption == EncryptionDES || a.Encryption == Encryption3DES) && a.KeyLength != 0:
		return a, notifyf(NotifyAttributesNotSupported, "key length %d on fixed-key %v", a.KeyLength, a.Encryption)
	}
	return a, nil
}

// Attributes encodes a in the order strongSwan and IOS send: encryption, key length, hash,
// group, authentication, PRF, life pairs.
func (a *IKEAttributes) Attributes() []Attribute {
	attrs := []Attribute{BasicAttr(IKEAttrEncryption, uint16(a.Encryption))}
	if a.KeyLength != 0 {
		attrs = append(attrs, BasicAttr(IKEAttrKeyLength, a.KeyLength))
	}
	attrs = append(attrs, BasicAttr(IKEAttrHash, uint16(a.Hash)), BasicAttr(IKEAttrGroupDesc, uint16(a.Group)),
		BasicAttr(IKEAttrAuthMethod, uint16(a.AuthMethod)))
	if a.PRF != 0 {
		attrs = append(attrs, BasicAttr(IKEAttrPRF, a.PRF))
	}
	return appendLifetimes(attrs, IKEAttrLifeType, IKEAttrLifeDuration, a.LifeSeconds, a.LifeKilobytes)
}

// IPsecAttributes is a phase-2 transform's attribute set decoded (RFC 2407 §4.5). Zero means
// absent.
type IPsecAttributes struct {
	Encapsulation EncapsulationMode
	AuthAlgorithm AuthAlgorithm
	KeyLength     uint16 // bits
	KeyRounds     uint16
	Group         Group // PFS group; GroupNone without PFS
	LifeSeconds   uint64
	LifeKilobytes uint64
	ESN           bool // RFC 4304
}

// IPsecAttributes decodes the attributes of a phase-2 transform of protocol p. It fails with
// ATTRIBUTES-NOT-SUPPORTED on unknown or repeated attributes, a bad life pair, an unknown
// encapsulation mode, or an AES-based ESP transform without a key length (RFC 3602 §5,
// RFC 4106 §8.1).
func (t *Transform) IPsecAttributes(p ProtocolID) (IPsecAttributes, error) {
	var (
		a    IPsecAttributes
		life lifetimes
		got  seen
	)
	for _, at := range t.Attributes {
		if at.Type != IPsecAttrLifeType && at.Type != IPsecAttrLifeDuration {
			if err := got.add(at.Type); err != nil {
				return a, err
			}
		}
		var err error
		switch at.Type {
		case IPsecAttrLifeType:
			err = life.typ(at)
		case IPsecAttrLifeDuration:
			err = life.duration(at)
		case IPsecAttrGroupDesc:
			a.Group = Group(at.Value)
		case IPsecAttrEncapsulation:
			a.Encapsulation = EncapsulationMode(at.Value)
			if _, ok := encapNames[a.Encapsulation]; !ok {
				err = notifyf(NotifyAttributesNotSupported, "encapsulation mode %d", at.Value)
			}
		case IPsecAttrAuthAlgorithm:
			a.AuthAlgorithm = AuthAlgorithm(at.Value)
		case IPsecAttrKeyLength:
			a.KeyLength = at.Value
		case IPsecAttrKeyRounds:
			a.KeyRounds = at.Value
		case IPsecAttrESN:
			a.ESN = at.Value == 1
		default:
			err = notifyf(NotifyAttributesNotSupported, "%s (%d)", AttributeName(p, at.Type), at.Type)
		}
		if err != nil {
			return a, err
		}
	}
	if err := life.done(); err != nil {
		return a, err
	}
	a.LifeSeconds, a.LifeKilobytes = life.seconds, life.kbytes
	if p == ProtocolESP && a.KeyLength == 0 {
		switch t.ID {
		case ESPAES, ESPAESCTR, ESPAESCCM8, ESPAESCCM12, ESPAESCCM16, ESPAESGCM8, ESPAESGCM12, ESPAESGCM16, ESPNullAESGMAC:
			return a, notifyf(NotifyAttributesNotSupported, "%s without a key length", TransformName(p, t.ID))
		}
	}
	return a, nil
}

// Attributes encodes a in strongSwan's order: key length, authentication, group,
// encapsulation, life pairs.
func (a *IPsecAttributes) Attributes() []Attribute {
	var attrs []Attribute
	if a.KeyLength != 0 {
		attrs = append(attrs, BasicAttr(IPsecAttrKeyLength, a.KeyLength))
	}
	if a.KeyRounds != 0 {
		attrs = append(attrs, BasicAttr(IPsecAttrKeyRounds, a.KeyRounds))
	}
	if a.AuthAlgorithm != 0 {
		attrs = append(attrs, BasicAttr(IPsecAttrAuthAlgorithm, uint16(a.AuthAlgorithm)))
	}
	if a.Group != 0 {
		attrs = append(attrs, BasicAttr(IPsecAttrGroupDesc, uint16(a.Group)))
	}
	if a.Encapsulation != 0 {
		attrs = append(attrs, BasicAttr(IPsecAttrEncapsulation, uint16(a.Encapsulation)))
	}
	if a.ESN {
		attrs = append(attrs, BasicAttr(IPsecAttrESN, 1))
	}
	return appendLifetimes(attrs, IPsecAttrLifeType, IPsecAttrLifeDuration, a.LifeSeconds, a.LifeKilobytes)
}
