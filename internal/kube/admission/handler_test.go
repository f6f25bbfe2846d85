package admission

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/davyproject/davy/internal/finding"
	"github.com/davyproject/davy/internal/testbed"
)

const (
	minerImage = "registry.test/davy/miner:1"
	cleanImage = "registry.test/davy/web:1"
)

func scanner() *fakeScanner {
	return &fakeScanner{verdicts: map[string]finding.Verdict{
		minerImage:                 finding.VerdictMiner,
		"registry.test/davy/odd:1": finding.VerdictSuspicious,
	}}
}

func TestWebhookChecks(t *testing.T) {
	bl, err := ParseBlocklist([]byte("# bad images\nregistry.test/blocked/*\n"))
	if err != nil {
		t.Fatal(err)
	}
	noLimit := ctr("app", cleanImage)
	noLimit.Resources = corev1.ResourceRequirements{}
	envPod := pod("shop", ctr("app", cleanImage))
	envPod.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "POOL", Value: "stratum+tcp://127.0.0.1:3333"}, {Name: "WALLET", Value: testbed.MoneroWallet}}
	initPod := pod("shop", ctr("app", cleanImage))
	initPod.Spec.InitContainers = []corev1.Container{ctr("setup", cleanImage, "-o", "stratum+ssl://127.0.0.1:4444")}
	cases := []struct {
		name    string
		pod     *corev1.Pod
		reasons []Reason // in order, deny and warn alike
	}{
		{"clean", pod("shop", ctr("app", cleanImage, "--port", "8080")), nil},
		{"miner image", pod("shop", ctr("app", minerImage)), []Reason{ReasonMinerImage}},
		{"suspicious image warns", pod("shop", ctr("app", "registry.test/davy/odd:1")), []Reason{ReasonSuspiciousImage}},
		{"blocklisted image", pod("shop", ctr("app", "registry.test/blocked/x:2")), []Reason{ReasonBlockedImage}},
		{"stratum in args", pod("shop", ctr("app", cleanImage, "-o", "stratum+tcp://127.0.0.1:3333")), []Reason{ReasonStratumURL}},
		{"wallet in args", pod("shop", ctr("app", cleanImage, "-u", testbed.MoneroWallet)), []Reason{ReasonWallet}},
		{"bitcoin wallet in args", pod("shop", ctr("app", cleanImage, "--user="+testbed.BitcoinBech32Wallet+".rig1")), []Reason{ReasonWallet}},
		{"unchecksummed hex is no wallet", pod("shop", ctr("app", cleanImage, "--contract", strings.ToLower(testbed.EthereumWallet))), nil},
		{"env", envPod, []Reason{ReasonStratumURL, ReasonWallet}},
		{"init container", initPod, []Reason{ReasonStratumURL}},
		{"no cpu limit", pod("shop", noLimit), []Reason{ReasonNoCPULimit}},
		{"bad image ref", pod("shop", ctr("app", "UPPER/Case:1")), []Reason{ReasonBadImageRef}},
	}
	for _, mode := range []Mode{ModeEnforce, ModeWarn} {
		h := newHandler(t, Options{Mode: mode, Blocklist: bl, RequireCPULimits: true, Scanner: scanner(), ScanBudget: 5 * time.Second})
		for _, c := range cases {
			t.Run(string(mode)+"/"+c.name, func(t *testing.T) {
				resp := post(t, h, reviewBody(t, admissionv1.Create, c.pod, nil))
				if resp.UID != "uid-CREATE" {
					t.Errorf("uid %q", resp.UID)
				}
				var got []string
				denies := false
				for _, r := range c.reasons {
					denies = denies || r.Denies()
				}
				text := strings.Join(resp.Warnings, "\n")
				if resp.Result != nil {
					text += "\n" + resp.Result.Message
				}
				for _, r := range c.reasons {
					if !strings.Contains(text, "["+string(r)+"]") {
						t.Errorf("no %s in %q", r, text)
					}
					got = append(got, string(r))
				}
				if len(c.reasons) == 0 && text != "" {
					t.Errorf("findings in a clean pod: %q", text)
				}
				wantAllowed := mode == ModeWarn || !denies
				if resp.Allowed != wantAllowed {
					t.Errorf("allowed %v, want %v (%q)", resp.Allowed, wantAllowed, text)
				}
				if !resp.Allowed && (resp.Result == nil || resp.Result.Code != http.StatusForbidden || !strings.Contains(resp.Result.Message, `container "`)) {
					t.Errorf("denial without a 403 naming the container: %+v", resp.Result)
				}
				for _, w := range resp.Warnings {
					if len(w) > maxWarning+3 {
						t.Errorf("warning of %d characters", len(w))
					}
				}
			})
		}
	}
}

func TestWebhookExemptNamespaces(t *testing.T) {
	h := newHandler(t, Options{ExemptNamespaces: []string{"davy"}, Scanner: scanner()})
	for _, ns := range []string{"kube-system", "davy"} {
		resp := post(t, h, reviewBody(t, admissionv1.Create, pod(ns, ctr("app", minerImage, "-o", "stratum+tcp://127.0.0.1:3333")), nil))
		if !resp.Allowed || len(resp.Warnings) > 0 {
			t.Errorf("%s: not exempt: %+v", ns, resp)
		}
	}
	resp := post(t, h, reviewBody(t, admissionv1.Create, pod("default", ctr("app", minerImage)), nil))
	if resp.Allowed {
		t.Error("default namespace exempt")
	}
}

func TestWebhookUpdateChecksChangedContainersOnly(t *testing.T) {
	h := newHandler(t, Options{Scanner: scanner()})
	old := pod("shop", ctr("app", cleanImage, "-o", "stratum+tcp://127.0.0.1:3333"))
	relabelled := old.DeepCopy()
	relabelled.Labels = map[string]string{"team": "a"}
	if resp := post(t, h, reviewBody(t, admissionv1.Update, relabelled, old)); !resp.Allowed {
		t.Errorf("a label change was judged: %+v", resp.Result)
	}
	debug := old.DeepCopy()
	debug.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "dbg", Image: minerImage}}}
	resp := post(t, h, reviewBody(t, admissionv1.Update, debug, old))
	if resp.Allowed || !strings.Contains(resp.Result.Message, `ephemeral container "dbg"`) || strings.Contains(resp.Result.Message, "StratumURL") {
		t.Errorf("ephemeral container: %+v", resp.Result)
	}
}

// TestWebhookScanBudget: a scan slower than the budget admits with a
// warning, goes on in the background (one scan for concurrent requests),
// and the next request hits the cache.
func TestWebhookScanBudget(t *testing.T) {
	fs := scanner()
	fs.release = make(chan struct{})
	h := newHandler(t, Options{Scanner: fs, ScanBudget: 50 * time.Millisecond})
	body := reviewBody(t, admissionv1.Create, pod("shop", ctr("app", minerImage), ctr("side", minerImage)), nil)
	for range 3 {
		resp := post(t, h, body)
		if !resp.Allowed || len(resp.Warnings) != 2 || !strings.Contains(resp.Warnings[0], "[ScanNotFinished]") || !strings.Contains(resp.Warnings[0], "did not finish") {
			t.Fatalf("over budget: %+v", resp)
		}
	}
	close(fs.release)
	deadline := time.Now().Add(5 * time.Second)
	for h.opts.Cache.Len() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	resp := post(t, h, body)
	if resp.Allowed || !strings.Contains(resp.Result.Message, `[MinerImage] container "app"`) || !strings.Contains(resp.Result.Message, `[MinerImage] container "side"`) {
		t.Fatalf("after the background scan, want both containers named: %+v", resp)
	}
	if n := fs.scans.Load(); n != 1 {
		t.Errorf("%d scans of one image, want 1", n)
	}
	// The digest the scan resolved is a key too.
	byDigest := "registry.test/davy/miner@sha256:" + fmtHex(minerImage)
	if resp := post(t, h, reviewBody(t, admissionv1.Create, pod("shop", ctr("app", byDigest)), nil)); resp.Allowed {
		t.Error("the same image by digest was admitted")
	}
	if n := fs.scans.Load(); n != 1 {
		t.Errorf("%d scans after a digest lookup, want 1", n)
	}
	m := h.metrics
	for name, c := range map[string]struct{ got, want float64 }{
		"scan timeouts":  {value(t, m.scanTimeouts), 3},
		"cache misses":   {value(t, m.cache.WithLabelValues("miss")), 3},
		"cache hits":     {value(t, m.cache.WithLabelValues("hit")), 2},
		"warned":         {value(t, m.requests.WithLabelValues(resultWarned)), 3},
		"denied":         {value(t, m.requests.WithLabelValues(resultDenied)), 2},
		"miner findings": {value(t, m.findings.WithLabelValues(string(ReasonMinerImage))), 3},
		"miner scans":    {value(t, m.scans.WithLabelValues("miner")), 1},
	} {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", name, c.got, c.want)
		}
	}
}

func TestWebhookBudgetFollowsAPIServerTimeout(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, Path+"?timeout=2s", nil)
	if b := budgetFor(r, 3*time.Second); b != 1500*time.Millisecond {
		t.Errorf("budget %v", b)
	}
	r = httptest.NewRequest(http.MethodPost, Path+"?timeout=30s", nil)
	if b := budgetFor(r, 3*time.Second); b != 3*time.Second {
		t.Errorf("budget %v", b)
	}
}

func TestWebhookBadRequests(t *testing.T) {
	h := newHandler(t, Options{Scanner: scanner()})
	good := string(reviewBody(t, admissionv1.Create, pod("shop", ctr("app", cleanImage)), nil))
	cases := []struct {
		name, body, ctype, want string
	}{
		{"content type", good, "text/plain", "want application/json"},
		{"empty", "", "application/json", "empty request body"},
		{"malformed", "{", "application/json", "malformed AdmissionReview"},
		{"api version", strings.Replace(good, "admission.k8s.io/v1", "admission.k8s.io/v1beta1", 1), "application/json", `apiVersion "admission.k8s.io/v1beta1"`},
		{"kind", strings.Replace(good, `"kind":"AdmissionReview"`, `"kind":"Pod"`, 1), "application/json", `kind "Pod": want AdmissionReview`},
		{"no request", `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`, "application/json", "no request"},
		{"no uid", strings.Replace(good, `"uid":"uid-CREATE"`, `"uid":""`, 1), "application/json", "no uid"},
		{"wrong resource", strings.Replace(good, `"kind":{"group":"","version":"v1","kind":"Pod"}`, `"kind":{"group":"apps","version":"v1","kind":"Deployment"}`, 1), "application/json", "want v1 Pod"},
		{"too big", `{"x":"` + strings.Repeat("a", MaxBodyBytes) + `"}`, "application/json", "exceeds 4 MiB"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, Path, bytes.NewReader([]byte(c.body)))
			req.Header.Set("Content-Type", c.ctype)
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), c.want) {
				t.Errorf("HTTP %d %q, want 400 with %q", rec.Code, rec.Body, c.want)
			}
		})
	}
}

func TestLRU(t *testing.T) {
	c := NewLRU(LRUOptions{MaxEntries: 2, TagTTL: time.Minute})
	now := time.Unix(1000, 0)
	c.now = func() time.Time { return now }
	c.Add(ImageVerdict{Verdict: finding.VerdictMiner}, "r/a:1", "sha256:aa")
	c.Add(ImageVerdict{Verdict: finding.VerdictClean}, "r/b:1")
	if _, ok := c.Get("r/a:1"); ok {
		t.Error("least recently used entry kept past MaxEntries")
	}
	if _, ok := c.Get("sha256:aa"); !ok {
		t.Error("digest key evicted before the older tag key")
	}
	now = now.Add(2 * time.Minute)
	if _, ok := c.Get("r/b:1"); ok {
		t.Error("tag entry outlived its TTL")
	}
	if _, ok := c.Get("sha256:aa"); !ok {
		t.Error("digest entry expired")
	}
}

func TestWebhookCapsFindings(t *testing.T) {
	h := newHandler(t, Options{Scanner: scanner()})
	p := pod("shop")
	for i := range 20 {
		p.Spec.Containers = append(p.Spec.Containers, ctr("c"+string(rune('a'+i)), cleanImage, "-o", "stratum+tcp://127.0.0.1:3333"))
	}
	resp := post(t, h, reviewBody(t, admissionv1.Create, p, nil))
	if resp.Allowed || strings.Count(resp.Result.Message, "[StratumURL]") != maxListed-1 || !strings.Contains(resp.Result.Message, "and 9 more findings") {
		t.Errorf("message %q", resp.Result.Message)
	}
}

// value reads a counter.
func value(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
