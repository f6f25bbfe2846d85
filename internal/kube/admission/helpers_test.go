package admission

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/davyproject/davy/internal/finding"
)

// fakeScanner returns fixed verdicts by reference after a delay, counting
// scans; it blocks until release is closed when release is set.
type fakeScanner struct {
	verdicts map[string]finding.Verdict
	delay    time.Duration
	release  chan struct{}
	scans    atomic.Int32
	mu       sync.Mutex
	seen     []string
}

func (f *fakeScanner) ScanImage(ctx context.Context, ref string) (ImageVerdict, error) {
	f.scans.Add(1)
	f.mu.Lock()
	f.seen = append(f.seen, ref)
	f.mu.Unlock()
	if f.release != nil {
		select {
		case <-f.release:
		case <-ctx.Done():
			return ImageVerdict{}, ctx.Err()
		}
	}
	select {
	case <-time.After(f.delay):
	case <-ctx.Done():
		return ImageVerdict{}, ctx.Err()
	}
	v, ok := f.verdicts[ref]
	if !ok {
		v = finding.VerdictClean
	}
	score := 0
	if v == finding.VerdictMiner {
		score = 97
	}
	return ImageVerdict{Ref: ref, Digest: "sha256:" + fmtHex(ref), Verdict: v, Score: score, Complete: true, Evidence: []string{"DAVY-I001 usr/bin/kworker"}}, nil
}

// fmtHex makes a fake, stable 64-hex digest from a string.
func fmtHex(s string) string {
	const hex = "0123456789abcdef"
	b := make([]byte, 64)
	for i := range b {
		c := byte(i)
		if len(s) > 0 {
			c += s[i%len(s)]
		}
		b[i] = hex[c%16]
	}
	return string(b)
}

func newHandler(t *testing.T, o Options) *Handler {
	t.Helper()
	h, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

func pod(ns string, containers ...corev1.Container) *corev1.Pod {
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: ns},
		Spec:       corev1.PodSpec{Containers: containers},
	}
}

func ctr(name, image string, args ...string) corev1.Container {
	return corev1.Container{Name: name, Image: image, Args: args,
		Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")}}}
}

func reviewBody(t testing.TB, op admissionv1.Operation, p, old *corev1.Pod) []byte {
	t.Helper()
	req := &admissionv1.AdmissionRequest{
		UID:       types.UID("uid-" + string(op)),
		Kind:      metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
		Resource:  metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
		Operation: op,
		Namespace: p.Namespace,
		Name:      p.Name,
	}
	raw, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	req.Object = runtime.RawExtension{Raw: raw}
	if old != nil {
		if req.OldObject.Raw, err = json.Marshal(old); err != nil {
			t.Fatal(err)
		}
	}
	b, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request:  req,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// post sends a body to the handler and decodes its response.
func post(t *testing.T, h http.Handler, body []byte) *admissionv1.AdmissionResponse {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, Path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("HTTP %d: %s", rec.Code, rec.Body)
	}
	var out admissionv1.AdmissionReview
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if out.APIVersion != "admission.k8s.io/v1" || out.Kind != "AdmissionReview" || out.Response == nil {
		t.Fatalf("bad response envelope: %s", rec.Body)
	}
	return out.Response
}
