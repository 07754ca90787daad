package shell

import (
	"errors"
	"fmt"
)

// MsgError is an IOS message a handler wants printed verbatim ("% Bad secrets",
// "% Incomplete command."). The shell prints Text followed by a newline.
type MsgError struct{ Text string }

func (e *MsgError) Error() string { return e.Text }

// Msgf builds a *MsgError; the text is the exact IOS output, usually starting with "% ".
func Msgf(format string, args ...any) error {
	return &MsgError{Text: fmt.Sprintf(format, args...)}
}

// Errors of the shell.
var (
	// ErrClosed reports that the session ended (exit, logout, end of input).
	ErrClosed = errors.New("shell: session closed")
	// ErrNoInput reports that a handler asked for input on a session that has none (exec
	// channel, replay).
	ErrNoInput = errors.New("shell: no interactive input on this session")
	// ErrBadHandler reports a command declared with a handler of the wrong type.
	ErrBadHandler = errors.New("shell: command handler has the wrong type")
)
