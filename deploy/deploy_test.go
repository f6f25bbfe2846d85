// Package deploy_test checks the chart, the plain manifests and the policy
// files: helm lint and helm template pass, every rendered object decodes
// strictly into its API type, and the guardrails the docs promise are in
// what is rendered.
package deploy_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"github.com/davyproject/davy/internal/testenv"
)

const chart = "chart/davy"

// helm returns the cached helm binary.
func helm(t *testing.T) string { return testenv.Helm(t) }

func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", filepath.Base(name), strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.Bytes()
}

func TestChartCRDsAreTheCanonicalOnes(t *testing.T) {
	entries, err := os.ReadDir("crds")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".yaml" {
			continue
		}
		want, _ := os.ReadFile(filepath.Join("crds", e.Name()))
		got, err := os.ReadFile(filepath.Join(chart, "crds", e.Name()))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s/crds/%s differs from crds/%s (copy it): %v", chart, e.Name(), e.Name(), err)
		}
	}
}

func TestHelmLint(t *testing.T) {
	out := run(t, helm(t), "lint", "--strict", chart)
	t.Logf("%s", out)
}

// objects decodes a rendered stream: kinds client-go knows strictly into
// their types (a misspelt field is an error), others as unstructured.
func objects(t *testing.T, stream []byte) []runtime.Object {
	t.Helper()
	codecs := serializer.NewCodecFactory(clientgoscheme.Scheme, serializer.EnableStrict)
	var out []runtime.Object
	for i, doc := range bytes.Split(stream, []byte("\n---")) {
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		obj, _, err := codecs.UniversalDeserializer().Decode(doc, nil, nil)
		if runtime.IsNotRegisteredError(err) {
			u := &unstructured.Unstructured{}
			if err := yaml.Unmarshal(doc, &u.Object); err != nil {
				t.Fatalf("document %d: %v\n%s", i, err, doc)
			}
			obj, err = u, nil
		}
		if err != nil {
			t.Fatalf("document %d: %v\n%s", i, err, doc)
		}
		out = append(out, obj)
	}
	return out
}

func stripComments(b []byte) []byte {
	var keep [][]byte
	for _, l := range bytes.Split(b, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(l), []byte("#")) {
			keep = append(keep, l)
		}
	}
	return bytes.Join(keep, []byte("\n"))
}

func template(t *testing.T, sets ...string) []runtime.Object {
	t.Helper()
	args := []string{"template", "davy", chart, "--namespace", "davy"}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	return objects(t, run(t, helm(t), args...))
}

func find[T runtime.Object](objs []runtime.Object, name string) (T, error) {
	for _, o := range objs {
		if x, ok := o.(T); ok {
			if m, ok := any(x).(interface{ GetName() string }); ok && strings.HasSuffix(m.GetName(), name) {
				return x, nil
			}
		}
	}
	var zero T
	return zero, fmt.Errorf("no %T named *%s", zero, name)
}

func TestHelmTemplateDefaults(t *testing.T) {
	objs := template(t)
	ds, err := find[*appsv1.DaemonSet](objs, "agent")
	if err != nil {
		t.Fatal(err)
	}
	pod := ds.Spec.Template.Spec
	c := pod.Containers[0]
	if !pod.HostPID || !pod.HostNetwork || c.SecurityContext == nil || *c.SecurityContext.Privileged {
		t.Errorf("agent: hostPID %v, privileged without eBPF: %+v", pod.HostPID, c.SecurityContext)
	}
	caps := c.SecurityContext.Capabilities
	if !slices.Equal(caps.Drop, []corev1.Capability{"ALL"}) || !slices.Contains(caps.Add, "SYS_PTRACE") || slices.Contains(caps.Add, "KILL") {
		t.Errorf("agent capabilities %+v", caps)
	}
	for _, m := range c.VolumeMounts {
		if (m.Name == "proc" || m.Name == "sys" || m.Name == "root") && !m.ReadOnly {
			t.Errorf("host %s mounted read-write with no response configured", m.Name)
		}
	}
	if !slices.Contains(c.Args, "--kube=on") || c.Env[0].ValueFrom.FieldRef.FieldPath != "spec.nodeName" {
		t.Errorf("agent args %v env %+v", c.Args, c.Env)
	}

	for _, o := range objs {
		if cr, ok := o.(*rbacv1.ClusterRole); ok {
			for _, r := range cr.Rules {
				if slices.Contains(r.Verbs, "*") || slices.Contains(r.Resources, "*") || slices.Contains(r.APIGroups, "*") {
					t.Errorf("ClusterRole %s grants %+v", cr.Name, r)
				}
				// Only the controller reads Secrets, for pull secrets, and
				// only by name.
				if slices.Contains(r.Resources, "secrets") && (!strings.HasSuffix(cr.Name, "controller") || !slices.Equal(r.Verbs, []string{"get"})) {
					t.Errorf("ClusterRole %s grants %+v", cr.Name, r)
				}
			}
		}
	}
	for _, o := range template(t, "controller.pullSecrets=false") {
		if cr, ok := o.(*rbacv1.ClusterRole); ok {
			for _, r := range cr.Rules {
				if slices.Contains(r.Resources, "secrets") {
					t.Errorf("ClusterRole %s reads Secrets with pullSecrets=false", cr.Name)
				}
			}
		}
	}

	vwc, err := find[*admissionregistrationv1.ValidatingWebhookConfiguration](objs, "webhook")
	if err != nil {
		t.Fatal(err)
	}
	w := vwc.Webhooks[0]
	excluded := w.NamespaceSelector.MatchExpressions[0].Values
	if *w.FailurePolicy != admissionregistrationv1.Ignore || !slices.Contains(excluded, "kube-system") || !slices.Contains(excluded, "davy") || len(w.ClientConfig.CABundle) == 0 {
		t.Errorf("webhook %+v, excluded namespaces %v", w, excluded)
	}
	ctl, err := find[*appsv1.Deployment](objs, "controller")
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(ctl.Spec.Template.Spec.Containers[0].Args, "--enforce") {
		t.Error("the controller enforces by default")
	}
	pol, err := find[*corev1.ConfigMap](objs, "policy")
	if err != nil || !strings.Contains(pol.Data["policy.yaml"], "defaultAction: alert") || !strings.Contains(pol.Data["policy.yaml"], "allowNamespaces") {
		t.Errorf("policy ConfigMap %v: %v", pol, err)
	}
}

func TestHelmTemplateEverythingOn(t *testing.T) {
	objs := template(t, "agent.ebpf=true", "agent.respond=freeze", "controller.enforce=true",
		"controller.prometheusURL=http://prometheus:9090", "serviceMonitor.enabled=true",
		"prometheusRule.enabled=true", "grafanaDashboard.enabled=true", "webhook.certManager.enabled=true",
		"webhook.blocklist={docker.io/*/xmrig*}", "exemptNamespaces={ci}")
	ds, err := find[*appsv1.DaemonSet](objs, "agent")
	if err != nil {
		t.Fatal(err)
	}
	if sc := ds.Spec.Template.Spec.Containers[0].SecurityContext; !*sc.Privileged {
		t.Error("agent not privileged with eBPF")
	}
	kinds := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		if u, ok := o.(*unstructured.Unstructured); ok {
			kinds[u.GetKind()] = u
		}
	}
	for _, k := range []string{"ServiceMonitor", "PrometheusRule", "Certificate", "Issuer"} {
		if kinds[k] == nil {
			t.Errorf("no %s rendered", k)
		}
	}
	rule, _ := yaml.Marshal(kinds["PrometheusRule"].Object)
	for _, want := range []string{"> 0.7", "for: 10m", `kube_pod_labels{label_davy_dev_expected_high_cpu="true"}`} {
		if !bytes.Contains(rule, []byte(want)) {
			t.Errorf("PrometheusRule lacks %q:\n%s", want, rule)
		}
	}
	dash, err := find[*corev1.ConfigMap](objs, "dashboard")
	if err != nil || !strings.Contains(dash.Data["davy.json"], "davy_controller_miner_workloads") {
		t.Errorf("dashboard: %v", err)
	}
	vwc, err := find[*admissionregistrationv1.ValidatingWebhookConfiguration](objs, "webhook")
	if err != nil {
		t.Fatal(err)
	}
	if vwc.Annotations["cert-manager.io/inject-ca-from"] == "" || !slices.Contains(vwc.Webhooks[0].NamespaceSelector.MatchExpressions[0].Values, "ci") {
		t.Errorf("webhook with cert-manager: %+v", vwc)
	}
}

// The plain manifests are the chart rendered by make manifests.
func TestManifestsAreUpToDate(t *testing.T) {
	got, err := os.ReadFile("manifests/davy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := run(t, "../scripts/render-manifests.sh", helm(t))
	if !bytes.Equal(got, want) {
		t.Error("deploy/manifests/davy.yaml is stale: run make manifests")
	}
	objs := objects(t, got)
	if _, err := find[*corev1.Namespace](objs, "davy"); err != nil {
		t.Error(err)
	}
	crds := 0
	for _, o := range objs {
		if u, ok := o.(*unstructured.Unstructured); ok && u.GetKind() == "CustomResourceDefinition" {
			crds++
		}
	}
	if crds == 0 {
		t.Error("the manifests hold no CRD")
	}
}

func TestPolicyFilesParse(t *testing.T) {
	for _, f := range []string{"policies/gatekeeper/davy-miners-template.yaml", "policies/gatekeeper/davy-miners-constraint.yaml", "policies/kyverno/davy-miners.yaml"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var u unstructured.Unstructured
		if err := yaml.UnmarshalStrict(b, &u.Object); err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if u.GetKind() == "" || u.GetName() == "" {
			t.Errorf("%s: no kind or name", f)
		}
	}
}
