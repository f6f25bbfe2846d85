package alert

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// httptest servers listen on 127.0.0.1; tests reach nothing else.

func TestWebhookPostsOneAlertPerRequest(t *testing.T) {
	var mu sync.Mutex
	var got []Alert
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("X-Token") != "s3cret" {
			http.Error(w, "bad request shape", http.StatusBadRequest)
			return
		}
		body, _ := io.ReadAll(r.Body)
		if strings.Contains(string(body), `\u003c`) {
			http.Error(w, "escaped <", http.StatusBadRequest)
			return
		}
		var a Alert
		if err := json.Unmarshal(body, &a); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, a)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	wh, err := NewWebhook(WebhookOptions{URL: srv.URL + "/hook", Headers: map[string]string{"X-Token": "s3cret"}})
	if err != nil {
		t.Fatal(err)
	}
	a, b := sampleAlert(), sampleAlert()
	b.Rule = "second"
	if err := wh.Send(t.Context(), []Alert{a, b}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Rule != a.Rule || got[1].Rule != "second" || got[0].Priority != PriorityCritical || !got[0].Time.Equal(t0) {
		t.Fatalf("received %+v", got)
	}
}

func TestWebhookFailures(t *testing.T) {
	var mu sync.Mutex
	n := 0
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		code := status
		if n == 1 {
			code = http.StatusOK
		}
		mu.Unlock()
		if code == http.StatusFound {
			// A redirect is reported, not followed (the POST would become a GET).
			w.Header().Set("Location", "/elsewhere")
		}
		w.WriteHeader(code)
		io.WriteString(w, "nope")
	}))
	defer srv.Close()
	wh, err := NewWebhook(WebhookOptions{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		status    int
		permanent bool
	}{{http.StatusInternalServerError, false}, {http.StatusTooManyRequests, false}, {http.StatusBadRequest, true}, {http.StatusFound, true}} {
		mu.Lock()
		n, status = 0, c.status
		mu.Unlock()
		err := wh.Send(t.Context(), []Alert{sampleAlert(), sampleAlert()})
		var pe *PartialError
		if !errors.As(err, &pe) || pe.Sent != 1 {
			t.Fatalf("status %d: err = %v, want a PartialError after 1 sent", c.status, err)
		}
		if IsPermanent(err) != c.permanent {
			t.Errorf("status %d: permanent = %v", c.status, IsPermanent(err))
		}
		if !strings.Contains(err.Error(), "nope") {
			t.Errorf("status %d: error lacks the body: %v", c.status, err)
		}
	}

	// Nothing listens on a closed server's port: a transport error.
	srv.Close()
	if err := wh.Send(t.Context(), []Alert{sampleAlert()}); err == nil || IsPermanent(err) {
		t.Fatalf("closed server: %v", err)
	}
}

func TestWebhookOptions(t *testing.T) {
	for _, u := range []string{"", "ftp://x/", "http://", "not a url", "localhost:2801"} {
		if _, err := NewWebhook(WebhookOptions{URL: u}); err == nil {
			t.Errorf("NewWebhook accepted URL %q", u)
		}
	}
	if _, err := NewWebhook(WebhookOptions{URL: "http://127.0.0.1:1/", Headers: map[string]string{"Bad Header": "x"}}); err == nil {
		t.Error("NewWebhook accepted a header name with a space")
	}
	_, err := NewWebhook(WebhookOptions{URL: "ftp://user:hunter2@127.0.0.1/"})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error shows the password: %v", err)
	}
}
