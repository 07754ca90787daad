// Package shelltest builds routers for tests: a shell.App with every command installed over a
// running-config Manager (and a bbolt store in the test's temp dir), and a console transcript
// runner. The tests of shell, shell/commands and lab share it instead of each building their own.
package shelltest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	runningconfig "github.com/tunnelbox/tunnelbox/running-config"
	"github.com/tunnelbox/tunnelbox/shell"
	"github.com/tunnelbox/tunnelbox/shell/commands"
)

// Options are what a test may pin; zero values give a default router.
type Options struct {
	Config  *runningconfig.Config // initial running configuration; nil: runningconfig.Default()
	Store   bool                  // open a bbolt store in tb.TempDir() (write memory, reload)
	Now     func() time.Time      // the clock; nil: time.Now
	Boot    time.Time             // boot time for `show version`; zero: Now() at creation
	Version string                // software version for `show version`
}

// NewApp returns a router with all commands; its Manager and store close with tb.
func NewApp(tb testing.TB, o Options) *shell.App {
	tb.Helper()
	cfg := o.Config
	if cfg == nil {
		cfg = runningconfig.Default()
	}
	mgr := runningconfig.NewManager(cfg)
	tb.Cleanup(func() { mgr.Close() })
	so := shell.Options{Config: mgr, Now: o.Now, Boot: o.Boot, Version: o.Version}
	if o.Store {
		st, err := runningconfig.OpenStore(filepath.Join(tb.TempDir(), "t.db"), time.Second)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { st.Close() })
		so.Store, so.Reset = st, runningconfig.Default
	}
	app, err := shell.NewApp(so)
	if err != nil {
		tb.Fatal(err)
	}
	if err := commands.Register(app); err != nil {
		tb.Fatal(err)
	}
	return app
}

// Transcript feeds input to a new console session of app and returns the transcript (prompt,
// echoed line, output), as a piped console prints it.
func Transcript(tb testing.TB, app *shell.App, input string) string {
	tb.Helper()
	s := app.NewSession(shell.SessionOptions{Line: "con 0"})
	defer s.Close()
	var out bytes.Buffer
	if err := s.RunTranscript(strings.NewReader(input), &out); err != nil {
		tb.Fatal(err)
	}
	return out.String()
}

// GoldenSep separates the typed lines from the expected transcript in a golden file.
const GoldenSep = "==== transcript ===="

// GoldenTranscripts replays every file matching glob: the lines before GoldenSep are typed on a
// console of a router from newApp, the text after it is the expected transcript. exact compares
// byte for byte (layouts whose trailing spaces and TABs matter); otherwise trailing spaces of
// each line are ignored (ios-cli.md: compare trimmed unless stated). update rewrites the files.
func GoldenTranscripts(t *testing.T, glob string, newApp func(testing.TB) *shell.App, exact, update bool) {
	t.Helper()
	files, err := filepath.Glob(glob)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no golden transcripts match %s", glob)
	}
	norm := func(s string) string { return s }
	if !exact {
		norm = TrimTrailing
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), filepath.Ext(f)), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			in, want, ok := strings.Cut(string(b), GoldenSep+"\n")
			if !ok && !update {
				t.Fatalf("%s: no %q line", f, GoldenSep)
			}
			got := Transcript(t, newApp(t), in)
			if update {
				if err := os.WriteFile(f, []byte(in+GoldenSep+"\n"+got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if norm(got) != norm(want) {
				t.Errorf("%s: transcript differs (run with -update to accept)\n%s", f, LineDiff(norm(got), norm(want)))
			}
		})
	}
}

// TrimTrailing removes the trailing spaces of every line.
func TrimTrailing(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

// LineDiff shows the first differing line, with invisible characters quoted.
func LineDiff(got, want string) string {
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
			return fmt.Sprintf("line %d:\n got: %q\nwant: %q", i+1, a, b)
		}
	}
	return "(equal)"
}
