package parser

import (
	"fmt"
	"strconv"
)

// ErrorKind classifies why a line did not match. The shell turns each kind into the IOS message
// of ios-cli.md §2.2; the parser itself never formats `% ...` text.
//
// ErrorKind implements error so that callers can write errors.Is(err, parser.ErrAmbiguous).
type ErrorKind int

const (
	// ErrInvalid is "% Invalid input detected at '^' marker." with the caret at Error.Pos.
	ErrInvalid ErrorKind = iota + 1
	// ErrIncomplete is "% Incomplete command.": the line ended where more tokens are mandatory.
	ErrIncomplete
	// ErrAmbiguous is `% Ambiguous command:  "<line>"`: a word abbreviates several keywords.
	ErrAmbiguous
	// ErrUnknown is the implicit-telnet answer of EXEC modes to an unknown single first word
	// (`Translating "x"` then `% Unknown command or computer name, ...`).
	ErrUnknown
	// ErrUnrecognized is the answer of `?` when the text before it matches nothing
	// ("% Unrecognized command"). Only Help returns it.
	ErrUnrecognized
	// ErrEmpty is returned by Match for a blank line, which IOS ignores silently.
	ErrEmpty
)

var kindNames = [...]string{
	ErrInvalid:      "invalid input",
	ErrIncomplete:   "incomplete command",
	ErrAmbiguous:    "ambiguous command",
	ErrUnknown:      "unknown command",
	ErrUnrecognized: "unrecognized command",
	ErrEmpty:        "empty line",
}

// String returns a short lowercase name of the kind.
func (k ErrorKind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "ErrorKind(" + strconv.Itoa(int(k)) + ")"
}

// Error makes a kind usable as an errors.Is target.
func (k ErrorKind) Error() string { return "parser: " + k.String() }

// Error is the error Match, Help and Complete return for a line the grammar refuses.
// Pos is the byte offset in Line of the IOS caret (ios-cli.md §2.2): the furthest position any
// alternative reached; for a keyword that is a proper prefix of the typed word, the first surplus
// character; for a failing argument or a surplus word, the start of that word. For ErrIncomplete
// Pos is len(Line); for ErrAmbiguous it is the start of the ambiguous word.
type Error struct {
	Kind ErrorKind
	Pos  int
	Line string
}

func (e *Error) Error() string {
	return fmt.Sprintf("parser: %s at byte %d of %q", e.Kind.String(), e.Pos, e.Line)
}

// Caret returns the IOS caret line for e (ios-cli.md §2.2): spaces up to the caret column,
// which is the printed prompt's width plus Pos, then "^". Tabs typed before the caret are kept
// so that the caret lines up under the echoed line.
func (e *Error) Caret(promptWidth int) string {
	pos := e.Pos
	if pos > len(e.Line) {
		pos = len(e.Line)
	}
	b := make([]byte, 0, promptWidth+pos+1)
	for i := 0; i < promptWidth; i++ {
		b = append(b, ' ')
	}
	for i := 0; i < pos; i++ {
		if e.Line[i] == '\t' {
			b = append(b, '\t')
		} else {
			b = append(b, ' ')
		}
	}
	return string(append(b, '^'))
}

// Is reports whether target is e's kind, so errors.Is(err, ErrIncomplete) works.
func (e *Error) Is(target error) bool {
	k, ok := target.(ErrorKind)
	return ok && k == e.Kind
}

// SyntaxError reports a malformed command declaration given to Install. Pos is the byte offset
// in Syntax where the problem was found.
type SyntaxError struct {
	Syntax string
	Pos    int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("parser: syntax %q at byte %d: %s", e.Syntax, e.Pos, e.Msg)
}

// HelpError reports inconsistent help strings given to Install: a count that differs from the
// number of help-bearing tokens, or two commands of one mode sharing a prefix whose help differs
// (FRR's rule: a shared token has one help text).
type HelpError struct {
	Mode   string // mode name
	Syntax string // the command being installed
	Msg    string
}

func (e *HelpError) Error() string {
	if e.Mode == "" {
		return fmt.Sprintf("parser: command %q: %s", e.Syntax, e.Msg)
	}
	return fmt.Sprintf("parser: mode %s: command %q: %s", e.Mode, e.Syntax, e.Msg)
}

// InstallError reports any other refusal of Install (nil mode, duplicate command, ...).
type InstallError struct {
	Mode   string
	Syntax string
	Msg    string
}

func (e *InstallError) Error() string {
	return fmt.Sprintf("parser: mode %s: command %q: %s", e.Mode, e.Syntax, e.Msg)
}
