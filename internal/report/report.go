// Package report turns assessments into what people and programs read:
// a table for terminals and a JSON document with a stable schema.
package report

import (
	"fmt"
	"io"
	"time"

	"github.com/davyproject/davy/internal/detect"
	"github.com/davyproject/davy/internal/finding"
)

// HostSchema names the JSON document's version; it changes only when a
// field is removed or changes meaning (new fields may appear at any time).
const HostSchema = "davy.dev/scan-host/v1"

// HostReport is the result of `davy scan host`, in the shape `-o json` prints.
type HostReport struct {
	Schema    string         `json:"schema"`
	Hostname  string         `json:"hostname"`
	Taken     time.Time      `json:"taken"`
	Window    string         `json:"window"`
	CPUs      int            `json:"cpus"`
	Detectors []string       `json:"detectors"`
	Summary   map[string]int `json:"summary"`
	// Skipped counts what could not be read, by reason.
	Skipped   map[string]int `json:"skipped,omitempty"`
	Workloads []Workload     `json:"workloads"`
}

// Workload is one container or bare process with its verdict.
type Workload struct {
	Kind     string             `json:"kind"`
	ID       string             `json:"id"`
	Name     string             `json:"name"`
	Runtime  string             `json:"runtime,omitempty"`
	PodUID   string             `json:"pod_uid,omitempty"`
	QoS      string             `json:"qos,omitempty"`
	PIDs     []int              `json:"pids"`
	Verdict  finding.Verdict    `json:"verdict"`
	Score    int                `json:"score"`
	CPU      CPU                `json:"cpu"`
	Evidence []finding.Evidence `json:"evidence"`
	// Processes describes each PID, so a reader need not look them up.
	Processes []Process `json:"processes"`
}

// CPU is a workload's CPU use over the window.
type CPU struct {
	Cores float64 `json:"cores"`
	// Limit is the container's limit in cores; 0 means none.
	Limit float64 `json:"limit,omitempty"`
	Ratio float64 `json:"ratio,omitempty"`
}

// Process is the short description of one process.
type Process struct {
	PID     int      `json:"pid"`
	PPID    int      `json:"ppid"`
	Comm    string   `json:"comm"`
	Exe     string   `json:"exe"`
	Cmdline []string `json:"cmdline"`
	UID     int      `json:"uid"`
	CPU     float64  `json:"cpu_cores"`
}

// NewWorkload converts an assessment.
func NewWorkload(a detect.Assessment) Workload {
	w := a.Workload
	out := Workload{
		Kind: w.Kind, ID: w.ID, Name: w.Name, PIDs: w.PIDs(),
		Verdict: a.Verdict, Score: a.Score, Evidence: a.Evidence,
		CPU: CPU{Cores: round2(w.CPU())},
	}
	if out.Evidence == nil {
		out.Evidence = []finding.Evidence{}
	}
	if c := w.Container; c != nil {
		out.Runtime, out.PodUID, out.QoS = string(c.Runtime), c.PodUID, c.QoS
		out.CPU.Limit, out.CPU.Ratio = round2(c.CPULimit), round2(c.CPURatio())
	}
	for _, p := range w.Processes {
		out.Processes = append(out.Processes, Process{PID: p.PID, PPID: p.PPID, Comm: p.Comm, Exe: p.Exe, Cmdline: p.Cmdline, UID: p.UID, CPU: round2(p.CPU)})
	}
	return out
}

// Summarize counts workloads per verdict.
func Summarize(ws []Workload) map[string]int {
	s := map[string]int{string(finding.VerdictMiner): 0, string(finding.VerdictSuspicious): 0, string(finding.VerdictClean): 0}
	for _, w := range ws {
		s[string(w.Verdict)]++
	}
	return s
}

func round2(f float64) float64 {
	return float64(int64(f*100+0.5)) / 100
}

// HostWriter renders a host report in one format.
type HostWriter interface {
	WriteHost(w io.Writer, r *HostReport) error
}

// Options tune the writers.
type Options struct {
	// All shows clean workloads in the table too.
	All bool
	// Reasons is how many evidence lines the table shows per workload.
	Reasons int
	// Version is davy's version, for SARIF's tool.driver.version.
	Version string
}

// NewHost returns the host report writer for a format name.
func NewHost(format string, opts Options) (HostWriter, error) {
	switch format {
	case "table", "":
		return tableWriter{opts}, nil
	case "json":
		return jsonWriter{}, nil
	}
	return nil, fmt.Errorf("unknown output format %q (known: table, json)", format)
}

// NewImage returns the image report writer for a format name.
func NewImage(format string, opts Options) (ImageWriter, error) {
	switch format {
	case "table", "":
		return tableWriter{opts}, nil
	case "json":
		return jsonWriter{}, nil
	case "sarif":
		return sarifWriter{version: opts.Version}, nil
	}
	return nil, fmt.Errorf("unknown output format %q (known: table, json, sarif)", format)
}
