package lab

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"slices"
	"time"
)

// The vici protocol (strongSwan src/libcharon/plugins/vici/README.md): each transport segment is a
// 32-bit big-endian length and that many bytes; a segment holds one packet, a type byte, a name
// (8-bit length) for named types, and a message for requests, responses and events.
const (
	viciMaxSegment = 512 * 1024 // the largest segment charon accepts or sends
	viciMaxDepth   = 64         // nesting limit when decoding (charon nests a few levels)
)

// Packet types.
const (
	viciCmdRequest      = 0 // named, with message
	viciCmdResponse     = 1 // with message
	viciCmdUnknown      = 2
	viciEventRegister   = 3 // named
	viciEventUnregister = 4 // named
	viciEventConfirm    = 5
	viciEventUnknown    = 6
	viciEvent           = 7 // named, with message
)

// Message element types.
const (
	viciSectionStart = 1 // name
	viciSectionEnd   = 2
	viciKeyValue     = 3 // name, 16-bit length value
	viciListStart    = 4 // name
	viciListItem     = 5 // 16-bit length value
	viciListEnd      = 6
)

// ViciMessage is a vici message: ordered keys, each holding a string, a list of strings or a
// nested section. The zero value is an empty message ready for Set.
type ViciMessage struct {
	keys []string
	vals map[string]any // string | []string | *ViciMessage
}

// Set adds or replaces key. v must be a string, a []string or a *ViciMessage.
func (m *ViciMessage) Set(key string, v any) {
	switch v.(type) {
	case string, []string, *ViciMessage:
	default:
		panic(fmt.Sprintf("lab: vici value of type %T", v))
	}
	if m.vals == nil {
		m.vals = make(map[string]any)
	}
	if _, ok := m.vals[key]; !ok {
		m.keys = append(m.keys, key)
	}
	m.vals[key] = v
}

// Keys returns the keys in message order.
func (m *ViciMessage) Keys() []string {
	if m == nil {
		return nil
	}
	return slices.Clone(m.keys)
}

// Get returns the string value of key, "" if it is absent or not a string.
func (m *ViciMessage) Get(key string) string {
	if m == nil {
		return ""
	}
	s, _ := m.vals[key].(string)
	return s
}

// List returns the list value of key, nil if it is absent or not a list.
func (m *ViciMessage) List(key string) []string {
	if m == nil {
		return nil
	}
	l, _ := m.vals[key].([]string)
	return l
}

// Section returns the section value of key, nil if it is absent or not a section.
func (m *ViciMessage) Section(key string) *ViciMessage {
	if m == nil {
		return nil
	}
	s, _ := m.vals[key].(*ViciMessage)
	return s
}

// MarshalVici encodes m. Names longer than 255 bytes or values longer than 65535 are errors.
func (m *ViciMessage) MarshalVici() ([]byte, error) {
	var b []byte
	return m.appendTo(b)
}

func (m *ViciMessage) appendTo(b []byte) ([]byte, error) {
	if m == nil {
		return b, nil
	}
	for _, k := range m.keys {
		if len(k) == 0 || len(k) > 255 {
			return nil, &ViciError{Op: "encode", Msg: fmt.Sprintf("name of %d bytes", len(k))}
		}
		switch v := m.vals[k].(type) {
		case string:
			if len(v) > 0xffff {
				return nil, &ViciError{Op: "encode", Msg: fmt.Sprintf("value of %q too long", k)}
			}
			b = append(b, viciKeyValue, byte(len(k)))
			b = append(b, k...)
			b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
			b = append(b, v...)
		case []string:
			b = append(b, viciListStart, byte(len(k)))
			b = append(b, k...)
			for _, it := range v {
				if len(it) > 0xffff {
					return nil, &ViciError{Op: "encode", Msg: fmt.Sprintf("item of %q too long", k)}
				}
				b = append(b, viciListItem)
				b = binary.BigEndian.AppendUint16(b, uint16(len(it)))
				b = append(b, it...)
			}
			b = append(b, viciListEnd)
		case *ViciMessage:
			b = append(b, viciSectionStart, byte(len(k)))
			b = append(b, k...)
			var err error
			if b, err = v.appendTo(b); err != nil {
				return nil, err
			}
			b = append(b, viciSectionEnd)
		}
	}
	return b, nil
}

// UnmarshalVici decodes a message, checking every length against the data, balancing sections
// and lists, limiting nesting and refusing duplicate keys.
func UnmarshalVici(data []byte) (*ViciMessage, error) {
	d := viciDecoder{b: data}
	root := &ViciMessage{}
	stack := []*ViciMessage{root}
	var list []string
	var listName string
	inList := false
	for d.off < len(d.b) {
		at := d.off
		typ := d.b[d.off]
		d.off++
		cur := stack[len(stack)-1]
		if inList && typ != viciListItem && typ != viciListEnd {
			return nil, d.errf(at, "element type %d inside list %q", typ, listName)
		}
		switch typ {
		case viciSectionStart:
			name, err := d.name()
			if err != nil {
				return nil, err
			}
			if len(stack) > viciMaxDepth {
				return nil, d.errf(at, "sections nested deeper than %d", viciMaxDepth)
			}
			sec := &ViciMessage{}
			if err := d.add(cur, name, sec, at); err != nil {
				return nil, err
			}
			stack = append(stack, sec)
		case viciSectionEnd:
			if len(stack) == 1 {
				return nil, d.errf(at, "section end without start")
			}
			stack = stack[:len(stack)-1]
		case viciKeyValue:
			name, err := d.name()
			if err != nil {
				return nil, err
			}
			val, err := d.value()
			if err != nil {
				return nil, err
			}
			if err := d.add(cur, name, val, at); err != nil {
				return nil, err
			}
		case viciListStart:
			name, err := d.name()
			if err != nil {
				return nil, err
			}
			inList, listName, list = true, name, []string{}
		case viciListItem:
			if !inList {
				return nil, d.errf(at, "list item outside a list")
			}
			val, err := d.value()
			if err != nil {
				return nil, err
			}
			list = append(list, val)
		case viciListEnd:
			if !inList {
				return nil, d.errf(at, "list end without start")
			}
			if err := d.add(cur, listName, list, at); err != nil {
				return nil, err
			}
			inList = false
		default:
			return nil, d.errf(at, "unknown element type %d", typ)
		}
	}
	if inList {
		return nil, d.errf(d.off, "list %q not closed", listName)
	}
	if len(stack) != 1 {
		return nil, d.errf(d.off, "%d sections not closed", len(stack)-1)
	}
	return root, nil
}

type viciDecoder struct {
	b   []byte
	off int
}

func (d *viciDecoder) errf(at int, format string, args ...any) error {
	return &ViciError{Op: "decode", Msg: fmt.Sprintf("offset %d: ", at) + fmt.Sprintf(format, args...)}
}

func (d *viciDecoder) name() (string, error) {
	if d.off >= len(d.b) {
		return "", d.errf(d.off, "truncated name length")
	}
	n := int(d.b[d.off])
	if n == 0 {
		return "", d.errf(d.off, "empty name")
	}
	if d.off+1+n > len(d.b) {
		return "", d.errf(d.off, "name of %d bytes past the end", n)
	}
	s := string(d.b[d.off+1 : d.off+1+n])
	d.off += 1 + n
	return s, nil
}

func (d *viciDecoder) value() (string, error) {
	if d.off+2 > len(d.b) {
		return "", d.errf(d.off, "truncated value length")
	}
	n := int(binary.BigEndian.Uint16(d.b[d.off:]))
	if d.off+2+n > len(d.b) {
		return "", d.errf(d.off, "value of %d bytes past the end", n)
	}
	s := string(d.b[d.off+2 : d.off+2+n])
	d.off += 2 + n
	return s, nil
}

func (d *viciDecoder) add(m *ViciMessage, name string, v any, at int) error {
	if _, dup := m.vals[name]; dup {
		return d.errf(at, "duplicate key %q", name)
	}
	m.Set(name, v)
	return nil
}

// ViciConn is a client connection to charon's vici socket. It is not safe for concurrent use.
type ViciConn struct {
	conn    net.Conn
	Timeout time.Duration // per request; CommandTimeout if zero
}

// DialVici connects to a vici unix socket (the path, without "unix://").
func DialVici(path string) (*ViciConn, error) {
	c, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		return nil, &ViciError{Op: "dial", Msg: err.Error()}
	}
	return &ViciConn{conn: c}, nil
}

// Close closes the connection.
func (v *ViciConn) Close() error { return v.conn.Close() }

// Request sends a command and returns charon's response message. An unknown command is an
// error; a response with success=no is returned as is (see checkSuccess).
func (v *ViciConn) Request(cmd string, req *ViciMessage) (*ViciMessage, error) {
	return v.StreamRequest(cmd, "", req, nil)
}

// StreamRequest registers for event, sends cmd and calls fn for every event message until the
// response arrives, then unregisters. With event "" it is Request.
func (v *ViciConn) StreamRequest(cmd, event string, req *ViciMessage, fn func(*ViciMessage) error) (*ViciMessage, error) {
	t := v.Timeout
	if t == 0 {
		t = CommandTimeout
	}
	if err := v.conn.SetDeadline(time.Now().Add(t)); err != nil {
		return nil, &ViciError{Op: cmd, Msg: err.Error()}
	}
	if event != "" {
		if err := v.register(viciEventRegister, event); err != nil {
			return nil, err
		}
	}
	body, err := req.MarshalVici()
	if err != nil {
		return nil, err
	}
	if err := v.write(viciCmdRequest, cmd, body); err != nil {
		return nil, err
	}
	var resp *ViciMessage
	for resp == nil {
		typ, name, data, err := v.read()
		if err != nil {
			return nil, err
		}
		switch typ {
		case viciCmdResponse:
			if resp, err = UnmarshalVici(data); err != nil {
				return nil, err
			}
		case viciCmdUnknown:
			return nil, &ViciError{Op: cmd, Msg: "unknown command"}
		case viciEvent:
			if name != event || fn == nil {
				continue
			}
			msg, err := UnmarshalVici(data)
			if err != nil {
				return nil, err
			}
			if err := fn(msg); err != nil {
				return nil, err
			}
		default:
			return nil, &ViciError{Op: cmd, Msg: fmt.Sprintf("unexpected packet type %d", typ)}
		}
	}
	if event != "" {
		if err := v.register(viciEventUnregister, event); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

func (v *ViciConn) register(typ byte, event string) error {
	if err := v.write(typ, event, nil); err != nil {
		return err
	}
	for {
		rt, _, _, err := v.read()
		if err != nil {
			return err
		}
		switch rt {
		case viciEventConfirm:
			return nil
		case viciEventUnknown:
			return &ViciError{Op: "register", Msg: "unknown event " + event}
		case viciEvent:
			continue // a late event of a stream being unregistered
		default:
			return &ViciError{Op: "register", Msg: fmt.Sprintf("unexpected packet type %d", rt)}
		}
	}
}

func (v *ViciConn) write(typ byte, name string, body []byte) error {
	if len(name) > 255 {
		return &ViciError{Op: "write", Msg: "name too long"}
	}
	pkt := make([]byte, 4, 4+2+len(name)+len(body))
	pkt = append(pkt, typ)
	if typ == viciCmdRequest || typ == viciEventRegister || typ == viciEventUnregister {
		pkt = append(pkt, byte(len(name)))
		pkt = append(pkt, name...)
	}
	pkt = append(pkt, body...)
	if len(pkt)-4 > viciMaxSegment {
		return &ViciError{Op: "write", Msg: "message too long"}
	}
	binary.BigEndian.PutUint32(pkt, uint32(len(pkt)-4))
	if _, err := v.conn.Write(pkt); err != nil {
		return &ViciError{Op: "write", Msg: err.Error()}
	}
	return nil
}

func (v *ViciConn) read() (typ byte, name string, data []byte, err error) {
	var hdr [4]byte
	if _, err := io.ReadFull(v.conn, hdr[:]); err != nil {
		return 0, "", nil, &ViciError{Op: "read", Msg: err.Error()}
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 || n > viciMaxSegment {
		return 0, "", nil, &ViciError{Op: "read", Msg: fmt.Sprintf("segment length %d", n)}
	}
	seg := make([]byte, n)
	if _, err := io.ReadFull(v.conn, seg); err != nil {
		return 0, "", nil, &ViciError{Op: "read", Msg: err.Error()}
	}
	return parseViciPacket(seg)
}

// parseViciPacket splits a segment into its type, name (named types) and message bytes.
func parseViciPacket(seg []byte) (typ byte, name string, data []byte, err error) {
	if len(seg) == 0 {
		return 0, "", nil, &ViciError{Op: "read", Msg: "empty packet"}
	}
	typ, rest := seg[0], seg[1:]
	switch typ {
	case viciCmdRequest, viciEventRegister, viciEventUnregister, viciEvent:
		if len(rest) == 0 || int(rest[0]) > len(rest)-1 {
			return 0, "", nil, &ViciError{Op: "read", Msg: "truncated packet name"}
		}
		name, rest = string(rest[1:1+int(rest[0])]), rest[1+int(rest[0]):]
	case viciCmdResponse, viciCmdUnknown, viciEventConfirm, viciEventUnknown:
	default:
		return 0, "", nil, &ViciError{Op: "read", Msg: fmt.Sprintf("unknown packet type %d", typ)}
	}
	return typ, name, rest, nil
}

// checkSuccess turns a response with success other than "yes" into a *ViciError.
func checkSuccess(op string, resp *ViciMessage) error {
	if resp.Get("success") == "yes" {
		return nil
	}
	msg := resp.Get("errmsg")
	if msg == "" {
		msg = "failed (success=" + resp.Get("success") + ")"
	}
	return &ViciError{Op: op, Msg: msg}
}
