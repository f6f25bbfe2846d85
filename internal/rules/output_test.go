package rules

import (
	"reflect"
	"strconv"
	"testing"
)

func outputRule(t *testing.T, output string) *Rule {
	t.Helper()
	y := "- rule: r\n  desc: d\n  condition: proc.name exists\n  output: " + strconv.Quote(output) + "\n  priority: INFO\n"
	rs, err := LoadBytes("t.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return rs.Rule("r")
}

func TestOutput(t *testing.T) {
	full, empty := fullEvent(), &Event{}
	cases := []struct {
		format, full, empty string
	}{
		{"plain text, no fields", "plain text, no fields", "plain text, no fields"},
		{"%proc.name ran", "kworkerds ran", "<NA> ran"},
		{"ran %proc.name.", "ran kworkerds.", "ran <NA>."},
		{"gparent=%proc.aname[2] parent=%proc.aname[1] self=%proc.aname[0]", "gparent=bash parent=sh self=kworkerds", "gparent=<NA> parent=<NA> self=<NA>"},
		{"ancestors=%proc.aname", "ancestors=sh,bash,containerd-shim,systemd", "ancestors=<NA>"},
		{"pid=%proc.pid uid=%user.uid", "pid=4242 uid=0", "pid=<NA> uid=<NA>"},
		{"cpu=%davy.cpu.ratio score=%davy.score", "cpu=0.97 score=97", "cpu=<NA> score=<NA>"},
		{"ev=%davy.evidence", "ev=DAVY-I001,DAVY-C001,DAVY-P001", "ev=<NA>"},
		{"to %fd.sip:%fd.sport (%fd.sip.name) net=%fd.net", "to 192.0.2.10:3333 (pool.example.test,eu.pool.example.test) net=192.0.2.10", "to <NA>:<NA> (<NA>) net=<NA>"},
		{"at %evt.time", "at 12:30:45.123456789", "at <NA>"},
		{"%container.info", "container_id=3f2a9c1b7d4e container_name=web-7d9f", "container_id=<NA> container_name=<NA>"},
		{"pod=%k8s.ns.name/%k8s.pod.name team=%container.label[team]", "pod=shop/web-7d9f-abcde team=shop", "pod=<NA>/<NA> team=<NA>"},
		{"100% sure, %1 kept", "100% sure, %1 kept", "100% sure, %1 kept"},
		{"trailing %", "trailing %", "trailing %"},
		{"dir=%evt.dir", "dir=<", "dir=<"},
	}
	for _, c := range cases {
		t.Run(c.format, func(t *testing.T) {
			r := outputRule(t, c.format)
			if got := r.Output(full); got != c.full {
				t.Errorf("full event: got %q, want %q", got, c.full)
			}
			if got := r.Output(empty); got != c.empty {
				t.Errorf("empty event: got %q, want %q", got, c.empty)
			}
		})
	}
}

func TestOutputFields(t *testing.T) {
	r := outputRule(t, "%proc.name %proc.pid %davy.cpu.ratio %davy.evidence %fd.sip %evt.time %proc.aname[2] %container.id %proc.name")
	got := r.OutputFields(fullEvent())
	want := map[string]any{
		"proc.name":      "kworkerds",
		"proc.pid":       int64(4242),
		"davy.cpu.ratio": 0.97,
		"davy.evidence":  []string{"DAVY-I001", "DAVY-C001", "DAVY-P001"},
		"fd.sip":         "192.0.2.10",
		"evt.time":       int64(1740832245123456789),
		"proc.aname[2]":  "bash",
		"container.id":   "3f2a9c1b7d4e",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}
	empty := r.OutputFields(&Event{})
	for k, v := range empty {
		if v != nil {
			t.Errorf("%s = %#v on an empty event, want nil", k, v)
		}
	}
	if len(empty) != len(want) {
		t.Errorf("%d fields on an empty event, want %d", len(empty), len(want))
	}
}

// TestOutputTrimmed: a folded YAML block's final line break is dropped.
func TestOutputTrimmed(t *testing.T) {
	y := "- rule: r\n  desc: d\n  condition: proc.name exists\n  output: >\n    ran %proc.name\n    as %user.name\n  priority: INFO\n"
	rs, err := LoadBytes("t.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	if got := rs.Rule("r").Output(fullEvent()); got != "ran kworkerds as root" {
		t.Errorf("got %q", got)
	}
}
