package rules

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// at is a place in a rules file: the item it belongs to and a YAML node.
type at struct {
	file *sourceFile
	node *yaml.Node
	item string
}

func (a at) with(n *yaml.Node) at { a.node = n; return a }

func (a at) diag(format string, args ...any) *Diagnostic {
	d := &Diagnostic{File: a.file.name, Item: a.item, Msg: fmt.Sprintf(format, args...)}
	if a.node != nil {
		d.Line, d.Col = a.node.Line, a.node.Column
	}
	return d
}

// ymap is a YAML mapping with its keys checked: all scalars, none twice.
type ymap struct {
	vals  map[string]*yaml.Node
	keys  map[string]*yaml.Node
	order []string
}

func (m *ymap) has(k string) bool { _, ok := m.vals[k]; return ok }

// resolve follows aliases, counting every node against the file's budget
// so that an alias bomb is refused instead of walked.
func (l *loader) resolve(n *yaml.Node) (*yaml.Node, error) {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i > 100 {
			return nil, fmt.Errorf("alias chain too long")
		}
		n = n.Alias
	}
	l.nodes++
	if l.nodes > maxYAMLNodes {
		return nil, fmt.Errorf("file has more than %d YAML nodes (aliases counted each time they are used)", maxYAMLNodes)
	}
	if n == nil {
		return nil, fmt.Errorf("empty alias")
	}
	return n, nil
}

func (l *loader) mapping(a at, n *yaml.Node) (*ymap, *Diagnostic) {
	n, err := l.resolve(n)
	if err != nil {
		return nil, a.diag("%v", err)
	}
	if n.Kind != yaml.MappingNode {
		return nil, a.with(n).diag("expected a mapping")
	}
	m := &ymap{vals: map[string]*yaml.Node{}, keys: map[string]*yaml.Node{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, err := l.resolve(n.Content[i])
		if err != nil {
			return nil, a.with(n.Content[i]).diag("%v", err)
		}
		if k.Kind != yaml.ScalarNode {
			return nil, a.with(k).diag("keys must be strings")
		}
		if _, dup := m.vals[k.Value]; dup {
			return nil, a.with(k).diag("key %q appears twice", k.Value)
		}
		m.vals[k.Value] = n.Content[i+1]
		m.keys[k.Value] = k
		m.order = append(m.order, k.Value)
	}
	return m, nil
}

// scalar returns a scalar node (following aliases).
func (l *loader) scalar(a at, n *yaml.Node, what string) (*yaml.Node, *Diagnostic) {
	n, err := l.resolve(n)
	if err != nil {
		return nil, a.with(n).diag("%v", err)
	}
	if n.Kind != yaml.ScalarNode {
		return nil, a.with(n).diag("%s must be a string", what)
	}
	return n, nil
}

func (l *loader) str(a at, n *yaml.Node, what string) (string, *Diagnostic) {
	s, d := l.scalar(a, n, what)
	if d != nil {
		return "", d
	}
	return s.Value, nil
}

func (l *loader) boolean(a at, n *yaml.Node, what string) (bool, *Diagnostic) {
	s, d := l.scalar(a, n, what)
	if d != nil {
		return false, d
	}
	switch strings.ToLower(s.Value) {
	case "true", "yes", "on":
		return true, nil
	case "false", "no", "off":
		return false, nil
	}
	return false, a.with(s).diag("%s must be true or false, not %q", what, s.Value)
}

// scalars reads a sequence of scalars (a list's items, a rule's tags).
func (l *loader) scalars(a at, n *yaml.Node, what string) ([]*yaml.Node, *Diagnostic) {
	n, err := l.resolve(n)
	if err != nil {
		return nil, a.with(n).diag("%v", err)
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, a.with(n).diag("%s must be a list", what)
	}
	out := make([]*yaml.Node, 0, len(n.Content))
	for _, c := range n.Content {
		s, err := l.resolve(c)
		if err != nil {
			return nil, a.with(c).diag("%v", err)
		}
		if s.Kind != yaml.ScalarNode {
			return nil, a.with(s).diag("%s must be a list of strings", what)
		}
		out = append(out, s)
	}
	return out, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError turns a yaml.v3 error into a diagnostic with its line.
func yamlError(f *sourceFile, err error) *Diagnostic {
	msg := err.Error()
	d := &Diagnostic{File: f.name, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: "), Err: err}
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		d.Line, _ = strconv.Atoi(m[1])
		d.Msg = "invalid YAML: " + m[2]
	}
	return d
}
