package rules

import "sort"

// Rule is one compiled rule.
type Rule struct {
	Name string
	Desc string
	// Condition is the condition as compiled: appends joined, exceptions
	// added as "and not (...)".
	Condition    string
	OutputFormat string
	Priority     Priority
	Tags         []string
	// Enabled rules are matched; disabled ones are listed only.
	Enabled bool
	Source  string
	// EventTypes are the event types the rule can match, sorted; nil when
	// its condition does not constrain evt.type.
	EventTypes []string
	// File and Line are where the rule was last defined (overrides and
	// appends do not move it).
	File string
	Line int

	eval  evalFn
	out   *outputFormat
	order int
}

// Eval reports whether the rule's condition matches the event, enabled or
// not. It does not allocate.
func (r *Rule) Eval(ev *Event) bool { return r.eval(ev) }

// Output renders the rule's output for the event, each %field replaced by
// its value, or <NA> when the event does not have it.
func (r *Rule) Output(ev *Event) string { return r.out.render(ev) }

// OutputFields returns the values of the output's fields, keyed by the
// field as written (proc.aname[2]), as Falco's JSON output_fields: a
// string, an int64, a float64, a []string, or nil when absent.
func (r *Rule) OutputFields(ev *Event) map[string]any {
	m := make(map[string]any, len(r.out.fields))
	for _, f := range r.out.fields {
		m[f.name] = fieldValue(f, ev)
	}
	return m
}

// Ruleset is a loaded set of rules, indexed by event type. It is read-only
// once loaded, so Match may be called from many goroutines at once.
type Ruleset struct {
	rules    []*Rule
	byType   map[string][]*Rule // enabled rules for a type, "any" rules merged in
	any      []*Rule            // enabled rules without a type constraint
	warnings []*Diagnostic
	lists    int
	macros   int
}

// index builds, for every event type a rule names, the enabled rules that
// may match it in definition order: those of the type and those of any
// type. An event of another type only needs the "any" rules.
func (rs *Ruleset) index() {
	rs.byType = map[string][]*Rule{}
	types := map[string]bool{}
	for _, r := range rs.rules {
		if !r.Enabled {
			continue
		}
		if r.EventTypes == nil {
			rs.any = append(rs.any, r)
			continue
		}
		for _, t := range r.EventTypes {
			types[t] = true
		}
	}
	for t := range types {
		var l []*Rule
		for _, r := range rs.rules {
			if r.Enabled && (r.EventTypes == nil || contains(r.EventTypes, t)) {
				l = append(l, r)
			}
		}
		rs.byType[t] = l
	}
}

func (rs *Ruleset) candidates(ev *Event) []*Rule {
	if l, ok := rs.byType[ev.EvtType]; ok {
		return l
	}
	return rs.any
}

// Match calls fn for each enabled rule that matches the event, in the
// order the rules were defined. Matching allocates nothing.
func (rs *Ruleset) Match(ev *Event, fn func(r *Rule)) {
	for _, r := range rs.candidates(ev) {
		if r.eval(ev) {
			fn(r)
		}
	}
}

// AppendMatches appends the enabled rules that match the event to dst and
// returns it; with a dst of enough capacity, it allocates nothing.
func (rs *Ruleset) AppendMatches(dst []*Rule, ev *Event) []*Rule {
	for _, r := range rs.candidates(ev) {
		if r.eval(ev) {
			dst = append(dst, r)
		}
	}
	return dst
}

// Rules returns every loaded rule, enabled or not, in definition order.
func (rs *Ruleset) Rules() []*Rule { return append([]*Rule{}, rs.rules...) }

// Rule returns the rule of that name, or nil.
func (rs *Ruleset) Rule(name string) *Rule {
	for _, r := range rs.rules {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// Warnings returns what loading found odd but accepted: skipped rules of
// other sources, unknown keys, rules that can never match.
func (rs *Ruleset) Warnings() []*Diagnostic { return append([]*Diagnostic{}, rs.warnings...) }

// Counts returns how many rules (loaded, enabled or not), macros and lists
// the ruleset was built from.
func (rs *Ruleset) Counts() (rules, macros, lists int) {
	return len(rs.rules), rs.macros, rs.lists
}

// IndexedTypes returns the event types that have their own bucket, sorted.
func (rs *Ruleset) IndexedTypes() []string {
	out := make([]string, 0, len(rs.byType))
	for t := range rs.byType {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}
