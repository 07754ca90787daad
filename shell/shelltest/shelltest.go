// Package shelltest builds routers for tests: a shell.App with every command installed over a
// running-config Manager (and a bbolt store in the test's temp dir), and a console transcript
// runner. The tests of shell, shell/commands and lab share it instead of each building their own.
package shelltest

import (
	"bytes"
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
