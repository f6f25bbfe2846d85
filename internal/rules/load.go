package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"

	"gopkg.in/yaml.v3"
)

// Source is one rules file: a name for messages and its bytes.
type Source struct {
	Name string
	Data []byte
}

// Options tune Load.
type Options struct {
	// Logger receives warnings (skipped rules, unknown keys); nil discards.
	Logger *slog.Logger
}

// Load reads rules files in order: a later file may override or append to
// the lists, macros and rules of an earlier one, as in Falco. It returns
// the ruleset of every rule that compiled, and, when any item had a
// problem, a *LoadError listing them all with file, line and column. A rule
// with an error is left out; the ruleset is never nil.
func Load(opts Options, sources ...Source) (*Ruleset, error) {
	l := newLoader(opts)
	order := map[string]int{}
	for i, s := range sources {
		if _, seen := order[s.Name]; !seen {
			order[s.Name] = i
		}
		l.loadSource(s)
	}
	rs := l.compile()
	// Items are compiled kind by kind (lists, macros, rules); report in the
	// order of the files instead.
	sortDiags(l.errs, order)
	sortDiags(l.warns, order)
	for _, w := range l.warns {
		l.log.Warn("rules: " + w.Error())
	}
	if len(l.errs) > 0 {
		return rs, &LoadError{Diags: l.errs}
	}
	return rs, nil
}

func sortDiags(ds []*Diagnostic, order map[string]int) {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		if order[a.File] != order[b.File] {
			return order[a.File] < order[b.File]
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// LoadBytes loads one rules file held in memory.
func LoadBytes(name string, data []byte) (*Ruleset, error) {
	return Load(Options{}, Source{Name: name, Data: data})
}

// LoadFiles loads rules files from disk, in order. A file that cannot be
// read is an error like the others: the readable files still load.
func LoadFiles(paths ...string) (*Ruleset, error) {
	srcs, readErr := ReadFiles(paths...)
	rs, err := Load(Options{}, srcs...)
	var diags []*Diagnostic
	for _, e := range []error{readErr, err} {
		var le *LoadError
		if errors.As(e, &le) {
			diags = append(diags, le.Diags...)
		}
	}
	if len(diags) > 0 {
		return rs, &LoadError{Diags: diags}
	}
	return rs, nil
}

// ReadFiles reads rules files, each at most the size Load accepts (a
// larger one is read just past the limit so that Load reports it).
func ReadFiles(paths ...string) ([]Source, error) {
	var srcs []Source
	var diags []*Diagnostic
	for _, p := range paths {
		data, err := readLimited(p)
		if err != nil {
			diags = append(diags, &Diagnostic{File: p, Msg: fmt.Sprintf("cannot read: %v", err), Err: err})
			continue
		}
		srcs = append(srcs, Source{Name: p, Data: data})
	}
	if len(diags) > 0 {
		return srcs, &LoadError{Diags: diags}
	}
	return srcs, nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return data, nil
}

// loader collects the items of every file, applying overrides and appends
// as they come, and then compiles them all at once: lists and macros may
// then be used before the place they are defined, as in recent Falco.
type loader struct {
	log   *slog.Logger
	errs  []*Diagnostic
	warns []*Diagnostic
	nodes int // YAML nodes visited in the current file

	lists      map[string]*listInfo
	listOrder  []*listInfo
	macros     map[string]*macroInfo
	macroOrder []*macroInfo
	rules      map[string]*ruleInfo
	ruleOrder  []*ruleInfo
}

func newLoader(opts Options) *loader {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &loader{
		log:    log,
		lists:  map[string]*listInfo{},
		macros: map[string]*macroInfo{},
		rules:  map[string]*ruleInfo{},
	}
}

func (l *loader) err(d *Diagnostic) {
	if d != nil {
		l.errs = append(l.errs, d)
	}
}

func (l *loader) warn(d *Diagnostic) { l.warns = append(l.warns, d) }

func (l *loader) loadSource(src Source) {
	f := newSourceFile(src.Name, src.Data)
	if len(src.Data) > maxFileSize {
		l.err(&Diagnostic{File: src.Name, Msg: fmt.Sprintf("file is larger than %d bytes, too large for a rules file", maxFileSize)})
		return
	}
	l.nodes = 0
	dec := yaml.NewDecoder(bytes.NewReader(src.Data))
	for {
		var doc yaml.Node
		err := decode(dec, &doc)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			l.err(yamlError(f, err))
			return
		}
		l.loadDocument(f, &doc)
	}
}

// decode guards against a panic in the YAML library on hostile input: a
// bad rules file must give an error, never bring the agent down.
func decode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	return dec.Decode(n)
}

func (l *loader) loadDocument(f *sourceFile, doc *yaml.Node) {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return
	}
	a := at{file: f}
	root, err := l.resolve(doc.Content[0])
	if err != nil {
		l.err(a.with(doc).diag("%v", err))
		return
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return
	}
	if root.Kind != yaml.SequenceNode {
		l.err(a.with(root).diag("a rules file is a YAML list of items (- rule: ..., - macro: ..., - list: ...)"))
		return
	}
	if len(root.Content) > maxFileItems {
		l.err(a.with(root).diag("file has %d items, more than the %d allowed", len(root.Content), maxFileItems))
		return
	}
	for _, it := range root.Content {
		if l.nodes > maxYAMLNodes {
			return
		}
		l.loadItem(f, it)
	}
}

func (l *loader) loadItem(f *sourceFile, n *yaml.Node) {
	a := at{file: f, node: n}
	if n.Kind != yaml.MappingNode && n.Kind != yaml.AliasNode {
		l.err(a.diag("each item must be a mapping with a rule, macro or list key"))
		return
	}
	m, d := l.mapping(a, n)
	if d != nil {
		l.err(d)
		return
	}
	switch {
	case m.has("rule"):
		l.loadRule(f, n, m)
	case m.has("macro"):
		l.loadMacro(f, n, m)
	case m.has("list"):
		l.loadList(f, n, m)
	case m.has("required_engine_version"), m.has("required_plugin_versions"):
		// Davy has no engine version or plugins to check: accepted so that
		// Falco rules files load unchanged.
	default:
		l.err(a.diag("unknown item: expected a rule, macro, list or required_engine_version key"))
	}
}

// name reads the item's name (the value of its rule/macro/list key).
func (l *loader) name(a at, m *ymap, key string) (string, bool) {
	s, d := l.str(a, m.vals[key], key+" name")
	if d != nil {
		l.err(d)
		return "", false
	}
	if s == "" {
		l.err(a.with(m.vals[key]).diag("%s name is empty", key))
		return "", false
	}
	return s, true
}

// checkKeys reports keys an item does not know; Falco ignores some keys
// Davy has no use for, which are accepted silently.
func (l *loader) checkKeys(a at, m *ymap, known ...string) {
	for _, k := range m.order {
		ok := false
		for _, kk := range known {
			if k == kk {
				ok = true
				break
			}
		}
		if !ok {
			l.warn(a.with(m.keys[k]).diag("unknown key %q ignored", k))
		}
	}
}

// overrideSpec reads an override mapping: key -> append|replace.
func (l *loader) overrideSpec(a at, m *ymap, appendable, replaceable []string) (map[string]string, bool) {
	om, d := l.mapping(a, m.vals["override"])
	if d != nil {
		l.err(a.with(m.vals["override"]).diag("override must be a mapping of keys to append or replace"))
		return nil, false
	}
	if m.has("append") {
		l.err(a.with(m.keys["append"]).diag("append and override cannot be used together"))
		return nil, false
	}
	spec := map[string]string{}
	named := map[string]bool{}
	ok := true
	for _, k := range om.order {
		named[k] = true
		how, d := l.str(a, om.vals[k], "override of "+k)
		if d != nil {
			l.err(d)
			ok = false
			continue
		}
		var allowed []string
		switch how {
		case "append":
			allowed = appendable
		case "replace":
			allowed = replaceable
		default:
			l.err(a.with(om.vals[k]).diag("override of %q must be append or replace, not %q", k, how))
			ok = false
			continue
		}
		if !contains(allowed, k) {
			l.err(a.with(om.keys[k]).diag("key %q cannot be overridden with %s (%s: %v)", k, how, how, allowed))
			ok = false
			continue
		}
		if !m.has(k) {
			l.err(a.with(om.keys[k]).diag("override names key %q, which the item does not set", k))
			ok = false
			continue
		}
		spec[k] = how
	}
	for _, k := range m.order {
		switch k {
		case "rule", "macro", "list", "override":
			continue
		}
		if !named[k] && (contains(appendable, k) || contains(replaceable, k)) {
			l.err(a.with(m.keys[k]).diag("key %q is set but not listed in override", k))
			ok = false
		}
	}
	return spec, ok
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// listInfo is a list as collected.
type listInfo struct {
	name  string
	items []listItem
	at    at
	bad   bool
}

type listItem struct {
	text string
	at   at
}

// mode says how a list's items or a macro's condition combine with an
// earlier definition of the same name: "define", "append" or "replace",
// from override (Falco 0.36+) or legacy append. ok is false when the item
// has an error, already reported.
func (l *loader) mode(a at, m *ymap, key string) (string, bool) {
	if m.has("override") {
		spec, ok := l.overrideSpec(a, m, []string{key}, []string{key})
		if !ok {
			return "", false
		}
		return spec[key], true
	}
	if m.has("append") {
		app, d := l.boolean(a, m.vals["append"], "append")
		if d != nil {
			l.err(d)
			return "", false
		}
		if app {
			return "append", true
		}
	}
	return "define", true
}

func (l *loader) loadList(f *sourceFile, n *yaml.Node, m *ymap) {
	a := at{file: f, node: n}
	name, ok := l.name(a, m, "list")
	if !ok {
		return
	}
	a.item = itemName("list", name)
	l.checkKeys(a, m, "list", "items", "append", "override")
	mode, ok := l.mode(a, m, "items")
	if !ok {
		return
	}
	if !m.has("items") {
		l.err(a.diag("missing key \"items\""))
		return
	}
	nodes, d := l.scalars(a, m.vals["items"], "items")
	if d != nil {
		l.err(d)
		return
	}
	items := make([]listItem, len(nodes))
	for i, s := range nodes {
		items[i] = listItem{text: s.Value, at: a.with(s)}
	}
	prev := l.lists[name]
	switch mode {
	case "define":
		li := &listInfo{name: name, items: items, at: a}
		if prev != nil {
			*prev = *li
			return
		}
		l.lists[name] = li
		l.listOrder = append(l.listOrder, li)
	case "append", "replace":
		if prev == nil {
			l.err(a.diag("no list %q to %s to: define it first, in this file or an earlier one", name, mode))
			return
		}
		if mode == "append" {
			prev.items = append(prev.items, items...)
		} else {
			prev.items = items
		}
	}
}

// macroInfo is a macro as collected, then compiled on first use.
type macroInfo struct {
	name string
	cond text
	at   at

	ast      node
	bad      bool          // a syntax error, an undefined macro or a cycle: reported
	errs     []*checkError // fields or values it cannot use: reported when used
	reported bool          // errs were reported
	fn       evalFn
	size     int // checks once expanded
	chain    int // longest chain of macros below it, itself included
	types    []string
	typed    bool // types constrain the event type
	done     bool // fn, size, chain and types are set
}

func (l *loader) loadMacro(f *sourceFile, n *yaml.Node, m *ymap) {
	a := at{file: f, node: n}
	name, ok := l.name(a, m, "macro")
	if !ok {
		return
	}
	a.item = itemName("macro", name)
	l.checkKeys(a, m, "macro", "condition", "append", "override", "source")
	mode, ok := l.mode(a, m, "condition")
	if !ok {
		return
	}
	if !m.has("condition") {
		l.err(a.diag("missing key \"condition\""))
		return
	}
	cn, d := l.scalar(a, m.vals["condition"], "condition")
	if d != nil {
		l.err(d)
		return
	}
	var cond text
	cond.addScalar(f, cn)
	prev := l.macros[name]
	switch mode {
	case "define":
		mi := &macroInfo{name: name, cond: cond, at: a}
		if prev != nil {
			*prev = *mi
			return
		}
		l.macros[name] = mi
		l.macroOrder = append(l.macroOrder, mi)
	case "append", "replace":
		if prev == nil {
			l.err(a.diag("no macro %q to %s to: define it first, in this file or an earlier one", name, mode))
			return
		}
		if mode == "append" {
			prev.cond.appendText(&cond)
		} else {
			prev.cond = cond
		}
	}
}
