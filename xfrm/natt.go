package xfrm

import "encoding/binary"

// NAT-T demultiplexing of UDP port 4500 (RFC 3948 §2).
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                  Non-ESP Marker (0) or ESP SPI                |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|            IKE header ...   or   ESP sequence number ...      |
//
// A NAT-keepalive is the single octet 0xFF (RFC 3948 §2.3).

// NATTPort is the IKE/ESP NAT-traversal UDP port (RFC 3947, RFC 3948).
const NATTPort = 4500

// NonESPMarkerLen is the length of the zero marker that precedes IKE messages on port 4500.
const NonESPMarkerLen = 4

// minESPInUDP is the shortest datagram that can be ESP: SPI and sequence number (RFC 3948 §2.1;
// anything shorter that is not a keepalive is invalid).
const minESPInUDP = 8

// UDPKind classifies a datagram received on port 4500.
type UDPKind uint8

// Datagram kinds on port 4500.
const (
	UDPInvalid   UDPKind = iota // too short to be anything: drop
	UDPKeepalive                // NAT-keepalive (0xFF): drop silently
	UDPIKE                      // IKE after the non-ESP marker: strip 4 octets, hand to IKE
	UDPESP                      // ESP: hand the whole datagram to the data plane
)

// Classify4500 tells apart the datagrams sharing the NAT-T socket. IKE messages are returned
// without the non-ESP marker; ESP datagrams are returned whole (they start with the SPI).
func Classify4500(b []byte) (UDPKind, []byte) {
	switch {
	case len(b) == 1 && b[0] == 0xff:
		return UDPKeepalive, nil
	case len(b) < minESPInUDP:
		return UDPInvalid, nil
	case binary.BigEndian.Uint32(b) == 0:
		return UDPIKE, b[NonESPMarkerLen:]
	}
	return UDPESP, b
}
