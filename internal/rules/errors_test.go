package rules

import (
	"errors"
	"strings"
	"testing"
)

// TestErrorPositions: each error names the file, line and column of the
// token it is about (inside the condition, whatever the YAML scalar style)
// and the rule, macro or list. The strings are exact.
func TestErrorPositions(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"plain scalar", `- rule: Miner executed
  desc: d
  condition: evt.type = execve and proc.nam = x
  output: o
  priority: INFO
`, `rules.yaml:3:36: rule "Miner executed": unknown field "proc.nam"`},

		{"folded block", `- rule: Miner executed
  desc: d
  condition: >
    evt.type = execve
    and proc.nam = x
  output: o
  priority: INFO
`, `rules.yaml:5:9: rule "Miner executed": unknown field "proc.nam"`},

		{"literal block with comment", `- rule: Miner executed
  desc: d
  condition: |  # the condition
      evt.type = execve
      and (proc.name = a or
           proc.pid contains 1)
  output: o
  priority: INFO
`, `rules.yaml:6:21: rule "Miner executed": operator "contains" cannot be used with number field "proc.pid"`},

		{"multi-line plain", `- rule: Miner executed
  desc: d
  condition: evt.type = execve
    and   proc.nam = x
  output: o
  priority: INFO
`, `rules.yaml:4:11: rule "Miner executed": unknown field "proc.nam"`},

		{"double quoted with escapes", `- rule: Miner executed
  desc: d
  condition: "proc.name = \"a b\" and proc.nam = x"
  output: o
  priority: INFO
`, `rules.yaml:3:39: rule "Miner executed": unknown field "proc.nam"`},

		{"single quoted with doubled quote", `- rule: Miner executed
  desc: d
  condition: 'proc.name = ''a'' and proc.nam = x'
  output: o
  priority: INFO
`, `rules.yaml:3:37: rule "Miner executed": unknown field "proc.nam"`},

		{"syntax error at the end", `- rule: R
  desc: d
  condition: proc.name =
  output: o
  priority: INFO
`, `rules.yaml:3:25: rule "R": expected a value after "=", found end of condition`},

		{"unbalanced parenthesis", `- rule: R
  desc: d
  condition: (proc.name = a
  output: o
  priority: INFO
`, `rules.yaml:3:28: rule "R": expected ')', found end of condition`},

		{"undefined macro", `- rule: R
  desc: d
  condition: spawnd_process and proc.name = a
  output: o
  priority: INFO
`, `rules.yaml:3:14: rule "R": undefined macro "spawnd_process"`},

		{"macro error", `- macro: m
  condition: proc.name in (a, b
- rule: R
  desc: d
  condition: m
  output: o
  priority: INFO
`, "rules.yaml:2:32: macro \"m\": expected ',' or ')' in the list, found end of condition\nrules.yaml:5:14: rule \"R\": uses macro \"m\", which has errors"},

		{"macro field error, reported when used", `- macro: m
  condition: proc.nam = a
- rule: R
  desc: d
  condition: evt.type = execve and m
  output: o
  priority: INFO
`, "rules.yaml:2:14: macro \"m\": unknown field \"proc.nam\"\nrules.yaml:5:36: rule \"R\": uses macro \"m\", which has errors"},

		{"two problems in one rule", `- rule: R
  desc: d
  condition: proc.pid contains 3
  output: o
  priority: LOUD
`, "rules.yaml:3:23: rule \"R\": operator \"contains\" cannot be used with number field \"proc.pid\"\nrules.yaml:5:13: rule \"R\": unknown priority \"LOUD\" (known: emergency, alert, critical, error, warning, notice, informational, info, debug)"},

		{"unknown field in output", `- rule: R
  desc: d
  condition: proc.name = a
  output: "ran %proc.name by %user.nme"
  priority: INFO
`, `rules.yaml:4:30: rule "R": output: unknown field "user.nme"`},

		{"exception field", `- rule: R
  desc: d
  condition: proc.name = a
  output: o
  priority: INFO
  exceptions:
    - name: e
      fields: [proc.name, proc.exepth]
      values: [[a, /b]]
`, `rules.yaml:8:27: rule "R": unknown field "proc.exepth"`},

		{"missing keys", `- rule: R
  desc: d
  condition: proc.name = a
`, "rules.yaml:1:3: rule \"R\": missing key \"output\"\nrules.yaml:1:3: rule \"R\": missing key \"priority\""},

		{"bad priority", `- rule: R
  desc: d
  condition: proc.name = a
  output: o
  priority: URGENT
`, `rules.yaml:5:13: rule "R": unknown priority "URGENT" (known: emergency, alert, critical, error, warning, notice, informational, info, debug)`},

		{"unknown item", `- rul: R
`, `rules.yaml:1:3: unknown item: expected a rule, macro, list or required_engine_version key`},

		{"not a list", `rule: R
`, `rules.yaml:1:1: a rules file is a YAML list of items (- rule: ..., - macro: ..., - list: ...)`},

		{"invalid YAML", "- rule: R\n  desc: d\n  output: a: b\n", `rules.yaml:3: invalid YAML: mapping values are not allowed in this context`},

		{"bad regex", `- rule: R
  desc: d
  condition: proc.cmdline regex "a(b"
  output: o
  priority: INFO
`, "rules.yaml:3:33: rule \"R\": bad regular expression \"a(b\": error parsing regexp: missing closing ): `a(b`"},

		{"list used by in without parentheses", `- list: l
  items: [a]
- rule: R
  desc: d
  condition: proc.name in l
  output: o
  priority: INFO
`, `rules.yaml:5:27: rule "R": operator "in" takes a list in parentheses: in (a, b)`},

		{"override of a missing rule", `- rule: R
  condition: and proc.name = a
  override:
    condition: append
`, `rules.yaml:1:3: rule "R": no rule "R" to override: define it first, in this file or an earlier one`},

		{"override key not listed", `- rule: R
  desc: d
  condition: proc.name = a
  output: o
  priority: INFO
- rule: R
  condition: and proc.pid = 1
  priority: DEBUG
  override:
    condition: append
`, `rules.yaml:8:3: rule "R": key "priority" is set but not listed in override`},

		{"override append of priority", `- rule: R
  desc: d
  condition: proc.name = a
  output: o
  priority: INFO
- rule: R
  priority: DEBUG
  override:
    priority: append
`, `rules.yaml:9:5: rule "R": key "priority" cannot be overridden with append (append: [condition output desc tags exceptions])`},

		{"exception lengths", `- rule: R
  desc: d
  condition: proc.name = a
  output: o
  priority: INFO
  exceptions:
    - name: e
      fields: [proc.name, proc.pid]
      values: [[a]]
`, `rules.yaml:9:16: rule "R": exception "e": 1 values for 2 fields`},

		{"exception comp", `- rule: R
  desc: d
  condition: proc.name = a
  output: o
  priority: INFO
  exceptions:
    - name: e
      fields: proc.name
      comps: "="
      values: [a]
`, `rules.yaml:9:14: rule "R": exception "e": with a single field, comps must be in, pmatch or intersects, not "="`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := loadErr(t, c.yaml); got != c.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, c.want)
			}
		})
	}
}

// TestErrorsAcrossFiles: an appended condition reports its own file.
func TestErrorsAcrossFiles(t *testing.T) {
	base := `- rule: R
  desc: d
  condition: proc.name = a
  output: o
  priority: INFO
`
	local := `- rule: R
  condition: and proc.nme = b
  override:
    condition: append
`
	_, err := Load(Options{}, Source{"base.yaml", []byte(base)}, Source{"local.yaml", []byte(local)})
	want := `local.yaml:2:18: rule "R": unknown field "proc.nme"`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

// TestCollectsAllErrors: every bad rule is reported, the good one loads,
// and errors.As finds each diagnostic.
func TestCollectsAllErrors(t *testing.T) {
	y := `- rule: Bad one
  desc: d
  condition: proc.nam = a
  output: o
  priority: INFO
- rule: Good
  desc: d
  condition: proc.name = a
  output: o
  priority: INFO
- rule: Bad two
  desc: d
  condition: proc.pid = x and proc.exe contains
  output: o
  priority: INFO
- macro: also_bad
  condition: proc.name ===
`
	rs, err := LoadBytes("rules.yaml", []byte(y))
	if err == nil {
		t.Fatal("no error")
	}
	got := lines(err.Error())
	if len(got) != 3 {
		t.Fatalf("want 3 errors, got %d:\n%s", len(got), err)
	}
	for i, want := range []string{`rule "Bad one"`, `rule "Bad two"`, `macro "also_bad"`} {
		if !strings.Contains(got[i], want) {
			t.Errorf("error %d: %s, want it about %s", i, got[i], want)
		}
	}
	var d *Diagnostic
	if !errors.As(err, &d) || d.File != "rules.yaml" || d.Line != 3 || d.Col != 14 {
		t.Errorf("errors.As: %+v", d)
	}
	if names := ruleNames(rs); strings.Join(names, ",") != "Good" {
		t.Errorf("loaded %v, want only Good", names)
	}
}

func ruleNames(rs *Ruleset) []string {
	var out []string
	for _, r := range rs.Rules() {
		out = append(out, r.Name)
	}
	return out
}
