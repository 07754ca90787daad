package isakmp

import (
	"bytes"
	"errors"
	"reflect"
	"runtime"
	"testing"
)

// FuzzParse: Parse never panics; an error is either a silent-drop sentinel without a message or
// a *NotifyError with the header; a decoded message encodes to octets that decode to the same
// message and encode to themselves (decode -> encode -> decode is stable); allocation is linear
// in the input. The body is also fed to ParsePayloads as if it were decrypted plaintext.
func FuzzParse(f *testing.F) {
	for _, file := range []string{"vector-pfs.json", "vector-nopfs.json"} {
		v := loadVector(f, file)
		for _, vm := range v.Messages {
			f.Add(unhex(f, vm.ISAKMP))
			if vm.Encrypted {
				// The plaintext behind a clear header, so the chain decoder sees real payloads.
				h := append([]byte(nil), unhex(f, vm.ISAKMP)[:HeaderLen]...)
				h[offFlags] &^= byte(FlagEncryption)
				f.Add(append(h, unhex(f, vm.Plaintext)...))
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkParse(t, b)
		if len(b) >= HeaderLen {
			checkPlaintext(t, Header(b).NextPayload(), b[HeaderLen:])
		}
		checkAllocs(t, b)
	})
}

func checkParse(t *testing.T, b []byte) {
	m, err := Parse(b)
	if err != nil {
		var ne *NotifyError
		switch {
		case errors.As(err, &ne):
			if m == nil || m.Payloads != nil || ne.Type == 0 {
				t.Fatalf("notify error %v with message %v", err, m)
			}
		case errors.Is(err, ErrTruncated), errors.Is(err, ErrTrailingData), errors.Is(err, ErrTooLarge), errors.Is(err, ErrZeroCookie):
			if m != nil {
				t.Fatalf("silent drop %v returned a message", err)
			}
		default:
			t.Fatalf("untyped error %v", err)
		}
		return
	}
	if !bytes.Equal(m.Raw(), b) {
		t.Fatal("Raw differs from the input")
	}
	_ = m.Dump()
	enc := m.AppendMarshal(nil)
	m2, err := Parse(enc)
	if err != nil {
		t.Fatalf("re-parse of %x: %v", enc, err)
	}
	if enc2 := m2.AppendMarshal(nil); !bytes.Equal(enc, enc2) {
		t.Fatalf("encode not stable:\n%x\n%x", enc, enc2)
	}
	clearReceived(m.Payloads)
	clearReceived(m2.Payloads)
	m.Header.Length, m2.Header.Length = 0, 0
	if !reflect.DeepEqual(m.Header, m2.Header) || !reflect.DeepEqual(m.Payloads, m2.Payloads) || !bytes.Equal(m.Ciphertext, m2.Ciphertext) {
		t.Fatalf("decode(encode(m)) != m:\n%v\n%v", m, m2)
	}
}

func checkPlaintext(t *testing.T, first PayloadType, b []byte) {
	ps, rest, err := ParsePayloads(first, b)
	if err != nil {
		if _, ok := NotifyTypeOf(err); !ok {
			t.Fatalf("untyped error %v", err)
		}
		return
	}
	if len(ps) > MaxPayloads || len(rest) > len(b) {
		t.Fatal("bounds")
	}
	enc := AppendPayloads(nil, ps)
	ps2, rest2, err := ParsePayloads(first, enc)
	if err != nil || len(rest2) != 0 {
		t.Fatalf("re-parse of chain: %v, %d octets left", err, len(rest2))
	}
	if !bytes.Equal(AppendPayloads(nil, ps2), enc) {
		t.Fatal("chain encode not stable")
	}
	// The typed views and the dump must not panic either.
	_ = (&Message{Payloads: ps, Padding: rest}).Dump()
	for _, p := range ps {
		switch p := p.(type) {
		case *SA:
			for _, pr := range p.Proposals {
				for _, tr := range pr.Transforms {
					_, _ = tr.IKEAttributes()
					_, _ = tr.IPsecAttributes(pr.Protocol)
				}
			}
		case *ID:
			_, _ = p.Addr()
			_, _ = p.Prefix()
			_, _, _ = p.Range()
			_ = p.String()
		case *Notify:
			_, _ = p.DPDSequence()
			_, _, _ = p.ResponderLifetime()
		}
	}
}

// checkAllocs bounds what one Parse costs: allocations and bytes linear in the input, whatever
// the length fields claim.
func checkAllocs(t *testing.T, b []byte) {
	if n := testing.AllocsPerRun(1, func() { _, _ = Parse(b) }); n > float64(8+len(b)/2) {
		t.Fatalf("%v allocations for %d octets", n, len(b))
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _ = Parse(b)
	runtime.ReadMemStats(&after)
	if d := after.TotalAlloc - before.TotalAlloc; d > uint64(64*len(b)+64<<10) {
		t.Fatalf("%d bytes allocated for %d octets", d, len(b))
	}
}
