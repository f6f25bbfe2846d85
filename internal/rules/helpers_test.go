package rules

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ruleYAML writes one rule with the given condition after the given items.
func ruleYAML(items, condition string) string {
	return items + "\n- rule: r\n  desc: d\n  condition: " + strconv.Quote(condition) + "\n  output: o\n  priority: INFO\n"
}

// compileCond loads a single rule and fails the test on any error.
func compileCond(t *testing.T, items, condition string) *Rule {
	t.Helper()
	rs, err := LoadBytes("t.yaml", []byte(ruleYAML(items, condition)))
	if err != nil {
		t.Fatalf("condition %q: %v", condition, err)
	}
	r := rs.Rule("r")
	if r == nil {
		t.Fatalf("condition %q: rule not loaded", condition)
	}
	return r
}

// loadErr loads YAML and returns the error text, "" when it loaded.
func loadErr(t *testing.T, y string) string {
	t.Helper()
	_, err := LoadBytes("rules.yaml", []byte(y))
	if err == nil {
		return ""
	}
	return err.Error()
}

// fullEvent is an exec event with every field set.
func fullEvent() *Event {
	return &Event{
		EvtType: EventExec,
		Time:    time.Date(2025, 3, 1, 12, 30, 45, 123456789, time.UTC),
		Proc: Process{
			Name:      "kworkerds",
			Exe:       "./kworkerds",
			ExePath:   "/tmp/.x/kworkerds",
			Cmdline:   "./kworkerds -o pool.example.test:3333 --threads 4",
			Args:      []string{"-o", "pool.example.test:3333", "--threads", "4"},
			PID:       4242,
			PPID:      4200,
			PName:     "sh",
			PCmdline:  "sh -c ./kworkerds",
			Ancestors: []string{"sh", "bash", "containerd-shim", "systemd"},
			Cwd:       "/tmp/.x",
			UID:       0,
			User:      "root",
		},
		Container: Container{
			ID:              "3f2a9c1b7d4e",
			Name:            "web-7d9f",
			Image:           "registry.example.test/shop/web:1.4",
			ImageRepository: "registry.example.test/shop/web",
			ImageTag:        "1.4",
			Labels:          []Label{{"team", "shop"}, {"davy.io/expected-high-cpu", "false"}},
		},
		K8s: K8s{Namespace: "shop", Pod: "web-7d9f-abcde", PodLabels: []Label{{"app", "web"}}},
		Fd: Fd{
			Name:     "10.1.2.3:41000->192.0.2.10:3333",
			SIP:      netip.MustParseAddr("192.0.2.10"),
			SPort:    3333,
			CIP:      netip.MustParseAddr("10.1.2.3"),
			CPort:    41000,
			L4Proto:  "tcp",
			SIPNames: []string{"pool.example.test", "eu.pool.example.test"},
		},
		Davy: Davy{
			Verdict:  "miner",
			Score:    97,
			Evidence: []string{"DAVY-I001", "DAVY-C001", "DAVY-P001"},
			CPURatio: 0.97,
		},
	}
}

func lines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
