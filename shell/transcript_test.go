package shell_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tunnelbox/tunnelbox/shell"
	"github.com/tunnelbox/tunnelbox/shell/shelltest"
)

var update = flag.Bool("update", false, "rewrite the expected transcripts in testdata/*.txt")

// goldenSep separates the input lines from the expected transcript in a testdata/*.txt file.
const goldenSep = "==== transcript ===="

// testClock is a pinned clock: log timestamps and uptime are reproducible.
var testClock = time.Date(2026, time.March, 1, 0, 5, 12, 123e6, time.UTC)

// newTestApp builds a router with all commands, a fresh store in a temp dir, and a pinned clock.
func newTestApp(t testing.TB) *shell.App {
	t.Helper()
	return shelltest.NewApp(t, shelltest.Options{Store: true, Now: func() time.Time { return testClock },
		Boot: testClock.Add(-(26*time.Hour + 3*time.Minute)), Version: "15.6(3)TB1"})
}

// runTranscript feeds input to a console session and returns the transcript.
func runTranscript(t testing.TB, app *shell.App, input string) string {
	t.Helper()
	return shelltest.Transcript(t, app, input)
}

// trimTrailing removes trailing spaces of every line (ios-cli.md: compare trimmed unless stated).
func trimTrailing(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

// TestTranscripts replays every testdata/*.txt: the lines before the separator are typed on
// the console, the text after it is the expected console transcript.
func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no golden transcripts in testdata")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			in, want, ok := strings.Cut(string(b), goldenSep+"\n")
			if !ok && !*update {
				t.Fatalf("%s: no %q line", f, goldenSep)
			}
			got := runTranscript(t, newTestApp(t), in)
			if *update {
				if err := os.WriteFile(f, []byte(in+goldenSep+"\n"+got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if trimTrailing(got) != trimTrailing(want) {
				t.Errorf("%s: transcript differs (run with -update to accept)\n--- got\n%s\n--- want\n%s\n--- diff\n%s",
					f, got, want, firstDiff(trimTrailing(got), trimTrailing(want)))
			}
		})
	}
}

// firstDiff shows the first differing line.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return "line " + itoa(i+1) + ":\n got: " + a + "\nwant: " + b
		}
	}
	return ""
}

func itoa(n int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + fmtInt(n)) }

func fmtInt(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}
