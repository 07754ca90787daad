// Package vm runs tests inside Debian's stock kernel under QEMU: this build machine's kernel
// has XFRM but no ESP, Debian's has esp4/esp6 as modules.
//
// Prepare fetches the kernel package that linux-image-amd64 depends on with `apt-get
// download` into a cache outside the repository (DefaultCacheDir, or TUNNELBOX_VM_CACHE;
// TUNNELBOX_VM_DEB names an already downloaded .deb), unpacks it, runs depmod (the .deb leaves
// modules.dep to its postinst) and extracts the ELF vmlinux, which QEMU boots through the PVH
// entry point without decompressing under emulation.
//
// Kernel.Run writes a newc initramfs (Archive) holding a static busybox, the host's iproute2
// ip with its shared libraries (busybox's ip has no xfrm), the Modules closure from
// modules.dep, the caller's files (static Go test binaries from BuildTest, the static tunnelbox
// from lab.BuildTunnelbox) and an init that loads the modules, runs the script and reports its
// exit status on the serial console. QEMU runs with TCG (KVM only when /dev/kvm is usable and is not the PVM nested
// hypervisor, which cannot run a stock kernel), no NIC, and powers off when the script ends.
//
// Require wraps Prepare for tests: without QEMU, the tools or the package, a test is skipped
// under a bare `go test` and fails under `make check` (lab.Unavailable).
//
// Traps found on the way: drbg must be loaded or every ESP state add fails; jitterentropy_rng
// needs sha3_generic first; busybox sh runs its own ip applet before PATH (the init defines a
// shell function ip that calls /sbin/ip); the crypto self-tests and the AES-NI module cost tens
// of seconds under TCG.
package vm
