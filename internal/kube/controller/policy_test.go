package controller

import (
	"strings"
	"testing"
)

func TestPolicyDecides(t *testing.T) {
	p, err := ParsePolicy([]byte(`
defaultAction: alert
allowNamespaces: [monitoring]
allowSelector: {matchLabels: {davy.dev/allow: "true"}}
maxActionsPerHour: 3
rules:
  - name: sandboxes
    namespaces: [ci, sandbox]
    action: scale-to-zero
  - name: dev-pods
    selector: {matchExpressions: [{key: tier, operator: In, values: [dev]}]}
    action: quarantine
`))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		ns     string
		labels map[string]string
		action Action
		rule   string
		exempt string
	}{
		{"ci", nil, ActionScaleToZero, "sandboxes", ""},
		{"shop", map[string]string{"tier": "dev"}, ActionQuarantine, "dev-pods", ""},
		{"shop", nil, ActionAlert, "default", ""},
		{"monitoring", nil, ActionAlert, "default", "allowlisted namespace"},
		{"ci", map[string]string{"davy.dev/allow": "true"}, ActionScaleToZero, "sandboxes", "allowSelector"},
		{"kube-system", map[string]string{"tier": "dev"}, ActionQuarantine, "dev-pods", "system namespace"},
	}
	for _, c := range cases {
		d := p.Decide(c.ns, c.labels)
		if d.Action != c.action || d.Rule != c.rule || (c.exempt == "") != (d.Exempt == "") || !strings.Contains(d.Exempt, c.exempt) {
			t.Errorf("Decide(%s, %v) = %+v; want %s by %s, exempt %q", c.ns, c.labels, d, c.action, c.rule, c.exempt)
		}
	}
	if p.MaxActionsPerHour != 3 {
		t.Errorf("max actions %d", p.MaxActionsPerHour)
	}
	if d := DefaultPolicy(); d.DefaultAction != ActionAlert || d.MaxActionsPerHour != 10 {
		t.Errorf("default policy %+v", d)
	}
}

func TestPolicyErrorsNameWhatIsWrong(t *testing.T) {
	cases := map[string]string{
		"defaultAction: nuke\n":                                                                       "defaultAction",
		"rules:\n  - name: x\n    action: explode\n":                                                  "rules[0] (x): action",
		"rules:\n  - action: delete\n    namespaces: [Not_OK]\n":                                      "rules[0]: namespaces",
		"rules:\n  - action: delete\n    selector: {matchExpressions: [{key: a, operator: Bogus}]}\n": "rules[0]: selector",
		"defaultAction: alert\nenforce: true\n":                                                       "unknown field",
		"maxActionsPerHour: -1\n":                                                                     "maxActionsPerHour",
		"rules: [":                                                                                    "policy",
		strings.Repeat("#", maxPolicyBytes+1):                                                         "limit",
	}
	for in, want := range cases {
		_, err := ParsePolicy([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParsePolicy(%.40q) = %v; want an error mentioning %q", in, err, want)
		}
	}
}

func FuzzPolicy(f *testing.F) {
	f.Add([]byte("defaultAction: quarantine\nrules:\n  - namespaces: [a]\n    action: delete\n"))
	f.Add([]byte("allowSelector: {matchLabels: {a: b}}\n"))
	f.Add([]byte("{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePolicy(b)
		if err != nil {
			return
		}
		d := p.Decide("ns", map[string]string{"a": "b"})
		if _, err := ParseAction(string(d.Action)); err != nil {
			t.Fatalf("decided %q: %v", d.Action, err)
		}
	})
}
