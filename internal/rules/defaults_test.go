package rules

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// contentIndicators reads the decoded byte indicators from intel's data
// file directly, so that this test does not depend on the scanner packages.
func contentIndicators(t *testing.T) map[string][]byte {
	t.Helper()
	data, err := os.ReadFile("../intel/data/content-indicators.tsv")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, line := range strings.Split(string(data), "\n") {
		cols := strings.Split(line, "\t")
		if strings.HasPrefix(line, "#") || len(cols) < 4 {
			continue
		}
		b, err := hex.DecodeString(cols[3])
		if err != nil {
			t.Fatalf("indicator %s: %v", cols[0], err)
		}
		out[cols[0]] = b
	}
	if len(out) < 20 {
		t.Fatalf("only %d indicators read", len(out))
	}
	return out
}

func loadDefaults(t testing.TB, more ...string) *Ruleset {
	t.Helper()
	srcs := []Source{DefaultSource()}
	for i, m := range more {
		srcs = append(srcs, Source{Name: []string{"local.yaml", "local2.yaml"}[i], Data: []byte(m)})
	}
	rs, err := Load(Options{}, srcs...)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Warnings()) > 0 {
		t.Fatalf("warnings: %v", rs.Warnings())
	}
	return rs
}

func matchNames(rs *Ruleset, ev *Event) []string {
	var out []string
	rs.Match(ev, func(r *Rule) { out = append(out, r.Name) })
	return out
}

// benignExec is an ordinary process start in a container.
func benignExec() *Event {
	return &Event{
		EvtType: EventExec,
		Proc: Process{
			Name: "nginx", Exe: "nginx", ExePath: "/usr/sbin/nginx", Cmdline: "nginx -g daemon off;",
			Args: []string{"-g", "daemon off;"}, PID: 812, PPID: 790, PName: "containerd-shim",
			Ancestors: []string{"containerd-shim", "systemd"}, Cwd: "/", UID: 101, User: "nginx",
		},
		Container: Container{ID: "9a8b7c6d5e4f", Name: "web", ImageRepository: "docker.io/library/nginx", ImageTag: "1.27"},
		K8s:       K8s{Namespace: "shop", Pod: "web-5f7c9-x2x9z"},
	}
}

func TestDefaultRules(t *testing.T) {
	rs := loadDefaults(t)
	with := func(mod func(e *Event)) *Event {
		e := benignExec()
		mod(e)
		return e
	}
	cases := []struct {
		name string
		ev   *Event
		want []string
	}{
		{"benign exec", benignExec(), nil},
		{"miner content", with(func(e *Event) { e.Davy.Evidence = []string{"DAVY-I001"} }), []string{"Miner executable run"}},
		{"miner release hash", with(func(e *Event) { e.Davy.Evidence = []string{"DAVY-I002"} }), []string{"Miner executable run"}},
		{"a miner's name alone is not enough", with(func(e *Event) { e.Proc.Name = "xmr-stak"; e.Davy.Evidence = []string{"DAVY-C004"} }), nil},
		{"pool URL", with(func(e *Event) { e.Davy.Evidence = []string{"DAVY-C001"} }), []string{"Miner pool URL on command line"}},
		{"wallet", with(func(e *Event) { e.Davy.Evidence = []string{"DAVY-C002"} }), []string{"Wallet address on command line"}},
		{"flags", with(func(e *Event) { e.Davy.Evidence = []string{"DAVY-C003"} }), []string{"Miner flags on command line"}},
		{"drift", with(func(e *Event) { e.Davy.Evidence = []string{"DAVY-D001"} }), []string{"Executable not in container image run"}},
		{"drift on the host is not drift", with(func(e *Event) { e.Container = Container{}; e.Davy.Evidence = []string{"DAVY-D001"} }), nil},
		{"exec from /tmp", with(func(e *Event) { e.Proc.ExePath = "/tmp/kx" }), []string{"Executable run from temporary directory or memory"}},
		{"exec from /dev/shm", with(func(e *Event) { e.Proc.ExePath = "/dev/shm/.a/b" }), []string{"Executable run from temporary directory or memory"}},
		{"exec from a memfd", with(func(e *Event) { e.Proc.ExePath = "/memfd:x (deleted)" }), []string{"Executable run from temporary directory or memory"}},
		{"exec from /tmpfoo is not /tmp", with(func(e *Event) { e.Proc.ExePath = "/tmpfoo/x" }), nil},
		{"temp evidence", with(func(e *Event) { e.Davy.Evidence = []string{"DAVY-P004"} }), []string{"Executable run from temporary directory or memory"}},
		{"everything at once", with(func(e *Event) {
			e.Proc.ExePath = "/tmp/kx"
			e.Davy.Evidence = []string{"DAVY-C001", "DAVY-I001", "DAVY-D001"}
		}), []string{"Miner executable run", "Miner pool URL on command line", "Executable not in container image run", "Executable run from temporary directory or memory"}},
		{"pool connection", &Event{EvtType: EventConnect, Proc: Process{Name: "a", PID: 3}, Davy: Davy{Evidence: []string{"DAVY-N003"}}}, []string{"Connection to a miner pool the workload resolved"}},
		{"ordinary connection", &Event{EvtType: EventConnect, Proc: Process{Name: "a", PID: 3}, Fd: Fd{SIP: netip.MustParseAddr("192.0.2.1"), SPort: 443, SIPNames: []string{"api.example.test"}}}, nil},
		{"miner verdict", &Event{EvtType: EventVerdict, Davy: Davy{Verdict: "miner", Score: 95}}, []string{"Miner verdict"}},
		{"suspicious verdict", &Event{EvtType: EventVerdict, Davy: Davy{Verdict: "suspicious", Score: 50}}, []string{"Suspicious verdict"}},
		{"clean verdict", &Event{EvtType: EventVerdict, Davy: Davy{Verdict: "clean"}}, nil},
		{"sustained CPU", &Event{EvtType: EventCPU, Davy: Davy{CPURatio: 0.98}, K8s: K8s{Namespace: "shop"}}, []string{"Sustained CPU in workload not expected to use it"}},
		{"moderate CPU", &Event{EvtType: EventCPU, Davy: Davy{CPURatio: 0.6}}, nil},
		{"expected by pod label", &Event{EvtType: EventCPU, Davy: Davy{CPURatio: 0.98}, K8s: K8s{PodLabels: []Label{{"davy.io/expected-high-cpu", "true"}}}}, nil},
		{"expected by container label", &Event{EvtType: EventCPU, Davy: Davy{CPURatio: 0.98}, Container: Container{Labels: []Label{{"davy.io/expected-high-cpu", "true"}}}}, nil},
		{"label set to false", &Event{EvtType: EventCPU, Davy: Davy{CPURatio: 0.98}, K8s: K8s{PodLabels: []Label{{"davy.io/expected-high-cpu", "false"}}}}, []string{"Sustained CPU in workload not expected to use it"}},
		{"exit", &Event{EvtType: EventExit, Proc: Process{Name: "a", PID: 3, ExePath: "/tmp/a"}}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := matchNames(rs, c.ev); !reflect.DeepEqual(got, c.want) {
				t.Errorf("matched %q, want %q", got, c.want)
			}
		})
	}
}

// TestDefaultRulesOverrides: the lists, macros and exceptions meant to be
// overridden work from a user's file.
func TestDefaultRulesOverrides(t *testing.T) {
	local := `
- list: davy_expected_high_cpu_namespaces
  items: [ci]
  override:
    items: append
- list: davy_expected_high_cpu_images
  items: [registry.example.test/render]
  override:
    items: append
- macro: davy_high_cpu
  condition: davy.cpu.ratio > 0.5
  override:
    condition: replace
- list: davy_extra_pool_domains
  items: [pool.example.test]
  override:
    items: append
- rule: Miner executable run
  exceptions:
    - name: trusted_images
      values: [registry.example.test/lab/bench]
  override:
    exceptions: append
- rule: Executable run from temporary directory or memory
  exceptions:
    - name: known_temp_executables
      values: [[registry.example.test/installer, /tmp/setup]]
  override:
    exceptions: append
- rule: Suspicious verdict
  enabled: false
  override:
    enabled: replace
`
	rs := loadDefaults(t, local)
	cpu := func(ratio float64, ns, repo string) *Event {
		return &Event{EvtType: EventCPU, Davy: Davy{CPURatio: ratio}, K8s: K8s{Namespace: ns}, Container: Container{ID: "c", ImageRepository: repo}}
	}
	cases := []struct {
		name string
		ev   *Event
		want []string
	}{
		{"threshold lowered", cpu(0.6, "shop", "r"), []string{"Sustained CPU in workload not expected to use it"}},
		{"namespace expected", cpu(0.99, "ci", "r"), nil},
		{"image expected", cpu(0.99, "shop", "registry.example.test/render"), nil},
		{"extra pool domain", &Event{EvtType: EventConnect, Fd: Fd{SIPNames: []string{"pool.example.test"}}}, []string{"Connection to a miner pool the workload resolved"}},
		{"trusted image", &Event{EvtType: EventExec, Container: Container{ID: "c", ImageRepository: "registry.example.test/lab/bench"}, Davy: Davy{Evidence: []string{"DAVY-I001"}}}, nil},
		{"untrusted image", &Event{EvtType: EventExec, Container: Container{ID: "c", ImageRepository: "registry.example.test/lab/other"}, Davy: Davy{Evidence: []string{"DAVY-I001"}}}, []string{"Miner executable run"}},
		{"known temp executable", &Event{EvtType: EventExec, Proc: Process{ExePath: "/tmp/setup/run"}, Container: Container{ImageRepository: "registry.example.test/installer"}}, nil},
		{"same path, other image", &Event{EvtType: EventExec, Proc: Process{ExePath: "/tmp/setup/run"}, Container: Container{ImageRepository: "registry.example.test/x"}}, []string{"Executable run from temporary directory or memory"}},
		{"disabled rule", &Event{EvtType: EventVerdict, Davy: Davy{Verdict: "suspicious"}}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := matchNames(rs, c.ev); !reflect.DeepEqual(got, c.want) {
				t.Errorf("matched %q, want %q", got, c.want)
			}
		})
	}
}

// TestDefaultOutputs: the outputs render with the event's values.
func TestDefaultOutputs(t *testing.T) {
	rs := loadDefaults(t)
	e := benignExec()
	e.Davy.Evidence = []string{"DAVY-I001"}
	want := "Miner executable run (evidence=DAVY-I001 proc=nginx exe=/usr/sbin/nginx cmdline=nginx -g daemon off; pid=812 parent=containerd-shim gparent=systemd user=nginx container=web image=docker.io/library/nginx pod=shop/web-5f7c9-x2x9z)"
	if got := rs.Rule("Miner executable run").Output(e); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	for _, r := range rs.Rules() {
		if r.Desc == "" || len(r.Tags) == 0 || r.EventTypes == nil || !r.Enabled {
			t.Errorf("%s: desc, tags, an event type and enabled expected", r.Name)
		}
	}
}

// TestNoMinerStringsInBinaryParts: davy scans executables for miner
// content and embeds this package, so neither the embedded rules nor the
// package's Go files may hold a content indicator or the plain words a
// miner carries.
func TestNoMinerStringsInBinaryParts(t *testing.T) {
	inds := contentIndicators(t)
	words := [][]byte{[]byte("stratum"), []byte("xmrig"), []byte("mining."), []byte("cryptonight"), []byte("monero")}
	check := func(name string, data []byte) {
		for name2, pat := range inds {
			if bytes.Contains(data, pat) {
				t.Errorf("%s contains the bytes of indicator %s", name, name2)
			}
		}
		low := bytes.ToLower(data)
		for _, w := range words {
			if bytes.Contains(low, w) {
				t.Errorf("%s contains %q", name, w)
			}
		}
	}
	check("default_rules.yaml (embedded)", defaultRules)
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		check(f, b)
	}
}

// TestDocsCoverFieldsAndRules keeps docs/rules.md in step with the code:
// every field, event type and default rule is described there.
func TestDocsCoverFieldsAndRules(t *testing.T) {
	b, err := os.ReadFile("../../docs/rules.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, f := range Fields() {
		if !strings.Contains(doc, "`"+f.Name+"`") {
			t.Errorf("docs/rules.md does not describe field %s", f.Name)
		}
	}
	for _, e := range EventTypes {
		if !strings.Contains(doc, "| `"+e+"` |") {
			t.Errorf("docs/rules.md does not describe event type %s", e)
		}
	}
	for _, r := range loadDefaults(t).Rules() {
		if !strings.Contains(doc, "| "+r.Name+" | "+strings.ToUpper(r.Priority.String())+" |") {
			t.Errorf("docs/rules.md does not list default rule %q with priority %s", r.Name, r.Priority)
		}
	}
}
