// Package alert turns rule matches into alerts for `davy agent`:
// the Alert type in Falco's JSON output shape (so Falcosidekick can forward
// it), a Deduper that sends one alert per workload and rule per cooldown,
// and outputs (stdout, webhook, Alertmanager, rotating file), each behind a
// Dispatcher with its own minimum priority, bounded buffer and retries.
package alert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"time"
)

// Output fields Davy adds to Falco's. They live in output_fields so that
// the top-level shape stays exactly Falco's.
const (
	// FieldWorkload is the workload the alert is about: a container ID,
	// or a process key for a process outside containers.
	FieldWorkload = "davy.workload"
	// FieldRepeats is how many occurrences of the same workload and rule
	// were not sent on their own since the previous alert for them.
	FieldRepeats = "davy.repeats"
)

// SourceSyscall is Falco's source for process and network events, which
// is what Davy's rules match.
const SourceSyscall = "syscall"

// timeLayout is Falco's time format: UTC with exactly nine fractional
// digits (time.RFC3339Nano would drop trailing zeros).
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// Key identifies what the Deduper counts as the same alert.
type Key struct {
	Workload string
	Rule     string
}

// Alert is one alert, serialised as Falco's JSON output. Once handed to a
// Dispatcher it is shared by every output, so it must not be modified.
type Alert struct {
	Output       string         `json:"output"`
	Priority     Priority       `json:"priority"`
	Rule         string         `json:"rule"`
	Time         time.Time      `json:"time"`
	OutputFields map[string]any `json:"output_fields"`
	Source       string         `json:"source"`
	Tags         []string       `json:"tags"`
	Hostname     string         `json:"hostname"`
	// Key is what deduplication is keyed on; it is not part of Falco's
	// shape, so it is not serialised (FieldWorkload carries the workload).
	Key Key `json:"-"`
}

// SetWorkload sets the dedup key to (workload, rule) and records the
// workload in output_fields. It copies OutputFields first, because the map
// often comes from a rule engine that may reuse it.
func (a *Alert) SetWorkload(workload string) {
	a.Key = Key{Workload: workload, Rule: a.Rule}
	a.setField(FieldWorkload, workload)
}

// setField sets one output field on a copy of the map, so an alert that
// shares its map with another (as the Deduper's copies do) never changes
// the other one.
func (a *Alert) setField(k string, v any) {
	m := make(map[string]any, len(a.OutputFields)+1)
	maps.Copy(m, a.OutputFields)
	m[k] = v
	a.OutputFields = m
}

// wireAlert is Alert as written: the time as Falco formats it, and never
// null for output_fields or tags, which Falco always writes as {} and [].
type wireAlert struct {
	Output       string         `json:"output"`
	Priority     Priority       `json:"priority"`
	Rule         string         `json:"rule"`
	Time         string         `json:"time"`
	OutputFields map[string]any `json:"output_fields"`
	Source       string         `json:"source"`
	Tags         []string       `json:"tags"`
	Hostname     string         `json:"hostname"`
}

// MarshalJSON writes Falco's shape. Whether <, > and & are escaped is up
// to the caller's encoder; the outputs here turn escaping off, because
// Falco writes "<NA>" as it is.
func (a Alert) MarshalJSON() ([]byte, error) {
	w := wireAlert{
		Output:       a.Output,
		Priority:     a.Priority,
		Rule:         a.Rule,
		Time:         a.Time.UTC().Format(timeLayout),
		OutputFields: a.OutputFields,
		Source:       a.Source,
		Tags:         a.Tags,
		Hostname:     a.Hostname,
	}
	if w.OutputFields == nil {
		w.OutputFields = map[string]any{}
	}
	if w.Tags == nil {
		w.Tags = []string{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(w); err != nil {
		return nil, fmt.Errorf("marshalling alert %q: %w", a.Rule, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// UnmarshalJSON reads Falco's shape, so alert files and webhook bodies can
// be read back.
func (a *Alert) UnmarshalJSON(b []byte) error {
	var w wireAlert
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("reading alert: %w", err)
	}
	var t time.Time
	if w.Time != "" {
		var err error
		if t, err = time.Parse(time.RFC3339Nano, w.Time); err != nil {
			return fmt.Errorf("reading alert time: %w", err)
		}
	}
	*a = Alert{
		Output:       w.Output,
		Priority:     w.Priority,
		Rule:         w.Rule,
		Time:         t,
		OutputFields: w.OutputFields,
		Source:       w.Source,
		Tags:         w.Tags,
		Hostname:     w.Hostname,
	}
	ws, _ := w.OutputFields[FieldWorkload].(string)
	a.Key = Key{Workload: ws, Rule: w.Rule}
	return nil
}

// appendLine appends the alert as one JSON line, without HTML escaping.
// An output field JSON cannot hold (a NaN, a channel) is written as its
// fmt text instead, so one odd value does not lose the whole alert.
func appendLine(buf *bytes.Buffer, a Alert) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(a)
	if err == nil {
		return nil
	}
	fixed := make(map[string]any, len(a.OutputFields))
	for k, v := range a.OutputFields {
		if _, verr := json.Marshal(v); verr != nil {
			v = fmt.Sprint(v)
		}
		fixed[k] = v
	}
	a.OutputFields = fixed
	if err2 := enc.Encode(a); err2 != nil {
		return fmt.Errorf("encoding alert %q: %w", a.Rule, err)
	}
	return nil
}
