package rules

// Limits on what a rules file may ask for. Rules files can come from users
// and from the network (a ConfigMap), so every dimension is bounded: a bad
// file gets a clear error instead of exhausting memory, stack or time.
const (
	// maxFileSize bounds one rules file. Falco's own rules are ~100 KB.
	maxFileSize = 8 << 20
	// maxFileItems bounds the top-level items (lists, macros, rules) of a file.
	maxFileItems = 100_000
	// maxConditionLen bounds one condition or output after appends.
	maxConditionLen = 64 << 10
	// maxDepth bounds the nesting of parentheses and "not" in a condition.
	maxDepth = 64
	// maxMacroDepth bounds macros used inside macros, counted along a chain.
	maxMacroDepth = 64
	// maxExpandedChecks bounds a rule's checks once macros are expanded:
	// macros that use each other several times grow exponentially.
	maxExpandedChecks = 100_000
	// maxListItems bounds one list, and one list of values in a condition.
	maxListItems = 100_000
	// maxTotalItems bounds the items of all lists together, after lists
	// referencing lists are expanded.
	maxTotalItems = 1_000_000
	// maxTotalValues bounds the values of all conditions together, after
	// list names are expanded.
	maxTotalValues = 2_000_000
	// maxRegexLen bounds one regular expression. Go's RE2 engine runs in
	// linear time, so the length is the only cost to bound.
	maxRegexLen = 16 << 10
	// maxYAMLNodes bounds the YAML nodes visited in a file, aliases
	// followed, so that an alias bomb stops early.
	maxYAMLNodes = 2_000_000
)
