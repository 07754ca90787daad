package shell_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tunnelbox/tunnelbox/shell"
)

// FuzzTranscript feeds arbitrary input to a console session in every mode: the shell must
// never panic, and every prompt it prints must stay an IOS prompt.
func FuzzTranscript(f *testing.F) {
	for _, seed := range []string{
		"enable\nconf t\ninterface gi0/0\nip address 1.1.1.1 255.255.255.0\nend\n",
		"en\nconf t\nline vty 0 4\n?\nlogin ?\ndo sh run | sec line\n\x1a\nsh run | b ^l\n",
		"sh run | c\r\n\x00\x00\nterm len 2\nsh ver\n\n\nq\n",
		"enable\nconf t\nhostname " + strings.Repeat("x", 100) + "\nip route 1.1.1.1 255.255.255.255 gi0/0 300\n",
		"\xff\xfe\r\r\n|||\n?\n ?\nshow |\nconfigure\nmemory\n",
	} {
		f.Add(seed)
	}
	app := newTestApp(f)
	f.Fuzz(func(t *testing.T, in string) {
		s := app.NewSession(shell.SessionOptions{Line: "vty 3", Privilege: 15})
		defer s.Close()
		var out bytes.Buffer
		if err := s.RunTranscript(strings.NewReader(in), &out); err != nil {
			t.Fatal(err)
		}
		p := s.Prompt()
		if !strings.HasSuffix(p, ">") && !strings.HasSuffix(p, "#") {
			t.Fatalf("prompt %q", p)
		}
	})
}

func TestLongLine(t *testing.T) {
	app := newTestApp(t)
	long := "show " + strings.Repeat("a", 3*shell.MaxLineLength)
	out := runTranscript(t, app, long+"\nshow privilege\n")
	if !strings.Contains(out, "Current privilege level is 1\n") {
		t.Fatalf("the line after a huge one was lost")
	}
	if len(out) > 3*shell.MaxLineLength {
		t.Fatalf("output of %d bytes: the long line was not capped", len(out))
	}
}
