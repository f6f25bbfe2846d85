package rules

import (
	"fmt"
	"strings"
)

// Priority is a rule's severity, with Falco's eight levels. A higher value
// is more severe (the reverse of syslog's numbers), so the zero value is
// the least severe and a minimum priority reads as p >= min.
type Priority int

// The priorities, from least to most severe.
const (
	PriorityDebug Priority = iota
	PriorityInformational
	PriorityNotice
	PriorityWarning
	PriorityError
	PriorityCritical
	PriorityAlert
	PriorityEmergency
)

// priorityNames are the names Falco writes in its JSON output, indexed by
// Priority.
var priorityNames = [...]string{"Debug", "Informational", "Notice", "Warning", "Error", "Critical", "Alert", "Emergency"}

// Valid reports whether p is one of the eight levels.
func (p Priority) Valid() bool { return p >= PriorityDebug && p <= PriorityEmergency }

// String returns the name as Falco writes it ("Critical").
func (p Priority) String() string {
	if !p.Valid() {
		return fmt.Sprintf("Priority(%d)", int(p))
	}
	return priorityNames[p]
}

// ParsePriority reads a priority as Falco's configuration does:
// case-insensitive, with "info" as a synonym of "informational".
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

// MarshalText writes the Falco name, which makes the JSON form "Critical".
// An out-of-range value is an error rather than a name Falcosidekick would
// not recognise.
func (p Priority) MarshalText() ([]byte, error) {
	if !p.Valid() {
		return nil, fmt.Errorf("marshalling priority: %d is not a priority", int(p))
	}
	return []byte(priorityNames[p]), nil
}

// UnmarshalText accepts what ParsePriority accepts.
func (p *Priority) UnmarshalText(b []byte) error {
	v, err := ParsePriority(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}
