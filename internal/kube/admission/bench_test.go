package admission

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
)

// BenchmarkHandlerCached is one review of a two-container pod whose images
// are cached: the webhook's steady state.
func BenchmarkHandlerCached(b *testing.B) {
	fs := scanner()
	h, err := New(Options{Scanner: fs})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	p := pod("shop", ctr("app", cleanImage, "--listen=:8080"), ctr("side", "registry.test/davy/proxy:2", "--upstream=127.0.0.1:8080"))
	body := reviewBody(b, admissionv1.Create, p, nil)
	serve := func() {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, Path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("HTTP %d", rec.Code)
		}
	}
	serve() // scans and caches both images
	h.verdicts.wg.Wait()
	b.ReportAllocs()
	for b.Loop() {
		serve()
	}
}
