package sshd

import (
	"testing"

	"golang.org/x/crypto/ssh"
)

// FuzzRequestPayloads feeds arbitrary bytes to the channel-request decoders: they must never
// panic, and whatever they accept must leave the terminal size within IOS's limits and the
// terminal type printable.
func FuzzRequestPayloads(f *testing.F) {
	f.Add(ssh.Marshal(ptyRequestMsg{Term: "xterm", Columns: 80, Rows: 24}))
	f.Add(ssh.Marshal(ptyRequestMsg{Term: "vt100\x1b[2J", Columns: 1 << 31, Rows: 0}))
	f.Add(ssh.Marshal(windowChangeMsg{Columns: 200, Rows: 50}))
	f.Add(ssh.Marshal(execMsg{"show running-config"}))
	f.Add([]byte{0, 0, 0, 5, 'x'})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		box := newSizeBox()
		if m, ok := parsePTYRequest(b); ok {
			box.setPTY(m.Term, int(m.Columns), int(m.Rows))
		}
		if m, ok := parseWindowChange(b); ok {
			box.resize(int(m.Columns), int(m.Rows))
		}
		if m, ok := parseExec(b); ok && len(m.Command) > maxCommand {
			t.Fatalf("exec command of %d bytes accepted", len(m.Command))
		}
		term, w, h := box.get()
		if w < 1 || w > maxColumns || h < 1 || h > maxRows {
			t.Fatalf("size %dx%d out of range", w, h)
		}
		for _, r := range term {
			if r < 0x20 || r > 0x7e {
				t.Fatalf("terminal type %q not printable", term)
			}
		}
	})
}
