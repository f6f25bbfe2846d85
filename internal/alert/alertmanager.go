package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultResolveTimeout is how long an alert stays firing in Alertmanager
// without a new occurrence. It should exceed the dedup cooldown, so a
// steady miner keeps one firing alert rather than one that resolves and
// fires again every cooldown.
const DefaultResolveTimeout = 15 * time.Minute

// DefaultLabelFields are the output fields copied into Alertmanager
// labels: they identify where the alert is without making every
// occurrence a new series (no PIDs, command lines or addresses).
var DefaultLabelFields = []string{"k8s.ns.name", "k8s.pod.name", "container.id", "container.name", "proc.name"}

// maxLabelValue bounds a label value; longer values are cut.
const maxLabelValue = 256

// Labels every Alertmanager alert gets from the alert itself.
var fixedLabels = []string{"alertname", "severity", "source", "hostname"}

// AlertmanagerOptions configures an Alertmanager sink.
type AlertmanagerOptions struct {
	// URL is Alertmanager's base URL (http://alertmanager:9093, with any
	// route prefix); /api/v2/alerts is appended unless already there.
	URL string
	// ResolveTimeout sets endsAt to the alert's time plus it.
	ResolveTimeout time.Duration
	// GeneratorURL, when set, is the link each alert carries back to
	// its source.
	GeneratorURL string
	// Labels are added to every alert (cluster="prod"); they cannot
	// replace alertname, severity, source or hostname.
	Labels map[string]string
	// LabelFields are the output fields that become labels, their names
	// with every character outside [a-zA-Z0-9_] made "_" (k8s.ns.name
	// becomes k8s_ns_name). Nil means DefaultLabelFields.
	LabelFields []string
	Headers     map[string]string
	Client      *http.Client
}

// Alertmanager posts alerts to Alertmanager's API v2.
type Alertmanager struct {
	url       string
	resolve   time.Duration
	generator string
	static    map[string]string
	fields    []labelField
	headers   http.Header
	client    *http.Client
	now       func() time.Time
}

type labelField struct{ field, label string }

// NewAlertmanager checks the options and returns the sink.
func NewAlertmanager(opt AlertmanagerOptions) (*Alertmanager, error) {
	u, err := parseHTTPURL(opt.URL)
	if err != nil {
		return nil, fmt.Errorf("alertmanager: %w", err)
	}
	if !strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), "/api/v2/alerts") {
		u = u.JoinPath("api", "v2", "alerts")
	}
	if opt.GeneratorURL != "" {
		if g, err := url.Parse(opt.GeneratorURL); err != nil || !g.IsAbs() {
			return nil, fmt.Errorf("alertmanager: generator URL %q is not an absolute URL", opt.GeneratorURL)
		}
	}
	h, err := headerOf(opt.Headers)
	if err != nil {
		return nil, fmt.Errorf("alertmanager: %w", err)
	}
	h.Set("Content-Type", "application/json")
	am := &Alertmanager{
		url:       u.String(),
		resolve:   opt.ResolveTimeout,
		generator: opt.GeneratorURL,
		static:    map[string]string{},
		headers:   h,
		client:    clientOr(opt.Client),
		now:       time.Now,
	}
	if am.resolve <= 0 {
		am.resolve = DefaultResolveTimeout
	}
	for k, v := range opt.Labels {
		if !validLabelName(k) || slices.Contains(fixedLabels, k) {
			return nil, fmt.Errorf("alertmanager: label name %q is invalid or reserved", k)
		}
		am.static[k] = labelValue(v)
	}
	fields := opt.LabelFields
	if fields == nil {
		fields = DefaultLabelFields
	}
	for _, f := range fields {
		l := sanitizeLabelName(f)
		if slices.Contains(fixedLabels, l) {
			return nil, fmt.Errorf("alertmanager: output field %q would replace the %s label", f, l)
		}
		if _, ok := am.static[l]; ok {
			return nil, fmt.Errorf("alertmanager: output field %q and a static label are both %s", f, l)
		}
		if i := slices.IndexFunc(am.fields, func(x labelField) bool { return x.label == l }); i >= 0 {
			return nil, fmt.Errorf("alertmanager: output fields %q and %q are both label %s", am.fields[i].field, f, l)
		}
		am.fields = append(am.fields, labelField{field: f, label: l})
	}
	return am, nil
}

// Name is "alertmanager".
func (am *Alertmanager) Name() string { return "alertmanager" }

// postableAlert is an element of POST /api/v2/alerts.
type postableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	EndsAt       string            `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// Send posts the batch as one array. Alertmanager stores all of it or
// refuses all of it, so there is no partial success.
func (am *Alertmanager) Send(ctx context.Context, alerts []Alert) error {
	body := make([]postableAlert, len(alerts))
	for i, a := range alerts {
		body[i] = am.convert(a)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(body); err != nil {
		return Permanent(fmt.Errorf("alertmanager: encoding alerts: %w", err))
	}
	if err := post(ctx, am.client, am.url, am.headers, buf.Bytes()); err != nil {
		return fmt.Errorf("alertmanager: %w", err)
	}
	return nil
}

// convert maps a Falco-shaped alert onto Alertmanager's: identity in
// bounded labels, everything that varies per occurrence in annotations.
func (am *Alertmanager) convert(a Alert) postableAlert {
	labels := make(map[string]string, 4+len(am.static)+len(am.fields))
	for k, v := range am.static {
		labels[k] = v
	}
	for _, f := range am.fields {
		if v, ok := scalarText(a.OutputFields[f.field]); ok {
			labels[f.label] = labelValue(v)
		}
	}
	labels["alertname"] = labelValue(a.Rule)
	labels["severity"] = strings.ToLower(a.Priority.String())
	labels["source"] = "davy"
	if a.Hostname != "" {
		labels["hostname"] = labelValue(a.Hostname)
	}
	ann := map[string]string{
		"summary":     a.Output,
		"description": a.Output,
		"priority":    a.Priority.String(),
	}
	if len(a.Tags) > 0 {
		ann["tags"] = strings.Join(a.Tags, ",")
	}
	if v, ok := scalarText(a.OutputFields[FieldRepeats]); ok {
		ann["repeats"] = v
	}
	if v, ok := scalarText(a.OutputFields[FieldWorkload]); ok {
		ann["workload"] = v
	}
	start := a.Time
	if start.IsZero() {
		start = am.now()
	}
	return postableAlert{
		Labels:       labels,
		Annotations:  ann,
		StartsAt:     start.UTC().Format(time.RFC3339Nano),
		EndsAt:       start.Add(am.resolve).UTC().Format(time.RFC3339Nano),
		GeneratorURL: am.generator,
	}
}

// scalarText is a field's value as label text; absent values (nil, "",
// Falco's "<NA>") and lists are not.
func scalarText(v any) (string, bool) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case int:
		s = strconv.Itoa(x)
	case int64:
		s = strconv.FormatInt(x, 10)
	case uint64:
		s = strconv.FormatUint(x, 10)
	case float64:
		s = strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		s = strconv.FormatBool(x)
	default:
		return "", false
	}
	if s == "" || s == "<NA>" {
		return "", false
	}
	return s, true
}

// labelValue makes v valid UTF-8 of at most maxLabelValue bytes, cut at
// a character boundary.
func labelValue(v string) string {
	v = strings.ToValidUTF8(v, "\uFFFD")
	if len(v) <= maxLabelValue {
		return v
	}
	cut := maxLabelValue
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return v[:cut]
}

// validLabelName reports whether s matches [a-zA-Z_][a-zA-Z0-9_]* and is
// not in the "__" namespace Prometheus reserves.
func validLabelName(s string) bool {
	if s == "" || strings.HasPrefix(s, "__") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') || (i > 0 && c >= '0' && c <= '9') {
			continue
		}
		return false
	}
	return true
}

// sanitizeLabelName turns an output field name into a valid label name.
func sanitizeLabelName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') || (c >= '0' && c <= '9')) {
			b[i] = '_'
		}
	}
	out := string(b)
	if out == "" || (out[0] >= '0' && out[0] <= '9') {
		out = "_" + out
	}
	for strings.HasPrefix(out, "__") {
		out = out[1:]
	}
	return out
}
