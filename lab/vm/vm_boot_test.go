package vm_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tunnelbox/tunnelbox/lab/vm"
)

// TestBoot boots the stock kernel, checks that the payload runs with the modules loaded and
// iproute2's ip in place, and that the script's exit status comes back.
func TestBoot(t *testing.T) {
	k := vm.Require(t)
	res, err := k.Run(context.Background(), vm.Config{Script: `
set -e
uname -r
grep -q '^esp4 ' /proc/modules
grep -q '^xfrm_user ' /proc/modules
ip -V
ip netns add probe && ip netns del probe
ip xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x1000 mode tunnel enc 'cbc(aes)' 0x00112233445566778899aabbccddeeff auth-trunc 'hmac(sha256)' 0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff 128
ip xfrm state
exit 7
`})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 7 {
		t.Fatalf("exit %d, want 7; console:\n%s", res.ExitCode, res.Console)
	}
	if !strings.Contains(res.Console, k.Version) || !strings.Contains(res.Console, "hmac(sha256)") {
		t.Errorf("console lacks the kernel version or the state:\n%s", res.Console)
	}
	t.Logf("%s (%s): kernel to init %v, modules loaded at %v, wall %v (%s)", k.Version, k.Package, res.Userland, res.Ready, res.Wall, res.Accel)
}
