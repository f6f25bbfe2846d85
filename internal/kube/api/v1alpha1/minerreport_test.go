package v1alpha1_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/davyproject/davy/internal/kube/api/v1alpha1"
	"github.com/davyproject/davy/internal/testenv/kube"
)

// One API server for the whole package: it is the slow part (3-5 s).
func TestMinerReportAPI(t *testing.T) {
	env := kube.Start(t)
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(env.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// Namespaces exist in envtest, but "default" is the only one made for
	// us; the reports' namespace is the workload's, here default.
	const ns = "default"

	t.Run("CreateGetUpdateStatusList", func(t *testing.T) { testLifecycle(ctx, t, c, ns) })
	t.Run("ValidationRejects", func(t *testing.T) { testValidation(ctx, t, c, ns) })
	t.Run("KubectlPrinterColumns", func(t *testing.T) { testKubectl(ctx, t, env, c, ns) })
}

func newReport(ns, name string) *v1alpha1.MinerReport {
	return &v1alpha1.MinerReport{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.MinerReportSpec{Workload: v1alpha1.Workload{
			Kind: "Deployment", Namespace: ns, Name: name,
			Owners:       []v1alpha1.OwnerRef{{Kind: "ReplicaSet", Name: name + "-5d9c"}, {Kind: "Deployment", Name: name}},
			Node:         "node-1",
			ContainerIDs: []string{"containerd://0123abcd"},
			ImageDigests: []string{"sha256:" + strings.Repeat("a", 64)},
		}},
	}
}

func testLifecycle(ctx context.Context, t *testing.T, c client.Client, ns string) {
	r := newReport(ns, "xmrig-deploy")
	if err := c.Create(ctx, r); err != nil {
		t.Fatalf("create: %v", err)
	}

	now := metav1.NewTime(time.Now().Truncate(time.Second))
	r.Status = v1alpha1.MinerReportStatus{
		Verdict: v1alpha1.VerdictMiner,
		Score:   97,
		Evidence: []v1alpha1.Evidence{{
			ID: "DAVY-C001", Severity: "CRITICAL", Message: "stratum connection",
			Values: map[string]string{"pool": "pool.example:3333"},
		}},
		FirstSeen:      &now,
		LastSeen:       &now,
		Actions:        []v1alpha1.Action{{Action: "scale-to-zero", DryRun: true, Done: false, Time: now, Message: "dry run"}},
		ReportingNodes: []string{"node-1", "node-2"},
	}
	if err := c.Status().Update(ctx, r); err != nil {
		t.Fatalf("status update: %v", err)
	}

	var got v1alpha1.MinerReport
	if err := c.Get(ctx, client.ObjectKeyFromObject(r), &got); err != nil {
		t.Fatalf("get: %v", err)
	}
	if got.Status.Verdict != v1alpha1.VerdictMiner || got.Status.Score != 97 ||
		len(got.Status.Evidence) != 1 || got.Status.Evidence[0].Values["pool"] != "pool.example:3333" ||
		!got.Status.LastSeen.Equal(&now) || len(got.Status.Actions) != 1 || !got.Status.Actions[0].DryRun ||
		len(got.Spec.Workload.Owners) != 2 || len(got.Status.ReportingNodes) != 2 {
		t.Fatalf("read back %+v", got)
	}

	// A plain update cannot change the status: it belongs to the subresource.
	got.Status.Score = 1
	got.Spec.Workload.Node = "node-2"
	if err := c.Update(ctx, &got); err != nil {
		t.Fatalf("update: %v", err)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(r), &got); err != nil {
		t.Fatalf("get: %v", err)
	}
	if got.Status.Score != 97 || got.Spec.Workload.Node != "node-2" {
		t.Fatalf("after a spec update: score %d node %q, want 97 node-2", got.Status.Score, got.Spec.Workload.Node)
	}

	if err := c.Create(ctx, newReport(ns, "other")); err != nil {
		t.Fatalf("create: %v", err)
	}
	var list v1alpha1.MinerReportList
	if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil {
		t.Fatalf("list: %v", err)
	}
	names := map[string]bool{}
	for _, it := range list.Items {
		names[it.Name] = true
	}
	if !names["xmrig-deploy"] || !names["other"] {
		t.Fatalf("list has %v", names)
	}
}

func testValidation(ctx context.Context, t *testing.T, c client.Client, ns string) {
	r := newReport(ns, "to-validate")
	if err := c.Create(ctx, r); err != nil {
		t.Fatalf("create: %v", err)
	}
	cases := []struct {
		name   string
		mutate func(*v1alpha1.MinerReport)
		field  string
	}{
		{"score 101", func(r *v1alpha1.MinerReport) { r.Status.Score = 101 }, "status.score"},
		{"score -1", func(r *v1alpha1.MinerReport) { r.Status.Score = -1 }, "status.score"},
		{"unknown verdict", func(r *v1alpha1.MinerReport) { r.Status.Verdict = "maybe" }, "status.verdict"},
		{"unknown action", func(r *v1alpha1.MinerReport) {
			r.Status.Actions = []v1alpha1.Action{{Action: "reboot", Time: metav1.Now()}}
		}, "status.actions[0].action"},
		{"too many evidence items", func(r *v1alpha1.MinerReport) {
			for i := 0; i < 65; i++ {
				r.Status.Evidence = append(r.Status.Evidence, v1alpha1.Evidence{ID: "DAVY-X"})
			}
		}, "status.evidence"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var cur v1alpha1.MinerReport
			if err := c.Get(ctx, client.ObjectKeyFromObject(r), &cur); err != nil {
				t.Fatal(err)
			}
			cur.Status.Verdict = v1alpha1.VerdictClean
			tc.mutate(&cur)
			err := c.Status().Update(ctx, &cur)
			if !apierrors.IsInvalid(err) {
				t.Fatalf("status update = %v, want an Invalid error", err)
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("error does not name %s: %v", tc.field, err)
			}
		})
	}

	t.Run("spec without workload name", func(t *testing.T) {
		bad := newReport(ns, "no-name")
		bad.Spec.Workload.Name = ""
		err := c.Create(ctx, bad)
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.workload.name") {
			t.Fatalf("create = %v, want Invalid on spec.workload.name", err)
		}
	})
}

func testKubectl(ctx context.Context, t *testing.T, env *kube.Env, c client.Client, ns string) {
	r := newReport(ns, "kubectl-shown")
	if err := c.Create(ctx, r); err != nil {
		t.Fatalf("create: %v", err)
	}
	r.Status.Verdict, r.Status.Score = v1alpha1.VerdictSuspicious, 55
	if err := c.Status().Update(ctx, r); err != nil {
		t.Fatalf("status update: %v", err)
	}

	cmd := exec.CommandContext(ctx, filepath.Join(env.BinDir, "kubectl"),
		"--kubeconfig", env.Kubeconfig, "get", "minerreports", "-n", ns)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl get minerreports: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if !regexp.MustCompile(`^NAME\s+VERDICT\s+SCORE\s+WORKLOAD\s+AGE$`).MatchString(lines[0]) {
		t.Fatalf("header %q, want NAME VERDICT SCORE WORKLOAD AGE\n%s", lines[0], out)
	}
	row := regexp.MustCompile(`(?m)^kubectl-shown\s+suspicious\s+55\s+kubectl-shown\s+\S+$`)
	if !row.Match(out) {
		t.Fatalf("no row for kubectl-shown in:\n%s", out)
	}
}
