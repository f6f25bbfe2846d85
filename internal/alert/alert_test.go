package alert

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 27, 10, 0, 0, 123456789, time.UTC)

func sampleAlert() Alert {
	a := Alert{
		Output:   "Miner started (proc.name=xmrig container.id=abc123 fd.name=<NA>)",
		Priority: PriorityCritical,
		Rule:     "Crypto miner started",
		Time:     t0,
		OutputFields: map[string]any{
			"proc.name":    "xmrig",
			"container.id": "abc123",
			"k8s.ns.name":  "default",
			"k8s.pod.name": "web-1",
			"fd.name":      nil,
		},
		Source:   SourceSyscall,
		Tags:     []string{"mitre_impact", "cryptomining"},
		Hostname: "node-1",
	}
	a.SetWorkload("abc123")
	return a
}

func TestAlertJSONIsFalcoShape(t *testing.T) {
	a := sampleAlert()
	var buf bytes.Buffer
	if err := appendLine(&buf, a); err != nil {
		t.Fatal(err)
	}
	want := `{"output":"Miner started (proc.name=xmrig container.id=abc123 fd.name=<NA>)","priority":"Critical","rule":"Crypto miner started",` +
		`"time":"2026-11-27T10:00:00.123456789Z","output_fields":{"container.id":"abc123","davy.workload":"abc123","fd.name":null,` +
		`"k8s.ns.name":"default","k8s.pod.name":"web-1","proc.name":"xmrig"},"source":"syscall","tags":["mitre_impact","cryptomining"],"hostname":"node-1"}` + "\n"
	if got := buf.String(); got != want {
		t.Fatalf("JSON line:\n got %s\nwant %s", got, want)
	}

	// Exactly Falco's top-level keys: Key stays out.
	var top map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &top); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range top {
		keys = append(keys, k)
	}
	if len(keys) != 8 {
		t.Fatalf("top-level keys %v, want Falco's eight", keys)
	}

	var back Alert
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if !back.Time.Equal(a.Time) || back.Priority != a.Priority || back.Key != a.Key || !reflect.DeepEqual(back.Tags, a.Tags) {
		t.Fatalf("round trip: %+v", back)
	}
}

func TestAlertJSONFixedNanosAndEmptyCollections(t *testing.T) {
	a := Alert{Rule: "r", Priority: PriorityNotice, Time: time.Date(2026, 1, 2, 3, 4, 5, 120_000_000, time.FixedZone("X", 3600))}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	// Falco always writes nine digits, in UTC, and {} and [] rather than null.
	for _, want := range []string{`"time":"2026-01-02T02:04:05.120000000Z"`, `"output_fields":{}`, `"tags":[]`} {
		if !strings.Contains(s, want) {
			t.Errorf("%s lacks %s", s, want)
		}
	}
}

func TestAppendLineOddFieldValue(t *testing.T) {
	a := sampleAlert()
	a.OutputFields = map[string]any{"davy.cpu.ratio": math.NaN()}
	var buf bytes.Buffer
	if err := appendLine(&buf, a); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"davy.cpu.ratio":"NaN"`) {
		t.Fatalf("NaN not written as text: %s", buf.String())
	}
}

func TestSetWorkloadCopiesFields(t *testing.T) {
	shared := map[string]any{"proc.name": "x"}
	a := Alert{Rule: "r", OutputFields: shared}
	a.SetWorkload("w")
	if _, ok := shared[FieldWorkload]; ok {
		t.Fatal("SetWorkload changed the caller's map")
	}
	if a.Key != (Key{Workload: "w", Rule: "r"}) || a.OutputFields[FieldWorkload] != "w" {
		t.Fatalf("alert after SetWorkload: %+v", a)
	}
}

type failWriter struct {
	n   int // bytes accepted before failing
	err error
	buf bytes.Buffer
}

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) <= w.n {
		w.buf.Write(p)
		w.n -= len(p)
		return len(p), nil
	}
	w.buf.Write(p[:w.n])
	n := w.n
	w.n = 0
	return n, w.err
}

func TestWriterSink(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter("test", &buf)
	a := sampleAlert()
	if err := w.Send(t.Context(), []Alert{a, a}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2", len(lines))
	}
	for _, l := range lines {
		var back Alert
		if err := json.Unmarshal([]byte(l), &back); err != nil || back.Rule != a.Rule {
			t.Fatalf("line %q: %v", l, err)
		}
	}
	if Stdout().Name() != "stdout" {
		t.Fatal("Stdout is not named stdout")
	}

	// A short write reports the complete lines as sent.
	one := len(buf.String()) / 2
	fw := &failWriter{n: one + 3, err: errors.New("pipe closed")}
	err := NewWriter("fw", fw).Send(t.Context(), []Alert{a, a, a})
	var pe *PartialError
	if !errors.As(err, &pe) || pe.Sent != 1 {
		t.Fatalf("short write error = %v, want PartialError with Sent 1", err)
	}
}
