package lab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TunnelboxPackage is the import path of the appliance's command.
const TunnelboxPackage = "github.com/tunnelbox/tunnelbox/cmd/tunnelbox"

// BinEnv names a tunnelbox binary built elsewhere; when it is set the lab uses it instead of
// building one (lab/vm sets it to the static copy it puts into the VM, which has no Go).
const BinEnv = "TUNNELBOX_BIN"

// BuildTimeout bounds one `go build` of the binary.
var BuildTimeout = 5 * time.Minute

// BuildOptions says which variant of the binary to build.
type BuildOptions struct {
	// Static builds with CGO_ENABLED=0 and -trimpath: a binary that runs without libc, as in
	// lab/vm's initramfs.
	Static bool
}

// build is one variant of the binary, built at most once per test process.
type build struct {
	once sync.Once
	path string
	err  error
}

var (
	buildsMu sync.Mutex
	builds   = map[BuildOptions]*build{}
	binDirs  []string // directories to remove in RemoveBinaries
)

// BuildTunnelbox returns the path of the tunnelbox binary (cmd/tunnelbox of the module the test
// runs in), building it the first time a test process asks for the variant o; later calls
// return the same binary (or the same build error). The binary lives in a directory
// tb-bin-<pid>-* in the temporary directory: RemoveBinaries (from TestMain) deletes it, and
// SweepStale deletes those a dead process left behind. When TUNNELBOX_BIN is set its binary is
// returned instead and nothing is built.
func BuildTunnelbox(o BuildOptions) (string, error) {
	if bin := os.Getenv(BinEnv); bin != "" {
		return bin, nil
	}
	sweepOnce.Do(func() { SweepStale() })
	buildsMu.Lock()
	b := builds[o]
	if b == nil {
		b = &build{}
		builds[o] = b
	}
	buildsMu.Unlock()
	b.once.Do(func() { b.path, b.err = buildTunnelbox(o) })
	return b.path, b.err
}

func buildTunnelbox(o BuildOptions) (string, error) {
	dir, err := os.MkdirTemp("", fmt.Sprintf("tb-bin-%d-", os.Getpid()))
	if err != nil {
		return "", fmt.Errorf("lab: %w", err)
	}
	buildsMu.Lock()
	binDirs = append(binDirs, dir)
	buildsMu.Unlock()
	bin := filepath.Join(dir, "tunnelbox")
	args := []string{"build"}
	if o.Static {
		args = append(args, "-trimpath")
	}
	args = append(args, "-o", bin, TunnelboxPackage)
	ctx, cancel := context.WithTimeout(context.Background(), BuildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Env = os.Environ()
	if o.Static {
		cmd.Env = append(cmd.Env, "CGO_ENABLED=0")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", &CommandError{Args: append([]string{"go"}, args...), Output: strings.TrimSpace(string(out)), Err: err}
	}
	return bin, nil
}

// TunnelboxBinary is BuildTunnelbox that fails t when the binary cannot be built.
func TunnelboxBinary(t testing.TB, o BuildOptions) string {
	t.Helper()
	bin, err := BuildTunnelbox(o)
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// RemoveBinaries deletes the binaries this process built. TestMain calls it after m.Run.
func RemoveBinaries() {
	buildsMu.Lock()
	defer buildsMu.Unlock()
	for _, d := range binDirs {
		os.RemoveAll(d)
	}
	binDirs = nil
	builds = map[BuildOptions]*build{}
}

// RunTests runs the tests of m and then removes the binaries they built: a TestMain for
// packages that need nothing else, `func TestMain(m *testing.M) { os.Exit(lab.RunTests(m)) }`.
func RunTests(m *testing.M) int {
	defer RemoveBinaries()
	return m.Run()
}
