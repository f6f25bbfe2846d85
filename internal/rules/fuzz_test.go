package rules

import (
	"os"
	"strings"
	"testing"
)

var conditionSeeds = []string{
	`evt.type = execve and proc.name in (shells, "a b") and not proc.pid = 1`,
	`(proc.aname[2] = sh or proc.aname in (bash)) and fd.net in (10.0.0.0/8, ::1/128)`,
	`proc.cmdline regex "^a.*b$" and proc.exepath glob "/tmp/*" and proc.exepath pmatch (/tmp)`,
	`davy.evidence intersects (DAVY-I001) and davy.cpu.ratio >= 0.9 and davy.score > 50`,
	`k8s.pod.label[app] = web and container.label[x] exists and fd.sip.name icontains POOL`,
	`not not not (((proc.name = 'x\'y')))`,
	`proc.name = "unterminated`,
	`proc.name in (a,, b`,
	`m and proc.name = a`,
	`proc.pid contains 3 or fd.sip = 300.1.1.1`,
}

// FuzzParseCondition: any condition either fails to parse with an error or
// compiles into a function that evaluates any event without panicking; and
// loaded as a rule, its errors have a place inside the file.
func FuzzParseCondition(f *testing.F) {
	for _, s := range conditionSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cond string) {
		env := &parseEnv{lists: map[string][]string{"shells": {"sh", "bash"}}, bad: map[string]bool{}, values: maxTotalValues}
		n, errs := parseCondition(cond, env)
		for _, e := range errs {
			if e.off < 0 || e.off > len(cond) {
				t.Fatalf("error offset %d outside the condition (%d bytes)", e.off, len(cond))
			}
		}
		if n != nil && len(errs) == 0 {
			macros := false
			walk(n, func(n node) {
				if _, ok := n.(*macroNode); ok {
					macros = true
				}
			})
			if !macros {
				l := newLoader(Options{})
				fn := l.build(n)
				fn(fullEvent())
				fn(&Event{})
			}
		}
		y := ruleYAML("", cond)
		_, err := LoadBytes("f.yaml", []byte(y))
		if le, ok := err.(*LoadError); ok {
			nlines := strings.Count(y, "\n") + 1
			for _, d := range le.Diags {
				if d.Line < 0 || d.Line > nlines || d.Col < 0 {
					t.Fatalf("diagnostic outside the file: %v", d)
				}
			}
		}
	})
}

// FuzzLoad: any bytes load into a ruleset or an error, never a panic; what
// loads can be matched and rendered.
func FuzzLoad(f *testing.F) {
	f.Add(defaultRules)
	for _, p := range []string{"testdata/falco_style_rules.yaml", "testdata/falco_style_local.yaml"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("- list: a\n  items: [b]\n- list: b\n  items: [a]\n"))
	f.Add([]byte("- rule: r\n  condition: x\n  override:\n    condition: append\n"))
	f.Add([]byte("- macro: m\n  condition: &c proc.name = a\n- macro: n\n  condition: *c\n"))
	f.Add([]byte(ruleYAML("", "proc.name = a") + "  exceptions:\n    - name: e\n      fields: [proc.name]\n      values: [[x]]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, _ := LoadBytes("f.yaml", data)
		ev := fullEvent()
		for _, typ := range []string{EventExec, EventConnect, EventCPU, "other"} {
			ev.EvtType = typ
			rs.Match(ev, func(r *Rule) {
				r.Output(ev)
				r.OutputFields(ev)
			})
		}
		for _, r := range rs.Rules() {
			r.Eval(&Event{})
			r.Output(&Event{})
		}
	})
}
