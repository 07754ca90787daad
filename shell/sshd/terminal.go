package sshd

import (
	"io"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
)

// sizeBox holds the pty state of a session: set by pty-req and window-change on the
// request goroutine, read by the shell.
type sizeBox struct {
	mu            sync.Mutex // protects the fields below
	pty           bool
	term          string
	width, height int

	changed chan struct{} // capacity 1: a pending notification is never duplicated
}

func newSizeBox() *sizeBox {
	return &sizeBox{width: 80, height: 24, changed: make(chan struct{}, 1)}
}

// clampSize keeps a client's window size in 1..max, treating 0 ("unknown") as the default.
func clampSize(v, def, max int) int {
	switch {
	case v <= 0:
		return def
	case v > max:
		return max
	}
	return v
}

func (b *sizeBox) setPTY(term string, cols, rows int) {
	b.mu.Lock()
	b.pty, b.term = true, printable(term)
	b.width, b.height = clampSize(cols, 80, maxColumns), clampSize(rows, 24, maxRows)
	b.mu.Unlock()
}

func (b *sizeBox) resize(cols, rows int) {
	b.mu.Lock()
	b.width, b.height = clampSize(cols, b.width, maxColumns), clampSize(rows, b.height, maxRows)
	b.mu.Unlock()
	select {
	case b.changed <- struct{}{}:
	default:
	}
}

func (b *sizeBox) get() (string, int, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.term, b.width, b.height
}

func (b *sizeBox) hasPTY() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pty
}

// terminal builds the shell's view of the session channel: input watched for idleness
// (exec-timeout) and, with a pty, output with "\n" turned into "\r\n" since no tty layer
// on our side does it (the client's pty is in raw mode).
func (cs *connSession) terminal(ch ssh.Channel, size *sizeBox) *Terminal {
	pty := size.hasPTY()
	in := &idleReader{r: ch}
	in.touch()
	var out io.Writer = ch
	if pty {
		out = &crlfWriter{w: ch}
	}
	go cs.watchIdle(in)
	return &Terminal{
		Reader:    in,
		Writer:    out,
		User:      cs.user,
		Privilege: cs.priv,
		Line:      cs.line,
		Remote:    cs.sc.RemoteAddr(),
		PTY:       pty,
		size:      size,
	}
}

// idleReader records when input last arrived.
type idleReader struct {
	r    io.Reader
	last atomic.Int64 // UnixNano of the last read that returned data
}

func (r *idleReader) touch() { r.last.Store(time.Now().UnixNano()) }

func (r *idleReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.touch()
	}
	return n, err
}

// idleRecheck bounds how long a session with `exec-timeout 0` (or a long one) waits before
// it looks at the configuration again, so a changed exec-timeout applies to open sessions.
const idleRecheck = 30 * time.Second

// watchIdle ends the connection once the line's exec-timeout has passed without input.
// It re-reads the timeout each time it wakes, and stops when the connection ends.
func (cs *connSession) watchIdle(in *idleReader) {
	closed := make(chan struct{})
	go func() {
		cs.sc.Wait()
		close(closed)
	}()
	for {
		limit := cs.s.execTimeout(cs.line)
		idle := time.Since(time.Unix(0, in.last.Load()))
		wait := idleRecheck
		if limit > 0 {
			if idle >= limit {
				cs.s.logf("%%SSH-5-SSH2_IDLE: SSH2 Session from %s (tty = %d) for user '%s' idle for %s, closed by exec-timeout",
					hostOf(cs.sc.RemoteAddr()), cs.line, cs.user, limit)
				cs.sc.Close()
				return
			}
			wait = min(limit-idle, idleRecheck)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-closed:
			t.Stop()
			return
		}
	}
}

// crlfWriter writes "\n" as "\r\n" (leaving an existing "\r\n" alone), the output
// processing a tty's ONLCR would do.
type crlfWriter struct {
	mu     sync.Mutex // protects the fields below: the shell may write from several goroutines
	w      io.Writer
	lastCR bool // the previous byte written was '\r'
	buf    []byte
}

func (c *crlfWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf = c.buf[:0]
	for _, b := range p {
		if b == '\n' && !c.lastCR {
			c.buf = append(c.buf, '\r')
		}
		c.buf = append(c.buf, b)
		c.lastCR = b == '\r'
	}
	if _, err := c.w.Write(c.buf); err != nil {
		return 0, err
	}
	return len(p), nil
}
