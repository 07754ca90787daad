package runningconfig

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
)

// recorder is a Subscriber that logs its calls and can refuse.
type recorder struct {
	mu     sync.Mutex
	calls  []string
	refuse error
}

func (r *recorder) Validate(old, new *Config) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, "validate "+old.Hostname+"->"+new.Hostname)
	return r.refuse
}

func (r *recorder) Commit(old, new *Config) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, "commit "+old.Hostname+"->"+new.Hostname)
}

func (r *recorder) log() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.calls...)
}

func setHostname(h string) func(*Config) error {
	return func(c *Config) error { c.Hostname = h; return nil }
}

func TestManagerApplyCommits(t *testing.T) {
	m := NewManager(nil)
	defer m.Close()
	a, b := &recorder{}, &recorder{}
	m.Subscribe(a)
	m.Subscribe(b)
	before := m.Running()
	if err := m.Apply(setHostname("R1")); err != nil {
		t.Fatal(err)
	}
	if m.Running().Hostname != "R1" || before.Hostname != DefaultHostname {
		t.Fatalf("running %q, old snapshot %q", m.Running().Hostname, before.Hostname)
	}
	for _, r := range []*recorder{a, b} {
		if got := fmt.Sprint(r.log()); got != "[validate Router->R1 commit Router->R1]" {
			t.Errorf("subscriber calls %s", got)
		}
	}
}

func TestManagerAbortLeavesRunningUnchanged(t *testing.T) {
	errEdit := errors.New("edit says no")
	errSub := errors.New("subscriber says no")
	cases := []struct {
		name   string
		edit   func(*Config) error
		refuse error // of the second subscriber
		want   error
		calls  string // of the first subscriber
	}{
		{"edit error", func(c *Config) error { c.Hostname = "R2"; return errEdit }, nil, errEdit, "[]"},
		{"edit panic", func(c *Config) error { c.Hostname = "R2"; panic("boom") }, nil, ErrEditPanicked, "[]"},
		{"invalid result", setHostname("2bad"), nil, ErrInvalidHostname, "[]"},
		{"subscriber refuses", setHostname("R2"), errSub, errSub, "[validate Router->R2]"},
		{"edit mutates deep state then fails", func(c *Config) error {
			c.EnsureInterface("Loopback0").Address = pfx("10.0.0.1/32")
			c.Lines[0].Privilege = 15
			return errEdit
		}, nil, errEdit, "[]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := NewManager(nil)
			defer m.Close()
			first, second := &recorder{}, &recorder{refuse: tc.refuse}
			m.Subscribe(first)
			m.Subscribe(second)
			before := m.Running()
			text := Render(before)
			err := m.Apply(tc.edit)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Apply() = %v, want %v", err, tc.want)
			}
			if m.Running() != before || Render(m.Running()) != text {
				t.Error("running configuration changed after an aborted Apply")
			}
			if got := fmt.Sprint(first.log()); got != tc.calls {
				t.Errorf("first subscriber calls %s, want %s", got, tc.calls)
			}
			// The manager still works after the abort.
			second.refuse = nil
			if err := m.Apply(setHostname("R3")); err != nil || m.Running().Hostname != "R3" {
				t.Errorf("Apply after abort: %v", err)
			}
		})
	}
}

func TestManagerCommitPanicReported(t *testing.T) {
	m := NewManager(nil)
	defer m.Close()
	m.Subscribe(SubscriberFuncs{CommitFunc: func(_, _ *Config) { panic("commit bug") }})
	err := m.Apply(setHostname("R1"))
	if !errors.Is(err, ErrEditPanicked) || m.Running().Hostname != "R1" {
		t.Fatalf("Apply() = %v, running %q; want committed with a reported panic", err, m.Running().Hostname)
	}
}

func TestManagerClosed(t *testing.T) {
	m := NewManager(nil)
	m.Close()
	m.Close() // idempotent
	if err := m.Apply(setHostname("R1")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Apply after Close = %v", err)
	}
	if m.Running().Hostname != DefaultHostname {
		t.Error("Running after Close")
	}
}

// TestManagerConcurrent hammers Apply from many goroutines while readers render snapshots.
// Every edit appends one route; with serialised read-modify-write none may be lost, and every
// snapshot a reader sees must be internally consistent (routes == the counter in Hostname).
// Run with -race.
func TestManagerConcurrent(t *testing.T) {
	m := NewManager(nil)
	defer m.Close()
	var commits int
	m.Subscribe(SubscriberFuncs{CommitFunc: func(old, new *Config) {
		commits++ // owner goroutine only: -race flags it otherwise
		if len(new.Routes) != len(old.Routes)+1 {
			t.Errorf("commit jumped from %d to %d routes", len(old.Routes), len(new.Routes))
		}
	}})
	const writers, perWriter = 8, 50
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				c := m.Running()
				n := 0
				if c.Hostname != DefaultHostname {
					n, _ = strconv.Atoi(c.Hostname[1:])
				}
				if len(c.Routes) != n {
					t.Errorf("snapshot with hostname %s has %d routes", c.Hostname, len(c.Routes))
					return
				}
				_ = Render(c)
			}
		}()
	}
	var ww sync.WaitGroup
	for w := 0; w < writers; w++ {
		ww.Add(1)
		go func(w int) {
			defer ww.Done()
			for i := 0; i < perWriter; i++ {
				err := m.Apply(func(c *Config) error {
					n := len(c.Routes) + 1
					c.Hostname = "R" + strconv.Itoa(n)
					c.AddRoute(Route{Prefix: pfx(fmt.Sprintf("10.%d.%d.0/24", w, i)), Interface: "Loopback0"})
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	ww.Wait()
	close(stop)
	wg.Wait()
	if got := len(m.Running().Routes); got != writers*perWriter {
		t.Fatalf("%d routes, want %d (lost updates)", got, writers*perWriter)
	}
	var n int
	_ = m.Apply(func(*Config) error { n = commits; return errors.New("read only") })
	if n != writers*perWriter {
		t.Errorf("%d commits, want %d", n, writers*perWriter)
	}
}
