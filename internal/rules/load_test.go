package rules

import (
	"errors"
	"io/fs"
	"reflect"
	"strings"
	"testing"
)

func mustLoad(t *testing.T, files ...string) *Ruleset {
	t.Helper()
	var srcs []Source
	for i, f := range files {
		srcs = append(srcs, Source{Name: []string{"a.yaml", "b.yaml", "c.yaml"}[i], Data: []byte(f)})
	}
	rs, err := Load(Options{}, srcs...)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestPriorities(t *testing.T) {
	cases := map[string]Priority{
		"EMERGENCY": PriorityEmergency, "alert": PriorityAlert, "Critical": PriorityCritical,
		"ERROR": PriorityError, "warning": PriorityWarning, "NOTICE": PriorityNotice,
		"INFORMATIONAL": PriorityInformational, "info": PriorityInformational, "Debug": PriorityDebug,
	}
	for in, want := range cases {
		y := strings.Replace(ruleYAML("", "proc.name = a"), "priority: INFO", "priority: "+in, 1)
		rs := mustLoad(t, y)
		if got := rs.Rule("r").Priority; got != want {
			t.Errorf("%s: got %v, want %v", in, got, want)
		}
	}
	if PriorityCritical.String() != "Critical" || PriorityInformational.String() != "Informational" {
		t.Error("priority names")
	}
	if _, err := ParsePriority("loud"); err == nil {
		t.Error("loud accepted")
	}
}

func TestListsAndMacros(t *testing.T) {
	items := `
- list: shells
  items: [sh, bash]
- list: more_shells
  items: [shells, zsh, "fish shell"]
- macro: is_shell
  condition: proc.name in (more_shells)
- macro: shell_in_container
  condition: is_shell and container
- macro: container
  condition: container.id exists
`
	r := compileCond(t, items, "shell_in_container or proc.name in (shells, other)")
	cases := []struct {
		ev   Event
		want bool
	}{
		{Event{Proc: Process{Name: "zsh"}, Container: Container{ID: "c"}}, true},
		{Event{Proc: Process{Name: "fish shell"}, Container: Container{ID: "c"}}, true},
		{Event{Proc: Process{Name: "zsh"}}, false},
		{Event{Proc: Process{Name: "bash"}}, true},
		{Event{Proc: Process{Name: "other"}}, true},
		{Event{Proc: Process{Name: "python"}, Container: Container{ID: "c"}}, false},
	}
	for _, c := range cases {
		if got := r.Eval(&c.ev); got != c.want {
			t.Errorf("%s in %q: got %v, want %v", c.ev.Proc.Name, c.ev.Container.ID, got, c.want)
		}
	}
	// A list name in quotes is a plain value, as in Falco.
	r = compileCond(t, items, `proc.name in ("shells")`)
	if r.Eval(&Event{Proc: Process{Name: "sh"}}) || !r.Eval(&Event{Proc: Process{Name: "shells"}}) {
		t.Error("quoted list name was expanded")
	}
	// An empty list matches nothing.
	r = compileCond(t, "- list: none\n  items: []\n", `proc.name in (none)`)
	if r.Eval(&Event{Proc: Process{Name: "sh"}}) {
		t.Error("empty list matched")
	}
}

func TestListOverrides(t *testing.T) {
	base := `
- list: l
  items: [a, b]
- rule: r
  desc: d
  condition: proc.name in (l)
  output: o
  priority: INFO
`
	cases := []struct {
		name, local string
		match       []string
		miss        []string
	}{
		{"override append", "- list: l\n  items: [c]\n  override:\n    items: append\n", []string{"a", "c"}, nil},
		{"override replace", "- list: l\n  items: [c]\n  override:\n    items: replace\n", []string{"c"}, []string{"a"}},
		{"legacy append", "- list: l\n  items: [c]\n  append: true\n", []string{"a", "b", "c"}, nil},
		{"redefinition", "- list: l\n  items: [d]\n", []string{"d"}, []string{"a", "c"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := mustLoad(t, base, c.local).Rule("r")
			for _, n := range c.match {
				if !r.Eval(&Event{Proc: Process{Name: n}}) {
					t.Errorf("%s does not match", n)
				}
			}
			for _, n := range c.miss {
				if r.Eval(&Event{Proc: Process{Name: n}}) {
					t.Errorf("%s matches", n)
				}
			}
		})
	}
	if got := loadErr(t, "- list: nope\n  items: [c]\n  append: true\n"); got != `rules.yaml:1:3: list "nope": no list "nope" to append to: define it first, in this file or an earlier one` {
		t.Errorf("append to missing list: %s", got)
	}
}

func TestMacroOverrides(t *testing.T) {
	base := `
- macro: m
  condition: proc.name = a
- rule: r
  desc: d
  condition: m
  output: o
  priority: INFO
`
	ev := func(name string, pid int) *Event { return &Event{Proc: Process{Name: name, PID: pid}} }
	cases := []struct {
		name, local string
		ev          *Event
		want        bool
	}{
		{"append", "- macro: m\n  condition: or proc.name = b\n  override:\n    condition: append\n", ev("b", 1), true},
		{"legacy append", "- macro: m\n  condition: and proc.pid = 2\n  append: true\n", ev("a", 1), false},
		{"legacy append match", "- macro: m\n  condition: and proc.pid = 2\n  append: true\n", ev("a", 2), true},
		{"replace", "- macro: m\n  condition: proc.name = c\n  override:\n    condition: replace\n", ev("a", 1), false},
		{"redefinition", "- macro: m\n  condition: proc.name = c\n", ev("c", 1), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := mustLoad(t, base, c.local).Rule("r").Eval(c.ev); got != c.want {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestRuleOverrides(t *testing.T) {
	base := `
- rule: r
  desc: base description
  condition: proc.name = a
  output: "ran %proc.name"
  priority: WARNING
  tags: [one]
  exceptions:
    - name: users
      fields: [user.name]
      values: [[alice]]
`
	cases := []struct {
		name, local string
		check       func(t *testing.T, r *Rule)
	}{
		{"condition append", `
- rule: r
  condition: or proc.name = b
  override:
    condition: append
`, func(t *testing.T, r *Rule) {
			if !r.Eval(&Event{Proc: Process{Name: "b"}}) {
				t.Error("appended condition not used")
			}
		}},
		{"condition replace and priority", `
- rule: r
  condition: proc.name = c
  priority: critical
  override:
    condition: replace
    priority: replace
`, func(t *testing.T, r *Rule) {
			if r.Eval(&Event{Proc: Process{Name: "a"}}) || !r.Eval(&Event{Proc: Process{Name: "c"}}) {
				t.Error("condition not replaced")
			}
			if r.Priority != PriorityCritical {
				t.Errorf("priority %v", r.Priority)
			}
		}},
		{"output desc tags append", `
- rule: r
  output: "by %user.name"
  desc: more
  tags: [two, one]
  override:
    output: append
    desc: append
    tags: append
`, func(t *testing.T, r *Rule) {
			if r.OutputFormat != "ran %proc.name by %user.name" || r.Desc != "base description more" {
				t.Errorf("output %q desc %q", r.OutputFormat, r.Desc)
			}
			if !reflect.DeepEqual(r.Tags, []string{"one", "two"}) {
				t.Errorf("tags %v", r.Tags)
			}
		}},
		{"enabled replace", `
- rule: r
  enabled: false
  override:
    enabled: replace
`, func(t *testing.T, r *Rule) {
			if r.Enabled {
				t.Error("still enabled")
			}
		}},
		{"enabled only, the older way", `
- rule: r
  enabled: false
`, func(t *testing.T, r *Rule) {
			if r.Enabled {
				t.Error("still enabled")
			}
		}},
		{"exception values append", `
- rule: r
  exceptions:
    - name: users
      values: [[bob]]
    - name: cwd
      fields: [proc.cwd]
      comps: [startswith]
      values: [[/srv]]
  override:
    exceptions: append
`, func(t *testing.T, r *Rule) {
			for _, ev := range []Event{
				{Proc: Process{Name: "a", User: "alice"}},
				{Proc: Process{Name: "a", User: "bob"}},
				{Proc: Process{Name: "a", Cwd: "/srv/app"}},
			} {
				if r.Eval(&ev) {
					t.Errorf("%+v not excepted", ev.Proc)
				}
			}
			if !r.Eval(&Event{Proc: Process{Name: "a", User: "carol"}}) {
				t.Error("carol excepted")
			}
		}},
		{"exceptions replace", `
- rule: r
  exceptions:
    - name: other
      fields: proc.pid
      values: [7]
  override:
    exceptions: replace
`, func(t *testing.T, r *Rule) {
			if !r.Eval(&Event{Proc: Process{Name: "a", User: "alice"}}) {
				t.Error("old exception kept")
			}
			if r.Eval(&Event{Proc: Process{Name: "a", PID: 7}}) {
				t.Error("new exception not used")
			}
		}},
		{"legacy append", `
- rule: r
  condition: and proc.pid = 1
  exceptions:
    - name: users
      values: [[bob]]
  append: true
`, func(t *testing.T, r *Rule) {
			if r.Eval(&Event{Proc: Process{Name: "a", PID: 2}}) || !r.Eval(&Event{Proc: Process{Name: "a", PID: 1}}) {
				t.Error("condition not appended")
			}
			if r.Eval(&Event{Proc: Process{Name: "a", PID: 1, User: "bob"}}) {
				t.Error("exception values not appended")
			}
		}},
		{"redefinition keeps nothing of the old rule", `
- rule: r
  desc: new
  condition: proc.name = z
  output: new
  priority: DEBUG
`, func(t *testing.T, r *Rule) {
			if r.Eval(&Event{Proc: Process{Name: "a"}}) || r.Priority != PriorityDebug || len(r.Tags) != 0 {
				t.Errorf("not redefined: %+v", r)
			}
			if !r.Eval(&Event{Proc: Process{Name: "z", User: "alice"}}) {
				t.Error("old exception kept")
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rs := mustLoad(t, base, c.local)
			c.check(t, rs.Rule("r"))
		})
	}
}

// TestExceptions: Falco's exception forms compile to "and not (...)".
func TestExceptions(t *testing.T) {
	y := `
- list: trusted_dirs
  items: [/opt/tools, /usr/local/bin]
- rule: r
  desc: d
  condition: evt.type = execve
  output: o
  priority: INFO
  exceptions:
    - name: by_name_and_dir
      fields: [proc.name, proc.exepath]
      comps: [=, pmatch]
      values:
        - [builder, trusted_dirs]
        - ["my tool", [/srv/a, /srv/b]]
    - name: by_image
      fields: container.image.repository
      values: [registry.example.test/ci, "registry.example.test/with space"]
    - name: defaults_to_equals
      fields: [user.name, proc.cwd]
      values: [[alice, /home/alice]]
    - name: no_values_yet
      fields: [proc.pname]
`
	rs := mustLoad(t, y)
	r := rs.Rule("r")
	ev := func(mod func(*Event)) *Event {
		e := &Event{EvtType: EventExec}
		mod(e)
		return e
	}
	cases := []struct {
		name string
		ev   *Event
		want bool
	}{
		{"no exception applies", ev(func(e *Event) {}), true},
		{"name and dir from a list", ev(func(e *Event) { e.Proc.Name, e.Proc.ExePath = "builder", "/opt/tools/x" }), false},
		{"name with the wrong dir", ev(func(e *Event) { e.Proc.Name, e.Proc.ExePath = "builder", "/tmp/x" }), true},
		{"quoted name and inline list", ev(func(e *Event) { e.Proc.Name, e.Proc.ExePath = "my tool", "/srv/b/t" }), false},
		{"single field", ev(func(e *Event) { e.Container.ImageRepository = "registry.example.test/ci" }), false},
		{"single field with space", ev(func(e *Event) { e.Container.ImageRepository = "registry.example.test/with space" }), false},
		{"default comps", ev(func(e *Event) { e.Proc.User, e.Proc.Cwd = "alice", "/home/alice" }), false},
		{"default comps, one field only", ev(func(e *Event) { e.Proc.User = "alice" }), true},
	}
	for _, c := range cases {
		if got := r.Eval(c.ev); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
	if !strings.HasPrefix(r.Condition, "(evt.type = execve) and not ((proc.name = builder and proc.exepath pmatch (trusted_dirs)) or") {
		t.Errorf("condition: %s", r.Condition)
	}
	if !reflect.DeepEqual(r.EventTypes, []string{"execve"}) {
		t.Errorf("event types %v", r.EventTypes)
	}
}

func TestSourcesAndVersions(t *testing.T) {
	y := `
- required_engine_version: 0.36.0
- required_plugin_versions:
    - name: k8saudit
      version: 0.7.0
- rule: audit
  desc: d
  condition: ka.verb = create
  output: o
  priority: INFO
  source: k8s_audit
- rule: audit
  condition: and ka.user.name = x
  append: true
- rule: sys
  desc: d
  condition: proc.name = a
  output: o
  priority: INFO
  source: syscall
  tagz: [x]
`
	rs, err := LoadBytes("rules.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	if got := ruleNames(rs); !reflect.DeepEqual(got, []string{"sys"}) {
		t.Errorf("rules %v", got)
	}
	var ws []string
	for _, w := range rs.Warnings() {
		ws = append(ws, w.Error())
	}
	want := []string{
		`rules.yaml:6:3: rule "audit": source "k8s_audit" is not supported (only syscall); rule skipped`,
		`rules.yaml:21:3: rule "sys": unknown key "tagz" ignored`,
	}
	if !reflect.DeepEqual(ws, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(ws, "\n"), strings.Join(want, "\n"))
	}
}

func TestLaterFilesOverride(t *testing.T) {
	a := ruleYAML("", "proc.name = a")
	b := strings.Replace(ruleYAML("", "proc.name = b"), "priority: INFO", "priority: ERROR", 1)
	rs := mustLoad(t, a, b)
	r := rs.Rule("r")
	if len(rs.Rules()) != 1 || r.Eval(&Event{Proc: Process{Name: "a"}}) || !r.Eval(&Event{Proc: Process{Name: "b"}}) || r.Priority != PriorityError {
		t.Errorf("second file did not override: %+v", r)
	}
	if r.File != "b.yaml" || r.Line != 2 {
		t.Errorf("the rule's place is its last definition: %s:%d", r.File, r.Line)
	}
}

// TestMacrosBeforeDefinition: macros and lists may be used before they are
// defined; all items are collected first.
func TestMacrosBeforeDefinition(t *testing.T) {
	y := `
- rule: r
  desc: d
  condition: later_macro
  output: o
  priority: INFO
- macro: later_macro
  condition: proc.name in (later_list)
- list: later_list
  items: [x]
`
	if !mustLoad(t, y).Rule("r").Eval(&Event{Proc: Process{Name: "x"}}) {
		t.Error("no match")
	}
}

func TestDisabledRulesAreListedNotMatched(t *testing.T) {
	y := strings.Replace(ruleYAML("", "proc.name = a"), "priority: INFO", "priority: INFO\n  enabled: false", 1)
	rs := mustLoad(t, y)
	if len(rs.Rules()) != 1 || rs.Rules()[0].Enabled {
		t.Fatal("disabled rule not listed")
	}
	n := 0
	rs.Match(&Event{Proc: Process{Name: "a"}}, func(*Rule) { n++ })
	if n != 0 {
		t.Error("disabled rule matched")
	}
}

func TestSkipIfUnknownFilter(t *testing.T) {
	y := strings.Replace(ruleYAML("", "proc.name = a and proc.vpid = 1"), "priority: INFO", "priority: INFO\n  skip-if-unknown-filter: true", 1)
	rs, err := LoadBytes("rules.yaml", []byte(y))
	if err != nil || len(rs.Rules()) != 0 || len(rs.Warnings()) != 1 {
		t.Fatalf("err %v, rules %d, warnings %v", err, len(rs.Rules()), rs.Warnings())
	}
}

func TestLoadFiles(t *testing.T) {
	rs, err := LoadFiles("testdata/falco_style_rules.yaml", "testdata/missing.yaml")
	if err == nil || !strings.HasPrefix(err.Error(), "testdata/missing.yaml: cannot read: open testdata/missing.yaml: no such file or directory") {
		t.Fatalf("err %v", err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Error("errors.Is(err, fs.ErrNotExist) is false")
	}
	if len(rs.Rules()) == 0 {
		t.Error("the readable file was not loaded")
	}
}
