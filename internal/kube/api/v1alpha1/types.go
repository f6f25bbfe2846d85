package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Verdict is a workload's verdict, as in internal/finding.
type Verdict string

// The verdicts; the CRD schema's enum lists the same three.
const (
	VerdictMiner      Verdict = "miner"
	VerdictSuspicious Verdict = "suspicious"
	VerdictClean      Verdict = "clean"
)

// MinerReport is Davy's report on one workload (a Deployment, a bare Pod, a
// CronJob...): agents on every node that run it write to the same object, so
// a workload spread over many nodes makes one report.
type MinerReport struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   MinerReportSpec   `json:"spec"`
	Status MinerReportStatus `json:"status,omitempty"`
}

// MinerReportSpec names the workload the report is about; it changes only
// when the workload's pods do.
type MinerReportSpec struct {
	Workload Workload `json:"workload"`
}

// Workload identifies the reported workload and what it runs.
type Workload struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Owners is the owner chain from the pod up to the top controller, so
	// remediation knows what to scale without looking it up again.
	Owners       []OwnerRef `json:"owners,omitempty"`
	Node         string     `json:"node,omitempty"`
	ContainerIDs []string   `json:"containerIDs,omitempty"`
	ImageDigests []string   `json:"imageDigests,omitempty"`
}

// OwnerRef is one link of an owner chain.
type OwnerRef struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// MinerReportStatus is what Davy concluded and did; it is written through
// the status subresource, so writers of the spec cannot change it by accident.
type MinerReportStatus struct {
	Verdict Verdict `json:"verdict,omitempty"`
	// Score is 0-100, as detect.Score gives it.
	Score          int32        `json:"score"`
	Evidence       []Evidence   `json:"evidence,omitempty"`
	FirstSeen      *metav1.Time `json:"firstSeen,omitempty"`
	LastSeen       *metav1.Time `json:"lastSeen,omitempty"`
	Actions        []Action     `json:"actions,omitempty"`
	ReportingNodes []string     `json:"reportingNodes,omitempty"`
}

// Evidence is one matched signal, as finding.Evidence: a stable ID such as
// DAVY-C001, its severity, a message and the values behind it.
type Evidence struct {
	ID       string            `json:"id"`
	Severity string            `json:"severity,omitempty"`
	Message  string            `json:"message,omitempty"`
	Values   map[string]string `json:"values,omitempty"`
}

// Action is one remediation step, recorded whether or not it was a dry run.
type Action struct {
	// Action is a controller remediation (alert, quarantine, delete,
	// scale-to-zero) or a node response by an agent (freeze, kill).
	Action  string      `json:"action"`
	DryRun  bool        `json:"dryRun"`
	Done    bool        `json:"done"`
	Time    metav1.Time `json:"time"`
	Message string      `json:"message,omitempty"`
}

// MinerReportList is a list of MinerReports.
type MinerReportList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []MinerReport `json:"items"`
}
