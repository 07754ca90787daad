package vm

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tunnelbox/tunnelbox/lab"
)

// Require returns the kernel for a VM test, or stops t (lab.Unavailable: skipped under a bare
// `go test`, failed under `make check`) when QEMU, the tools or the kernel package are missing.
func Require(t testing.TB) *Kernel {
	t.Helper()
	lab.RequireShort(t)
	lab.RequireRoot(t)
	lab.RequireCommands(t, "qemu-system-x86_64", "depmod", "dpkg-deb", "xz", "apt-get", "apt-cache", "ldd")
	if _, err := staticBusybox(); err != nil {
		lab.Unavailable(t, err.Error())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	k, err := Prepare(ctx)
	if err != nil {
		lab.Unavailable(t, "no kernel to boot: "+err.Error())
	}
	return k
}

// BuildTest compiles the tests of package pkg (a path below the module root, e.g.
// "./xfrm/kernel") into a static binary (CGO_ENABLED=0 go test -c) and returns its path.
func BuildTest(t testing.TB, pkg string) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), filepath.Base(pkg)+".test")
	args := []string{"test", "-c", "-trimpath", "-o", out, pkg}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return out
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("vm: go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("vm: not inside the module")
	}
	return filepath.Dir(mod), nil
}
