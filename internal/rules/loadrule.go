package rules

import (
	"gopkg.in/yaml.v3"
)

// ruleInfo is a rule as collected from every file.
type ruleInfo struct {
	name        string
	desc        string
	cond        text
	output      text
	priority    Priority
	tags        []string
	enabled     bool
	source      string
	exceptions  []*exceptionInfo
	skipUnknown bool
	at          at // where it was defined

	unknownSource bool // another Falco source: kept for appends, never compiled
	bad           bool // an error in its definition or an override: not loaded
}

// ruleUpdate is what one rule item sets; nil means not set.
type ruleUpdate struct {
	desc        *string
	cond        *text
	output      *text
	priority    *Priority
	tags        []string
	enabled     *bool
	source      *string
	exceptions  []*exceptionInfo
	skipUnknown *bool
}

var (
	ruleKeys        = []string{"rule", "desc", "condition", "output", "priority", "tags", "enabled", "source", "exceptions", "append", "override", "warn_evttypes", "skip-if-unknown-filter", "capture", "capture_duration"}
	ruleAppendable  = []string{"condition", "output", "desc", "tags", "exceptions"}
	ruleReplaceable = []string{"condition", "output", "desc", "priority", "tags", "exceptions", "enabled", "warn_evttypes", "skip-if-unknown-filter"}
)

func (l *loader) loadRule(f *sourceFile, n *yaml.Node, m *ymap) {
	a := at{file: f, node: n}
	name, ok := l.name(a, m, "rule")
	if !ok {
		return
	}
	a.item = itemName("rule", name)
	l.checkKeys(a, m, ruleKeys...)
	u, ok := l.readRuleUpdate(a, m)
	prev := l.rules[name]

	switch {
	case m.has("override"):
		spec, sok := l.overrideSpec(a, m, ruleAppendable, ruleReplaceable)
		if prev == nil {
			l.err(a.diag("no rule %q to override: define it first, in this file or an earlier one", name))
			return
		}
		if !ok || !sok {
			prev.bad = true
			return
		}
		l.applyRule(a, prev, u, spec)
	case m.has("append"):
		app, d := l.boolean(a, m.vals["append"], "append")
		if d != nil {
			l.err(d)
			return
		}
		if app {
			if prev == nil {
				l.err(a.diag("no rule %q to append to: define it first, in this file or an earlier one", name))
				return
			}
			for _, k := range []string{"priority", "enabled", "source"} {
				if m.has(k) {
					l.err(a.with(m.keys[k]).diag("an appended rule may only set condition, output, desc, tags and exceptions, not %q", k))
					ok = false
				}
			}
			if !ok {
				prev.bad = true
				return
			}
			spec := map[string]string{}
			for _, k := range ruleAppendable {
				if m.has(k) {
					spec[k] = "append"
				}
			}
			l.applyRule(a, prev, u, spec)
			return
		}
		l.defineRule(a, name, m, u, ok, prev)
	case !m.has("condition") && !m.has("output") && !m.has("priority") && !m.has("desc") && m.has("enabled"):
		// The older way to turn a rule on or off: only its name and enabled.
		if prev == nil {
			l.err(a.diag("rule has only enabled, but no rule %q was defined before", name))
			return
		}
		if ok {
			prev.enabled = *u.enabled
		}
	default:
		l.defineRule(a, name, m, u, ok, prev)
	}
}

func (l *loader) defineRule(a at, name string, m *ymap, u *ruleUpdate, ok bool, prev *ruleInfo) {
	for _, k := range []string{"condition", "output", "desc", "priority"} {
		if !m.has(k) {
			l.err(a.diag("missing key %q", k))
			ok = false
		}
	}
	r := &ruleInfo{name: name, at: a, enabled: true, bad: !ok}
	// Whatever was read is kept, even for a bad rule: its condition and
	// output are still checked, so that one run reports every problem.
	if u.desc != nil {
		r.desc = *u.desc
	}
	if u.cond != nil {
		r.cond = *u.cond
	}
	if u.output != nil {
		r.output = *u.output
	}
	if u.priority != nil {
		r.priority = *u.priority
	}
	r.tags = u.tags
	if u.enabled != nil {
		r.enabled = *u.enabled
	}
	if u.source != nil {
		r.source = *u.source
	}
	r.exceptions = u.exceptions
	if u.skipUnknown != nil {
		r.skipUnknown = *u.skipUnknown
	}
	if r.source != "" && r.source != "syscall" {
		r.unknownSource = true
		l.warn(a.diag("source %q is not supported (only syscall); rule skipped", r.source))
	}
	if ok {
		for _, ex := range r.exceptions {
			if ex.fields == nil {
				l.err(ex.at.diag("exception %q has no fields", ex.name))
				r.bad = true
			} else if d := ex.validate(); d != nil {
				l.err(d)
				r.bad = true
			}
		}
	}
	if prev != nil {
		*prev = *r
		return
	}
	l.rules[r.name] = r
	l.ruleOrder = append(l.ruleOrder, r)
}

// applyRule applies an override or an append to an existing rule.
func (l *loader) applyRule(a at, r *ruleInfo, u *ruleUpdate, spec map[string]string) {
	for k, how := range spec {
		app := how == "append"
		switch k {
		case "condition":
			if app {
				r.cond.appendText(u.cond)
			} else {
				r.cond = *u.cond
			}
		case "output":
			if app {
				r.output.appendText(u.output)
			} else {
				r.output = *u.output
			}
		case "desc":
			if app && r.desc != "" {
				r.desc += " " + *u.desc
			} else {
				r.desc = *u.desc
			}
		case "tags":
			if app {
				for _, t := range u.tags {
					if !contains(r.tags, t) {
						r.tags = append(r.tags, t)
					}
				}
			} else {
				r.tags = u.tags
			}
		case "priority":
			r.priority = *u.priority
		case "enabled":
			r.enabled = *u.enabled
		case "skip-if-unknown-filter":
			r.skipUnknown = *u.skipUnknown
		case "exceptions":
			if !app {
				r.exceptions = u.exceptions
				for _, ex := range r.exceptions {
					if ex.fields == nil {
						l.err(ex.at.diag("exception %q has no fields", ex.name))
						r.bad = true
					} else if d := ex.validate(); d != nil {
						l.err(d)
						r.bad = true
					}
				}
				continue
			}
			l.appendExceptions(r, u.exceptions)
		}
	}
}

// appendExceptions adds values to exceptions of the same name and adds the
// exceptions that are new, as Falco does.
func (l *loader) appendExceptions(r *ruleInfo, exs []*exceptionInfo) {
	for _, ex := range exs {
		var prev *exceptionInfo
		for _, p := range r.exceptions {
			if p.name == ex.name {
				prev = p
			}
		}
		if prev == nil {
			switch {
			case ex.fields == nil:
				l.err(ex.at.diag("new exception %q needs fields", ex.name))
				r.bad = true
			case len(ex.values) == 0:
				l.err(ex.at.diag("new exception %q needs values", ex.name))
				r.bad = true
			default:
				if d := ex.validate(); d != nil {
					l.err(d)
					r.bad = true
					continue
				}
				r.exceptions = append(r.exceptions, ex)
			}
			continue
		}
		if ex.fields != nil || ex.comps != nil {
			l.err(ex.at.diag("exception %q exists: only its values can be appended, not fields or comps", ex.name))
			r.bad = true
			continue
		}
		// The values were read without knowing the exception's shape; check
		// them against it now.
		ex.fields, ex.single, ex.comps = prev.fields, prev.single, prev.comps
		if d := ex.validateValues(); d != nil {
			l.err(d)
			r.bad = true
			continue
		}
		prev.values = append(prev.values, ex.values...)
	}
}

// readRuleUpdate reads every key a rule item sets. ok is false when a key
// had a problem (already reported).
func (l *loader) readRuleUpdate(a at, m *ymap) (*ruleUpdate, bool) {
	u := &ruleUpdate{}
	ok := true
	fail := func(d *Diagnostic) {
		l.err(d)
		ok = false
	}
	if n, has := m.vals["desc"]; has {
		if s, d := l.str(a, n, "desc"); d != nil {
			fail(d)
		} else {
			u.desc = &s
		}
	}
	for _, k := range []string{"condition", "output"} {
		n, has := m.vals[k]
		if !has {
			continue
		}
		s, d := l.scalar(a, n, k)
		if d != nil {
			fail(d)
			continue
		}
		t := &text{}
		t.addScalar(a.file, s)
		if k == "condition" {
			u.cond = t
		} else {
			u.output = t
		}
	}
	if n, has := m.vals["priority"]; has {
		if s, d := l.scalar(a, n, "priority"); d != nil {
			fail(d)
		} else if p, err := ParsePriority(s.Value); err != nil {
			fail(a.with(s).diag("%v", err))
		} else {
			u.priority = &p
		}
	}
	if n, has := m.vals["tags"]; has {
		nodes, d := l.scalars(a, n, "tags")
		if d != nil {
			fail(d)
		}
		for _, t := range nodes {
			u.tags = append(u.tags, t.Value)
		}
	}
	if n, has := m.vals["enabled"]; has {
		if b, d := l.boolean(a, n, "enabled"); d != nil {
			fail(d)
		} else {
			u.enabled = &b
		}
	}
	if n, has := m.vals["source"]; has {
		if s, d := l.str(a, n, "source"); d != nil {
			fail(d)
		} else {
			u.source = &s
		}
	}
	if n, has := m.vals["skip-if-unknown-filter"]; has {
		if b, d := l.boolean(a, n, "skip-if-unknown-filter"); d != nil {
			fail(d)
		} else {
			u.skipUnknown = &b
		}
	}
	if n, has := m.vals["warn_evttypes"]; has {
		if _, d := l.boolean(a, n, "warn_evttypes"); d != nil {
			fail(d)
		}
	}
	if n, has := m.vals["exceptions"]; has {
		exs, good := l.readExceptions(a, n)
		u.exceptions = exs
		if !good {
			ok = false
		}
	}
	return u, ok
}

func (l *loader) readExceptions(a at, n *yaml.Node) ([]*exceptionInfo, bool) {
	n, err := l.resolve(n)
	if err != nil {
		l.err(a.with(n).diag("%v", err))
		return nil, false
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, true
	}
	if n.Kind != yaml.SequenceNode {
		l.err(a.with(n).diag("exceptions must be a list"))
		return nil, false
	}
	var out []*exceptionInfo
	ok := true
	for _, en := range n.Content {
		ex, d := l.readException(a, en)
		if d != nil {
			l.err(d)
			ok = false
			continue
		}
		out = append(out, ex)
	}
	return out, ok
}

func (l *loader) readException(a at, n *yaml.Node) (*exceptionInfo, *Diagnostic) {
	m, d := l.mapping(a, n)
	if d != nil {
		return nil, a.with(n).diag("each exception must be a mapping with name, fields, comps and values")
	}
	ea := a.with(n)
	if !m.has("name") {
		return nil, ea.diag("exception has no name")
	}
	name, d := l.str(a, m.vals["name"], "exception name")
	if d != nil {
		return nil, d
	}
	ex := &exceptionInfo{name: name, at: ea}
	for _, k := range m.order {
		switch k {
		case "name", "fields", "comps", "values":
		default:
			l.warn(a.with(m.keys[k]).diag("exception %q: unknown key %q ignored", name, k))
		}
	}
	if fn, has := m.vals["fields"]; has {
		refs, single, d := l.scalarOrList(a, fn, "fields")
		if d != nil {
			return nil, d
		}
		ex.fields, ex.single = refs, single
		if len(refs) == 0 {
			return nil, a.with(fn).diag("exception %q: fields is empty", name)
		}
	}
	if cn, has := m.vals["comps"]; has {
		refs, single, d := l.scalarOrList(a, cn, "comps")
		if d != nil {
			return nil, d
		}
		if ex.fields != nil && single != ex.single {
			return nil, a.with(cn).diag("exception %q: fields and comps must both be lists or both be single values", name)
		}
		ex.comps = refs
	}
	if vn, has := m.vals["values"]; has {
		rows, d := l.exceptionValues(a, vn)
		if d != nil {
			return nil, d
		}
		ex.values = rows
	}
	return ex, nil
}

// scalarOrList reads either one scalar or a list of scalars.
func (l *loader) scalarOrList(a at, n *yaml.Node, what string) ([]scalarRef, bool, *Diagnostic) {
	r, err := l.resolve(n)
	if err != nil {
		return nil, false, a.with(n).diag("%v", err)
	}
	if r.Kind == yaml.ScalarNode {
		return []scalarRef{{r.Value, r, a.file}}, true, nil
	}
	nodes, d := l.scalars(a, r, what)
	if d != nil {
		return nil, false, d
	}
	refs := make([]scalarRef, len(nodes))
	for i, s := range nodes {
		refs[i] = scalarRef{s.Value, s, a.file}
	}
	return refs, false, nil
}

// exceptionValues reads values: a list whose entries are scalars (single
// field form) or tuples whose entries are scalars or lists of scalars.
func (l *loader) exceptionValues(a at, n *yaml.Node) ([]exRow, *Diagnostic) {
	n, err := l.resolve(n)
	if err != nil {
		return nil, a.with(n).diag("%v", err)
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, a.with(n).diag("exception values must be a list")
	}
	rows := make([]exRow, 0, len(n.Content))
	for _, rn := range n.Content {
		r, err := l.resolve(rn)
		if err != nil {
			return nil, a.with(rn).diag("%v", err)
		}
		row := exRow{at: a.with(r)}
		switch r.Kind {
		case yaml.ScalarNode:
			row.scalar = true
			row.items = []exItem{{scalar: scalarRef{r.Value, r, a.file}}}
		case yaml.SequenceNode:
			for _, in := range r.Content {
				it, err := l.resolve(in)
				if err != nil {
					return nil, a.with(in).diag("%v", err)
				}
				switch it.Kind {
				case yaml.ScalarNode:
					row.items = append(row.items, exItem{scalar: scalarRef{it.Value, it, a.file}})
				case yaml.SequenceNode:
					item := exItem{isList: true, scalar: scalarRef{"", it, a.file}}
					vals, d := l.scalars(a, it, "exception value")
					if d != nil {
						return nil, d
					}
					for _, v := range vals {
						item.list = append(item.list, scalarRef{v.Value, v, a.file})
					}
					row.items = append(row.items, item)
				default:
					return nil, a.with(it).diag("exception values hold strings or lists of strings")
				}
			}
		default:
			return nil, a.with(r).diag("exception values hold strings or lists of strings")
		}
		rows = append(rows, row)
	}
	return rows, nil
}
