package rules

import (
	"fmt"
	"strconv"
	"strings"
)

// na is what Falco writes for a value the event does not have.
const na = "<NA>"

// outputFormat is a parsed output: literal text and %fields in turn.
type outputFormat struct {
	segs   []outSeg
	fields []*field // each field once, in order, for OutputFields
}

type outSeg struct {
	lit string
	f   *field
}

// parseOutput reads %field references: a field name, optionally with
// [argument]. A % not followed by a letter is kept as it is. A name that is
// not a field is retried without trailing dots, so "ran %proc.name." works.
func parseOutput(t *text) (*outputFormat, []*checkError) {
	// A folded or literal YAML block ends with a line break, which is not
	// part of the message.
	s := strings.TrimRight(t.s, " \t\r\n")
	if len(s) > maxConditionLen {
		return nil, []*checkError{{0, fmt.Sprintf("output is %d bytes, more than the %d allowed", len(s), maxConditionLen)}}
	}
	of := &outputFormat{}
	var errs []*checkError
	var lit strings.Builder
	seen := map[string]bool{}
	add := func(f *field) {
		if lit.Len() > 0 {
			of.segs = append(of.segs, outSeg{lit: lit.String()})
			lit.Reset()
		}
		of.segs = append(of.segs, outSeg{f: f})
		if !seen[f.name] {
			seen[f.name] = true
			of.fields = append(of.fields, f)
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c != '%' || i+1 >= len(s) || !isWordStart(s[i+1]) {
			lit.WriteByte(c)
			i++
			continue
		}
		j := i + 1
		for j < len(s) && (isWordStart(s[j]) || (s[j] >= '0' && s[j] <= '9') || s[j] == '.') {
			j++
		}
		if j < len(s) && s[j] == '[' {
			if k := strings.IndexByte(s[j:], ']'); k >= 0 {
				j += k + 1
			}
		}
		name := s[i+1 : j]
		if name == "container.info" {
			// Falco's shorthand, expanded as Falco long did.
			id, _ := lookupField("container.id")
			cn, _ := lookupField("container.name")
			lit.WriteString("container_id=")
			add(id)
			lit.WriteString(" container_name=")
			add(cn)
			i = j
			continue
		}
		f, err := lookupField(name)
		for err != nil && strings.HasSuffix(name, ".") {
			name = strings.TrimSuffix(name, ".")
			j--
			f, err = lookupField(name)
		}
		if err != nil {
			errs = append(errs, &checkError{i, "output: " + err.Error()})
			i = j
			continue
		}
		add(f)
		i = j
	}
	if lit.Len() > 0 {
		of.segs = append(of.segs, outSeg{lit: lit.String()})
	}
	return of, errs
}

// render writes the output for an event.
func (of *outputFormat) render(e *Event) string {
	var b strings.Builder
	for _, s := range of.segs {
		if s.f == nil {
			b.WriteString(s.lit)
			continue
		}
		b.WriteString(formatField(s.f, e))
	}
	return b.String()
}

// formatField renders a field's value as text, <NA> when absent.
func formatField(f *field, e *Event) string {
	switch f.kind {
	case kString, kConst:
		if s := f.str(e); s != "" {
			return s
		}
	case kInt:
		if n, ok := f.num(e); ok {
			return strconv.FormatInt(n, 10)
		}
	case kTime:
		if !e.Time.IsZero() {
			// Falco's evt.time: the time of day with nanoseconds.
			return e.Time.Format("15:04:05.000000000")
		}
	case kFloat:
		if v, ok := f.flt(e); ok {
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
	case kIP:
		if a := f.ip(e); a.IsValid() {
			return a.String()
		}
	case kNet:
		a, b := f.net(e)
		if a.IsValid() {
			return a.String()
		}
		if b.IsValid() {
			return b.String()
		}
	case kList:
		if l := f.list(e); len(l) > 0 {
			return strings.Join(l, ",")
		}
	}
	return na
}

// fieldValue is a field's value for JSON output_fields: a string, an
// int64, a float64, a []string, or nil when absent.
func fieldValue(f *field, e *Event) any {
	switch f.kind {
	case kString, kConst:
		if s := f.str(e); s != "" {
			return s
		}
	case kInt, kTime:
		if n, ok := f.num(e); ok {
			return n
		}
	case kFloat:
		if v, ok := f.flt(e); ok {
			return v
		}
	case kIP, kNet:
		if s := formatField(f, e); s != na {
			return s
		}
	case kList:
		if l := f.list(e); len(l) > 0 {
			return append([]string{}, l...)
		}
	}
	return nil
}
