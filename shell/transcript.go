package shell

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// transcriptInput answers handler questions from the following input lines: a password or a
// confirmation consumes one line, a pager keypress consumes one line (its first character;
// an empty line is Enter).
type transcriptInput struct {
	r    *bufio.Reader
	w    io.Writer
	echo bool  // print the answer after the prompt (false for an SSH shell without a pty)
	err  error // read error other than io.EOF
}

// MaxLineLength caps one input line; the rest of a longer line is discarded (a pasted
// megabyte must not exhaust memory).
const MaxLineLength = 64 * 1024

// next reads one line of any length, keeping at most MaxLineLength bytes of it; "\r\n" and
// "\n" both end a line.
func (t *transcriptInput) next() (string, bool) {
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
// It returns nil at end of input or when the session exits.
func (s *Session) RunTranscript(r io.Reader, w io.Writer) error {
	return s.runLines(r, w, true)
}

// runLines is the line-mode loop shared by RunTranscript and an SSH shell without a pty
// (echo false: the client already shows what it sent).
func (s *Session) runLines(r io.Reader, w io.Writer, echo bool) error {
	ti := &transcriptInput{r: bufio.NewReaderSize(r, 4096), w: w, echo: echo}
	s.in = ti
	defer func() { s.in = nil }()
	for !s.closed {
		s.flushPending(w)
		prompt := s.Prompt()
		io.WriteString(w, prompt)
		line, ok := ti.next()
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
	if ti.err != nil {
		return fmt.Errorf("shell: reading input: %w", ti.err)
	}
	return nil
}
