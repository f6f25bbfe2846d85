package admission

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	admissionregv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/davyproject/davy/internal/testbed/testbedtest"
	"github.com/davyproject/davy/internal/testenv"
	"github.com/davyproject/davy/internal/testenv/kube"
)

// TestWebhookAgainstAPIServer registers the webhook with a real API server
// and creates pods through it: a miner image (built from the testbed's
// miner and pushed to a registry on loopback) and a stratum URL in args are
// refused, an image of ordinary files is admitted, and in warn mode the
// miner is admitted with a warning.
func TestWebhookAgainstAPIServer(t *testing.T) {
	env := kube.Start(t)
	ctx := t.Context()

	// Images, in a registry on 127.0.0.1.
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(reg.Close)
	host := strings.TrimPrefix(reg.URL, "http://")
	miner, err := os.ReadFile(testbedtest.BuildOnce(t).Miner)
	if err != nil {
		t.Fatal(err)
	}
	minerRef := push(t, host+"/shop/worker:1", testLayer(t, "usr/bin/kworker", miner, 0o755))
	cleanRef := push(t, host+"/shop/web:1", testLayer(t, "srv/www/index.html", []byte("<h1>hello</h1>\n"), 0o644))

	// The webhook, over TLS on 127.0.0.1 with a CA made here. The handler
	// behind the server is swapped to change modes; both share the cache.
	caPEM, certFile, keyFile := testPKI(t)
	cache := NewLRU(LRUOptions{})
	mk := func(mode Mode) *Handler {
		return newHandler(t, Options{
			Mode: mode, Cache: cache, ScanBudget: 25 * time.Second,
			Scanner: &EngineScanner{CacheDir: t.TempDir()},
		})
	}
	var current atomic.Pointer[Handler]
	current.Store(mk(ModeEnforce))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srvCtx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		err := Serve(srvCtx, ServeOptions{Listener: ln, CertFile: certFile, KeyFile: keyFile,
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { current.Load().ServeHTTP(w, r) })})
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	t.Cleanup(func() { stop(); wg.Wait() })

	warnings := &warningLog{}
	cfg := *env.Config
	cfg.WarningHandlerWithContext = warnings
	c, err := client.New(&cfg, client.Options{Scheme: clientgoscheme.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	const ns = "shop"
	for _, obj := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		// No controller-manager creates it, and the ServiceAccount
		// admission plugin wants it.
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: ns}},
	} {
		if err := c.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	fail := admissionregv1.Fail
	none := admissionregv1.SideEffectClassNone
	url := "https://" + ln.Addr().String() + Path
	timeout := int32(30)
	vwc := &admissionregv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "davy"},
		Webhooks: []admissionregv1.ValidatingWebhook{{
			Name:                    "pods.davy.dev",
			ClientConfig:            admissionregv1.WebhookClientConfig{URL: &url, CABundle: caPEM},
			AdmissionReviewVersions: []string{"v1"},
			SideEffects:             &none,
			FailurePolicy:           &fail,
			TimeoutSeconds:          &timeout,
			NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns}},
			Rules: []admissionregv1.RuleWithOperations{{
				Operations: []admissionregv1.OperationType{admissionregv1.Create, admissionregv1.Update},
				Rule: admissionregv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"},
					Resources: []string{"pods", "pods/ephemeralcontainers"}},
			}},
		}},
	}
	if err := c.Create(ctx, vwc); err != nil {
		t.Fatal(err)
	}

	stratum := podOf(ns, "stratum", cleanRef, "-o", "stratum+tcp://127.0.0.1:3333")
	// The API server picks the configuration up within a second or so:
	// until a dry run is refused, it is not calling the webhook yet.
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := c.Create(ctx, stratum.DeepCopy(), client.DryRunAll)
		if err != nil && strings.Contains(err.Error(), "[StratumURL]") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the API server never called the webhook; last answer: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Enforce.
	err = c.Create(ctx, stratum.DeepCopy())
	wantRefused(t, err, "StratumURL", `container "app"`)
	start := time.Now()
	err = c.Create(ctx, podOf(ns, "miner", minerRef))
	wantRefused(t, err, "MinerImage", "DAVY-I001")
	t.Logf("cold scan and refusal of the miner image: %v", time.Since(start).Round(time.Millisecond))
	if err := c.Create(ctx, podOf(ns, "web", cleanRef)); err != nil {
		t.Fatalf("clean pod refused: %v", err)
	}
	if w := warnings.all(); len(w) > 0 {
		t.Errorf("warnings on the clean pod: %q", w)
	}
	// A debug container with the miner image, as kubectl debug adds one.
	web := &corev1.Pod{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "web"}, web); err != nil {
		t.Fatal(err)
	}
	web.Spec.EphemeralContainers = append(web.Spec.EphemeralContainers, corev1.EphemeralContainer{
		EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: minerRef}})
	err = c.SubResource("ephemeralcontainers").Update(ctx, web)
	wantRefused(t, err, "MinerImage", `ephemeral container "debug"`)

	// Warn: the miner is admitted, with the reason as a warning.
	current.Store(mk(ModeWarn))
	if err := c.Create(ctx, podOf(ns, "miner", minerRef)); err != nil {
		t.Fatalf("warn mode refused the miner pod: %v", err)
	}
	if w := strings.Join(warnings.all(), "\n"); !strings.Contains(w, "[MinerImage]") {
		t.Errorf("warn mode gave no MinerImage warning: %q", w)
	}
}

func wantRefused(t *testing.T, err error, reason, detail string) {
	t.Helper()
	if err == nil {
		t.Fatalf("pod admitted, want refused with %s", reason)
	}
	msg := err.Error()
	if !strings.Contains(msg, "denied the request") || !strings.Contains(msg, "["+reason+"]") || !strings.Contains(msg, detail) {
		t.Fatalf("refusal %q, want %s and %q", msg, reason, detail)
	}
}

func podOf(ns, name, image string, args ...string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image, Args: args}}},
	}
}

type warningLog struct {
	mu sync.Mutex
	w  []string
}

func (l *warningLog) HandleWarningHeaderWithContext(_ context.Context, _ int, _ string, text string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.w = append(l.w, text)
}

// all returns and forgets the warnings so far.
func (l *warningLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.w
	l.w = nil
	return w
}

func testLayer(t *testing.T, path string, body []byte, mode int64) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: path, Mode: mode, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func push(t *testing.T, ref string, layers ...v1.Layer) string {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
	return ref
}

// testPKI writes a serving certificate for 127.0.0.1, its own CA.
func testPKI(t testing.TB) (caPEM []byte, certFile, keyFile string) {
	t.Helper()
	certFile, keyFile, caPEM, err := testenv.WriteLoopbackCert(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return caPEM, certFile, keyFile
}
