package shell

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/tunnelbox/tunnelbox/parser"
)

// Names of the modes the shell itself defines. Feature files add their own sub-modes with
// (*Modes).Add.
const (
	ModeExec       = "exec"
	ModeConfig     = "config"
	ModeInterface  = "config-if"
	ModeLine       = "config-line"
	ModeSubif      = "config-subif"
	modeGroupExec  = "exec"
	modeGroupConfi = "config"
)

// Modes is the open registry of CLI modes. It is safe for concurrent use; registration normally
// happens once at start-up.
type Modes struct {
	mu     sync.RWMutex // protects byName
	byName map[string]*parser.Mode

	Exec   *parser.Mode // user and privileged EXEC (prompt ">" or "#" by privilege)
	Config *parser.Mode // global configuration
}

func newModes() *Modes {
	ms := &Modes{byName: map[string]*parser.Mode{}}
	ms.Exec = &parser.Mode{Name: ModeExec, Prompt: "", Header: "Exec commands:"}
	ms.Config = &parser.Mode{Name: ModeConfig, Prompt: "(config)#", Header: "Configure commands:"}
	ms.byName[ModeExec] = ms.Exec
	ms.byName[ModeConfig] = ms.Config
	return ms
}

// ErrModeExists is returned by Add for a second mode of the same name.
var ErrModeExists = fmt.Errorf("shell: mode already registered")

// Add registers a configuration sub-mode. Parent defaults to global config. The mode receives
// an `exit` command ("Exit from ... mode") so that `?` in it lists one, as IOS does.
func (ms *Modes) Add(g *parser.Grammar, m *parser.Mode) error {
	if m.Parent == nil {
		m.Parent = ms.Config
	}
	ms.mu.Lock()
	if _, ok := ms.byName[m.Name]; ok {
		ms.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrModeExists, m.Name)
	}
	ms.byName[m.Name] = m
	ms.mu.Unlock()
	return installSubmodeBuiltins(g, m)
}

// Get returns the registered mode called name, or nil.
func (ms *Modes) Get(name string) *parser.Mode {
	ms.mu.RLock()
	defer ms.mu.RUnlock()
	return ms.byName[name]
}

// Names lists the registered mode names in order.
func (ms *Modes) Names() []string {
	ms.mu.RLock()
	defer ms.mu.RUnlock()
	out := make([]string, 0, len(ms.byName))
	for n := range ms.byName {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// isConfig reports whether m is global config or one of its descendants.
func isConfig(m *parser.Mode) bool { return m != nil && m.Name != ModeExec }

// exitHelp derives "Exit from interface configuration mode" from the mode header
// "Interface configuration commands:".
func exitHelp(m *parser.Mode) string {
	h := strings.TrimSuffix(strings.TrimSpace(m.Header), ":")
	h = strings.TrimSuffix(h, " commands")
	if h == "" {
		h = m.Name
	}
	return "Exit from " + lowerFirst(h) + " mode"
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	// Keep acronyms such as "ISAKMP" intact.
	if len(s) > 1 && strings.ToUpper(s[:2]) == s[:2] {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
