// Package kernelpair holds the end-to-end tests of issue 6: two Tunnelbox routers (the real
// binary) in two network namespaces with a host behind each, configured only through their
// piped consoles, carrying traffic through the data plane that `--dataplane auto` picks.
//
// Inside Debian's kernel under QEMU (lab/vm's TestInVM boots it once and runs every
// test here with TUNNELBOX_IN_VM=1 and TUNNELBOX_BIN naming the static binary) that is the
// kernel's XFRM: the first ping raises an ACQUIRE, `ip -s xfrm state` shows the negotiated
// algorithms and the same counters as `show crypto ipsec sa`, SAs rekey under a running ping
// without a loss, and corrupted keys (the TUNNELBOX_TEST_CORRUPT_KEYS hook) show up as
// authentication failures. On the build host, whose kernel has no ESP, the same tests and the
// same CLI configuration run on the userspace data plane, and the kernel-only checks are left
// out.
//
// The package has tests only.
package kernelpair
