package agent

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/davyproject/davy/internal/detect"
	"github.com/davyproject/davy/internal/finding"
	"github.com/davyproject/davy/internal/kube/api/v1alpha1"
	"github.com/davyproject/davy/internal/kube/reporter"
	"github.com/davyproject/davy/internal/respond"
)

// report hands a verdict on a pod's workload to the reporter, which folds
// repeats into few writes of the workload's MinerReport.
func (a *Agent) report(as *detect.Assessment, info *procInfo, actions ...v1alpha1.Action) {
	if a.o.Reports == nil || info.pod == nil || (as.Verdict == finding.VerdictClean && len(actions) == 0) {
		return
	}
	a.o.Reports.Report(reporter.Observation{
		Pod: info.pod, ContainerID: info.container.ID,
		Verdict: as.Verdict, Score: as.Score, Evidence: as.Evidence,
		Actions: actions,
	})
}

// reportAction records a node response in the workload's report.
func reportAction(res respond.Result, status string) v1alpha1.Action {
	return v1alpha1.Action{
		Action:  string(res.Action),
		DryRun:  res.DryRun,
		Done:    res.Done,
		Time:    metav1.NewTime(time.Now().UTC().Truncate(time.Second)),
		Message: status,
	}
}
