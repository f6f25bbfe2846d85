package alert

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParsePriority(t *testing.T) {
	cases := map[string]Priority{
		"Emergency":     PriorityEmergency,
		"ALERT":         PriorityAlert,
		"critical":      PriorityCritical,
		"Error":         PriorityError,
		"warning":       PriorityWarning,
		" Notice ":      PriorityNotice,
		"informational": PriorityInformational,
		"INFO":          PriorityInformational,
		"debug":         PriorityDebug,
	}
	for in, want := range cases {
		got, err := ParsePriority(in)
		if err != nil || got != want {
			t.Errorf("ParsePriority(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "warn", "crit", "fatal", "7"} {
		if _, err := ParsePriority(bad); err == nil {
			t.Errorf("ParsePriority(%q) accepted", bad)
		}
	}
}

func TestPriorityOrderAndNames(t *testing.T) {
	// Least to most severe, as Falco names them.
	want := []string{"Debug", "Informational", "Notice", "Warning", "Error", "Critical", "Alert", "Emergency"}
	for i, name := range want {
		p := Priority(i)
		if p.String() != name {
			t.Errorf("Priority(%d) = %q, want %q", i, p.String(), name)
		}
		if i > 0 && !(p > Priority(i-1)) {
			t.Errorf("%s is not more severe than %s", p, Priority(i-1))
		}
		back, err := ParsePriority(strings.ToUpper(name))
		if err != nil || back != p {
			t.Errorf("round trip of %s: %v, %v", name, back, err)
		}
	}
	if PriorityEmergency <= PriorityCritical || PriorityDebug >= PriorityInformational {
		t.Error("Emergency must be the highest and Debug the lowest")
	}
	if s := Priority(42).String(); s != "Priority(42)" {
		t.Errorf("out of range String = %q", s)
	}
}

func TestPriorityJSON(t *testing.T) {
	b, err := json.Marshal(PriorityCritical)
	if err != nil || string(b) != `"Critical"` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var p Priority
	if err := json.Unmarshal([]byte(`"info"`), &p); err != nil || p != PriorityInformational {
		t.Fatalf("Unmarshal info = %v, %v", p, err)
	}
	if err := json.Unmarshal([]byte(`"loud"`), &p); err == nil {
		t.Fatal("Unmarshal accepted an unknown priority")
	}
	if _, err := json.Marshal(Priority(-1)); err == nil {
		t.Fatal("Marshal accepted an out-of-range priority")
	}
}
