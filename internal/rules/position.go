package rules

import (
	"sort"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// sourceFile is one rules file with its bytes, kept so that an offset
// inside a YAML scalar can be traced back to a line and column.
type sourceFile struct {
	name  string
	data  []byte
	lines []int // byte offset where each line starts
}

func newSourceFile(name string, data []byte) *sourceFile {
	lines := []int{0}
	for i, c := range data {
		if c == '\n' {
			lines = append(lines, i+1)
		}
	}
	return &sourceFile{name: name, data: data, lines: lines}
}

// offset turns yaml.v3's 1-based line and column (counted in characters,
// as libyaml does) into a byte offset.
func (f *sourceFile) offset(line, col int) int {
	if line < 1 || line > len(f.lines) {
		return len(f.data)
	}
	p := f.lines[line-1]
	for c := 1; c < col && p < len(f.data) && f.data[p] != '\n'; c++ {
		_, size := utf8.DecodeRune(f.data[p:])
		p += size
	}
	return p
}

// lineCol turns a byte offset into a 1-based line and character column.
func (f *sourceFile) lineCol(off int) (int, int) {
	if off > len(f.data) {
		off = len(f.data)
	}
	i := sort.Search(len(f.lines), func(i int) bool { return f.lines[i] > off })
	start := f.lines[i-1]
	return i, utf8.RuneCount(f.data[start:off]) + 1
}

// scalarPos finds where the byte at offset off of a scalar's decoded value
// sits in the file. YAML folds lines, strips block indentation and decodes
// escapes, so the value is walked alongside the source: every
// non-blank character of the value appears in the source in the same order,
// with only blanks, line breaks and escapes in between. When the two stop
// agreeing (which should not happen), the scalar's own position is used.
func scalarPos(f *sourceFile, n *yaml.Node, off int) (line, col int) {
	if f == nil || n == nil {
		return 0, 0
	}
	d := f.data
	p := f.offset(n.Line, n.Column)
	switch n.Style {
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		p++
	case yaml.LiteralStyle, yaml.FoldedStyle:
		// The content starts on the line after the | or > indicator.
		for p < len(d) && d[p] != '\n' {
			p++
		}
		p++
	}
	if p > len(d) {
		return n.Line, n.Column
	}
	v := n.Value
	double := n.Style == yaml.DoubleQuotedStyle
	single := n.Style == yaml.SingleQuotedStyle
	i := 0
	for i < off && i < len(v) {
		c := v[i]
		if isBlank(c) {
			if p < len(d) && d[p] == c {
				p++
			} else if double && p+1 < len(d) && d[p] == '\\' && d[p+1] != '\n' && d[p+1] != '\r' {
				p = skipEscape(d, p)
			} else if p < len(d) && isBlank(d[p]) {
				p++
			}
			i++
			continue
		}
		p = skipBlanks(d, p, double)
		switch {
		case p >= len(d):
			return n.Line, n.Column
		case double && d[p] == '\\':
			p = skipEscape(d, p)
			_, size := utf8.DecodeRuneInString(v[i:])
			i += size
		case single && c == '\'' && p+1 < len(d) && d[p] == '\'' && d[p+1] == '\'':
			p += 2
			i++
		case d[p] == c:
			p++
			i++
		default:
			return n.Line, n.Column
		}
	}
	if i < len(v) && !isBlank(v[i]) {
		p = skipBlanks(d, p, double)
	}
	return f.lineCol(p)
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipBlanks passes blanks and line breaks, and in a double-quoted scalar
// escaped line breaks too.
func skipBlanks(d []byte, p int, double bool) int {
	for p < len(d) {
		if isBlank(d[p]) {
			p++
			continue
		}
		if double && d[p] == '\\' && p+1 < len(d) && (d[p+1] == '\n' || d[p+1] == '\r') {
			p += 2
			continue
		}
		break
	}
	return p
}

// skipEscape passes one escape sequence of a double-quoted scalar.
func skipEscape(d []byte, p int) int {
	p++ // the backslash
	if p >= len(d) {
		return p
	}
	n := 1
	switch d[p] {
	case 'x':
		n = 3
	case 'u':
		n = 5
	case 'U':
		n = 9
	}
	if p+n > len(d) {
		return len(d)
	}
	return p + n
}

// fragment is one piece of a text (a condition or an output) that was put
// together from YAML scalars and from text Davy wrote itself (appends are
// joined with a space, exceptions become "and not (...)").
type fragment struct {
	start int // offset of the fragment in the text
	file  *sourceFile
	node  *yaml.Node
	// verbatim is true when the fragment is the node's value as written, so
	// every offset inside it maps to its own place; otherwise every offset
	// maps to the node itself.
	verbatim bool
}

// text is a condition or an output with the origin of each of its parts.
type text struct {
	s     string
	frags []fragment
}

// addScalar appends a YAML scalar's value as written.
func (t *text) addScalar(f *sourceFile, n *yaml.Node) {
	t.frags = append(t.frags, fragment{start: len(t.s), file: f, node: n, verbatim: true})
	t.s += n.Value
}

// addAt appends text that maps as a whole to node n.
func (t *text) addAt(s string, f *sourceFile, n *yaml.Node) {
	t.frags = append(t.frags, fragment{start: len(t.s), file: f, node: n})
	t.s += s
}

// appendText joins another text after a space, as Falco appends.
func (t *text) appendText(o *text) {
	if len(o.frags) == 0 {
		return
	}
	first := o.frags[0]
	t.addAt(" ", first.file, first.node)
	base := len(t.s)
	for _, fr := range o.frags {
		fr.start += base
		t.frags = append(t.frags, fr)
	}
	t.s += o.s
}

// pos maps an offset in the text to a file, line and column.
func (t *text) pos(off int) (file string, line, col int) {
	if len(t.frags) == 0 {
		return "", 0, 0
	}
	i := sort.Search(len(t.frags), func(i int) bool { return t.frags[i].start > off }) - 1
	if i < 0 {
		i = 0
	}
	fr := t.frags[i]
	if fr.file == nil {
		return "", 0, 0
	}
	if !fr.verbatim || fr.node == nil {
		if fr.node == nil {
			return fr.file.name, 0, 0
		}
		return fr.file.name, fr.node.Line, fr.node.Column
	}
	line, col = scalarPos(fr.file, fr.node, off-fr.start)
	return fr.file.name, line, col
}
