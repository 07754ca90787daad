package lab

import (
	"os"
	"os/exec"
	"testing"
)

// Required reports whether real-world tiers must run (set by `make check`).
func Required() bool { return os.Getenv("TUNNELBOX_LAB_REQUIRED") == "1" }

// Unavailable skips t, or fails it when real-world tiers are required, giving the reason.
func Unavailable(t testing.TB, why string) {
	t.Helper()
	if Required() {
		t.Fatalf("real-world tier could not run (TUNNELBOX_LAB_REQUIRED=1): %s", why)
	}
	t.Skipf("skipped: %s (make check runs it)", why)
}

// RequireRoot stops t unless the test runs as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Unavailable(t, "needs root")
	}
}

// RequireCommands stops t unless every named program is on PATH.
func RequireCommands(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			Unavailable(t, "needs "+n+" (lab/install-deps.sh installs it)")
		}
	}
}

// RequireShort stops t in -short mode: lab tiers take seconds to minutes.
func RequireShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		Unavailable(t, "lab tier not run in -short mode")
	}
}
