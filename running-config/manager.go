package runningconfig

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// Subscriber takes part in every change of the running configuration. The Manager calls it on
// its owner goroutine, in subscription order, with immutable snapshots: Validate for every
// subscriber first (any error aborts the change and leaves the running configuration as it
// was), then Commit for every subscriber once the new configuration is running.
//
// Validate must not have side effects, because a later subscriber may still abort. Commit
// applies the change (program the kernel, rekey) and cannot refuse it. Neither may call
// Manager.Apply or Manager.Subscribe synchronously: they run on the goroutine that serves
// those calls. Post the work to another goroutine instead.
type Subscriber interface {
	Validate(old, new *Config) error
	Commit(old, new *Config)
}

// SubscriberFuncs adapts two functions to a Subscriber; a nil function does nothing.
type SubscriberFuncs struct {
	ValidateFunc func(old, new *Config) error
	CommitFunc   func(old, new *Config)
}

// Validate calls ValidateFunc.
func (s SubscriberFuncs) Validate(old, new *Config) error {
	if s.ValidateFunc == nil {
		return nil
	}
	return s.ValidateFunc(old, new)
}

// Commit calls CommitFunc.
func (s SubscriberFuncs) Commit(old, new *Config) {
	if s.CommitFunc != nil {
		s.CommitFunc(old, new)
	}
}

// Manager owns the running configuration. One goroutine (run) serialises every change; the
// public methods funnel closures to it and wait for their result (gobgp's mgmtOperation).
// Readers never block: Running returns the current immutable snapshot.
//
// A Manager is safe for concurrent use.
type Manager struct {
	ops     chan func()            // closures executed on the owner goroutine
	running atomic.Pointer[Config] // current snapshot; written only by the owner goroutine
	subs    []Subscriber           // owned by the owner goroutine

	quit      chan struct{} // closed by Close
	done      chan struct{} // closed when run has returned
	closeOnce sync.Once
}

// NewManager starts a Manager whose running configuration is initial (Default() when nil).
// initial must not be modified afterwards. Close stops the owner goroutine.
func NewManager(initial *Config) *Manager {
	if initial == nil {
		initial = Default()
	}
	m := &Manager{
		ops:  make(chan func()),
		quit: make(chan struct{}),
		done: make(chan struct{}),
	}
	m.running.Store(initial)
	go m.run()
	return m
}

func (m *Manager) run() {
	defer close(m.done)
	for {
		select {
		case op := <-m.ops:
			op()
		case <-m.quit:
			return
		}
	}
}

// do runs op on the owner goroutine and waits for it.
func (m *Manager) do(op func()) error {
	finished := make(chan struct{})
	select {
	case m.ops <- func() { defer close(finished); op() }:
	case <-m.quit:
		return ErrClosed
	}
	<-finished
	return nil
}

// Running returns the current running configuration. The snapshot is shared: never modify it.
func (m *Manager) Running() *Config { return m.running.Load() }

// Subscribe adds s; it takes part in every later Apply.
func (m *Manager) Subscribe(s Subscriber) {
	_ = m.do(func() { m.subs = append(m.subs, s) })
}

// Apply changes the running configuration: it clones the running snapshot, runs edit on the
// clone, validates the result (Config.Validate, then every subscriber's Validate) and, if all
// agree, makes it the running configuration and calls every subscriber's Commit. If edit
// returns an error or panics, or any validation fails, the running configuration is unchanged
// and the error is returned as is (wrapped only for a panic).
//
// edit runs on the owner goroutine: it must not call Apply, and must not keep the *Config.
func (m *Manager) Apply(edit func(c *Config) error) error {
	var err error
	if cerr := m.do(func() { err = m.apply(edit) }); cerr != nil {
		return cerr
	}
	return err
}

func (m *Manager) apply(edit func(c *Config) error) error {
	old := m.running.Load()
	next := old.Clone()
	if err := guard("edit", func() error { return edit(next) }); err != nil {
		return err
	}
	if err := next.Validate(); err != nil {
		return err
	}
	for _, s := range m.subs {
		if err := guard(fmt.Sprintf("subscriber %T Validate", s), func() error { return s.Validate(old, next) }); err != nil {
			return err
		}
	}
	m.running.Store(next)
	var commitErr error
	for _, s := range m.subs {
		err := guard(fmt.Sprintf("subscriber %T Commit", s), func() error { s.Commit(old, next); return nil })
		if err != nil && commitErr == nil {
			commitErr = fmt.Errorf("running-config: change committed, but %w", err)
		}
	}
	return commitErr
}

// guard runs f and turns a panic into an error wrapping ErrEditPanicked.
func guard(what string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s: %v", ErrEditPanicked, what, r)
		}
	}()
	return f()
}

// Close stops the owner goroutine. Later Apply calls return ErrClosed; Running keeps returning
// the last snapshot.
func (m *Manager) Close() {
	m.closeOnce.Do(func() { close(m.quit) })
	<-m.done
}
