package rules

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// TestFalcoStyleRules loads a file written like Falco's own rules and a
// local overrides file, as Falco would load them.
func TestFalcoStyleRules(t *testing.T) {
	srcs, err := ReadFiles("testdata/falco_style_rules.yaml", "testdata/falco_style_local.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Load(Options{}, srcs...)
	if err != nil {
		t.Fatal(err)
	}
	var ws []string
	for _, w := range rs.Warnings() {
		ws = append(ws, w.Error())
	}
	wantW := []string{
		`testdata/falco_style_rules.yaml:13:55: macro "open_write": unknown field "evt.is_open_write" (no loaded rule uses the macro)`,
		`testdata/falco_style_rules.yaml:13:82: macro "open_write": unknown field "fd.typechar" (no loaded rule uses the macro)`,
		`testdata/falco_style_rules.yaml:13:102: macro "open_write": unknown field "fd.num" (no loaded rule uses the macro)`,
		`testdata/falco_style_rules.yaml:134:3: rule "Write below etc": unknown field "evt.is_open_write"; rule skipped (skip-if-unknown-filter)`,
		`testdata/falco_style_rules.yaml:150:3: rule "Create Privileged Pod": source "k8s_audit" is not supported (only syscall); rule skipped`,
	}
	if !reflect.DeepEqual(ws, wantW) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(ws, "\n"), strings.Join(wantW, "\n"))
	}
	nr, nm, nl := rs.Counts()
	if nr != 4 || nm != 13 || nl != 8 {
		t.Errorf("counts: %d rules, %d macros, %d lists", nr, nm, nl)
	}

	names := map[string]*Rule{}
	for _, r := range rs.Rules() {
		names[r.Name] = r
	}
	pool := &Event{
		EvtType: EventConnect,
		Proc:    Process{Name: "kworkerds", PID: 77, Cmdline: "kworkerds -B"},
		Fd: Fd{
			SIP: netip.MustParseAddr("198.51.100.7"), SPort: 3333,
			CIP: netip.MustParseAddr("10.0.0.5"), CPort: 40000,
			SIPNames: []string{"pool.internal.example.test"},
		},
		Container: Container{ID: "abc", Name: "job", ImageRepository: "registry.example.test/shop/web"},
	}
	cases := []struct {
		name string
		ev   *Event
		want []string
	}{
		{"pool connection, appended domain", pool, []string{"Detect outbound connections to common miner pool ports"}},
		{"pool name but private address", func() *Event {
			e := *pool
			e.Fd.SIP = netip.MustParseAddr("192.168.1.9")
			return &e
		}(), nil},
		{"pool name but another port", func() *Event {
			e := *pool
			e.Fd.SPort = 443
			return &e
		}(), nil},
		{"trusted image", func() *Event {
			e := *pool
			e.Container.ImageRepository = "falcosecurity/falco"
			return &e
		}(), nil},
		{"miner name", &Event{EvtType: EventExec, Proc: Process{Name: "minerd", ExePath: "/usr/bin/minerd"}}, []string{"Detect miner started by name"}},
		{"miner name, excepted dir", &Event{EvtType: EventExec, Proc: Process{Name: "minerd", ExePath: "/opt/benchmarks/minerd"}}, nil},
		{"miner name, appended image exception", &Event{EvtType: EventExec, Proc: Process{Name: "cpuminer"}, Container: Container{ID: "c", ImageRepository: "registry.example.test/research/cpubench"}}, nil},
		{"shell from nginx", &Event{EvtType: EventExec, Proc: Process{Name: "sh", PName: "nginx"}}, []string{"Run shell untrusted"}},
		{"shell from node, appended parent", &Event{EvtType: EventExec, Proc: Process{Name: "bash", PName: "node"}}, []string{"Run shell untrusted"}},
		{"shell from node in the builder", &Event{EvtType: EventExec, Proc: Process{Name: "bash", PName: "node"}, Container: Container{ID: "c", ImageRepository: "registry.example.test/shop/builder"}}, nil},
		{"API server, enabled locally", &Event{EvtType: EventConnect, Container: Container{ID: "c"}, Fd: Fd{SIPNames: []string{"kubernetes.default.svc"}}}, []string{"Contact K8S API Server From Container"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := matchNames(rs, c.ev); !reflect.DeepEqual(got, c.want) {
				t.Errorf("matched %q, want %q", got, c.want)
			}
		})
	}
	if p := names["Run shell untrusted"].Priority; p != PriorityWarning {
		t.Errorf("priority override: %v", p)
	}
	want := "Outbound connection to IP/Port flagged as miner pool (command=kworkerds -B pid=77 port=3333 ip=198.51.100.7 container=container_id=abc container_name=job image=registry.example.test/shop/web)"
	if got := names["Detect outbound connections to common miner pool ports"].Output(pool); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
}
