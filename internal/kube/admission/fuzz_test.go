package admission

import (
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
)

// FuzzReview: decoding never panics, and whatever it accepts is a v1
// review of a Pod with a UID, whose handling never panics either.
func FuzzReview(f *testing.F) {
	f.Add(reviewBody(f, admissionv1.Create, pod("shop", ctr("app", "nginx:1", "-o", "stratum+tcp://127.0.0.1:3333")), nil))
	old := pod("shop", ctr("app", "nginx:1"))
	f.Add(reviewBody(f, admissionv1.Update, pod("shop", ctr("app", "nginx:2")), old))
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"version":"v1","kind":"Pod"},"operation":"DELETE"}}`))
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"version":"v1","kind":"Pod"},"operation":"CREATE","object":{"spec":{"containers":[{"image":"@@"}]}}}}`))
	h, err := New(Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(h.Close)
	f.Fuzz(func(t *testing.T, b []byte) {
		rev, err := decodeReview(b)
		if err != nil {
			return
		}
		if rev.req == nil || rev.req.UID == "" || rev.req.Kind.Kind != "Pod" {
			t.Fatalf("accepted %+v", rev.req)
		}
		resp := h.review(t.Context(), rev, 0)
		if resp.UID != rev.req.UID {
			t.Fatalf("uid %q, want %q", resp.UID, rev.req.UID)
		}
	})
}
