package respond

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/davyproject/davy/internal/finding"
)

const cid = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func minerTarget(pids ...int) Target {
	t := Target{Kind: "container", ID: cid, Name: "web", ContainerID: cid, Verdict: finding.VerdictMiner}
	for _, pid := range pids {
		t.Processes = append(t.Processes, Process{PID: pid, Comm: "kworker", Exe: "/tmp/.x/kworker"})
	}
	return t
}

func TestRefusals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   Options
		target func(Target) Target
		want   string
	}{
		{"no action", Options{}, nil, "no response action"},
		{"not a miner", Options{Action: ActionKill}, func(t Target) Target { t.Verdict = finding.VerdictSuspicious; return t }, "only workloads judged miner"},
		{"no processes", Options{Action: ActionKill}, func(t Target) Target { t.Processes = nil; return t }, "no processes"},
		{"init", Options{Action: ActionKill}, func(t Target) Target { t.Processes[0].PID = 1; return t }, "init or davy"},
		{"container by ID", Options{Action: ActionKill, Allow: Allowlist{Containers: []string{cid}}}, nil, "container is allowlisted"},
		{"container by ID prefix", Options{Action: ActionKill, Allow: Allowlist{Containers: []string{cid[:12]}}}, nil, "container is allowlisted"},
		{"short prefix is not enough", Options{Action: ActionKill, Allow: Allowlist{Containers: []string{cid[:6]}}}, nil, ""},
		{"container by name", Options{Action: ActionKill, Allow: Allowlist{Containers: []string{"web"}}}, nil, "container is allowlisted"},
		{"exe pattern", Options{Action: ActionKill, Allow: Allowlist{Exes: []string{"/tmp/.x/*"}}}, nil, "is allowlisted"},
		{"comm", Options{Action: ActionFreeze, Allow: Allowlist{Comms: []string{"kworker"}}}, nil, "is allowlisted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := minerTarget(1 << 30)
			if tc.target != nil {
				target = tc.target(target)
			}
			if got := New(tc.opts).refuse(target); !strings.Contains(got, tc.want) || (tc.want == "") != (got == "") {
				t.Errorf("refuse = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestHourlyCap(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := New(Options{Action: ActionKill, MaxPerHour: 2, Now: func() time.Time { return now }})
	target := minerTarget(1 << 30) // no such process: dry-run finds it gone
	for i, want := range []string{"", "", "cap of 2"} {
		res := r.Act(context.Background(), target)
		if !strings.Contains(res.Skipped, want) || (want == "") != (res.Skipped == "") {
			t.Fatalf("action %d: skipped %q, want %q", i, res.Skipped, want)
		}
	}
	now = now.Add(time.Hour)
	if res := r.Act(context.Background(), target); res.Skipped != "" {
		t.Errorf("an hour later: skipped %q", res.Skipped)
	}
}

func TestParseAction(t *testing.T) {
	for in, want := range map[string]Action{"": ActionNone, "none": ActionNone, "Freeze": ActionFreeze, " kill ": ActionKill} {
		if got, err := ParseAction(in); err != nil || got != want {
			t.Errorf("ParseAction(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseAction("delete"); err == nil {
		t.Error("ParseAction(delete) accepted")
	}
}
