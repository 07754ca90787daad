package shell

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/chzyer/readline"
)

// ConsoleTerminal is the console's terminal for ServeConsole. The caller puts it in raw mode
// for the whole session and restores it afterwards.
type ConsoleTerminal struct {
	In    io.Reader     // keys typed on the terminal
	Out   io.Writer     // the terminal; "\n" is written as "\r\n"
	Width func() int    // the terminal's current width in columns; nil or <= 0: the session's width
	Winch <-chan [2]int // window changes {width, height}; may be nil
}

// ServeConsole runs the interactive console on a local terminal until the user exits or the
// input ends. Lines are edited by github.com/chzyer/readline: the editing keys of ios-cli.md
// §2.5, history per mode group (Up/Ctrl-P, Down/Ctrl-N), `?` at once (the listing, then the
// prompt and the input again), Tab completion through the grammar, Ctrl-Z = `end` in config
// modes, Ctrl-C aborts the line. Log and debug messages appear while the console waits at the
// prompt, which is redrawn under them.
//
// One goroutine reads ct.In. Readline gets keys only while a line is being edited; in between,
// the pager (` --More-- `), `Password:` and `[confirm]` read the same keys directly, so a key
// typed ahead goes to whoever asks for it next and none is lost. ServeConsole returns nil when
// the user exits, io.EOF (or the read error) when the input ends; it leaves no goroutine of its
// own blocked except the one reading ct.In.
func (s *Session) ServeConsole(ct ConsoleTerminal) error {
	out := &crlfWriter{w: ct.Out}
	t := newTermInput(ct.In, out)
	s.in, s.rawTerminal = t, true
	defer func() { s.in, s.rawTerminal = nil, false }()

	c := &console{s: s, rlOut: &crlfWriter{w: ct.Out}, termWidth: ct.Width, winch: ct.Winch}
	c.gate = newKeyGate(t, c.endsLine)
	rl, err := readline.NewEx(&readline.Config{
		Stdin:                  c.gate,
		Stdout:                 c.rlOut,
		Stderr:                 c.rlOut,
		HistoryLimit:           maxHistorySize + 1,
		DisableAutoSaveHistory: true, // the session keeps history per mode group
		InterruptPrompt:        "^C",
		FuncGetWidth:           c.width,
		FuncIsTerminal:         func() bool { return true },
		FuncMakeRaw:            func() error { return nil }, // raw for the whole session:
		FuncExitRaw:            func() error { return nil }, // the pager reads single keys
		FuncOnWidthChanged:     func(f func()) { c.widthChanged = f },
		FuncFilterInputRune:    c.filter,
		Listener:               c,
		Painter:                c,
	})
	if err != nil {
		return fmt.Errorf("shell: console: %w", err)
	}
	// Closing the gate first ends readline's reader, so Close does not wait for a key.
	defer func() {
		c.gate.Close()
		rl.Close()
	}()
	for !s.closed {
		s.flushPending(out)
		line, err := c.readLine(rl)
		switch {
		case errors.Is(err, readline.ErrInterrupt):
			continue
		case err != nil:
			return err
		case c.ctrlZ.Load():
			s.End()
			continue
		}
		s.Exec(out, line)
	}
	s.flushPending(out)
	return nil
}

// console is the readline side of ServeConsole.
type console struct {
	s            *Session
	gate         *keyGate
	rlOut        *crlfWriter
	termWidth    func() int
	winch        <-chan [2]int
	widthChanged func() // readline's width callback

	action  consoleAction // set by the filter, done by the listener (readline's goroutine)
	lineLen atomic.Int64  // the input's length after the last key (also reset by Readline)
	ctrlZ   atomic.Bool   // Ctrl-Z ended the line (read by the session after Readline)
}

type consoleAction int

const (
	actNone     consoleAction = iota
	actHelp                   // `?`
	actComplete               // Tab
	actRedraw                 // Ctrl-L, Ctrl-R
)

// readLine edits one line: the prompt, the history of the current mode group, messages
// printed as they arrive, window changes applied.
func (c *console) readLine(rl *readline.Instance) (string, error) {
	rl.SetPrompt(c.s.Prompt())
	rl.ResetHistory()
	for _, h := range c.s.History() {
		rl.SaveHistory(h)
	}
	c.ctrlZ.Store(false)
	stop, done := make(chan struct{}), make(chan struct{})
	go c.watch(rl, stop, done)
	c.gate.open()
	line, err := rl.Readline()
	c.gate.shut()
	close(stop)
	<-done
	return line, err
}

// watch prints asynchronous messages above the input line and applies window changes while
// a line is being edited.
func (c *console) watch(rl *readline.Instance, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	for {
		select {
		case <-stop:
			return
		case <-c.s.notify:
			if msgs := c.s.takePending(); len(msgs) > 0 {
				rl.Write([]byte(strings.Join(msgs, "\n") + "\n"))
			}
		case ws, ok := <-c.winch:
			if !ok {
				c.winch = nil
				continue
			}
			c.s.SetTerminalSize(ws[0], -1)
			if c.s.length != 0 && ws[1] > 0 {
				c.s.length = ws[1]
			}
			if c.widthChanged != nil {
				c.widthChanged()
			}
		}
	}
}

func (c *console) width() int {
	if c.termWidth != nil {
		if w := c.termWidth(); w > 0 {
			return w
		}
	}
	return c.s.width
}

// Keys readline itself handles as IOS does (ios-cli.md §2.5); other control keys are dropped
// or translated by filter.
var readlineKeys = map[rune]bool{
	readline.CharLineStart: true, readline.CharBackward: true, readline.CharInterrupt: true,
	readline.CharDelete: true, readline.CharLineEnd: true, readline.CharForward: true,
	readline.CharCtrlH: true, readline.CharCtrlJ: true, readline.CharKill: true,
	readline.CharEnter: true, readline.CharNext: true, readline.CharPrev: true,
	readline.CharTranspose: true, readline.CharCtrlU: true, readline.CharCtrlW: true,
	readline.CharCtrlY: true,
}

// endsLine reports whether key b ends the line being edited (see filter).
func (c *console) endsLine(b byte) bool {
	switch b {
	case keyCR, keyLF, keyCtrlC:
		return true
	case keyCtrlZ:
		return isConfig(c.s.Mode())
	}
	return false
}

// filter sees every key before readline: `?`, Tab and redisplay become a no-op key (the bell)
// whose action the listener performs with the line and cursor at hand; Ctrl-Z ends the line;
// Ctrl-X is Ctrl-U; readline's own meanings of other keys (search, suspend, Ctrl-D as end of
// input) are not IOS and are dropped.
func (c *console) filter(r rune) (rune, bool) {
	switch r {
	case 0: // end of input
		return r, true
	case '?':
		c.action = actHelp
		return readline.CharBell, true
	case readline.CharTab:
		c.action = actComplete
		return readline.CharBell, true
	case readline.CharCtrlL, readline.CharBckSearch:
		c.action = actRedraw
		return readline.CharBell, true
	case readline.CharCtrlZ:
		if !isConfig(c.s.Mode()) {
			return r, false
		}
		c.ctrlZ.Store(true)
		return readline.CharEnter, true
	case keyCtrlX:
		return readline.CharCtrlU, true
	case readline.CharDelete:
		return r, c.lineLen.Load() > 0
	}
	if r > 0 && r < 0x20 {
		return r, readlineKeys[r]
	}
	if r >= 0x20 && r != readline.CharBackspace && c.lineLen.Load() >= MaxLineLength {
		return r, false
	}
	return r, true
}

// OnChange is readline's Listener: it runs after every key with the line and cursor.
func (c *console) OnChange(line []rune, pos int, key rune) ([]rune, int, bool) {
	c.lineLen.Store(int64(len(line)))
	if key != readline.CharBell {
		return nil, 0, false
	}
	act := c.action
	c.action = actNone
	switch act {
	case actHelp:
		var b bytes.Buffer
		b.WriteString(string(line[pos:])) // the cursor to the end of the input
		b.WriteString("?\n")
		c.s.Help(&b, string(line[:pos]))
		b.WriteString(strings.Repeat("\n", c.rowsAbove(line[:pos])))
		c.rlOut.Write(b.Bytes())
		return line, pos, true // readline draws the prompt and the input again
	case actComplete:
		head := string(line[:pos])
		nl := c.s.Complete(head)
		if nl == head {
			return nil, 0, false
		}
		done := []rune(nl)
		return append(done, line[pos:]...), len(done), true
	case actRedraw:
		c.rlOut.Write([]byte(string(line[pos:]) + "\n" + strings.Repeat("\n", c.rowsAbove(line[:pos]))))
		return line, pos, true
	}
	return nil, 0, false
}

// rowsAbove is how many terminal rows the prompt and head take above the cursor's row: readline
// moves up that many rows to erase the input before it draws it again, so that many blank rows
// are written after output that must stay.
func (c *console) rowsAbove(head []rune) int {
	w := c.width()
	if w <= 0 {
		return 0
	}
	return len(readline.SplitByLine(len([]rune(c.s.Prompt())), w, head)) - 1
}

// Paint is readline's Painter: the line as typed, with "^Z" shown when Ctrl-Z ended it.
func (c *console) Paint(line []rune, _ int) []rune {
	n := len(line)
	if n > 0 && line[n-1] == '\n' && c.ctrlZ.Load() {
		return append(line[:n-1:n-1], '^', 'Z', '\n')
	}
	return line
}

// keyGate is readline's stdin: it hands over one key per Read, and only while a line is being
// edited, so readline's reader never takes a key meant for the pager or a question. The gate
// opens when a line starts and shuts itself as it hands over the key that ends the line
// (Enter, Ctrl-C, Ctrl-Z in config modes): readline may go on reading before the session has
// seen the line, and the keys typed after it are not its. Close ends a pending Read with io.EOF.
type keyGate struct {
	t       *termInput
	ends    func(b byte) bool // whether b ends the line being edited
	mu      sync.Mutex        // protects on, off and isOpen
	on, off chan struct{}     // closed while the gate is open / shut
	isOpen  bool
	done    chan struct{}
	once    sync.Once
}

func newKeyGate(t *termInput, ends func(byte) bool) *keyGate {
	g := &keyGate{t: t, ends: ends, on: make(chan struct{}), off: make(chan struct{}), done: make(chan struct{})}
	close(g.off)
	return g
}

func (g *keyGate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.isOpen {
		g.isOpen = true
		close(g.on)
		g.off = make(chan struct{})
	}
}

func (g *keyGate) shut() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.shutLocked()
}

func (g *keyGate) shutLocked() {
	if g.isOpen {
		g.isOpen = false
		close(g.off)
		g.on = make(chan struct{})
	}
}

func (g *keyGate) state() (on, off chan struct{}) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.on, g.off
}

// Read returns one key (readline decodes escape sequences and UTF-8 across Reads).
func (g *keyGate) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		on, off := g.state()
		select {
		case <-on:
		case <-g.done:
			return 0, io.EOF
		}
		select {
		case b, ok := <-g.t.keys:
			if !ok {
				return 0, g.t.readErr()
			}
			if !g.t.accept(b) {
				continue
			}
			g.mu.Lock()
			if !g.isOpen {
				// Shut while this Read waited: the key belongs to whoever reads next. It
				// cannot be pushed back, so readline gets it at the next line (it stays
				// in order).
				g.mu.Unlock()
				p[0] = b
				return 1, nil
			}
			if g.ends(b) {
				g.shutLocked()
			}
			g.mu.Unlock()
			p[0] = b
			return 1, nil
		case <-off:
		case <-g.done:
			return 0, io.EOF
		}
	}
}

// Close ends every Read, present and future.
func (g *keyGate) Close() error {
	g.once.Do(func() { close(g.done) })
	return nil
}
