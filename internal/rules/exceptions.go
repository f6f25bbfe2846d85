package rules

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// scalarRef is a YAML scalar with the file it came from.
type scalarRef struct {
	s    string
	node *yaml.Node
	file *sourceFile
}

// exItem is one value of an exception row: a string, or a list of strings
// (for in, intersects and pmatch).
type exItem struct {
	scalar scalarRef
	isList bool
	list   []scalarRef
}

// exRow is one entry of an exception's values: a tuple matching the
// fields, or a single string in the single-field form.
type exRow struct {
	at     at
	scalar bool
	items  []exItem
}

// exceptionInfo is one of a rule's exceptions, with Falco's semantics:
//
//	fields: [f1, f2]  comps: [=, in]  values: [[a, [b, c]], ...]
//	  -> and not ((f1 = a and f2 in (b, c)) or ...)
//	fields: f  comps: in  values: [a, b]
//	  -> and not (f in (a, b))
//
// comps default to = for each field, or to in for a single field.
type exceptionInfo struct {
	name   string
	at     at
	fields []scalarRef
	single bool
	comps  []scalarRef
	values []exRow
}

// validate checks the fields and comps and defaults the comps.
func (ex *exceptionInfo) validate() *Diagnostic {
	if ex.comps == nil {
		def := "="
		if ex.single {
			def = "in"
		}
		for range ex.fields {
			ex.comps = append(ex.comps, scalarRef{def, ex.at.node, ex.at.file})
		}
	}
	if len(ex.comps) != len(ex.fields) {
		return ex.at.diag("exception %q has %d fields but %d comps", ex.name, len(ex.fields), len(ex.comps))
	}
	for _, c := range ex.comps {
		o, ok := opByName[c.s]
		ca := at{file: c.file, node: c.node, item: ex.at.item}
		switch {
		case !ok:
			return ca.diag("exception %q: %q is not a comparison operator", ex.name, c.s)
		case o == opExists:
			return ca.diag("exception %q: exists takes no value and cannot be a comp", ex.name)
		case ex.single && !o.takesList():
			return ca.diag("exception %q: with a single field, comps must be in, pmatch or intersects, not %q", ex.name, c.s)
		}
	}
	return ex.validateValues()
}

// validateValues checks that each row fits the fields.
func (ex *exceptionInfo) validateValues() *Diagnostic {
	for _, row := range ex.values {
		if ex.single {
			if !row.scalar {
				return row.at.diag("exception %q has a single field: its values are strings, not lists", ex.name)
			}
			continue
		}
		if row.scalar {
			return row.at.diag("exception %q: each value must be a list of %d items, one per field", ex.name, len(ex.fields))
		}
		if len(row.items) != len(ex.fields) {
			return row.at.diag("exception %q: %d values for %d fields", ex.name, len(row.items), len(ex.fields))
		}
	}
	return nil
}

// appendTo writes the exception as " and not (...)" after a condition, each
// piece mapped to the YAML node it came from so that errors point there.
func (ex *exceptionInfo) appendTo(t *text) {
	if len(ex.values) == 0 {
		return
	}
	f, n := ex.at.file, ex.at.node
	t.addAt(" and not (", f, n)
	if ex.single {
		fl, c := ex.fields[0], ex.comps[0]
		t.addAt(fl.s, fl.file, fl.node)
		t.addAt(" ", f, n)
		t.addAt(c.s, c.file, c.node)
		t.addAt(" (", f, n)
		for i, row := range ex.values {
			if i > 0 {
				t.addAt(", ", f, n)
			}
			v := row.items[0].scalar
			t.addAt(quoteValue(v.s), v.file, v.node)
		}
		t.addAt("))", f, n)
		return
	}
	for i, row := range ex.values {
		if i > 0 {
			t.addAt(" or ", f, n)
		}
		t.addAt("(", f, n)
		for k, fl := range ex.fields {
			if k > 0 {
				t.addAt(" and ", f, n)
			}
			c := ex.comps[k]
			t.addAt(fl.s, fl.file, fl.node)
			t.addAt(" ", f, n)
			t.addAt(c.s, c.file, c.node)
			t.addAt(" ", f, n)
			it := row.items[k]
			o := opByName[c.s]
			switch {
			case it.isList:
				t.addAt("(", it.scalar.file, it.scalar.node)
				for j, v := range it.list {
					if j > 0 {
						t.addAt(", ", it.scalar.file, it.scalar.node)
					}
					t.addAt(quoteValue(v.s), v.file, v.node)
				}
				t.addAt(")", it.scalar.file, it.scalar.node)
			case o.takesList() && strings.HasPrefix(it.scalar.s, "("):
				// Already a list, as Falco allows: (a, b).
				t.addAt(it.scalar.s, it.scalar.file, it.scalar.node)
			case o.takesList():
				// A single name in parentheses: a list name expands.
				t.addAt("("+quoteValue(it.scalar.s)+")", it.scalar.file, it.scalar.node)
			default:
				t.addAt(quoteValue(it.scalar.s), it.scalar.file, it.scalar.node)
			}
		}
		t.addAt(")", f, n)
	}
	t.addAt(")", f, n)
}

// quoteValue writes a value so the lexer reads it back unchanged: bare when
// it can be (so that a list name still expands, as in Falco), otherwise in
// double quotes.
func quoteValue(s string) string {
	bare := s != ""
	for i := 0; i < len(s) && bare; i++ {
		if endsBare(s[i]) {
			bare = false
		}
	}
	if bare {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`, "\r", `\r`)
	return fmt.Sprintf(`"%s"`, r.Replace(s))
}
