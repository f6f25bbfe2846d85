package detect

import (
	"sort"
	"strconv"

	"github.com/davyproject/davy/internal/host"
)

// Workloads groups a snapshot into what verdicts are about: one workload per
// container with all its processes, and one per process outside containers.
func Workloads(s *host.Snapshot) []*Workload {
	byID := map[string]*Workload{}
	var out []*Workload
	for _, c := range s.Containers {
		w := &Workload{Kind: KindContainer, ID: c.ID, Name: shortID(c.ID), Container: c}
		byID[c.ID] = w
		out = append(out, w)
	}
	for _, p := range s.Processes {
		if p.ContainerID == "" {
			out = append(out, &Workload{Kind: KindProcess, ID: strconv.Itoa(p.PID), Name: p.Comm, Processes: []*host.Process{p}})
			continue
		}
		w, ok := byID[p.ContainerID]
		if !ok {
			// A process whose container vanished between reads still gets judged.
			w = &Workload{Kind: KindContainer, ID: p.ContainerID, Name: shortID(p.ContainerID)}
			byID[p.ContainerID] = w
			out = append(out, w)
		}
		w.Processes = append(w.Processes, p)
	}
	for _, w := range out {
		sort.Slice(w.Processes, func(i, j int) bool { return w.Processes[i].PID < w.Processes[j].PID })
	}
	return out
}

// PIDs lists the workload's process IDs.
func (w *Workload) PIDs() []int {
	out := make([]int, len(w.Processes))
	for i, p := range w.Processes {
		out[i] = p.PID
	}
	return out
}

// CPU is the workload's CPU use in cores over the window.
func (w *Workload) CPU() float64 {
	if w.Container != nil {
		return w.Container.CPU
	}
	var sum float64
	for _, p := range w.Processes {
		sum += p.CPU
	}
	return sum
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// Key names the workload across snapshots: a container by its ID, a bare
// process by its PID and start time, so that a reused PID is another
// workload.
func (w *Workload) Key() string {
	if w.Kind == KindContainer {
		return "container:" + w.ID
	}
	key := "process:" + w.ID
	if len(w.Processes) == 1 && w.Processes[0].StartTicks != 0 {
		key += "@" + strconv.FormatUint(w.Processes[0].StartTicks, 10)
	}
	return key
}
