package rules

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// TestHostileInputs: each bad input gets a clear error, never a panic, a
// hang or an exhausted memory.
func TestHostileInputs(t *testing.T) {
	nest := func(open, close string, n int) string {
		return strings.Repeat(open, n) + "proc.name = a" + strings.Repeat(close, n)
	}
	bigList := func(name string, n int) string {
		var b strings.Builder
		fmt.Fprintf(&b, "- list: %s\n  items: [", name)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "v%d", i)
		}
		b.WriteString("]\n")
		return b.String()
	}
	macroTower := func() string {
		// Each level uses the one below ten times: 10^6 checks expanded.
		var b strings.Builder
		b.WriteString("- macro: m0\n  condition: proc.name = a\n")
		for i := 1; i <= 6; i++ {
			fmt.Fprintf(&b, "- macro: m%d\n  condition: %s\n", i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("m%d and ", i-1), 10), " and "))
		}
		return b.String()
	}
	macroChain := func(n int) string {
		var b strings.Builder
		b.WriteString("- macro: c0\n  condition: proc.name = a\n")
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&b, "- macro: c%d\n  condition: c%d\n", i, i-1)
		}
		return b.String()
	}

	cases := []struct {
		name string
		yaml string
		want string // a substring of the error
	}{
		{"deep parentheses", ruleYAML("", nest("(", ")", 100)), "condition nested deeper than 64 levels"},
		{"deep not", ruleYAML("", strings.Repeat("not ", 100)+"proc.name = a"), "condition nested deeper than 64 levels"},
		{"condition too long", ruleYAML("", strings.Repeat("proc.name = a or ", 5000)+"proc.name = b"), "condition is 85013 bytes, more than the 65536 allowed"},
		{"list too big", bigList("big", maxListItems+1) + ruleYAML("", "proc.name in (big)"), `list "big": list has more than 100000 items`},
		{"list of lists too big", bigList("big", 60000) + "- list: twice\n  items: [big, big]\n" + ruleYAML("", "proc.name in (twice)"), `list "twice": list has more than 100000 items`},
		{"all lists too big", bigList("big", 100000) + func() string {
			var b strings.Builder
			for i := 0; i < 10; i++ {
				fmt.Fprintf(&b, "- list: copy%d\n  items: [big]\n", i)
			}
			return b.String()
		}(), "the lists hold more than 1000000 items in all"},
		{"list cycle", "- list: a\n  items: [b]\n- list: b\n  items: [a]\n" + ruleYAML("", "proc.name in (a)"), `list "b": list cycle: a -> b -> a`},
		{"macro cycle", "- macro: a\n  condition: b\n- macro: b\n  condition: c and proc.name = x\n- macro: c\n  condition: a\n" + ruleYAML("", "a"), `macro "c": macro cycle: a -> b -> c -> a`},
		{"macro using itself", "- macro: self\n  condition: self or proc.name = a\n" + ruleYAML("", "self"), `macro "self": macro cycle: self -> self`},
		{"exponential macros", macroTower() + ruleYAML("", "m6"), "condition has more than 100000 checks once macros are expanded"},
		{"macro chain too deep", macroChain(70) + ruleYAML("", "c70"), "macros nested 71 deep, more than the 64 allowed"},
		{"bad regex", ruleYAML("", `proc.name regex "[z-a]"`), "bad regular expression"},
		{"regex too long", ruleYAML("", `proc.name regex "`+strings.Repeat("a", maxRegexLen+1)+`"`), "regular expression longer than 16384 bytes"},
		{"unterminated string", ruleYAML("", `proc.name = "abc`), "unterminated quoted string"},
		{"stray character", ruleYAML("", `proc.name = a && proc.pid = 1`), `unexpected character '&'`},
		{"lone bang", ruleYAML("", `! proc.name = a`), `unexpected '!' (use != or not)`},
		{"empty condition", ruleYAML("", ``), "empty condition"},
		{"operator without field", ruleYAML("", `= a`), `unexpected "="`},
		{"unsupported operator", ruleYAML("", `proc.name bcontains 41`), `operator "bcontains" is not supported`},
		{"list for a single-value operator", ruleYAML("", `proc.name = (a, b)`), `operator "=" takes one value, not a list`},
		{"missing comma", ruleYAML("", `proc.name in (a b)`), `expected ',' or ')' in the list, found "b"`},
		{"empty list item", ruleYAML("", `proc.name in (a,,b)`), `expected a value in the list, found ","`},
		{"trailing garbage", ruleYAML("", `proc.name = a )`), `unexpected ")"`},
		{"keyword as value position", ruleYAML("", `and proc.name = a`), `unexpected "and"`},
		{"garbage YAML", "\x00\x01\x02\xff{{{", "invalid YAML"},
		{"unclosed flow", "[[[[[[[[", "invalid YAML"},
		{"tabs", "- rule: r\n\t- x", "invalid YAML"},
		{"scalar document", "just some text", "a rules file is a YAML list"},
		{"item not a mapping", "- [a, b]\n", "each item must be a mapping"},
		{"rule name not a string", "- rule: [a]\n", "rule name must be a string"},
		{"duplicate keys", "- rule: r\n  rule: s\n", `key "rule" appears twice`},
		{"tags not a list", strings.Replace(ruleYAML("", "proc.name = a"), "priority: INFO", "priority: INFO\n  tags: x", 1), "tags must be a list"},
		{"enabled not a bool", strings.Replace(ruleYAML("", "proc.name = a"), "priority: INFO", "priority: INFO\n  enabled: maybe", 1), `enabled must be true or false, not "maybe"`},
		{"alias bomb in exception values", aliasBomb(), "more than"},
		{"10 MB file", "- list: x\n  items: [" + strings.Repeat("a,", 5<<20) + "a]\n", "file is larger than 8388608 bytes, too large for a rules file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := loadErr(t, c.yaml)
			if got == "" {
				t.Fatal("loaded without error")
			}
			if !strings.Contains(got, c.want) {
				if len(got) > 500 {
					got = got[:500] + "..."
				}
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

// aliasBomb reuses one sequence of 2,000 values as each of 2,000 rows of
// an exception: 4 million values if anything expanded it blindly.
func aliasBomb() string {
	var b bytes.Buffer
	b.WriteString(ruleYAML("", "proc.name = a"))
	b.WriteString("  exceptions:\n    - name: e\n      fields: [proc.name]\n      comps: [in]\n      values:\n        - [&v [")
	for i := 0; i < 2000; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "x%d", i)
	}
	b.WriteString("]]\n")
	for i := 0; i < 2000; i++ {
		b.WriteString("        - [*v]\n")
	}
	return b.String()
}

// TestNestingLimitIsExact: 64 levels load, 65 do not.
func TestNestingLimitIsExact(t *testing.T) {
	ok := strings.Repeat("(", maxDepth) + "proc.name = a" + strings.Repeat(")", maxDepth)
	compileCond(t, "", ok)
	bad := "(" + ok + ")"
	if got := loadErr(t, ruleYAML("", bad)); !strings.Contains(got, "deeper than 64") {
		t.Errorf("65 levels: %q", got)
	}
}

// TestBadItemDoesNotStopTheFile: a broken item among good ones.
func TestBadItemDoesNotStopTheFile(t *testing.T) {
	y := "- 42\n- macro: m\n  condition: ((\n" + ruleYAML("", "proc.name = a")
	rs, err := LoadBytes("rules.yaml", []byte(y))
	if err == nil || len(lines(err.Error())) != 2 || rs.Rule("r") == nil {
		t.Fatalf("err %v, rules %v", err, ruleNames(rs))
	}
}
