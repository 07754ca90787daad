package vm_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tunnelbox/tunnelbox/lab"
	"github.com/tunnelbox/tunnelbox/lab/vm"
)

func TestMain(m *testing.M) { os.Exit(lab.RunTests(m)) }

// suite is one part of the VM run: a shell snippet (boot checks) or a test binary.
type suite struct {
	name   string
	pkg    string   // test binary of this package ("" for a script)
	script string   // for a script suite
	run    string   // -test.run; "" = TUNNELBOX_VM_RUN (all tests when unset)
	must   []string // output lines a full run must contain
}

// suites run in one boot of Debian's kernel, in this order. TUNNELBOX_VM_RUN narrows the test
// binaries that do not fix their own -test.run.
var suites = []suite{
	{name: "boot", script: `uname -r
grep -q '^esp4 ' /proc/modules
grep -q '^xfrm_user ' /proc/modules
ip -V
ip netns add probe && ip netns del probe
ip xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x1000 mode tunnel enc 'cbc(aes)' 0x00112233445566778899aabbccddeeff auth-trunc 'hmac(sha256)' 0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff 128
ip xfrm state | grep -q 'hmac(sha256)'
ip xfrm state flush`},
	// xfrm/kernel's tests, where ESP exists: states, traffic, auth failures, acquire, expiry.
	{name: "xfrm/kernel", pkg: "./xfrm/kernel", must: []string{"--- PASS: TestTraffic", "--- PASS: TestStates", "--- PASS: TestExpire"}},
	// --dataplane auto picks the kernel here.
	{name: "cmd/tunnelbox", pkg: "./cmd/tunnelbox", run: "^TestAutoFollowsTheKernel$",
		must: []string{"--- PASS: TestAutoFollowsTheKernel", "--dataplane auto: kernel"}},
	// Issue 6's acceptance: two real routers over the kernel data plane.
	{name: "kernelpair", pkg: "./lab/vm/kernelpair",
		must: []string{"--- PASS: TestTunnel", "--- PASS: TestRekeyWithoutLoss", "--- PASS: TestAuthFailures"}},
}

var suiteEndRE = regexp.MustCompile(`(?m)^TBVM-SUITE-END: (\S+) (\d+)$`)

// TestInVM boots Debian's stock kernel once and runs every suite in it: the boot checks (the
// modules are loaded, iproute2's ip adds an ESP state), xfrm/kernel's tests, cmd/tunnelbox's
// data plane choice, and lab/vm/kernelpair's two-router tests with the static tunnelbox
// binary. In the VM every test must run (none may skip) and pass; the script's exit status is
// the number of failed suites, which checks that the status comes back from the VM.
func TestInVM(t *testing.T) {
	k := vm.Require(t)
	narrow := os.Getenv("TUNNELBOX_VM_RUN")
	files := map[string]string{"tunnelbox": lab.TunnelboxBinary(t, lab.BuildOptions{Static: true})}
	var script strings.Builder
	script.WriteString("failed=0\n")
	for i, s := range suites {
		fmt.Fprintf(&script, "echo 'TBVM-SUITE-BEGIN: %s'\n", s.name)
		if s.pkg == "" {
			fmt.Fprintf(&script, "( set -e\n%s\n)\n", s.script)
		} else {
			bin := fmt.Sprintf("suite%d.test", i)
			files[bin] = vm.BuildTest(t, s.pkg)
			run := s.run
			if run == "" {
				run = narrow
			}
			fmt.Fprintf(&script, "./%s -test.v -test.count=1 -test.timeout=8m -test.run '%s'\n", bin, strings.ReplaceAll(run, "'", ""))
		}
		fmt.Fprintf(&script, "st=$?; echo \"TBVM-SUITE-END: %s $st\"; [ $st = 0 ] || failed=$((failed+1))\n", s.name)
	}
	script.WriteString("exit $failed\n")
	cfg := vm.Config{
		Files:   files,
		Script:  script.String(),
		Env:     []string{"TUNNELBOX_IN_VM=1", "TUNNELBOX_LAB_REQUIRED=1", "TUNNELBOX_BIN=/payload/tunnelbox"},
		Timeout: 15 * time.Minute,
	}
	if testing.Verbose() {
		cfg.Console = os.Stderr
	}
	res, err := k.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := res.Console
	failed := 0
	for _, s := range suites {
		t.Run(strings.ReplaceAll(s.name, "/", "_"), func(t *testing.T) {
			b := strings.Index(out, "TBVM-SUITE-BEGIN: "+s.name+"\n")
			var end []string
			for _, m := range suiteEndRE.FindAllStringSubmatch(out, -1) {
				if m[1] == s.name {
					end = m
				}
			}
			if b < 0 || end == nil {
				t.Fatalf("the suite did not run to its end; console tail:\n%s", tailLines(out, 60))
			}
			sec := out[b:strings.Index(out, end[0])]
			if st, _ := strconv.Atoi(end[2]); st != 0 {
				failed++
				t.Fatalf("failed in the VM (status %d):\n%s", st, sec)
			}
			if m := regexp.MustCompile(`--- SKIP: \S+`).FindAllString(sec, -1); len(m) > 0 {
				t.Errorf("tests skipped in the VM: %v\n%s", m, sec)
			}
			want := s.must
			if narrow != "" && s.run == "" {
				want = nil
			}
			for _, w := range want {
				if !strings.Contains(sec, w) {
					t.Errorf("no %q in:\n%s", w, sec)
				}
			}
			if testing.Verbose() {
				for _, l := range strings.Split(sec, "\n") {
					if strings.HasPrefix(l, "--- ") || strings.Contains(l, "timing") || strings.Contains(l, "echoes") {
						t.Log(l)
					}
				}
			}
		})
	}
	if res.ExitCode != failed {
		t.Errorf("exit status %d from the VM, but %d suites failed", res.ExitCode, failed)
	}
	t.Logf("%s (%s): kernel to init %v, modules loaded at %v, wall %v (%s)", k.Version, k.Package, res.Userland, res.Ready, res.Wall, res.Accel)
}

func tailLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}
