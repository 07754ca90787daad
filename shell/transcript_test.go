package shell_test

import (
	"flag"
	"testing"
	"time"

	"github.com/tunnelbox/tunnelbox/shell"
	"github.com/tunnelbox/tunnelbox/shell/shelltest"
)

var update = flag.Bool("update", false, "rewrite the expected transcripts in testdata/*.txt")

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

// TestTranscripts replays every testdata/*.txt: the lines before the separator are typed on
// the console, the text after it is the expected console transcript (trailing spaces ignored).
func TestTranscripts(t *testing.T) {
	shelltest.GoldenTranscripts(t, "testdata/*.txt", newTestApp, false, *update)
}
