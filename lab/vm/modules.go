package vm

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"strings"
)

// ModuleIndex is a kernel's module dependency table (modules.dep) and its list of built-in
// modules (modules.builtin), keyed by normalised module name ("-" written as "_").
type ModuleIndex struct {
	path    map[string]string   // name -> path relative to lib/modules/KVER
	deps    map[string][]string // name -> names of direct and indirect deps, as depmod lists them
	builtin map[string]bool
}

// ModName normalises a module name: no directory, no .ko[.xz|.zst|.gz] suffix, "-" as "_".
func ModName(s string) string {
	s = path.Base(s)
	if i := strings.Index(s, ".ko"); i >= 0 {
		s = s[:i]
	}
	return strings.ReplaceAll(s, "-", "_")
}

// ParseModules reads modules.dep and modules.builtin.
func ParseModules(dep, builtin io.Reader) (*ModuleIndex, error) {
	ix := &ModuleIndex{path: map[string]string{}, deps: map[string][]string{}, builtin: map[string]bool{}}
	sc := bufio.NewScanner(dep)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for ln := 1; sc.Scan(); ln++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		mod, rest, ok := strings.Cut(line, ":")
		if !ok || mod == "" {
			return nil, fmt.Errorf("vm: modules.dep line %d: no module before ':'", ln)
		}
		name := ModName(mod)
		ix.path[name] = mod
		for _, d := range strings.Fields(rest) {
			ix.deps[name] = append(ix.deps[name], ModName(d))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("vm: modules.dep: %w", err)
	}
	if builtin != nil {
		sc = bufio.NewScanner(builtin)
		for sc.Scan() {
			if l := strings.TrimSpace(sc.Text()); l != "" {
				ix.builtin[ModName(l)] = true
			}
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("vm: modules.builtin: %w", err)
		}
	}
	return ix, nil
}

// Path returns the module's file relative to lib/modules/KVER.
func (ix *ModuleIndex) Path(name string) (string, bool) {
	p, ok := ix.path[ModName(name)]
	return p, ok
}

// Builtin reports whether the module is built into the kernel image.
func (ix *ModuleIndex) Builtin(name string) bool { return ix.builtin[ModName(name)] }

// LoadOrder returns the modules to insert, dependencies first, each once, for the wanted
// modules in order. Built-in modules are skipped. A wanted name that is neither a module nor
// built in is an error.
func (ix *ModuleIndex) LoadOrder(wanted []string) ([]string, error) {
	var order []string
	seen := map[string]bool{}
	var visit func(n string, stack []string) error
	visit = func(n string, stack []string) error {
		if seen[n] {
			return nil
		}
		for _, s := range stack {
			if s == n {
				return fmt.Errorf("vm: module dependency cycle %s -> %s", strings.Join(stack, " -> "), n)
			}
		}
		if _, ok := ix.path[n]; !ok {
			if ix.builtin[n] {
				seen[n] = true
				return nil
			}
			return fmt.Errorf("vm: no module %q in modules.dep or modules.builtin", n)
		}
		// depmod lists the full closure; visiting each one's own deps first orders them.
		for _, d := range ix.deps[n] {
			if err := visit(d, append(stack, n)); err != nil {
				return err
			}
		}
		seen[n] = true
		order = append(order, n)
		return nil
	}
	for _, w := range wanted {
		if err := visit(ModName(w), nil); err != nil {
			return nil, err
		}
	}
	return order, nil
}
