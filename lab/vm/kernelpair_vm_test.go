package vm_test

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tunnelbox/tunnelbox/lab/vm"
)

// TestKernelPairInVM is issue 6's acceptance on a kernel with ESP: one boot of Debian's kernel
// runs lab/vm/kernelpair's tests (two real tunnelbox routers, static build, in namespaces)
// and cmd/tunnelbox's data plane choice test. Every test must run (none may skip) and pass.
// TUNNELBOX_VM_RUN narrows the kernelpair tests (-test.run).
func TestKernelPairInVM(t *testing.T) {
	k := vm.Require(t)
	pairs := vm.BuildTest(t, "./lab/vm/kernelpair")
	cmd := vm.BuildTest(t, "./cmd/tunnelbox")
	bin := vm.BuildBinary(t, "./cmd/tunnelbox")
	cfg := vm.Config{
		Files: map[string]string{"kernelpair.test": pairs, "tunnelbox.test": cmd, "tunnelbox": bin},
		Script: `set -e
./tunnelbox.test -test.v -test.count=1 -test.run '^TestAutoFollowsTheKernel$'
./kernelpair.test -test.v -test.count=1 -test.timeout=8m -test.run "$RUN"
`,
		Env: []string{"TUNNELBOX_IN_VM=1", "TUNNELBOX_LAB_REQUIRED=1", "TUNNELBOX_BIN=/payload/tunnelbox",
			"RUN=" + os.Getenv("TUNNELBOX_VM_RUN")},
		Timeout: 10 * time.Minute,
	}
	if testing.Verbose() {
		cfg.Console = os.Stderr
	}
	res, err := k.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := res.Console
	if res.ExitCode != 0 {
		t.Fatalf("kernel pair tests failed in the VM (exit %d):\n%s", res.ExitCode, out)
	}
	if m := regexp.MustCompile(`--- SKIP: \S+`).FindAllString(out, -1); len(m) > 0 {
		t.Errorf("tests skipped in the VM: %v", m)
	}
	want := []string{"--- PASS: TestAutoFollowsTheKernel", "--dataplane auto: kernel"}
	if os.Getenv("TUNNELBOX_VM_RUN") == "" {
		want = append(want, "--- PASS: TestTunnel", "--- PASS: TestRekeyWithoutLoss", "--- PASS: TestAuthFailures")
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("no %q in the VM's output:\n%s", w, out)
		}
	}
	t.Logf("%s: kernel to init %v, ready %v, wall %v (%s)", k.Version, res.Userland, res.Ready, res.Wall, res.Accel)
}
