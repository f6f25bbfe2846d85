// Package rules is Davy's rules engine. It reads Falco's rules format
// (lists, macros, rules with conditions, outputs, priorities, tags,
// exceptions, overrides and appends) and compiles each condition into
// closures that read the fields of an Event directly, so that evaluating the
// rules allocates nothing.
//
// Loading goes in two steps: every file is read in order, each later item
// overriding or appending to earlier ones (load.go, loadrule.go); then the
// lists are expanded, the macros parsed and checked for cycles, and each
// rule parsed (lexer.go, parser.go), its fields and values checked and
// compiled (fields.go, check.go), its macros inlined and its event types
// computed (compile.go). Every problem is reported with the file, line and
// column of the token it is about, and the rule, macro or list it belongs
// to; a rule with a problem is left out and the others load.
//
// Rules are indexed by event type (ruleset.go): an event is evaluated only
// against the rules of its type and the rules that do not constrain the
// type. The event types Davy produces are listed in event.go.
package rules
