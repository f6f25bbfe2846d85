package rules

import (
	"fmt"
	"strings"
)

// Priority is a rule's severity, with Falco's levels (the syslog ones):
// a lower value is more severe.
type Priority int

// The priorities, from most to least severe.
const (
	PriorityEmergency Priority = iota
	PriorityAlert
	PriorityCritical
	PriorityError
	PriorityWarning
	PriorityNotice
	PriorityInformational
	PriorityDebug
)

var priorityNames = [...]string{"Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug"}

// String returns the name Falco writes in its JSON output ("Critical").
func (p Priority) String() string {
	if p < 0 || int(p) >= len(priorityNames) {
		return fmt.Sprintf("Priority(%d)", int(p))
	}
	return priorityNames[p]
}

// ParsePriority reads a priority as Falco does: case-insensitive, with
// INFO as a synonym of INFORMATIONAL.
func ParsePriority(s string) (Priority, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t == "info" {
		return PriorityInformational, nil
	}
	for i, n := range priorityNames {
		if strings.ToLower(n) == t {
			return Priority(i), nil
		}
	}
	return 0, fmt.Errorf("unknown priority %q (known: emergency, alert, critical, error, warning, notice, informational, info, debug)", s)
}
