package shell

import (
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// Control keys of the IOS line editor (ios-cli.md §2.5).
const (
	keyCtrlA = 0x01
	keyCtrlB = 0x02
	keyCtrlC = 0x03
	keyCtrlD = 0x04
	keyCtrlE = 0x05
	keyCtrlF = 0x06
	keyBS    = 0x08
	keyTab   = 0x09
	keyLF    = 0x0a
	keyCtrlK = 0x0b
	keyCtrlL = 0x0c
	keyCR    = 0x0d
	keyCtrlN = 0x0e
	keyCtrlP = 0x10
	keyCtrlR = 0x12
	keyCtrlT = 0x14
	keyCtrlU = 0x15
	keyCtrlW = 0x17
	keyCtrlX = 0x18
	keyCtrlZ = 0x1a
	keyEsc   = 0x1b
	keyDel   = 0x7f
)

// crlfWriter turns "\n" into "\r\n" for a raw terminal (an SSH pty or a console in raw mode).
// It is safe for concurrent use (the console's readline writes from its own goroutines).
type crlfWriter struct {
	w    io.Writer
	mu   sync.Mutex // protects last and orders whole writes
	last byte
}

func (c *crlfWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]byte, 0, len(p)+8)
	for _, b := range p {
		if b == '\n' && c.last != '\r' {
			out = append(out, '\r')
		}
		out = append(out, b)
		c.last = b
	}
	if _, err := c.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// termInput reads keys from a raw terminal on its own goroutine. The line editor (Serve), the
// console's readline (through a keyGate) and handlers asking questions (pager, Password:,
// [confirm]) all take their keys from the one channel, so no key typed ahead is lost.
type termInput struct {
	keys   chan byte
	err    error // set before keys is closed
	w      io.Writer
	lastCR atomic.Bool // the previous key was CR: a following LF is the same Enter
}

func newTermInput(r io.Reader, w io.Writer) *termInput {
	t := &termInput{keys: make(chan byte, 256), w: w}
	go func() {
		buf := make([]byte, 512)
		for {
			n, err := r.Read(buf)
			for _, b := range buf[:n] {
				t.keys <- b
			}
			if err != nil {
				t.err = err
				close(t.keys)
				return
			}
		}
	}()
	return t
}

// key returns the next key; CR LF and CR NUL collapse to one CR.
func (t *termInput) key() (byte, error) {
	for {
		b, ok := <-t.keys
		if !ok {
			return 0, t.readErr()
		}
		if t.accept(b) {
			return b, nil
		}
	}
}

// accept reports whether b is a key, not the LF or NUL a terminal sends after CR for Enter.
func (t *termInput) accept(b byte) bool {
	if t.lastCR.Load() && (b == keyLF || b == 0) {
		t.lastCR.Store(false)
		return false
	}
	t.lastCR.Store(b == keyCR)
	return true
}

// readErr is why keys was closed: io.EOF or the read error.
func (t *termInput) readErr() error {
	if t.err == nil {
		return io.EOF
	}
	return t.err
}

func (t *termInput) readKey() (byte, error) { return t.key() }

// readLine reads a simple line (password, confirmation) with backspace only.
func (t *termInput) readLine(prompt string, echo bool) (string, error) {
	io.WriteString(t.w, prompt)
	var buf []byte
	for {
		b, err := t.key()
		if err != nil {
			return "", err
		}
		switch b {
		case keyCR, keyLF:
			io.WriteString(t.w, "\n")
			return string(buf), nil
		case keyCtrlC:
			io.WriteString(t.w, "\n")
			return "", nil
		case keyBS, keyDel:
			if len(buf) > 0 {
				buf = buf[:len(buf)-1]
				if echo {
					io.WriteString(t.w, "\b \b")
				}
			}
		default:
			if b >= 0x20 {
				buf = append(buf, b)
				if echo {
					t.w.Write([]byte{b})
				}
			}
		}
	}
}

// Serve runs the interactive CLI on a character terminal (an SSH pty) until the user exits or
// rw fails. It uses the package's own IOS line editor, which moves the cursor with backspaces
// and rewritten characters only (no ANSI sequences), so screen-scraping SSH clients (netmiko)
// read plain text; the console on a local terminal uses ServeConsole (chzyer/readline). Output "\n" becomes "\r\n". width and height are the
// terminal size (0 = 80x24 defaults; height sets the pager length); window changes arrive on
// winch as {width, height} and may be nil. Serve returns nil when the user exits and the read
// error (io.EOF for a closed channel) otherwise.
func (s *Session) Serve(rw io.ReadWriter, width, height int, winch <-chan [2]int) error {
	out := &crlfWriter{w: rw}
	if width > 0 {
		s.width = width
	}
	if height > 0 && s.length != 0 {
		s.length = height
	}
	if s.opts.NoPTY {
		return s.runLines(rw, &crlfWriter{w: rw}, false)
	}
	t := newTermInput(rw, out)
	s.in, s.rawTerminal = t, true
	defer func() { s.in, s.rawTerminal = nil, false }()
	ed := &editor{s: s, t: t, out: out, winch: winch}
	for !s.closed {
		s.flushPending(out)
		line, err := ed.read()
		if err != nil {
			if errors.Is(err, errCtrlZ) {
				s.End()
				continue
			}
			return err
		}
		s.Exec(out, line)
	}
	s.flushPending(out)
	return nil
}

var errCtrlZ = errors.New("shell: ctrl-z")

// editor is the IOS line editor over a raw terminal.
type editor struct {
	s     *Session
	t     *termInput
	out   io.Writer
	winch <-chan [2]int

	prompt string
	buf    []rune
	pos    int
	hist   []string
	hidx   int
	saved  string // the line being edited before history browsing
}

func (e *editor) write(s string) { io.WriteString(e.out, s) }

// read edits one line; it returns at Enter (the line), Ctrl-Z (errCtrlZ) or input failure.
func (e *editor) read() (string, error) {
	e.prompt = e.s.Prompt()
	e.buf, e.pos = e.buf[:0], 0
	e.hist = e.s.History()
	e.hidx = len(e.hist)
	e.write(e.prompt)
	var esc []byte
	for {
		var b byte
		select {
		case <-e.s.notify:
			if msgs := e.s.takePending(); len(msgs) > 0 {
				e.write("\n")
				for _, m := range msgs {
					e.write(m + "\n")
				}
				e.redraw()
			}
			continue
		case ws, ok := <-e.winch:
			if !ok {
				e.winch = nil
				continue
			}
			e.s.SetTerminalSize(ws[0], -1)
			if e.s.length != 0 && ws[1] > 0 {
				e.s.length = ws[1]
			}
			continue
		case k, ok := <-e.t.keys:
			if !ok {
				return "", e.t.readErr()
			}
			if !e.t.accept(k) {
				continue
			}
			b = k
		}
		if esc != nil {
			esc = append(esc, b)
			if done := e.escape(esc); done {
				esc = nil
			}
			continue
		}
		switch b {
		case keyCR, keyLF:
			e.write("\n")
			return string(e.buf), nil
		case keyCtrlZ:
			if isConfig(e.s.Mode()) {
				e.write("^Z\n")
				return "", errCtrlZ
			}
		case keyCtrlC:
			e.write("^C\n")
			e.buf, e.pos = e.buf[:0], 0
			e.write(e.prompt)
		case keyEsc:
			esc = []byte{}
		case keyCtrlA:
			e.moveTo(0)
		case keyCtrlE:
			e.moveTo(len(e.buf))
		case keyCtrlB:
			e.moveTo(e.pos - 1)
		case keyCtrlF:
			e.moveTo(e.pos + 1)
		case keyBS, keyDel:
			if e.pos > 0 {
				e.moveTo(e.pos - 1)
				e.deleteAt(1)
			}
		case keyCtrlD:
			e.deleteAt(1)
		case keyCtrlK:
			e.deleteAt(len(e.buf) - e.pos)
		case keyCtrlU, keyCtrlX:
			n := e.pos
			e.moveTo(0)
			e.deleteAt(n)
		case keyCtrlW:
			i := e.pos
			for i > 0 && e.buf[i-1] == ' ' {
				i--
			}
			for i > 0 && e.buf[i-1] != ' ' {
				i--
			}
			n := e.pos - i
			e.moveTo(i)
			e.deleteAt(n)
		case keyCtrlT:
			if e.pos > 0 && len(e.buf) > 1 {
				p := e.pos
				if p == len(e.buf) {
					p--
				}
				old := string(e.buf)
				e.buf[p-1], e.buf[p] = e.buf[p], e.buf[p-1]
				e.replace(old, string(e.buf), p+1)
			}
		case keyCtrlL, keyCtrlR:
			e.write("\n")
			e.redraw()
		case keyCtrlP:
			e.history(-1)
		case keyCtrlN:
			e.history(+1)
		case keyTab:
			old := string(e.buf)
			line := string(e.buf[:e.pos])
			if nl := e.s.Complete(line); nl != line {
				nl += string(e.buf[e.pos:])
				e.buf = []rune(nl)
				e.replace(old, nl, utf8.RuneCountInString(nl)-(len(old)-len(line)))
			}
		case '?':
			e.write("?\n")
			e.s.Help(e.out, string(e.buf[:e.pos]))
			e.redraw()
		default:
			if b >= 0x20 && len(e.buf) < MaxLineLength {
				e.insert(rune(b))
			}
		}
	}
}

// escape handles ESC sequences; it reports whether the sequence is complete.
func (e *editor) escape(seq []byte) bool {
	switch {
	case len(seq) == 1 && (seq[0] == 'b' || seq[0] == 'B'):
		e.wordLeft()
		return true
	case len(seq) == 1 && (seq[0] == 'f' || seq[0] == 'F'):
		e.wordRight()
		return true
	case len(seq) == 1 && seq[0] != '[' && seq[0] != 'O':
		return true
	case len(seq) == 1:
		return false
	}
	last := seq[len(seq)-1]
	if last >= '0' && last <= '9' || last == ';' {
		return len(seq) > 8 // give up on absurd sequences
	}
	switch last {
	case 'A':
		e.history(-1)
	case 'B':
		e.history(+1)
	case 'C':
		e.moveTo(e.pos + 1)
	case 'D':
		e.moveTo(e.pos - 1)
	case 'H':
		e.moveTo(0)
	case 'F':
		e.moveTo(len(e.buf))
	case '~':
		if string(seq) == "[3~" {
			e.deleteAt(1)
		}
	}
	return true
}

func (e *editor) wordLeft() {
	i := e.pos
	for i > 0 && e.buf[i-1] == ' ' {
		i--
	}
	for i > 0 && e.buf[i-1] != ' ' {
		i--
	}
	e.moveTo(i)
}

func (e *editor) wordRight() {
	i := e.pos
	for i < len(e.buf) && e.buf[i] == ' ' {
		i++
	}
	for i < len(e.buf) && e.buf[i] != ' ' {
		i++
	}
	e.moveTo(i)
}

// moveTo moves the cursor with backspaces or by rewriting characters (no ANSI sequences, so
// screen-scraping clients see plain text).
func (e *editor) moveTo(p int) {
	if p < 0 {
		p = 0
	}
	if p > len(e.buf) {
		p = len(e.buf)
	}
	if p < e.pos {
		e.write(strings.Repeat("\b", e.pos-p))
	} else if p > e.pos {
		e.write(string(e.buf[e.pos:p]))
	}
	e.pos = p
}

func (e *editor) insert(r rune) {
	tail := string(e.buf[e.pos:])
	e.buf = append(e.buf[:e.pos], append([]rune{r}, e.buf[e.pos:]...)...)
	e.pos++
	e.write(string(r) + tail + strings.Repeat("\b", utf8.RuneCountInString(tail)))
}

// deleteAt removes n characters at the cursor.
func (e *editor) deleteAt(n int) {
	if n <= 0 || e.pos >= len(e.buf) {
		return
	}
	if e.pos+n > len(e.buf) {
		n = len(e.buf) - e.pos
	}
	e.buf = append(e.buf[:e.pos], e.buf[e.pos+n:]...)
	tail := string(e.buf[e.pos:])
	k := utf8.RuneCountInString(tail)
	e.write(tail + strings.Repeat(" ", n) + strings.Repeat("\b", k+n))
}

// replace redraws the input from old to nl and leaves the cursor at pos.
func (e *editor) replace(old, nl string, pos int) {
	e.write(strings.Repeat("\b", e.pos))
	e.write(nl)
	on, nn := utf8.RuneCountInString(old), utf8.RuneCountInString(nl)
	if on > nn {
		e.write(strings.Repeat(" ", on-nn) + strings.Repeat("\b", on-nn))
	}
	e.buf = []rune(nl)
	e.pos = len(e.buf)
	if pos >= 0 && pos < e.pos {
		e.moveTo(pos)
	}
}

// redraw prints the prompt and the input again on a fresh line.
func (e *editor) redraw() {
	e.prompt = e.s.Prompt()
	e.write(e.prompt + string(e.buf) + strings.Repeat("\b", len(e.buf)-e.pos))
}

func (e *editor) history(dir int) {
	i := e.hidx + dir
	if i < 0 || i > len(e.hist) {
		return
	}
	if e.hidx == len(e.hist) {
		e.saved = string(e.buf)
	}
	e.hidx = i
	nl := e.saved
	if i < len(e.hist) {
		nl = e.hist[i]
	}
	e.replace(string(e.buf), nl, -1)
}
