package detect

import (
	"context"
	"runtime"
	"sort"
	"sync"

	"github.com/davyproject/davy/internal/finding"
)

// Assessment is the verdict on one workload with the evidence behind it.
type Assessment struct {
	Workload *Workload
	Verdict  finding.Verdict
	Score    int
	Evidence []finding.Evidence
}

// Run applies the detectors to every workload, a few workloads at a time,
// and returns the assessments worst first.
func Run(ctx context.Context, env *Env, dets []Detector, ws []*Workload, th Thresholds, ignore map[string]bool) []Assessment {
	out := make([]Assessment, len(ws))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range max(1, min(runtime.GOMAXPROCS(0), 4)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				out[i] = Assess(ctx, env, dets, ws[i], th, ignore)
			}
		}()
	}
	for i := range ws {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	SortAssessments(out)
	return out
}

// Assess runs the detectors on one workload, dropping ignored evidence IDs.
func Assess(ctx context.Context, env *Env, dets []Detector, w *Workload, th Thresholds, ignore map[string]bool) Assessment {
	var ev []finding.Evidence
	for _, d := range dets {
		if ctx.Err() != nil {
			break
		}
		for _, e := range d.Detect(ctx, env, w) {
			if !ignore[e.ID] {
				ev = append(ev, e)
			}
		}
	}
	finding.SortEvidence(ev)
	score, verdict := Score(ev, th)
	return Assessment{Workload: w, Verdict: verdict, Score: score, Evidence: ev}
}

// SortAssessments orders worst first, then busiest, then by ID.
func SortAssessments(as []Assessment) {
	sort.SliceStable(as, func(i, j int) bool {
		a, b := as[i], as[j]
		if a.Verdict.Rank() != b.Verdict.Rank() {
			return a.Verdict.Rank() > b.Verdict.Rank()
		}
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		if ca, cb := a.Workload.CPU(), b.Workload.CPU(); ca != cb {
			return ca > cb
		}
		return a.Workload.ID < b.Workload.ID
	})
}
