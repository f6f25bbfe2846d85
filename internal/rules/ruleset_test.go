package rules

import (
	"reflect"
	"strings"
	"testing"
)

const indexYAML = `
- macro: spawned_process
  condition: evt.type in (execve, execveat) and evt.dir = <
- rule: exec
  desc: d
  condition: spawned_process and proc.name = a
  output: o
  priority: INFO
- rule: any type
  desc: d
  condition: proc.name = a
  output: o
  priority: INFO
- rule: connect
  desc: d
  condition: (evt.type = connect and fd.sport = 1) or (evt.type = exit and proc.name = a)
  output: o
  priority: INFO
- rule: negated
  desc: d
  condition: not evt.type = connect and proc.name = a
  output: o
  priority: INFO
- rule: partial or
  desc: d
  condition: evt.type = execve or proc.name = a
  output: o
  priority: INFO
- rule: only open
  desc: d
  condition: evt.type in (open, openat) and proc.name = a
  output: o
  priority: INFO
- rule: contradiction
  desc: d
  condition: evt.type = execve and evt.type = connect
  output: o
  priority: INFO
- rule: verdict
  desc: d
  condition: evt.type = davy.verdict
  output: o
  priority: INFO
`

func TestIndexByType(t *testing.T) {
	rs := mustLoad(t, indexYAML)
	types := map[string][]string{}
	for _, r := range rs.Rules() {
		types[r.Name] = r.EventTypes
	}
	want := map[string][]string{
		"exec":          {"execve", "execveat"},
		"any type":      nil,
		"connect":       {"connect", "exit"},
		"negated":       nil,
		"partial or":    nil,
		"only open":     {"open", "openat"},
		"contradiction": {},
		"verdict":       {"davy.verdict"},
	}
	for name, w := range want {
		if got := types[name]; !reflect.DeepEqual(got, w) || (got == nil) != (w == nil) {
			t.Errorf("%s: event types %#v, want %#v", name, got, w)
		}
	}
	var ws []string
	for _, w := range rs.Warnings() {
		ws = append(ws, w.Msg)
	}
	wantW := []string{
		"the rule only matches event types Davy does not produce (open, openat): it will never match",
		"the condition's event types exclude each other: the rule can never match",
	}
	if !reflect.DeepEqual(ws, wantW) {
		t.Errorf("warnings %q", ws)
	}

	match := func(ev *Event) []string {
		var got []string
		rs.Match(ev, func(r *Rule) { got = append(got, r.Name) })
		return got
	}
	cases := []struct {
		ev   Event
		want []string
	}{
		{Event{EvtType: EventExec, Proc: Process{Name: "a"}}, []string{"exec", "any type", "negated", "partial or"}},
		{Event{EvtType: EventConnect, Proc: Process{Name: "a"}, Fd: Fd{SPort: 1}}, []string{"any type", "partial or"}},
		{Event{EvtType: EventExit, Proc: Process{Name: "a"}}, []string{"any type", "connect", "negated", "partial or"}},
		{Event{EvtType: EventVerdict}, []string{"verdict"}},
		{Event{EvtType: "something.else", Proc: Process{Name: "a"}}, []string{"any type", "negated", "partial or"}},
	}
	for _, c := range cases {
		if got := match(&c.ev); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: matched %v, want %v", c.ev.EvtType, got, c.want)
		}
	}
	// Only the indexed types get their own bucket; the others share "any".
	if got := strings.Join(rs.IndexedTypes(), ","); got != "connect,davy.verdict,execve,execveat,exit,open,openat" {
		t.Errorf("indexed types %s", got)
	}
}

func TestAppendMatches(t *testing.T) {
	rs := mustLoad(t, indexYAML)
	ev := &Event{EvtType: EventExec, Proc: Process{Name: "a"}}
	dst := make([]*Rule, 0, 8)
	got := rs.AppendMatches(dst, ev)
	if len(got) != 4 || got[0].Name != "exec" {
		t.Fatalf("matches %v", got)
	}
	allocs := testing.AllocsPerRun(100, func() { dst = rs.AppendMatches(dst[:0], ev) })
	if allocs != 0 {
		t.Errorf("AppendMatches allocates %v times per event", allocs)
	}
}

// TestMatchDoesNotAllocate on every kind of field and operator.
func TestMatchDoesNotAllocate(t *testing.T) {
	conds := []string{
		`proc.name icontains WORK and proc.cmdline contains "--threads" and proc.args startswith "-o"`,
		`proc.exepath pmatch (/tmp, /dev/shm) and proc.name glob "kw*" and proc.name regex "^kw"`,
		`proc.aname = bash and proc.aname[2] = bash and proc.pid > 1 and user.uid = 0`,
		`fd.net in (10.0.0.0/8) and fd.sip = 192.0.2.0/24 and fd.sport in (3333, 5555)`,
		`davy.evidence intersects (DAVY-I001) and fd.sip.name endswith .test and davy.cpu.ratio > 0.5`,
		`k8s.pod.label[app] = web and container.label[team] in (shop) and evt.time exists`,
		`not (proc.name in (a, b, c, d, e, f, g, h, i, j, k, l) or container.id = x)`,
	}
	ev := fullEvent()
	for _, c := range conds {
		r := compileCond(t, "", c)
		if !r.Eval(ev) {
			t.Errorf("%s: no match", c)
		}
		if allocs := testing.AllocsPerRun(100, func() { r.Eval(ev) }); allocs != 0 {
			t.Errorf("%s: %v allocations per evaluation", c, allocs)
		}
	}
}

// TestConcurrentMatch: a Ruleset is read-only once loaded; run with -race.
func TestConcurrentMatch(t *testing.T) {
	rs := loadDefaults(t)
	done := make(chan int)
	for g := 0; g < 4; g++ {
		go func() {
			ev := fullEvent()
			n := 0
			for i := 0; i < 2000; i++ {
				rs.Match(ev, func(r *Rule) { n += len(r.Output(ev)) })
			}
			done <- n
		}()
	}
	for g := 0; g < 4; g++ {
		if <-done == 0 {
			t.Error("no match")
		}
	}
}
