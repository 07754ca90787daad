package vm_test

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/tunnelbox/tunnelbox/lab/vm"
)

// TestKernelBackendInVM runs xfrm/kernel's tests inside Debian's kernel, where ESP exists:
// every test must run (none may skip) and pass. TUNNELBOX_VM_RUN narrows them (-test.run).
func TestKernelBackendInVM(t *testing.T) {
	k := vm.Require(t)
	bin := vm.BuildTest(t, "./xfrm/kernel")
	var console strings.Builder
	cfg := vm.Config{
		Files:  map[string]string{"kernel.test": bin},
		Script: "./kernel.test -test.v -test.count=1 -test.timeout=8m -test.run \"$RUN\"\n",
		Env:    []string{"TUNNELBOX_IN_VM=1", "TUNNELBOX_LAB_REQUIRED=1", "RUN=" + os.Getenv("TUNNELBOX_VM_RUN")},
	}
	if testing.Verbose() {
		cfg.Console = os.Stderr
	}
	res, err := k.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	console.WriteString(res.Console)
	out := console.String()
	if res.ExitCode != 0 {
		t.Fatalf("xfrm/kernel tests failed in the VM (exit %d):\n%s", res.ExitCode, out)
	}
	if m := regexp.MustCompile(`--- SKIP: \S+`).FindAllString(out, -1); len(m) > 0 {
		t.Errorf("tests skipped in the VM: %v", m)
	}
	if os.Getenv("TUNNELBOX_VM_RUN") == "" && (!strings.Contains(out, "--- PASS: TestTraffic") || !strings.Contains(out, "--- PASS: TestStates")) {
		t.Errorf("the ESP tests did not run:\n%s", out)
	}
	t.Logf("%s: kernel to init %v, ready %v, wall %v (%s)", k.Version, res.Userland, res.Ready, res.Wall, res.Accel)
}
