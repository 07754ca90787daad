package shell

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// transcriptInput answers handler questions from the following input lines: a password or a
// confirmation consumes one line, a pager keypress consumes one line (its first character;
// an empty line is Enter). One goroutine (readLines) reads the input and hands over one line at
// a time, so that the session can print asynchronous messages while it waits for the next line
// instead of when that line arrives, as an IOS console does.
type transcriptInput struct {
	r    *bufio.Reader
	w    io.Writer
	echo bool  // print the answer after the prompt (false for an SSH shell without a pty)
	err  error // read error other than io.EOF; set by readLines before lines is closed
	eof  bool  // the session saw lines closed: err may be read

	lines chan string   // the input lines; closed at end of input
	done  chan struct{} // closed when the session stops reading: readLines gives up its line
}

// MaxLineLength caps one input line; the rest of a longer line is discarded (a pasted
// megabyte must not exhaust memory).
const MaxLineLength = 64 * 1024

func newTranscriptInput(r io.Reader, w io.Writer, echo bool) *transcriptInput {
	t := &transcriptInput{r: bufio.NewReaderSize(r, 4096), w: w, echo: echo,
		lines: make(chan string), done: make(chan struct{})}
	go t.readLines()
	return t
}

// readLines reads the input line by line into t.lines until end of input, a read error or
// stop. It reads at most one line ahead of the session. When the session stops while the
// input has no line ready, the goroutine ends with the read that is pending (the input's
// end or its next line).
func (t *transcriptInput) readLines() {
	defer close(t.lines)
	for {
		l, ok := t.read()
		if !ok {
			return
		}
		select {
		case t.lines <- l:
		case <-t.done:
			return
		}
	}
}

// stop ends readLines (the session no longer reads).
func (t *transcriptInput) stop() { close(t.done) }

// read reads one line of any length, keeping at most MaxLineLength bytes of it; "\r\n" and
// "\n" both end a line.
func (t *transcriptInput) read() (string, bool) {
	var line []byte
	read := false
	for {
		chunk, isPrefix, err := t.r.ReadLine()
		if err != nil {
			if err != io.EOF {
				t.err = err
			}
			if read {
				break
			}
			return "", false
		}
		read = true
		if room := MaxLineLength - len(line); room > 0 {
			if len(chunk) > room {
				chunk = chunk[:room]
			}
			line = append(line, chunk...)
		}
		if !isPrefix {
			break
		}
	}
	return strings.TrimRight(string(line), "\r"), true
}

// next returns the next input line; false at end of input.
func (t *transcriptInput) next() (string, bool) {
	l, ok := <-t.lines
	t.eof = t.eof || !ok
	return l, ok
}

// readErr is the input's read error once its end was seen (nil before: readLines may still
// be reading).
func (t *transcriptInput) readErr() error {
	if !t.eof {
		return nil
	}
	return t.err
}

// nextAtPrompt waits at prompt (already written) for the next input line, printing the
// session's asynchronous messages as they arrive: a newline ends the prompt's line, the
// messages follow one per line and the prompt is written again, as IOS redraws its console.
// Messages queued before the prompt was written have been printed by then, so a script
// whose input is ready sees the same transcript every time.
func (t *transcriptInput) nextAtPrompt(s *Session, prompt string) (string, bool) {
	for {
		select {
		case l, ok := <-t.lines:
			t.eof = t.eof || !ok
			return l, ok
		case <-s.notify:
			if msgs := s.takePending(); len(msgs) > 0 {
				io.WriteString(t.w, "\n")
				for _, m := range msgs {
					io.WriteString(t.w, m+"\n")
				}
				io.WriteString(t.w, prompt)
			}
		}
	}
}

func (t *transcriptInput) readLine(prompt string, echo bool) (string, error) {
	io.WriteString(t.w, prompt)
	l, ok := t.next()
	if !ok {
		io.WriteString(t.w, "\n")
		return "", io.EOF
	}
	if echo && t.echo {
		io.WriteString(t.w, l)
	}
	io.WriteString(t.w, "\n")
	return l, nil
}

func (t *transcriptInput) readKey() (byte, error) {
	l, ok := t.next()
	if !ok {
		return 0, io.EOF
	}
	if l == "" {
		return '\r', nil
	}
	return l[0], nil
}

// ctrlZ is the byte Ctrl-Z sends; in a transcript a line holding just it (or the two
// characters "^Z") means `end`.
const ctrlZ = "\x1a"

// RunTranscript drives the session from lines of text, the console of a router whose stdin is
// not a terminal: for each line it prints prompt+line and then the output. A line ending in
// "?" is a help request (the prompt and the text before the "?" are shown again after the
// listing, as a terminal would). A line holding only Ctrl-Z (0x1a) or "^Z" is `end`.
// Log and debug messages are printed as they arrive while the session waits at a prompt
// (the prompt is written again after them), before the next prompt when they arrive while a
// command runs, and before RunTranscript returns when they are queued at end of input.
// It returns nil at end of input or when the session exits. Input is read by a goroutine of
// its own, at most one line ahead; after the session exits it ends with the pending read.
func (s *Session) RunTranscript(r io.Reader, w io.Writer) error {
	return s.runLines(r, w, true)
}

// runLines is the line-mode loop shared by RunTranscript and an SSH shell without a pty
// (echo false: the client already shows what it sent).
func (s *Session) runLines(r io.Reader, w io.Writer, echo bool) error {
	ti := newTranscriptInput(r, w, echo)
	s.in = ti
	defer func() { s.in = nil; ti.stop() }()
	for !s.closed {
		s.flushPending(w)
		prompt := s.Prompt()
		io.WriteString(w, prompt)
		line, ok := ti.nextAtPrompt(s, prompt)
		if !ok {
			io.WriteString(w, "\n")
			break
		}
		if line == ctrlZ || line == "^Z" {
			io.WriteString(w, "^Z\n")
			s.End()
			continue
		}
		if echo {
			io.WriteString(w, line+"\n")
		}
		if strings.HasSuffix(line, "?") {
			q := line[:len(line)-1]
			s.Help(w, q)
			if echo {
				fmt.Fprintf(w, "%s%s\n", s.Prompt(), q)
			}
			continue
		}
		s.Exec(w, line)
	}
	s.flushPending(w)
	if err := ti.readErr(); err != nil {
		return fmt.Errorf("shell: reading input: %w", err)
	}
	return nil
}
