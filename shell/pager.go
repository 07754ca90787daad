package shell

import (
	"bytes"
	"io"
)

// morePrompt is what IOS prints when a screenful is full (ios-cli.md §2.7).
const morePrompt = " --More-- "

// pager splits command output into screenfuls of length-1 lines. Between screens it prints
// " --More-- " and reads one key: space shows the next screen, Enter one more line, anything
// else discards the rest of the output.
type pager struct {
	dst     io.Writer
	length  int                  // terminal length; 0 disables paging
	key     func() (byte, error) // reads one keypress
	erase   func(w io.Writer)    // removes the --More-- text before output continues
	lines   int                  // lines shown since the last stop
	stopped bool                 // the user quit: discard everything
}

func (p *pager) Write(b []byte) (int, error) {
	n := len(b)
	if p.stopped {
		return n, nil
	}
	if p.length <= 0 {
		_, err := p.dst.Write(b)
		return n, err
	}
	for len(b) > 0 {
		if p.lines >= p.length-1 {
			if _, err := io.WriteString(p.dst, morePrompt); err != nil {
				return n, err
			}
			k, err := p.key()
			p.erase(p.dst)
			if err != nil {
				p.stopped = true
				return n, nil
			}
			switch k {
			case ' ':
				p.lines = 0
			case '\r', '\n':
				p.lines = p.length - 2
			default:
				p.stopped = true
				return n, nil
			}
		}
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			_, err := p.dst.Write(b)
			return n, err
		}
		if _, err := p.dst.Write(b[:i+1]); err != nil {
			return n, err
		}
		p.lines++
		b = b[i+1:]
	}
	return n, nil
}
