package finding

import (
	"fmt"
	"strings"
)

// Severity ranks a finding for CI gates and SARIF, as Trivy users expect.
type Severity string

// Severities, from worst.
const (
	SeverityCritical Severity = "CRITICAL"
	SeverityHigh     Severity = "HIGH"
	SeverityMedium   Severity = "MEDIUM"
	SeverityLow      Severity = "LOW"
)

// Severities lists every severity from worst to least.
var Severities = []Severity{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow}

// Severity derives a rule's severity from its weight: weak evidence is LOW
// whatever it weighs, because it never makes a miner on its own.
func (r Rule) Severity() Severity {
	switch {
	case r.Weak:
		return SeverityLow
	case r.Weight >= 80:
		return SeverityCritical
	case r.Weight >= 50:
		return SeverityHigh
	case r.Weight >= 30:
		return SeverityMedium
	}
	return SeverityLow
}

// SeverityOf is the severity of an evidence ID (LOW for unknown IDs).
func SeverityOf(id string) Severity {
	if r, ok := Rules[id]; ok {
		return r.Severity()
	}
	return SeverityLow
}

// ParseSeverities reads a comma-separated list such as "HIGH,CRITICAL".
func ParseSeverities(s string) (map[Severity]bool, error) {
	out := map[Severity]bool{}
	for _, part := range strings.Split(s, ",") {
		sv := Severity(strings.ToUpper(strings.TrimSpace(part)))
		ok := false
		for _, k := range Severities {
			ok = ok || k == sv
		}
		if !ok {
			return nil, fmt.Errorf("unknown severity %q (known: CRITICAL, HIGH, MEDIUM, LOW)", part)
		}
		out[sv] = true
	}
	return out, nil
}
