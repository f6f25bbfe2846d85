package alert

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type receivedAM struct {
	path string
	body []postableAlert
}

func amServer(t *testing.T, status int) (*httptest.Server, chan receivedAM) {
	t.Helper()
	ch := make(chan receivedAM, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var body []postableAlert
		if err := json.Unmarshal(b, &body); err != nil {
			t.Errorf("body is not an alert array: %v", err)
		}
		ch <- receivedAM{path: r.URL.Path, body: body}
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, ch
}

func TestAlertmanagerPayload(t *testing.T) {
	srv, ch := amServer(t, http.StatusOK)
	am, err := NewAlertmanager(AlertmanagerOptions{
		URL:            srv.URL + "/am/",
		ResolveTimeout: 20 * time.Minute,
		GeneratorURL:   "https://davy.example/agent",
		Labels:         map[string]string{"cluster": "prod"},
	})
	if err != nil {
		t.Fatal(err)
	}
	a := sampleAlert()
	a.OutputFields["proc.name"] = strings.Repeat("é", 200) // 400 bytes
	a.OutputFields["container.name"] = "<NA>"
	a.OutputFields["proc.cmdline"] = "xmrig -o pool:3333" // not a label field
	a.OutputFields[FieldRepeats] = 7
	if err := am.Send(t.Context(), []Alert{a}); err != nil {
		t.Fatal(err)
	}
	got := <-ch
	if got.path != "/am/api/v2/alerts" || len(got.body) != 1 {
		t.Fatalf("posted %d alerts to %s", len(got.body), got.path)
	}
	p := got.body[0]
	want := map[string]string{
		"alertname":    "Crypto miner started",
		"severity":     "critical",
		"source":       "davy",
		"hostname":     "node-1",
		"cluster":      "prod",
		"k8s_ns_name":  "default",
		"k8s_pod_name": "web-1",
		"container_id": "abc123",
		"proc_name":    strings.Repeat("é", 128),
	}
	if len(p.Labels) != len(want) {
		t.Errorf("labels %v, want %v", p.Labels, want)
	}
	for k, v := range want {
		if p.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, p.Labels[k], v)
		}
	}
	if p.Annotations["summary"] != a.Output || p.Annotations["description"] != a.Output || p.Annotations["repeats"] != "7" ||
		p.Annotations["workload"] != "abc123" || p.Annotations["tags"] != "mitre_impact,cryptomining" {
		t.Errorf("annotations %v", p.Annotations)
	}
	start, err1 := time.Parse(time.RFC3339Nano, p.StartsAt)
	end, err2 := time.Parse(time.RFC3339Nano, p.EndsAt)
	if err1 != nil || err2 != nil || !start.Equal(t0) || end.Sub(start) != 20*time.Minute {
		t.Errorf("startsAt %s endsAt %s", p.StartsAt, p.EndsAt)
	}
	if p.GeneratorURL != "https://davy.example/agent" {
		t.Errorf("generatorURL %q", p.GeneratorURL)
	}
}

func TestAlertmanagerRefusalIsPermanent(t *testing.T) {
	srv, _ := amServer(t, http.StatusBadRequest)
	am, err := NewAlertmanager(AlertmanagerOptions{URL: srv.URL + "/api/v2/alerts"})
	if err != nil {
		t.Fatal(err)
	}
	if err := am.Send(t.Context(), []Alert{sampleAlert()}); !IsPermanent(err) {
		t.Fatalf("400 gave %v, want a permanent error", err)
	}
}

func TestAlertmanagerOptions(t *testing.T) {
	bad := []AlertmanagerOptions{
		{URL: "alertmanager:9093"},
		{URL: "http://127.0.0.1:9093", Labels: map[string]string{"severity": "x"}},
		{URL: "http://127.0.0.1:9093", Labels: map[string]string{"1abc": "x"}},
		{URL: "http://127.0.0.1:9093", Labels: map[string]string{"__name": "x"}},
		{URL: "http://127.0.0.1:9093", LabelFields: []string{"alertname"}},
		{URL: "http://127.0.0.1:9093", LabelFields: []string{"a.b", "a-b"}},
		{URL: "http://127.0.0.1:9093", GeneratorURL: "/relative"},
	}
	for _, o := range bad {
		if _, err := NewAlertmanager(o); err == nil {
			t.Errorf("NewAlertmanager accepted %+v", o)
		}
	}
}

func TestLabelNames(t *testing.T) {
	for in, want := range map[string]string{
		"k8s.ns.name":         "k8s_ns_name",
		"proc.aname[2]":       "proc_aname_2_",
		"9lives":              "_9lives",
		"__meta":              "_meta",
		"container.label.été": "container_label___t__",
	} {
		got := sanitizeLabelName(in)
		if got != want || !validLabelName(got) {
			t.Errorf("sanitizeLabelName(%q) = %q, want %q (valid: %v)", in, got, want, validLabelName(got))
		}
	}
	for _, bad := range []string{"", "a-b", "1a", "__x", "a.b"} {
		if validLabelName(bad) {
			t.Errorf("validLabelName(%q) = true", bad)
		}
	}
}
