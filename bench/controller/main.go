// Command controller measures davy controller on a real API server (etcd
// and kube-apiserver, as the tests run them) holding many pods and
// MinerReports: the manager's cache sync, a pass over every report, and
// the memory both take. It runs a small cluster and a large one (by
// default 1,000 pods and 200 reports, then 5,000 and 1,000) in one run and
// prints the ratios, so a reader sees how cost grows with the cluster.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	goruntime "runtime"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/procfs"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/davyproject/davy/internal/kube/api/v1alpha1"
	"github.com/davyproject/davy/internal/kube/controller"
	"github.com/davyproject/davy/internal/kube/pods"
	"github.com/davyproject/davy/internal/kube/reporter"
	"github.com/davyproject/davy/internal/testenv/kube"
)

func main() {
	small := flag.Int("small-pods", 1000, "pods in the small cluster")
	large := flag.Int("pods", 5000, "pods in the large cluster")
	perReport := flag.Int("pods-per-report", 5, "pods per report (reports = pods / this)")
	flag.Parse()
	if err := run(*small, *large, *perReport); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type result struct {
	pods, reports int
	sync          time.Duration
	firstPass     time.Duration
	pass          time.Duration
	heap          uint64 // live heap after the passes, less the baseline
	rss           uint64
}

func run(small, large, perReport int) error {
	bin, err := kube.APIServerBinaries()
	if err != nil {
		return err
	}
	var results []result
	for _, n := range []int{small, large} {
		// A fresh API server per size, so the sizes do not share a cache.
		env, stop, err := kube.Run(bin)
		if err != nil {
			return err
		}
		r, err := measure(env.Config, n, n/perReport)
		if serr := stop(); err == nil {
			err = serr
		}
		if err != nil {
			return err
		}
		results = append(results, r)
		goruntime.GC()
	}
	fmt.Printf("%-8s %-8s %-10s %-11s %-10s %-12s %-10s\n", "pods", "reports", "cache sync", "first pass", "pass", "live heap", "RSS")
	for _, r := range results {
		fmt.Printf("%-8d %-8d %-10s %-11s %-10s %-12s %-10s\n", r.pods, r.reports, r.sync.Round(time.Millisecond),
			r.firstPass.Round(time.Millisecond), r.pass.Round(time.Millisecond), mib(r.heap), mib(r.rss))
	}
	a, b := results[0], results[1]
	scale := float64(b.pods) / float64(a.pods)
	fmt.Printf("\nlarge/small: %.1fx the pods -> pass %.2fx, live heap %.2fx, RSS %.2fx\n", scale,
		float64(b.pass)/float64(a.pass), float64(b.heap)/float64(a.heap), float64(b.rss)/float64(a.rss))
	fmt.Printf("live heap per pod (large): %.1f KiB; bar: 5,000 pods and 1,000 reports in under 256 MiB RSS: %s\n",
		float64(b.heap)/float64(b.pods)/1024, pass(b.rss < 256<<20))
	return nil
}

func pass(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func measure(cfg *rest.Config, nPods, nReports int) (result, error) {
	ctx := context.Background()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return result{}, err
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return result{}, err
	}
	fast := rest.CopyConfig(cfg)
	fast.QPS, fast.Burst = 2000, 4000
	direct, err := client.New(fast, client.Options{Scheme: scheme})
	if err != nil {
		return result{}, err
	}
	fmt.Fprintf(os.Stderr, "creating %d pods and %d reports...\n", nPods, nReports)
	created, err := populate(ctx, direct, nPods, nReports)
	if err != nil {
		return result{}, err
	}

	goruntime.GC()
	var base goruntime.MemStats
	goruntime.ReadMemStats(&base)

	mgr, err := controller.NewManager(cfg, controller.ManagerOptions{Scheme: scheme, Log: quiet()})
	if err != nil {
		return result{}, err
	}
	mctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- mgr.Start(mctx) }()
	if !mgr.GetCache().WaitForCacheSync(mctx) {
		return result{}, fmt.Errorf("cache did not start")
	}
	// Pods and reports are what a pass reads: the first List of each
	// starts its informer and waits for it to sync.
	if err := mgr.GetCache().List(mctx, &corev1.PodList{}); err != nil {
		return result{}, err
	}
	if err := mgr.GetCache().List(mctx, &v1alpha1.MinerReportList{}); err != nil {
		return result{}, err
	}
	r := result{pods: nPods, reports: nReports, sync: time.Since(start)}

	rep := reporter.New(reporter.Options{Client: direct, QPS: 2000, Burst: 4000, MaxPending: 2 * nReports, Log: quiet()})
	go rep.Run(mctx)
	ctl := controller.New(controller.Options{
		Client: mgr.GetClient(), Reports: rep,
		Remediator: controller.NewRemediator(direct, false, 10, quiet()),
		Resolver:   pods.NewResolver(controller.CachedGetter(mgr.GetCache())),
		Log:        quiet(),
	})
	t := time.Now()
	st := ctl.Pass(mctx)
	r.firstPass = time.Since(t)
	if st.Reports != created || len(st.Degraded) > 0 {
		return result{}, fmt.Errorf("first pass saw %d reports of %d: %+v", st.Reports, created, st.Degraded)
	}
	const passes = 3
	t = time.Now()
	for range passes {
		ctl.Pass(mctx)
	}
	r.pass = time.Since(t) / passes

	goruntime.GC()
	var after goruntime.MemStats
	goruntime.ReadMemStats(&after)
	if after.HeapAlloc > base.HeapAlloc {
		r.heap = after.HeapAlloc - base.HeapAlloc
	}
	if p, err := procfs.Self(); err == nil {
		if s, err := p.NewStatus(); err == nil {
			r.rss = s.VmHWM
		}
	}
	cancel()
	<-done
	return r, nil
}

// populate creates pods spread over namespaces, each reporting a
// container, and one MinerReport per perReport pods: most suspicious, one
// in ten a fresh miner (which the default policy alerts on).
func populate(ctx context.Context, c client.Client, nPods, nReports int) (int, error) {
	const namespaces = 50
	for i := range namespaces {
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("ns-%02d", i)}}); err != nil {
			return 0, err
		}
	}
	work := make(chan int)
	errs := make(chan error, 16)
	var wg sync.WaitGroup
	var mu sync.Mutex
	reports := 0
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := onePod(ctx, c, i, nPods, nReports, &mu, &reports); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for i := range nPods {
		work <- i
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		return 0, err
	default:
	}
	return reports, nil
}

func onePod(ctx context.Context, c client.Client, i, nPods, nReports int, mu *sync.Mutex, reports *int) error {
	ns := fmt.Sprintf("ns-%02d", i%50)
	id := fmt.Sprintf("%064x", i+1)
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("app-%d", i), Labels: map[string]string{"app": fmt.Sprintf("app-%d", i%200), "tier": "web"}},
		Spec: corev1.PodSpec{NodeName: fmt.Sprintf("node-%d", i%20), Containers: []corev1.Container{
			{Name: "main", Image: "registry.test/app:1", Args: []string{"--port", "8080"}},
			{Name: "sidecar", Image: "registry.test/proxy:2"},
		}},
	}
	if err := c.Create(ctx, p); err != nil {
		return fmt.Errorf("pod %d: %w", i, err)
	}
	p.Status.ContainerStatuses = []corev1.ContainerStatus{
		{Name: "main", ContainerID: "containerd://" + id, Image: "registry.test/app:1", ImageID: "registry.test/app@sha256:" + strings.Repeat("a", 64)},
		{Name: "sidecar", ContainerID: "containerd://" + strings.Repeat("f", 32) + id[32:], Image: "registry.test/proxy:2"},
	}
	if err := c.Status().Update(ctx, p); err != nil {
		return fmt.Errorf("pod %d status: %w", i, err)
	}
	step := nPods / nReports
	if step == 0 || i%step != 0 || i/step >= nReports {
		return nil
	}
	verdict, score := v1alpha1.VerdictSuspicious, int32(45)
	ev := []v1alpha1.Evidence{{ID: "DAVY-B001", Message: "CPU near the limit"}, {ID: "DAVY-P001", Message: "runs from /tmp"}}
	if (i/step)%10 == 0 {
		verdict, score = v1alpha1.VerdictMiner, 97
		ev = append(ev, v1alpha1.Evidence{ID: "DAVY-I001", Message: "miner content"})
	}
	now := metav1.Now()
	rep := &v1alpha1.MinerReport{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pod-" + p.Name},
		Spec:       v1alpha1.MinerReportSpec{Workload: v1alpha1.Workload{Kind: "Pod", Namespace: ns, Name: p.Name, Node: p.Spec.NodeName, ContainerIDs: []string{id}}},
	}
	if err := c.Create(ctx, rep); err != nil {
		return fmt.Errorf("report %d: %w", i, err)
	}
	rep.Status = v1alpha1.MinerReportStatus{Verdict: verdict, Score: score, Evidence: ev, FirstSeen: &now, LastSeen: &now, ReportingNodes: []string{p.Spec.NodeName}}
	if err := c.Status().Update(ctx, rep); err != nil {
		return fmt.Errorf("report %d status: %w", i, err)
	}
	mu.Lock()
	*reports++
	mu.Unlock()
	return nil
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }
