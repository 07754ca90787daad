package lab

import (
	"errors"
	"fmt"
	"strings"
)

// CommandError reports a failed external command (ip, swanctl, tshark, ...).
type CommandError struct {
	Netns  string   // namespace it ran in, "" for the host
	Args   []string // the command line
	Output string   // its combined stdout and stderr, trimmed
	Err    error    // the exec error (usually *exec.ExitError)
}

func (e *CommandError) Error() string {
	where := ""
	if e.Netns != "" {
		where = " in netns " + e.Netns
	}
	msg := fmt.Sprintf("lab: %s%s: %v", strings.Join(e.Args, " "), where, e.Err)
	if e.Output != "" {
		msg += ": " + e.Output
	}
	return msg
}

func (e *CommandError) Unwrap() error { return e.Err }

// ViciError reports a vici protocol failure or a command charon answered with success=no.
type ViciError struct {
	Op  string // the vici command or decoding step
	Msg string
}

func (e *ViciError) Error() string { return "lab: vici " + e.Op + ": " + e.Msg }

// ParseError reports input (a charon log, tshark output) that does not have the expected shape.
type ParseError struct {
	What string // "keylog", "tshark", ...
	Line int    // 1-based line number, 0 when not line oriented
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("lab: %s: line %d: %s", e.What, e.Line, e.Msg)
	}
	return fmt.Sprintf("lab: %s: %s", e.What, e.Msg)
}

// ErrNotRunning is returned for operations on a process that has already exited.
var ErrNotRunning = errors.New("lab: process not running")

// ErrTimeout is returned when a readiness wait (socket, capture start) runs out of time.
var ErrTimeout = errors.New("lab: timed out")

// ErrNoExit is returned when a router did not exit even after SIGKILL.
var ErrNoExit = errors.New("lab: router did not exit")

// RouterError reports a Tunnelbox console that answered a configuration line with an error.
type RouterError struct {
	Router string // its name
	Line   string // the line as sent
	Output string // what the console printed for it
}

func (e *RouterError) Error() string {
	return fmt.Sprintf("lab: router %s refused %q: %s", e.Router, e.Line, e.Output)
}
