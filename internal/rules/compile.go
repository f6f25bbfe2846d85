package rules

import (
	"fmt"
	"sort"
	"strings"
)

// compile turns everything collected into a Ruleset: lists are expanded,
// macros parsed and checked for cycles, and each rule parsed, its macros
// resolved and compiled into a closure.
func (l *loader) compile() *Ruleset {
	env := &parseEnv{lists: l.resolveLists(), values: maxTotalValues, bad: map[string]bool{}}
	for _, li := range l.listOrder {
		if li.bad {
			env.bad[li.name] = true
		}
	}
	for _, m := range l.macroOrder {
		// A syntax error is reported now, as Falco does; a field the macro
		// cannot use is reported when a rule uses the macro, so that a
		// Falco file's macros for fields Davy lacks only matter if used.
		ast, errs := parseCondition(m.cond.s, env)
		if ast == nil {
			for _, e := range errs {
				l.err(textDiag(&m.cond, e.off, m.at.item, e.msg))
			}
			m.bad = true
			continue
		}
		m.ast, m.errs = ast, errs
	}
	l.checkMacros()

	rs := &Ruleset{lists: len(l.listOrder), macros: len(l.macroOrder)}
	for _, ri := range l.ruleOrder {
		if r := l.compileRule(ri, env); r != nil {
			r.order = len(rs.rules)
			rs.rules = append(rs.rules, r)
		}
	}
	for _, m := range l.macroOrder {
		if len(m.errs) > 0 && !m.reported {
			for _, e := range m.errs {
				l.warn(textDiag(&m.cond, e.off, m.at.item, e.msg+" (no loaded rule uses the macro)"))
			}
		}
	}
	rs.index()
	rs.warnings = l.warns
	return rs
}

// textDiag locates an offset of a condition or output in its file.
func textDiag(t *text, off int, item, msg string) *Diagnostic {
	file, line, col := t.pos(off)
	return &Diagnostic{File: file, Line: line, Col: col, Item: item, Msg: msg}
}

// resolveLists expands lists that name other lists, refusing cycles and
// lists that grow past the limits.
func (l *loader) resolveLists() map[string][]string {
	out := make(map[string][]string, len(l.lists))
	state := map[*listInfo]int{} // 1 visiting, 2 done
	var stack []string
	total := 0
	var visit func(li *listInfo) []string
	visit = func(li *listInfo) []string {
		if state[li] == 2 {
			return out[li.name]
		}
		state[li] = 1
		stack = append(stack, li.name)
		var items []string
		for _, it := range li.items {
			ref, isList := l.lists[it.text]
			if !isList {
				items = append(items, unquoteItem(it.text))
			} else if state[ref] == 1 {
				l.err(it.at.diag("list cycle: %s -> %s", strings.Join(stack, " -> "), ref.name))
				li.bad = true
			} else {
				items = append(items, visit(ref)...)
				if ref.bad {
					li.bad = true
				}
			}
			if len(items) > maxListItems {
				l.err(li.at.diag("list has more than %d items", maxListItems))
				li.bad = true
				items = items[:maxListItems]
				break
			}
		}
		total += len(items)
		if total > maxTotalItems {
			l.err(li.at.diag("the lists hold more than %d items in all", maxTotalItems))
			li.bad = true
			items = nil
		}
		stack = stack[:len(stack)-1]
		state[li] = 2
		out[li.name] = items
		return items
	}
	for _, li := range l.listOrder {
		visit(li)
	}
	return out
}

// unquoteItem strips one pair of quotes around a list item: Falco pastes
// items into the condition as text, so files write '"10.0.0.0/8"' for a
// value that must be quoted there.
func unquoteItem(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		lx := lexer{src: s}
		if t, err := lx.quoted(s[0]); err == nil && lx.pos == len(s) {
			return t.text
		}
	}
	return s
}

// walk calls fn for every node of a tree.
func walk(n node, fn func(node)) {
	fn(n)
	switch n := n.(type) {
	case *andNode:
		for _, k := range n.kids {
			walk(k, fn)
		}
	case *orNode:
		for _, k := range n.kids {
			walk(k, fn)
		}
	case *notNode:
		walk(n.kid, fn)
	}
}

// checkMacros reports macros that use undefined macros or form cycles.
// Macros that are only bad because they use a bad one are not reported
// here: the rules using them are.
func (l *loader) checkMacros() {
	state := map[*macroInfo]int{}
	var stack []*macroInfo
	var visit func(m *macroInfo)
	visit = func(m *macroInfo) {
		state[m] = 1
		stack = append(stack, m)
		if m.ast != nil {
			walk(m.ast, func(n node) {
				ref, ok := n.(*macroNode)
				if !ok {
					return
				}
				t := l.macros[ref.name]
				switch {
				case t == nil:
					l.err(textDiag(&m.cond, ref.off, m.at.item, fmt.Sprintf("undefined macro %q", ref.name)))
					m.bad = true
				case state[t] == 1:
					var names []string
					in := false
					for _, s := range stack {
						if s == t {
							in = true
						}
						if in {
							names = append(names, s.name)
							s.bad = true
						}
					}
					names = append(names, t.name)
					l.err(textDiag(&m.cond, ref.off, m.at.item, "macro cycle: "+strings.Join(names, " -> ")))
				case state[t] == 0:
					visit(t)
				}
			})
		}
		stack = stack[:len(stack)-1]
		state[m] = 2
	}
	for _, m := range l.macroOrder {
		if state[m] == 0 {
			visit(m)
		}
	}
}

// reachableMacros lists the macros a tree uses, directly or through other
// macros, each once.
func (l *loader) reachableMacros(n node) []*macroInfo {
	var out []*macroInfo
	seen := map[*macroInfo]bool{}
	var visit func(n node)
	visit = func(n node) {
		walk(n, func(n node) {
			ref, ok := n.(*macroNode)
			if !ok {
				return
			}
			m := l.macros[ref.name]
			if m == nil || seen[m] {
				return
			}
			seen[m] = true
			out = append(out, m)
			if m.ast != nil {
				visit(m.ast)
			}
		})
	}
	visit(n)
	return out
}

// macroOK reports whether a macro and every macro it uses compiled.
func (l *loader) macroOK(m *macroInfo, seen map[*macroInfo]bool) bool {
	if m.bad || m.ast == nil || len(m.errs) > 0 {
		return false
	}
	if ok, done := seen[m]; done {
		return ok
	}
	seen[m] = false // a cycle would read false; checkMacros marked it bad already
	ok := true
	walk(m.ast, func(n node) {
		if ref, is := n.(*macroNode); is && ok {
			t := l.macros[ref.name]
			ok = t != nil && l.macroOK(t, seen)
		}
	})
	seen[m] = ok
	return ok
}

// prepareMacro compiles a macro once: its closure is shared by every rule
// that uses it, so a macro used a thousand times costs one compilation.
func (l *loader) prepareMacro(m *macroInfo) {
	if m.done {
		return
	}
	m.fn = l.build(m.ast)
	m.size = l.size(m.ast)
	m.chain = 1 + l.chain(m.ast)
	m.types, m.typed = l.types(m.ast)
	m.done = true
}

func (l *loader) build(n node) evalFn {
	switch n := n.(type) {
	case *checkNode:
		return n.fn
	case *notNode:
		k := l.build(n.kid)
		return func(e *Event) bool { return !k(e) }
	case *andNode:
		fns := make([]evalFn, len(n.kids))
		for i, k := range n.kids {
			fns[i] = l.build(k)
		}
		if len(fns) == 2 {
			a, b := fns[0], fns[1]
			return func(e *Event) bool { return a(e) && b(e) }
		}
		return func(e *Event) bool {
			for _, f := range fns {
				if !f(e) {
					return false
				}
			}
			return true
		}
	case *orNode:
		fns := make([]evalFn, len(n.kids))
		for i, k := range n.kids {
			fns[i] = l.build(k)
		}
		if len(fns) == 2 {
			a, b := fns[0], fns[1]
			return func(e *Event) bool { return a(e) || b(e) }
		}
		return func(e *Event) bool {
			for _, f := range fns {
				if f(e) {
					return true
				}
			}
			return false
		}
	case *macroNode:
		m := l.macros[n.name]
		l.prepareMacro(m)
		return m.fn
	}
	return func(*Event) bool { return false }
}

// size counts the checks of a tree once macros are expanded, saturating
// just above the limit.
func (l *loader) size(n node) int {
	s := 0
	switch n := n.(type) {
	case *checkNode:
		s = 1
	case *notNode:
		s = l.size(n.kid)
	case *andNode:
		for _, k := range n.kids {
			s += l.size(k)
		}
	case *orNode:
		for _, k := range n.kids {
			s += l.size(k)
		}
	case *macroNode:
		m := l.macros[n.name]
		l.prepareMacro(m)
		s = m.size
	}
	return min(s, maxExpandedChecks+1)
}

// chain is the longest chain of macros used inside a tree.
func (l *loader) chain(n node) int {
	c := 0
	walk(n, func(n node) {
		if ref, ok := n.(*macroNode); ok {
			m := l.macros[ref.name]
			l.prepareMacro(m)
			c = max(c, m.chain)
		}
	})
	return c
}

// types computes the event types a tree can match: constrained is false
// when it can match any type. evt.type = x and evt.type in (...) constrain;
// "and" intersects, "or" unites, "not" gives up (the set of every type is
// open-ended).
func (l *loader) types(n node) ([]string, bool) {
	switch n := n.(type) {
	case *checkNode:
		if n.field == "evt.type" && (n.op == opEq || n.op == opIn || n.op == opIntersects) {
			return dedupSorted(n.vals), true
		}
	case *andNode:
		var set []string
		constrained := false
		for _, k := range n.kids {
			ts, ok := l.types(k)
			if !ok {
				continue
			}
			if !constrained {
				set, constrained = ts, true
			} else {
				set = intersect(set, ts)
			}
		}
		return set, constrained
	case *orNode:
		var set []string
		for _, k := range n.kids {
			ts, ok := l.types(k)
			if !ok {
				return nil, false
			}
			set = dedupSorted(append(append([]string{}, set...), ts...))
		}
		return set, true
	case *macroNode:
		m := l.macros[n.name]
		l.prepareMacro(m)
		return m.types, m.typed
	}
	return nil, false
}

func dedupSorted(s []string) []string {
	out := append([]string{}, s...)
	sort.Strings(out)
	w := 0
	for i, v := range out {
		if i == 0 || v != out[w-1] {
			out[w] = v
			w++
		}
	}
	return out[:w]
}

func intersect(a, b []string) []string {
	out := []string{} // empty, not nil: constrained to no type at all
	for _, v := range a {
		if contains(b, v) {
			out = append(out, v)
		}
	}
	return out
}

// compileRule compiles one rule; it returns nil (with the errors reported)
// when the rule cannot be loaded.
func (l *loader) compileRule(ri *ruleInfo, env *parseEnv) *Rule {
	if ri.unknownSource || (ri.bad && len(ri.cond.frags) == 0) {
		return nil
	}
	item := itemName("rule", ri.name)
	cond := ri.cond
	// A bad rule's exceptions may be the problem: its condition is checked
	// without them.
	if len(ri.exceptions) > 0 && !ri.bad {
		var t text
		first := ri.at
		if len(cond.frags) > 0 {
			first = at{file: cond.frags[0].file, node: cond.frags[0].node}
		}
		t.addAt("(", first.file, first.node)
		base := len(t.s)
		for _, fr := range cond.frags {
			fr.start += base
			t.frags = append(t.frags, fr)
		}
		t.s += cond.s
		t.addAt(")", first.file, first.node)
		for _, ex := range ri.exceptions {
			ex.appendTo(&t)
		}
		cond = t
	}
	ast, errs := parseCondition(cond.s, env)
	if ast == nil {
		for _, e := range errs {
			l.err(textDiag(&cond, e.off, item, e.msg))
		}
		return nil
	}
	reach := l.reachableMacros(ast)
	hardBad, undefined := false, false
	var deferred []*macroInfo
	for _, m := range reach {
		if m.bad {
			hardBad = true
		}
		if len(m.errs) > 0 {
			deferred = append(deferred, m)
		}
	}
	walk(ast, func(n node) {
		if ref, ok := n.(*macroNode); ok && l.macros[ref.name] == nil {
			undefined = true
		}
	})
	if ri.skipUnknown && !hardBad && !undefined && (len(errs) > 0 || len(deferred) > 0) {
		all := append([]*checkError{}, errs...)
		for _, m := range deferred {
			all = append(all, m.errs...)
		}
		if allUnknownField(all) {
			l.warn(ri.at.diag("%s; rule skipped (skip-if-unknown-filter)", all[0].msg))
			return nil
		}
	}
	for _, e := range errs {
		l.err(textDiag(&cond, e.off, item, e.msg))
	}
	for _, m := range deferred {
		if !m.reported {
			m.reported = true
			for _, e := range m.errs {
				l.err(textDiag(&m.cond, e.off, m.at.item, e.msg))
			}
		}
	}
	bad := len(errs) > 0
	seen := map[*macroInfo]bool{}
	walk(ast, func(n node) {
		ref, ok := n.(*macroNode)
		if !ok {
			return
		}
		m := l.macros[ref.name]
		switch {
		case m == nil:
			l.err(textDiag(&cond, ref.off, item, fmt.Sprintf("undefined macro %q", ref.name)))
			bad = true
		case !l.macroOK(m, seen):
			l.err(textDiag(&cond, ref.off, item, fmt.Sprintf("uses macro %q, which has errors", ref.name)))
			bad = true
		}
	})
	if bad {
		return nil
	}
	if c := l.chain(ast); c > maxMacroDepth {
		l.err(ri.at.diag("macros nested %d deep, more than the %d allowed", c, maxMacroDepth))
		return nil
	}
	if s := l.size(ast); s > maxExpandedChecks {
		l.err(ri.at.diag("condition has more than %d checks once macros are expanded", maxExpandedChecks))
		return nil
	}
	out, oerrs := parseOutput(&ri.output)
	for _, e := range oerrs {
		l.err(textDiag(&ri.output, e.off, item, e.msg))
	}
	if len(oerrs) > 0 {
		return nil
	}
	if ri.bad {
		// Checked for its other problems only: an earlier one keeps it out.
		return nil
	}
	r := &Rule{
		Name:         ri.name,
		Desc:         strings.TrimSpace(ri.desc),
		Condition:    strings.TrimSpace(cond.s),
		OutputFormat: strings.TrimSpace(ri.output.s),
		Priority:     ri.priority,
		Tags:         append([]string{}, ri.tags...),
		Enabled:      ri.enabled,
		Source:       "syscall",
		File:         ri.at.file.name,
		Line:         ri.at.node.Line,
		eval:         l.build(ast),
		out:          out,
	}
	types, typed := l.types(ast)
	if typed {
		r.EventTypes = types
		if len(types) == 0 {
			l.warn(ri.at.diag("the condition's event types exclude each other: the rule can never match"))
		} else if !anyKnownType(types) {
			l.warn(ri.at.diag("the rule only matches event types Davy does not produce (%s): it will never match", strings.Join(types, ", ")))
		}
	}
	return r
}

func allUnknownField(errs []*checkError) bool {
	for _, e := range errs {
		if !strings.HasPrefix(e.msg, "unknown field") {
			return false
		}
	}
	return true
}

func anyKnownType(types []string) bool {
	for _, t := range types {
		if contains(EventTypes, t) {
			return true
		}
	}
	return false
}
