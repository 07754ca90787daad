package bench

import (
	"errors"
	"fmt"
)

// ParseError reports input (a /proc stat line, iperf3 JSON, a charon log) without the expected
// shape.
type ParseError struct {
	What string // "proc stat", "iperf3", "charon log"
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("bench: %s: %s", e.What, e.Msg) }

// ErrIncomplete is returned when a run ended before all tunnels were established (a timeout):
// the partial figures are still returned with it.
var ErrIncomplete = errors.New("bench: run incomplete")
