package shell

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// FilterKind is one of the IOS output modifiers of ios-cli.md §2.6.
type FilterKind int

// The output modifiers in scope.
const (
	FilterInclude FilterKind = iota + 1
	FilterExclude
	FilterBegin
	FilterSection
	FilterCount
)

// filterWords lists the modifier keywords in help (byte) order with their IOS help text.
var filterWords = []struct {
	word string
	kind FilterKind
	help string
}{
	{"begin", FilterBegin, "Begin with the line that matches"},
	{"count", FilterCount, "Count number of lines which match regexp"},
	{"exclude", FilterExclude, "Exclude lines that match"},
	{"include", FilterInclude, "Include lines that match"},
	{"section", FilterSection, "Filter a section of output"},
}

func (k FilterKind) String() string {
	for _, w := range filterWords {
		if w.kind == k {
			return w.word
		}
	}
	return fmt.Sprintf("FilterKind(%d)", int(k))
}

// Filter is a compiled `| modifier REGEX` clause.
type Filter struct {
	Kind FilterKind
	Expr string
	re   *regexp.Regexp
}

// NewFilter compiles a filter. The expression is a Go regexp (IOS regexps are a subset for the
// cases users type: literals, ., *, +, ^, $, [], |).
func NewFilter(kind FilterKind, expr string) (*Filter, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("shell: bad regular expression %q: %w", expr, err)
	}
	return &Filter{Kind: kind, Expr: expr, re: re}, nil
}

// lookupFilterWord resolves an abbreviated modifier keyword; ambiguous is set when the prefix
// matches more than one keyword.
func lookupFilterWord(w string) (k FilterKind, ambiguous bool) {
	w = strings.ToLower(w)
	n := 0
	for _, fw := range filterWords {
		if fw.word == w {
			return fw.kind, false
		}
		if strings.HasPrefix(fw.word, w) {
			k = fw.kind
			n++
		}
	}
	if n > 1 {
		return 0, true
	}
	return k, false
}

// filterWriter applies a Filter line by line. Close flushes a final partial line and, for
// count, prints the total.
type filterWriter struct {
	f       *Filter
	dst     io.Writer
	partial []byte
	begun   bool // begin: a line matched
	count   int
	inSect  bool // section: printing the children of a matching line
	sectInd int  // indentation of the matching line
}

func newFilterWriter(f *Filter, dst io.Writer) *filterWriter {
	return &filterWriter{f: f, dst: dst}
}

func (w *filterWriter) Write(p []byte) (int, error) {
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		line := string(w.partial[:i])
		w.partial = w.partial[i+1:]
		if err := w.line(line); err != nil {
			return len(p), err
		}
	}
	return len(p), nil
}

func indentOf(s string) int { return len(s) - len(strings.TrimLeft(s, " ")) }

func (w *filterWriter) emit(line string) error {
	_, err := io.WriteString(w.dst, line+"\n")
	return err
}

func (w *filterWriter) line(line string) error {
	m := w.f.re.MatchString(line)
	switch w.f.Kind {
	case FilterInclude:
		if m {
			return w.emit(line)
		}
	case FilterExclude:
		if !m {
			return w.emit(line)
		}
	case FilterBegin:
		if m {
			w.begun = true
		}
		if w.begun {
			return w.emit(line)
		}
	case FilterCount:
		if m {
			w.count++
		}
	case FilterSection:
		if strings.TrimSpace(line) == "!" {
			w.inSect = false
			return nil
		}
		ind := indentOf(line)
		if w.inSect && ind > w.sectInd && strings.TrimSpace(line) != "" {
			return w.emit(line)
		}
		w.inSect = false
		if m {
			w.inSect = true
			w.sectInd = ind
			return w.emit(line)
		}
	}
	return nil
}

// Close flushes a trailing line without newline and writes the count summary.
func (w *filterWriter) Close() error {
	if len(w.partial) > 0 {
		line := string(w.partial)
		w.partial = nil
		if err := w.line(line); err != nil {
			return err
		}
	}
	if w.f.Kind == FilterCount {
		_, err := fmt.Fprintf(w.dst, "Number of lines which match regexp = %d\n", w.count)
		return err
	}
	return nil
}
