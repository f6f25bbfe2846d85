package alert

import "github.com/davyproject/davy/internal/rules"

// Priority is an alert's severity: its rule's priority, with Falco's eight
// levels, a higher value more severe.
type Priority = rules.Priority

// The priorities, from least to most severe.
const (
	PriorityDebug         = rules.PriorityDebug
	PriorityInformational = rules.PriorityInformational
	PriorityNotice        = rules.PriorityNotice
	PriorityWarning       = rules.PriorityWarning
	PriorityError         = rules.PriorityError
	PriorityCritical      = rules.PriorityCritical
	PriorityAlert         = rules.PriorityAlert
	PriorityEmergency     = rules.PriorityEmergency
)

// ParsePriority reads a priority as Falco's configuration does:
// case-insensitive, with "info" as a synonym of "informational".
func ParsePriority(s string) (Priority, error) { return rules.ParsePriority(s) }
