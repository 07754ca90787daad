package shell

import (
	"sync"

	"github.com/tunnelbox/tunnelbox/ike"
)

// engineSlot holds the router's IKE engine and the functions waiting for it.
type engineSlot struct {
	mu    sync.Mutex // protects e and hooks
	e     *ike.Engine
	hooks []func(*ike.Engine)
}

// SetEngine attaches the router's IKE engine (cmd/tunnelbox does it once the engine runs): the
// crypto show, clear and debug commands act on it. Functions registered with OnEngine run
// with it, in registration order. A nil engine detaches (the commands then report that
// crypto is not running).
func (a *App) SetEngine(e *ike.Engine) {
	a.eng.mu.Lock()
	a.eng.e = e
	hooks := append([]func(*ike.Engine){}, a.eng.hooks...)
	a.eng.mu.Unlock()
	if e == nil {
		return
	}
	for _, f := range hooks {
		f(e)
	}
}

// Engine returns the attached IKE engine, nil when none.
func (a *App) Engine() *ike.Engine {
	a.eng.mu.Lock()
	defer a.eng.mu.Unlock()
	return a.eng.e
}

// OnEngine registers f to run whenever an engine is attached (at once when one already is):
// command files use it to subscribe to the engine's events.
func (a *App) OnEngine(f func(*ike.Engine)) {
	a.eng.mu.Lock()
	a.eng.hooks = append(a.eng.hooks, f)
	e := a.eng.e
	a.eng.mu.Unlock()
	if e != nil {
		f(e)
	}
}
