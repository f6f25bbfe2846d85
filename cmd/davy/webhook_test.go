package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/davyproject/davy/internal/testbed/testbedtest"
	"github.com/davyproject/davy/internal/testenv"
)

func TestWebhookBadFlags(t *testing.T) {
	dir := t.TempDir()
	bl := filepath.Join(dir, "blocklist")
	if err := os.WriteFile(bl, []byte("registry.test/ok:1\nsha256:12\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cert, key := selfSigned(t)
	cases := map[string]struct {
		args []string
		want string
	}{
		"mode":      {[]string{"webhook", "--mode", "block", "--tls-cert", cert, "--tls-key", key}, `mode "block"`},
		"no tls":    {[]string{"webhook"}, "--tls-cert and --tls-key are required"},
		"blocklist": {[]string{"webhook", "--tls-cert", cert, "--tls-key", key, "--blocklist", bl}, "line 2: digest"},
		"budget":    {[]string{"webhook", "--tls-cert", cert, "--tls-key", key, "--scan-budget", "0s"}, "--scan-budget"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, stderr, code := runDavy(t, c.args...)
			if code != 1 || !strings.Contains(stderr, c.want) {
				t.Fatalf("code %d, stderr %q, want %q", code, stderr, c.want)
			}
		})
	}
}

// TestWebhookCommandServes runs `davy webhook` on loopback, refuses a pod
// with a stratum URL over HTTPS, counts it in /metrics and stops cleanly
// on SIGTERM.
func TestWebhookCommandServes(t *testing.T) {
	cert, key := selfSigned(t)
	addr, metrics := testbedtest.FreeAddr(t), testbedtest.FreeAddr(t)
	var stderr bytes.Buffer
	cmd := exec.Command(davy(t), "webhook", "--listen", addr, "--metrics-listen", metrics, "--tls-cert", cert, "--tls-key", key,
		"--cache-dir", t.TempDir(), "--log-level", "info")
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	pem, err := os.ReadFile(cert)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	review := `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-1","kind":{"version":"v1","kind":"Pod"},` +
		`"resource":{"version":"v1","resource":"pods"},"operation":"CREATE","namespace":"shop",` +
		`"object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"app","image":"registry.test/app:1","args":["-o","stratum+tcp://127.0.0.1:3333"]}]}}}}`
	var body string
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := hc.Post("https://"+addr+"/validate", "application/json", strings.NewReader(review))
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = string(b)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhook never answered: %v\n%s", err, stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(body, `"uid":"u-1"`) || !strings.Contains(body, `"allowed":false`) || !strings.Contains(body, "[StratumURL]") {
		t.Fatalf("response %s", body)
	}
	resp, err := http.Get("http://" + metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(m), `davy_webhook_requests_total{result="denied"} 1`) {
		t.Errorf("metrics without the denial:\n%s", m)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("still running 15 s after SIGTERM\n%s", stderr.String())
	}
}

// selfSigned writes a serving certificate for 127.0.0.1.
func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	certFile, keyFile, _, err := testenv.WriteLoopbackCert(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}
