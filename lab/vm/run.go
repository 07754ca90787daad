package vm

import (
	"bytes"
	"compress/gzip"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Modules are the kernel modules every VM loads, in order (dependencies are added from
// modules.dep). A trailing "?" marks a module that may fail to load (a CPU feature missing
// under TCG, a self-test refused). Traps: every ESP state add fails ("unable to initialize
// cryptographic operations") without a "stdrng" (drbg), and jitterentropy_rng looks up
// sha3-256 by name, so sha3_generic must be in first. The x86 accelerated ciphers (aesni_intel,
// ghash_clmulni_intel) are left out: slower than the generic code under TCG. The kernel's
// crypto self-tests are off (cryptomgr.notests): drbg's alone take 5 s under TCG.
var Modules = []string{
	"sha3_generic?", "jitterentropy_rng?", "drbg",
	"xfrm_algo", "xfrm_user", "esp4", "esp6", "xfrm4_tunnel?", "xfrm6_tunnel?",
	"authenc", "echainiv", "seqiv", "cbc?", "ctr", "gcm", "ghash_generic", "hmac?",
	"aes_generic?", "sha1_generic?", "sha256_generic?", "sha512_generic", "md5?", "des_generic",
	"des3_ede_x86_64?", "crypto_null?",
	"veth", "tun", "dummy?",
}

// Config describes one VM run.
type Config struct {
	// Script is the busybox sh script run as the VM's payload; its exit status is the run's.
	// It runs in /payload with PATH=/payload:/sbin:/usr/sbin:/bin:/usr/bin.
	Script string
	// Files maps a path in the VM (relative paths go under /payload) to a host file.
	Files map[string]string
	// Env is exported to the script ("NAME=value").
	Env []string
	// ExtraModules are loaded after Modules.
	ExtraModules []string
	// Timeout bounds the whole run (default 5 min); Mem is the guest memory (default 1G);
	// CPUs the vCPUs (default 2).
	Timeout time.Duration
	Mem     string
	CPUs    int
	// Console, if set, receives the serial console as it arrives.
	Console io.Writer
}

// Result is the outcome of a run whose script ran to the end.
type Result struct {
	ExitCode int
	Console  string        // the whole serial console (carriage returns removed)
	Userland time.Duration // guest uptime when init started (kernel boot)
	Ready    time.Duration // guest uptime when the modules were loaded and the script started
	Wall     time.Duration // QEMU start to exit
	Accel    string
}

// ErrNoExit is returned when the VM stopped without reporting the script's exit status
// (kernel panic, a required module failed to load, timeout).
var ErrNoExit = errors.New("vm: the VM stopped without reporting an exit status")

// hostIP returns the host's iproute2 ip binary (busybox's ip has no xfrm).
func hostIP() (string, error) {
	for _, p := range []string{"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"} {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			if b, err := os.ReadFile(r); err == nil && !bytes.Contains(b, []byte("BusyBox")) {
				return r, nil
			}
		}
	}
	return "", errors.New("vm: iproute2's ip not found")
}

// sharedLibs returns the ELF interpreter and needed libraries of a dynamic executable, as
// resolved by ldd.
func sharedLibs(bin string) ([]string, error) {
	f, err := elf.Open(bin)
	if err != nil {
		return nil, err
	}
	f.Close()
	out, err := exec.Command("ldd", bin).Output()
	if err != nil {
		return nil, fmt.Errorf("vm: ldd %s: %w", bin, err)
	}
	var libs []string
	for _, f := range strings.Fields(string(out)) {
		if strings.HasPrefix(f, "/") {
			libs = append(libs, f)
		}
	}
	return libs, nil
}

// staticBusybox returns the path of a statically linked busybox (Debian's busybox-static).
func staticBusybox() (string, error) {
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		f, err := elf.Open(p)
		if err != nil {
			continue
		}
		dynamic := false
		for _, p := range f.Progs {
			dynamic = dynamic || p.Type == elf.PT_INTERP
		}
		f.Close()
		if !dynamic {
			return p, nil
		}
	}
	return "", errors.New("vm: no static busybox (install busybox-static)")
}

// initramfs builds the VM's root file system.
func (k *Kernel) initramfs(cfg *Config) (*Archive, error) {
	a := NewArchive()
	for _, d := range []string{"proc", "sys", "dev", "tmp", "run", "etc", "payload", "root", "var"} {
		if err := a.Dir(d); err != nil {
			return nil, err
		}
	}
	a.Symlink("var/run", "../run")
	a.Symlink("var/tmp", "../tmp")
	a.File("etc/passwd", []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644)
	a.File("etc/group", []byte("root:x:0:\n"), 0o644)
	a.File("etc/hosts", []byte("127.0.0.1 localhost\n"), 0o644)

	ip, err := hostIP()
	if err != nil {
		return nil, err
	}
	a.CopyFile("sbin/ip", ip, 0o755)
	libs, err := sharedLibs(ip)
	if err != nil {
		return nil, err
	}
	for _, l := range libs {
		r, err := filepath.EvalSymlinks(l)
		if err != nil {
			return nil, err
		}
		a.CopyFile(l, r, 0o755)
	}
	bb, err := staticBusybox()
	if err != nil {
		return nil, err
	}
	a.CopyFile("bin/busybox", bb, 0o755)
	out, err := exec.Command(bb, "--list-full").Output()
	if err != nil {
		return nil, fmt.Errorf("vm: busybox --list-full: %w", err)
	}
	for _, app := range strings.Fields(string(out)) {
		// iproute2's ip wins over the applet (busybox ip has no xfrm), wherever it is looked up.
		if filepath.Base(app) == "ip" || a.Has(app) {
			continue
		}
		a.Symlink(app, "/bin/busybox")
	}
	a.Symlink("usr/sbin/ip", "/sbin/ip")
	a.Symlink("bin/ip", "/sbin/ip")

	// Modules, dependencies first; the load list is /etc/modules.load ("req|opt path").
	mdir := filepath.Join(k.Dir, "lib", "modules", k.Version)
	var load strings.Builder
	seen := map[string]bool{}
	for _, spec := range append(append([]string(nil), Modules...), cfg.ExtraModules...) {
		name, optional := strings.CutSuffix(spec, "?")
		if !optional && k.Modules.Builtin(name) {
			continue
		}
		if _, ok := k.Modules.Path(name); !ok {
			if k.Modules.Builtin(name) || optional {
				continue
			}
			return nil, fmt.Errorf("vm: kernel %s has no module %s", k.Version, name)
		}
		order, err := k.Modules.LoadOrder([]string{name})
		if err != nil {
			return nil, err
		}
		for _, m := range order {
			if seen[m] {
				continue
			}
			seen[m] = true
			rel, _ := k.Modules.Path(m)
			a.CopyFile(filepath.Join("lib/modules", k.Version, rel), filepath.Join(mdir, rel), 0o644)
			kind := "req"
			if optional && m == ModName(name) {
				kind = "opt"
			}
			fmt.Fprintf(&load, "%s %s\n", kind, filepath.Join("/lib/modules", k.Version, rel))
		}
	}
	for _, f := range []string{"modules.dep", "modules.builtin", "modules.alias", "modules.symbols", "modules.order"} {
		if p := filepath.Join(mdir, f); fileExists(p) {
			a.CopyFile(filepath.Join("lib/modules", k.Version, f), p, 0o644)
		}
	}
	a.File("etc/modules.load", []byte(load.String()), 0o644)

	names := make([]string, 0, len(cfg.Files))
	for n := range cfg.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		dst := n
		if !strings.HasPrefix(dst, "/") {
			dst = "payload/" + dst
		}
		a.CopyFile(dst, cfg.Files[n], 0o755)
	}
	var env strings.Builder
	for _, e := range cfg.Env {
		name, val, ok := strings.Cut(e, "=")
		if !ok || !regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`).MatchString(name) {
			return nil, fmt.Errorf("vm: bad environment entry %q", e)
		}
		fmt.Fprintf(&env, "export %s='%s'\n", name, strings.ReplaceAll(val, "'", `'\''`))
	}
	a.File("payload.sh", []byte(cfg.Script), 0o755)
	a.File("init", []byte(initScript(env.String())), 0o755)
	return a, nil
}

// initScript is PID 1: mounts, loads the modules, runs the payload, reports and powers off.
// The markers are matched by Run.
func initScript(env string) string {
	return `#!/bin/sh
export PATH=/payload:/sbin:/usr/sbin:/bin:/usr/bin HOME=/root TMPDIR=/tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /dev/net
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mkdir -p /run/netns
echo "TBVM-USERLAND: $(cut -d' ' -f1 /proc/uptime)"
finish() { echo "TBVM-EXIT: $1"; sync; poweroff -f; sleep 10; }
fail=0
while read -r kind path; do
  # Few processes per module: every fork costs under TCG. A module already loaded (pulled in
  # by a request_module) reports EEXIST, which is fine.
  if ! err=$(insmod "$path" 2>&1); then
    case $err in *exists*) ;; *) if [ "$kind" = req ]; then echo "TBVM-MODULE-FAILED: $path: $err"; fail=1; fi ;; esac
  fi
done < /etc/modules.load
[ $fail = 0 ] || finish 125
/sbin/ip link set lo up
echo "TBVM-READY: $(cut -d' ' -f1 /proc/uptime)"
` + env + `cd /payload
# A function beats busybox's own ip applet, which sh prefers to PATH (no xfrm in it).
(ip() { /sbin/ip "$@"; }; . /payload.sh)
finish $?
`
}

var markerRE = regexp.MustCompile(`TBVM-(EXIT|USERLAND|READY): ([0-9.]+)\s*\n`)

// kvmUsable reports whether QEMU can use KVM: /dev/kvm must work and must not be the PVM
// nested hypervisor, which cannot run a stock kernel.
func kvmUsable() bool {
	if _, err := os.Stat("/sys/module/kvm_pvm"); err == nil {
		return false
	}
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// Run boots the kernel with an initramfs holding busybox, iproute2's ip, the modules and
// cfg.Files, runs cfg.Script and returns its exit status. The error is ErrNoExit (wrapped,
// with the console's tail) when the script's status never came.
func (k *Kernel) Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Minute
	}
	if cfg.Mem == "" {
		cfg.Mem = "1G"
	}
	if cfg.CPUs <= 0 {
		cfg.CPUs = 2
	}
	a, err := k.initramfs(&cfg)
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "tbvm-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	initrd := filepath.Join(work, "initrd.gz")
	f, err := os.Create(initrd)
	if err != nil {
		return nil, err
	}
	zw, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	err = a.WriteTo(zw, os.ReadFile)
	if err == nil {
		err = zw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("vm: initramfs: %w", err)
	}

	res := &Result{Accel: "tcg"}
	args := []string{"-accel", "tcg,thread=multi", "-cpu", "max"}
	if kvmUsable() {
		res.Accel = "kvm"
		args = []string{"-accel", "kvm", "-cpu", "host"}
	}
	args = append(args, "-m", cfg.Mem, "-smp", strconv.Itoa(cfg.CPUs),
		"-nographic", "-nodefaults", "-serial", "stdio", "-nic", "none", "-no-reboot",
		"-kernel", k.Image, "-initrd", initrd,
		"-append", "console=ttyS0 quiet panic=-1 loglevel=3 cryptomgr.notests=1")
	rctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	cmd := exec.CommandContext(rctx, "qemu-system-x86_64", args...)
	cmd.WaitDelay = 10 * time.Second
	var console bytes.Buffer
	var w io.Writer = &console
	if cfg.Console != nil {
		w = io.MultiWriter(&console, cfg.Console)
	}
	cmd.Stdout, cmd.Stderr = w, w
	start := time.Now()
	runErr := cmd.Run()
	res.Wall = time.Since(start)
	res.Console = strings.ReplaceAll(console.String(), "\r", "")
	exit := -1
	for _, m := range markerRE.FindAllStringSubmatch(res.Console, -1) {
		switch m[1] {
		case "EXIT":
			exit, _ = strconv.Atoi(m[2])
		case "USERLAND":
			res.Userland = seconds(m[2])
		case "READY":
			res.Ready = seconds(m[2])
		}
	}
	if exit < 0 || exit == 125 && res.Ready == 0 {
		tail := res.Console
		if len(tail) > 3000 {
			tail = tail[len(tail)-3000:]
		}
		why := "qemu exited"
		if rctx.Err() != nil {
			why = fmt.Sprintf("timeout after %v", cfg.Timeout)
		}
		return res, fmt.Errorf("%w (%s: %v); console tail:\n%s", ErrNoExit, why, runErr, tail)
	}
	res.ExitCode = exit
	return res, nil
}

func seconds(s string) time.Duration {
	f, _ := strconv.ParseFloat(s, 64)
	return time.Duration(f * float64(time.Second))
}
