// Package parser is Tunnelbox's IOS command grammar: it matches typed lines against command
// declarations, explains failures with the caret position IOS prints, lists `?` help and does Tab
// completion. It is pure: no I/O, no knowledge of what commands do.
package parser
