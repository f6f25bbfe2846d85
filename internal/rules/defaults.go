package rules

import _ "embed"

// defaultRules are Davy's built-in rules; they refer to evidence IDs only,
// never to miner strings (docs/rules.md lists them).
//
//go:embed default_rules.yaml
var defaultRules []byte

// DefaultRulesName is the name the built-in rules go by in messages.
const DefaultRulesName = "builtin/default_rules.yaml"

// DefaultSource returns the built-in rules, to load before the user's.
func DefaultSource() Source {
	return Source{Name: DefaultRulesName, Data: defaultRules}
}
