package bench

import (
	"fmt"
	"os"
	"testing"

	"github.com/tunnelbox/tunnelbox/lab"
)

// TestMain turns the test binary into the engine load generator when LoadGenEnv is set
// (StartLoadGen re-executes it that way); otherwise it runs the tests.
func TestMain(m *testing.M) {
	if opts := os.Getenv(LoadGenEnv); opts != "" {
		if err := ServeLoadGen(opts, os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(lab.RunTests(m))
}
