package isakmp

import (
	"encoding/binary"
	"fmt"
)

// Notification payload, RFC 2408 §3.14:
//
//	! Next Payload  !   RESERVED    !         Payload Length        !
//	!              Domain of Interpretation  (DOI)                  !
//	!  Protocol-ID  !   SPI Size    !      Notify Message Type      !
//	~                Security Parameter Index (SPI)                 ~
//	~                       Notification Data                       ~
//
// Delete payload, RFC 2408 §3.15:
//
//	! Next Payload  !   RESERVED    !         Payload Length        !
//	!              Domain of Interpretation  (DOI)                  !
//	!  Protocol-Id  !   SPI Size    !           # of SPIs           !
//	~               Security Parameter Index(es) (SPI)              ~
const (
	notifyFixedLen = 8
	deleteFixedLen = 8
)

// Notify is a Notification payload. For ISAKMP-SA notifies (INITIAL-CONTACT, DPD) the SPI is the
// cookie pair CKY-I | CKY-R (RFC 2407 §4.6.3.3, RFC 3706 §5).
type Notify struct {
	received
	DOI        DOI
	Protocol   ProtocolID
	NotifyType NotifyType
	SPI        []byte
	Data       []byte
}

// Type implements Payload.
func (*Notify) Type() PayloadType { return PayloadNotify }

// AppendMarshal appends the Notify body.
func (n *Notify) AppendMarshal(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(n.DOI))
	b = append(b, byte(n.Protocol), byte(len(n.SPI)))
	b = binary.BigEndian.AppendUint16(b, uint16(n.NotifyType))
	return append(append(b, n.SPI...), n.Data...)
}

func checkDOI(d DOI) error {
	if d != DOIIPsec && d != DOIISAKMP {
		return notifyf(NotifyDOINotSupported, "DOI %d", uint32(d))
	}
	return nil
}

func (n *Notify) decode(body []byte) error {
	if len(body) < notifyFixedLen {
		return notifyf(NotifyPayloadMalformed, "notify body of %d octets", len(body))
	}
	n.DOI = DOI(binary.BigEndian.Uint32(body))
	n.Protocol = ProtocolID(body[4])
	spiSize := int(body[5])
	n.NotifyType = NotifyType(binary.BigEndian.Uint16(body[6:]))
	if err := checkDOI(n.DOI); err != nil {
		return err
	}
	if n.Protocol > ProtocolIPComp {
		return notifyf(NotifyInvalidProtocolID, "protocol %d", uint8(n.Protocol))
	}
	if notifyFixedLen+spiSize > len(body) {
		return notifyf(NotifyPayloadMalformed, "SPI size %d exceeds the %d octets left", spiSize, len(body)-notifyFixedLen)
	}
	end := notifyFixedLen + spiSize
	n.SPI = body[notifyFixedLen:end:end]
	n.Data = body[end:]
	return nil
}

func (n *Notify) String() string {
	return fmt.Sprintf("NOTIFY(%v %v spi=%x data=%x)", n.NotifyType, n.Protocol, n.SPI, n.Data)
}

// NewISAKMPNotify returns a notify about the ISAKMP SA icky/rcky: INITIAL-CONTACT, R-U-THERE,
// R-U-THERE-ACK (with data), in the IPsec DOI with the cookie pair as SPI.
func NewISAKMPNotify(t NotifyType, icky, rcky Cookie, data []byte) *Notify {
	spi := append(append(make([]byte, 0, 16), icky[:]...), rcky[:]...)
	return &Notify{DOI: DOIIPsec, Protocol: ProtocolISAKMP, NotifyType: t, SPI: spi, Data: data}
}

// NewDPD returns an R-U-THERE or R-U-THERE-ACK notify carrying sequence number seq (RFC 3706 §5).
func NewDPD(t NotifyType, icky, rcky Cookie, seq uint32) *Notify {
	return NewISAKMPNotify(t, icky, rcky, binary.BigEndian.AppendUint32(nil, seq))
}

// DPDSequence returns the sequence number of an R-U-THERE or R-U-THERE-ACK notify (RFC 3706 §5:
// 4 octets of data and the ISAKMP cookie pair as SPI).
func (n *Notify) DPDSequence() (uint32, error) {
	if n.NotifyType != NotifyRUThere && n.NotifyType != NotifyRUThereAck {
		return 0, notifyf(NotifyPayloadMalformed, "%v is not a DPD notify", n.NotifyType)
	}
	if len(n.Data) != 4 || len(n.SPI) != 16 {
		return 0, notifyf(NotifyPayloadMalformed, "DPD notify with %d octets of data and a %d-octet SPI", len(n.Data), len(n.SPI))
	}
	return binary.BigEndian.Uint32(n.Data), nil
}

// ResponderLifetime decodes the SA Life Type / Duration attributes of a RESPONDER-LIFETIME
// notify (RFC 2407 §4.6.3.1). Zero means the lifetime of that kind was not stated.
func (n *Notify) ResponderLifetime() (seconds, kilobytes uint64, err error) {
	if n.NotifyType != NotifyResponderLifetime {
		return 0, 0, notifyf(NotifyPayloadMalformed, "%v is not RESPONDER-LIFETIME", n.NotifyType)
	}
	attrs, err := parseAttributes(n.Data)
	if err != nil {
		return 0, 0, err
	}
	typ, dur := IPsecAttrLifeType, IPsecAttrLifeDuration
	if n.Protocol == ProtocolISAKMP {
		typ, dur = IKEAttrLifeType, IKEAttrLifeDuration
	}
	var life lifetimes
	for _, a := range attrs {
		switch {
		case a.Type == typ && a.Basic:
			err = life.typ(a)
		case a.Type == dur:
			err = life.duration(a)
		default:
			err = notifyf(NotifyAttributesNotSupported, "attribute %d in RESPONDER-LIFETIME", a.Type)
		}
		if err != nil {
			return 0, 0, err
		}
	}
	if err := life.done(); err != nil {
		return 0, 0, err
	}
	return life.seconds, life.kbytes, nil
}

// NewResponderLifetime returns a RESPONDER-LIFETIME notify for the IPsec SA with SPI spi.
func NewResponderLifetime(p ProtocolID, spi []byte, seconds, kilobytes uint64) *Notify {
	attrs := appendLifetimes(nil, IPsecAttrLifeType, IPsecAttrLifeDuration, seconds, kilobytes)
	return &Notify{DOI: DOIIPsec, Protocol: p, NotifyType: NotifyResponderLifetime, SPI: spi,
		Data: appendAttributes(nil, attrs)}
}

// Delete is a Delete payload: ISAKMP SAs by their 16-octet cookie pair, ESP and AH SAs by
// their 4-octet SPI (RFC 2408 §3.15). All SPIs have the same size.
type Delete struct {
	received
	DOI      DOI
	Protocol ProtocolID
	SPIs     [][]byte
}

// Type implements Payload.
func (*Delete) Type() PayloadType { return PayloadDelete }

// AppendMarshal appends the Delete body; the SPI size is that of the first SPI.
func (d *Delete) AppendMarshal(b []byte) []byte {
	size := 0
	if len(d.SPIs) > 0 {
		size = len(d.SPIs[0])
	}
	b = binary.BigEndian.AppendUint32(b, uint32(d.DOI))
	b = append(b, byte(d.Protocol), byte(size))
	b = binary.BigEndian.AppendUint16(b, uint16(len(d.SPIs)))
	for _, s := range d.SPIs {
		b = append(b, s...)
	}
	return b
}

func (d *Delete) decode(body []byte) error {
	if len(body) < deleteFixedLen {
		return notifyf(NotifyPayloadMalformed, "delete body of %d octets", len(body))
	}
	d.DOI = DOI(binary.BigEndian.Uint32(body))
	d.Protocol = ProtocolID(body[4])
	size, count := int(body[5]), int(binary.BigEndian.Uint16(body[6:]))
	if err := checkDOI(d.DOI); err != nil {
		return err
	}
	switch d.Protocol {
	case ProtocolISAKMP, ProtocolAH, ProtocolESP, ProtocolIPComp:
	default:
		return notifyf(NotifyInvalidProtocolID, "protocol %d", uint8(d.Protocol))
	}
	if !spiSizeOK(d.Protocol, size, false) {
		return notifyf(NotifyInvalidSPI, "SPI size %d for %v", size, d.Protocol)
	}
	if count == 0 {
		return notifyf(NotifyPayloadMalformed, "delete without SPIs")
	}
	spis := body[deleteFixedLen:]
	if len(spis) != size*count {
		return notifyf(NotifyPayloadMalformed, "%d SPIs of %d octets in %d octets", count, size, len(spis))
	}
	d.SPIs = make([][]byte, count)
	for i := range d.SPIs {
		d.SPIs[i] = spis[i*size : (i+1)*size : (i+1)*size]
	}
	return nil
}

func (d *Delete) String() string { return fmt.Sprintf("DELETE(%v %x)", d.Protocol, d.SPIs) }

// NewDeleteISAKMP returns a Delete payload for the ISAKMP SA icky/rcky.
func NewDeleteISAKMP(icky, rcky Cookie) *Delete {
	spi := append(append(make([]byte, 0, 16), icky[:]...), rcky[:]...)
	return &Delete{DOI: DOIIPsec, Protocol: ProtocolISAKMP, SPIs: [][]byte{spi}}
}
