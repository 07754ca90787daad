package vm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// DefaultCacheDir holds downloaded kernel packages and their extracted trees, outside the
// repository. TUNNELBOX_VM_CACHE overrides it.
const DefaultCacheDir = "/var/cache/tunnelbox/vm"

// MetaPackage is the Debian package whose dependency names the current stock kernel.
const MetaPackage = "linux-image-amd64"

// Kernel is an extracted Debian kernel package ready to boot.
type Kernel struct {
	Dir     string // extracted package root (boot/, lib/modules/VERSION/)
	Version string // e.g. 6.1.0-56-amd64
	Package string // e.g. linux-image-6.1.0-56-amd64 6.1.192-2
	Image   string // the ELF vmlinux (PVH entry, fast under TCG) or else the bzImage
	Modules *ModuleIndex
}

// CacheDir returns the cache directory in use.
func CacheDir() string {
	if d := os.Getenv("TUNNELBOX_VM_CACHE"); d != "" {
		return d
	}
	return DefaultCacheDir
}

var prepMu sync.Mutex

// Prepare returns the kernel, downloading and extracting it into the cache on first use:
// the .deb of TUNNELBOX_VM_DEB if set, else `apt-get download` of the package MetaPackage
// depends on. depmod generates modules.dep (the .deb leaves that to its postinst) and the
// uncompressed vmlinux is extracted from the xz-compressed bzImage.
func Prepare(ctx context.Context) (*Kernel, error) {
	prepMu.Lock()
	defer prepMu.Unlock()
	cache := CacheDir()
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return nil, fmt.Errorf("vm: cache: %w", err)
	}
	deb := os.Getenv("TUNNELBOX_VM_DEB")
	if deb == "" {
		pkg, err := kernelPackage(ctx)
		if err != nil {
			return nil, err
		}
		if dir := filepath.Join(cache, pkg); fileExists(filepath.Join(dir, ".ready")) {
			return loadKernel(dir)
		}
		if deb, err = download(ctx, cache, pkg); err != nil {
			return nil, err
		}
	}
	pkg, err := output(ctx, "", "dpkg-deb", "-f", deb, "Package")
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(cache, strings.TrimSpace(pkg))
	if fileExists(filepath.Join(dir, ".ready")) {
		return loadKernel(dir)
	}
	if err := extract(ctx, deb, dir); err != nil {
		return nil, err
	}
	return loadKernel(dir)
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func output(ctx context.Context, dir, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("vm: %s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// kernelPackage resolves MetaPackage's kernel image dependency (apt-get update once if apt
// does not know the package yet).
func kernelPackage(ctx context.Context) (string, error) {
	find := func() string {
		out, err := output(ctx, "", "apt-cache", "depends", MetaPackage)
		if err != nil {
			return ""
		}
		for _, l := range strings.Split(out, "\n") {
			f := strings.Fields(l)
			if len(f) == 2 && f[0] == "Depends:" && strings.HasPrefix(f[1], "linux-image-") &&
				f[1] != MetaPackage && f[1][len("linux-image-")] >= '0' && f[1][len("linux-image-")] <= '9' {
				return f[1]
			}
		}
		return ""
	}
	if p := find(); p != "" {
		return p, nil
	}
	if _, err := output(ctx, "", "apt-get", "-o", "DPkg::Lock::Timeout=300", "update", "-qq"); err != nil {
		return "", err
	}
	if p := find(); p != "" {
		return p, nil
	}
	return "", fmt.Errorf("vm: apt cannot resolve the kernel package of %s", MetaPackage)
}

func download(ctx context.Context, cache, pkg string) (string, error) {
	debs := filepath.Join(cache, "debs")
	if err := os.MkdirAll(debs, 0o755); err != nil {
		return "", err
	}
	if m, _ := filepath.Glob(filepath.Join(debs, pkg+"_*.deb")); len(m) > 0 {
		return m[len(m)-1], nil
	}
	if _, err := output(ctx, debs, "apt-get", "download", pkg); err != nil {
		return "", err
	}
	m, _ := filepath.Glob(filepath.Join(debs, pkg+"_*.deb"))
	if len(m) == 0 {
		return "", fmt.Errorf("vm: apt-get download %s left no .deb in %s", pkg, debs)
	}
	return m[len(m)-1], nil
}

// extract unpacks deb into dir (through a temporary directory renamed at the end).
func extract(ctx context.Context, deb, dir string) error {
	tmp := dir + ".tmp"
	os.RemoveAll(tmp)
	if _, err := output(ctx, "", "dpkg-deb", "-x", deb, tmp); err != nil {
		return err
	}
	os.RemoveAll(filepath.Join(tmp, "usr")) // documentation only
	info, err := output(ctx, "", "dpkg-deb", "-f", deb, "Package", "Version")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, "PACKAGE"), []byte(info), 0o644); err != nil {
		return err
	}
	kver, err := onlyVersion(tmp)
	if err != nil {
		return err
	}
	if _, err := output(ctx, "", "depmod", "-b", tmp, kver); err != nil {
		return err
	}
	if err := extractVmlinux(ctx, filepath.Join(tmp, "boot", "vmlinuz-"+kver), filepath.Join(tmp, "boot", "vmlinux-"+kver)); err != nil {
		// The bzImage still boots, only more slowly under TCG.
		fmt.Fprintf(os.Stderr, "vm: %v; booting the bzImage\n", err)
	}
	if err := os.WriteFile(filepath.Join(tmp, ".ready"), []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644); err != nil {
		return err
	}
	os.RemoveAll(dir)
	return os.Rename(tmp, dir)
}

func onlyVersion(root string) (string, error) {
	ents, err := os.ReadDir(filepath.Join(root, "lib", "modules"))
	if err != nil || len(ents) != 1 {
		return "", fmt.Errorf("vm: %s: want exactly one lib/modules/VERSION (%v)", root, err)
	}
	return ents[0].Name(), nil
}

// extractVmlinux decompresses the xz payload of an x86 bzImage into an ELF file.
func extractVmlinux(ctx context.Context, bz, out string) error {
	img, err := os.ReadFile(bz)
	if err != nil {
		return err
	}
	off := bytes.Index(img, []byte("\xfd7zXZ\x00"))
	if off < 0 {
		return errors.New("vm: no xz payload in " + bz)
	}
	cmd := exec.CommandContext(ctx, "xz", "-dc", "--single-stream")
	cmd.Stdin = bytes.NewReader(img[off:])
	elf, err := cmd.Output()
	if err != nil && len(elf) == 0 {
		return fmt.Errorf("vm: decompressing %s: %w", bz, err)
	}
	if !bytes.HasPrefix(elf, []byte("\x7fELF")) {
		return errors.New("vm: the payload of " + bz + " is not an ELF vmlinux")
	}
	return os.WriteFile(out, elf, 0o644)
}

func loadKernel(dir string) (*Kernel, error) {
	kver, err := onlyVersion(dir)
	if err != nil {
		return nil, err
	}
	k := &Kernel{Dir: dir, Version: kver, Image: filepath.Join(dir, "boot", "vmlinux-"+kver)}
	if !fileExists(k.Image) {
		k.Image = filepath.Join(dir, "boot", "vmlinuz-"+kver)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "PACKAGE")); err == nil {
		k.Package = strings.Join(strings.Fields(string(b)), " ")
	}
	mdir := filepath.Join(dir, "lib", "modules", kver)
	dep, err := os.Open(filepath.Join(mdir, "modules.dep"))
	if err != nil {
		return nil, fmt.Errorf("vm: %w", err)
	}
	defer dep.Close()
	builtin, err := os.Open(filepath.Join(mdir, "modules.builtin"))
	if err != nil {
		return nil, fmt.Errorf("vm: %w", err)
	}
	defer builtin.Close()
	if k.Modules, err = ParseModules(dep, builtin); err != nil {
		return nil, err
	}
	return k, nil
}
