// Package lab holds the project's own test harness: network-namespace topologies, the strongSwan
// peer, the QEMU kernel harness, and the rule for real-world test tiers.
//
// A test that needs a resource this machine may lack (root, network namespaces, strongSwan,
// OpenSSH, tshark, QEMU) calls Require. Under a bare `go test ./...` a missing resource skips the
// test and says why; under `make check` (TUNNELBOX_LAB_REQUIRED=1) it fails the test, because a
// real-world tier that did not run is a failure there.
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
