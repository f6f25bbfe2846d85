package rules

import (
	"fmt"
	"strings"
)

// Diagnostic is one error or warning found while loading rules, with the
// place it points at: a file, a line and a column (both 1-based; Col is 0
// when only the line is known) and the item it belongs to.
type Diagnostic struct {
	File string
	Line int
	Col  int
	// Item names the list, macro or rule, e.g. `rule "Miner executed"`;
	// empty for problems of the file itself.
	Item string
	Msg  string
	// Err is the underlying error, when there is one (a file that cannot
	// be read), for errors.Is.
	Err error
}

// Unwrap returns the underlying error, if any.
func (d *Diagnostic) Unwrap() error { return d.Err }

// Error formats the diagnostic as file:line:col: item: message.
func (d *Diagnostic) Error() string {
	var b strings.Builder
	b.WriteString(d.File)
	if d.Line > 0 {
		fmt.Fprintf(&b, ":%d", d.Line)
		if d.Col > 0 {
			fmt.Fprintf(&b, ":%d", d.Col)
		}
	}
	b.WriteString(": ")
	if d.Item != "" {
		b.WriteString(d.Item)
		b.WriteString(": ")
	}
	b.WriteString(d.Msg)
	return b.String()
}

// LoadError holds every error found while loading: the rules that had
// none are loaded all the same.
type LoadError struct {
	Diags []*Diagnostic
}

// Error lists the diagnostics one per line.
func (e *LoadError) Error() string {
	lines := make([]string, len(e.Diags))
	for i, d := range e.Diags {
		lines[i] = d.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find each *Diagnostic.
func (e *LoadError) Unwrap() []error {
	errs := make([]error, len(e.Diags))
	for i, d := range e.Diags {
		errs[i] = d
	}
	return errs
}

// itemName formats the item part of a diagnostic.
func itemName(kind, name string) string {
	return fmt.Sprintf("%s %q", kind, name)
}
