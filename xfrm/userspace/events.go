package userspace

import (
	"sync"

	"github.com/tunnelbox/tunnelbox/xfrm"
)

// maxAcquireBacklog bounds queued acquire events; expiries are never dropped.
const maxAcquireBacklog = 256

// eventQueue decouples the packet paths (which must not block) from the event consumer: push
// never blocks, and one goroutine feeds the consumer's channel in order.
type eventQueue struct {
	out  chan xfrm.Event
	wake chan struct{}
	done chan struct{}

	mu       sync.Mutex // guards q and acquires
	q        []xfrm.Event
	acquires int // acquire events in q
}

func newEventQueue() *eventQueue {
	e := &eventQueue{out: make(chan xfrm.Event), wake: make(chan struct{}, 1), done: make(chan struct{})}
	go e.run()
	return e
}

// push queues ev; an acquire is dropped (returning false) when too many are waiting.
func (e *eventQueue) push(ev xfrm.Event) bool {
	e.mu.Lock()
	if ev.Kind == xfrm.EventAcquire {
		if e.acquires >= maxAcquireBacklog {
			e.mu.Unlock()
			return false
		}
		e.acquires++
	}
	e.q = append(e.q, ev)
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
	return true
}

func (e *eventQueue) run() {
	defer close(e.out)
	for {
		e.mu.Lock()
		if len(e.q) == 0 {
			e.mu.Unlock()
			select {
			case <-e.wake:
				continue
			case <-e.done:
				return
			}
		}
		ev := e.q[0]
		e.q[0] = xfrm.Event{}
		e.q = e.q[1:]
		if ev.Kind == xfrm.EventAcquire {
			e.acquires--
		}
		e.mu.Unlock()
		select {
		case e.out <- ev:
		case <-e.done:
			return
		}
	}
}

// close stops the pump; the consumer's channel is closed.
func (e *eventQueue) close() { close(e.done) }
