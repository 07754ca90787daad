package shell_test

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/tunnelbox/tunnelbox/shell"
)

// waitFor polls the output until it ends with want; the guard only stops a hung test.
func waitFor(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	guard := time.Now().Add(10 * time.Second)
	for !strings.HasSuffix(out.String(), want) {
		if time.Now().After(guard) {
			t.Fatalf("output does not end with %q:\n%s", want, out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestTranscriptAsyncMessages checks that a console on a pipe prints log messages as they
// arrive while it waits for input (newline, messages, prompt again, as IOS redraws its
// console) instead of when the next line comes, that the line typed next follows the redrawn
// prompt, and that the SSH no-pty path does the same on a vty with terminal monitor.
func TestTranscriptAsyncMessages(t *testing.T) {
	for _, tc := range []struct {
		name string
		line string
		run  func(s *shell.Session, r io.Reader, w io.Writer) error
		echo string // what follows the first prompt after `terminal monitor`
		want string
	}{
		{"console", "con 0", func(s *shell.Session, r io.Reader, w io.Writer) error { return s.RunTranscript(r, w) },
			"terminal monitor\n", "Router>terminal monitor\nRouter>\n*Mar  1 00:05:12.123: %LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to up\nRouter>\n" +
				"*Mar  1 00:05:12.123: %LINEPROTO-5-UPDOWN: Line protocol on Interface GigabitEthernet0/1, changed state to up\n" +
				"Router>show privilege\nCurrent privilege level is 1\nRouter>\n" +
				"*Mar  1 00:05:12.123: %SYS-5-CONFIG_I: Configured from console by console\nRouter>\n"},
		{"ssh-nopty", "vty 0", func(s *shell.Session, r io.Reader, w io.Writer) error {
			return s.Serve(struct {
				io.Reader
				io.Writer
			}{r, w}, 80, 24, nil)
		},
			"", "Router>Router>\r\n*Mar  1 00:05:12.123: %LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to up\r\nRouter>\r\n" +
				"*Mar  1 00:05:12.123: %LINEPROTO-5-UPDOWN: Line protocol on Interface GigabitEthernet0/1, changed state to up\r\n" +
				"Router>Current privilege level is 1\r\nRouter>\r\n" +
				"*Mar  1 00:05:12.123: %SYS-5-CONFIG_I: Configured from console by console\r\nRouter>\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := newTestApp(t)
			s := app.NewSession(shell.SessionOptions{Line: tc.line, NoPTY: tc.line != "con 0", Remote: "10.1.1.100"})
			defer s.Close()
			r, w := io.Pipe()
			out := &syncBuffer{}
			done := make(chan error, 1)
			go func() { done <- tc.run(s, r, out) }()
			nl := "\n"
			if !s.IsConsole() {
				nl = "\r\n"
			}
			waitFor(t, out, "Router>")
			io.WriteString(w, "terminal monitor\n")
			waitFor(t, out, "Router>"+tc.echo+"Router>")
			// Two messages while the session waits at its prompt, no input typed: each appears at
			// once, and the prompt is drawn again after it.
			app.Logf("%%LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to up")
			waitFor(t, out, "changed state to up"+nl+"Router>")
			app.Logf("%%LINEPROTO-5-UPDOWN: Line protocol on Interface GigabitEthernet0/1, changed state to up")
			waitFor(t, out, "Line protocol on Interface GigabitEthernet0/1, changed state to up"+nl+"Router>")
			io.WriteString(w, "show privilege\n")
			waitFor(t, out, "Current privilege level is 1"+nl+"Router>")
			app.Logf("%%SYS-5-CONFIG_I: Configured from console by console")
			waitFor(t, out, "by console"+nl+"Router>")
			w.Close()
			if err := <-done; err != nil && err != io.EOF {
				t.Fatal(err)
			}
			if got := out.String(); got != tc.want {
				t.Errorf("transcript:\n%q\nwant:\n%q", got, tc.want)
			}
		})
	}
}
