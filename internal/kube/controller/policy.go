package controller

import (
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

// Action is a remediation the controller takes on a miner workload.
type Action string

// The actions, mildest first. The names are those of a MinerReport's
// status.actions[].action.
const (
	ActionAlert       Action = "alert"         // an Event and the report; nothing else
	ActionQuarantine  Action = "quarantine"    // a NetworkPolicy denying the pod's egress, and a label
	ActionDelete      Action = "delete"        // the pod
	ActionScaleToZero Action = "scale-to-zero" // the owning Deployment or StatefulSet; a CronJob or Job is suspended
)

// ParseAction validates an action name.
func ParseAction(s string) (Action, error) {
	switch a := Action(s); a {
	case ActionAlert, ActionQuarantine, ActionDelete, ActionScaleToZero:
		return a, nil
	}
	return "", fmt.Errorf("unknown action %q (known: alert, quarantine, delete, scale-to-zero)", s)
}

// SystemNamespaces are never acted on, whatever the policy says.
var SystemNamespaces = []string{"kube-system", "kube-public", "kube-node-lease"}

// Policy says what to do with a workload judged a miner.
type Policy struct {
	// DefaultAction applies where no rule matches (alert when empty).
	DefaultAction Action `json:"defaultAction,omitempty"`
	// AllowNamespaces are never acted on (beside SystemNamespaces).
	AllowNamespaces []string `json:"allowNamespaces,omitempty"`
	// AllowSelector selects pods never acted on, by their labels.
	AllowSelector *metav1.LabelSelector `json:"allowSelector,omitempty"`
	// MaxActionsPerHour caps actions other than alert (10 when zero).
	MaxActionsPerHour int `json:"maxActionsPerHour,omitempty"`
	// Rules are tried in order; the first that matches decides.
	Rules []PolicyRule `json:"rules,omitempty"`

	allow labels.Selector
}

// PolicyRule maps namespaces and pod labels to an action.
type PolicyRule struct {
	Name string `json:"name"`
	// Namespaces the rule applies to; empty: all.
	Namespaces []string `json:"namespaces,omitempty"`
	// Selector selects pods by label; empty: all.
	Selector *metav1.LabelSelector `json:"selector,omitempty"`
	Action   Action                `json:"action"`

	sel labels.Selector
}

// Limits on a policy file.
const (
	maxPolicyBytes = 1 << 20
	maxPolicyRules = 256
)

// DefaultPolicy alerts and does nothing else.
func DefaultPolicy() *Policy {
	p, _ := ParsePolicy(nil)
	return p
}

// ParsePolicy reads a policy from YAML (or JSON). Unknown fields are
// errors, so a typo never silently widens what the controller does.
func ParsePolicy(b []byte) (*Policy, error) {
	if len(b) > maxPolicyBytes {
		return nil, fmt.Errorf("policy: %d bytes, more than the limit of %d", len(b), maxPolicyBytes)
	}
	p := &Policy{}
	if len(b) > 0 {
		if err := yaml.UnmarshalStrict(b, p); err != nil {
			return nil, fmt.Errorf("policy: %w", err)
		}
	}
	if err := p.compile(); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return p, nil
}

func (p *Policy) compile() error {
	if p.DefaultAction == "" {
		p.DefaultAction = ActionAlert
	}
	if _, err := ParseAction(string(p.DefaultAction)); err != nil {
		return fmt.Errorf("defaultAction: %w", err)
	}
	if p.MaxActionsPerHour < 0 {
		return fmt.Errorf("maxActionsPerHour: %d is negative", p.MaxActionsPerHour)
	}
	if p.MaxActionsPerHour == 0 {
		p.MaxActionsPerHour = 10
	}
	if err := namespaces("allowNamespaces", p.AllowNamespaces); err != nil {
		return err
	}
	var err error
	if p.allow, err = selector(p.AllowSelector, labels.Nothing()); err != nil {
		return fmt.Errorf("allowSelector: %w", err)
	}
	if len(p.Rules) > maxPolicyRules {
		return fmt.Errorf("%d rules, more than the limit of %d", len(p.Rules), maxPolicyRules)
	}
	for i := range p.Rules {
		r := &p.Rules[i]
		where := fmt.Sprintf("rules[%d]", i)
		if r.Name != "" {
			where += fmt.Sprintf(" (%s)", r.Name)
		}
		if _, err := ParseAction(string(r.Action)); err != nil {
			return fmt.Errorf("%s: action: %w", where, err)
		}
		if err := namespaces(where+": namespaces", r.Namespaces); err != nil {
			return err
		}
		if r.sel, err = selector(r.Selector, labels.Everything()); err != nil {
			return fmt.Errorf("%s: selector: %w", where, err)
		}
	}
	return nil
}

func namespaces(what string, ns []string) error {
	for _, n := range ns {
		if errs := validation.IsDNS1123Label(n); len(errs) > 0 {
			return fmt.Errorf("%s: %q is not a namespace name: %s", what, n, errs[0])
		}
	}
	return nil
}

func selector(s *metav1.LabelSelector, empty labels.Selector) (labels.Selector, error) {
	if s == nil {
		return empty, nil
	}
	return metav1.LabelSelectorAsSelector(s)
}

// Decision is what the policy says about one pod.
type Decision struct {
	Action Action
	// Rule names the rule that decided ("default" when none matched).
	Rule string
	// Exempt says why the pod may not be acted on, if it may not.
	Exempt string
}

// Decide applies the policy to a pod of namespace ns with labels lbls.
func (p *Policy) Decide(ns string, lbls map[string]string) Decision {
	d := Decision{Action: p.DefaultAction, Rule: "default"}
	for i, r := range p.Rules {
		if (len(r.Namespaces) == 0 || slices.Contains(r.Namespaces, ns)) && r.sel.Matches(labels.Set(lbls)) {
			d.Action, d.Rule = r.Action, r.Name
			if d.Rule == "" {
				d.Rule = fmt.Sprintf("rules[%d]", i)
			}
			break
		}
	}
	switch {
	case slices.Contains(SystemNamespaces, ns):
		d.Exempt = "system namespace " + ns
	case slices.Contains(p.AllowNamespaces, ns):
		d.Exempt = "allowlisted namespace " + ns
	case p.allow.Matches(labels.Set(lbls)):
		d.Exempt = "pod matches the policy's allowSelector"
	}
	return d
}
