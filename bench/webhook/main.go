// Command webhook measures `davy webhook` answering admission reviews: the
// handler serves TLS on 127.0.0.1, its verdict cache is warmed by scanning
// a few images from an in-process registry on loopback, then a client
// sends realistic Pod AdmissionReviews at a fixed rate over HTTPS with
// keep-alive, as the API server does. It prints latency percentiles
// (measured from each request's scheduled start, so a stall is not hidden)
// against the 10 ms p99 bar, and allocations per request. Run from the
// module root: go run ./bench/webhook. Nothing leaves loopback.
package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/davyproject/davy/internal/kube/admission"
	"github.com/davyproject/davy/internal/testenv"
)

// barP99 is the latency a cached answer must stay under: API servers give
// webhooks 10 s at most by default, but every pod creation waits on it.
const barP99 = 10 * time.Millisecond

func main() {
	rate := flag.Int("rate", 200, "requests per second")
	dur := flag.Duration("duration", 20*time.Second, "length of the load")
	images := flag.Int("images", 4, "images scanned to warm the cache")
	flag.Parse()
	if err := run(*rate, *dur, *images); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(rate int, dur time.Duration, nImages int) error {
	dir, err := os.MkdirTemp("", "davy-bench-webhook-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")
	var refs []string
	for i := range nImages {
		ref := fmt.Sprintf("%s/shop/svc-%d:1.%d", host, i, i)
		if err := push(ref, i); err != nil {
			return err
		}
		refs = append(refs, ref)
	}

	h, err := admission.New(admission.Options{
		Mode: admission.ModeEnforce, ScanBudget: 60 * time.Second,
		Scanner: &admission.EngineScanner{CacheDir: filepath.Join(dir, "cache")},
	})
	if err != nil {
		return err
	}
	defer h.Close()
	certFile, keyFile, pool, err := writeCert(dir)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- admission.Serve(ctx, admission.ServeOptions{Listener: ln, CertFile: certFile, KeyFile: keyFile, Handler: h})
	}()
	defer func() { cancel(); <-served }()
	url := "https://" + ln.Addr().String() + admission.Path + "?timeout=10s"
	client := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: 64, IdleConnTimeout: time.Minute,
	}}

	bodies, err := reviews(refs)
	if err != nil {
		return err
	}
	start := time.Now()
	for _, ref := range refs {
		b, _ := review("warm", admissionv1.Create, realisticPod("warm", []string{ref}, nil))
		if _, err := send(client, url, b); err != nil {
			return fmt.Errorf("warming the cache with %s: %w", ref, err)
		}
	}
	fmt.Printf("cache warmed: %d images scanned in %v\n", len(refs), time.Since(start).Round(time.Millisecond))
	fmt.Printf("review bodies: %d kinds, %d-%d bytes\n", len(bodies), minLen(bodies), maxLen(bodies))

	// Open loop: request i starts at start+i/rate whatever earlier ones did.
	n := int(dur.Seconds() * float64(rate))
	lat := make([]time.Duration, n)
	var failures, denied atomic.Int64
	var wg sync.WaitGroup
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	t0 := time.Now()
	interval := time.Second / time.Duration(rate)
	for i := range n {
		at := t0.Add(time.Duration(i) * interval)
		time.Sleep(time.Until(at))
		wg.Go(func() {
			ok, err := send(client, url, bodies[i%len(bodies)])
			lat[i] = time.Since(at)
			if err != nil {
				failures.Add(1)
			} else if !ok {
				denied.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(t0)
	runtime.ReadMemStats(&after)
	processAllocs := float64(after.Mallocs-before.Mallocs) / float64(n)

	handlerAllocs := handlerAllocsPerRequest(h, bodies)
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(float64(len(lat))*p))] }
	fmt.Printf("load: %d requests in %v (%.0f/s over HTTPS, keep-alive), %d refused as intended, %d failed\n",
		n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), denied.Load(), failures.Load())
	fmt.Printf("latency: p50 %v  p90 %v  p99 %v  max %v\n", r(pct(.50)), r(pct(.90)), r(pct(.99)), r(lat[len(lat)-1]))
	verdict := "yes"
	if pct(.99) >= barP99 {
		verdict = "NO"
	}
	fmt.Printf("p99 < %v: %s\n", barP99, verdict)
	fmt.Printf("allocations per request: %.0f in the handler alone, %.0f in the whole process (TLS client and server included)\n", handlerAllocs, processAllocs)
	if failures.Load() > 0 {
		return errors.New("some requests failed")
	}
	return nil
}

func r(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }

// handlerAllocsPerRequest calls the handler directly, without TLS or a
// client, to count what the handler itself allocates.
func handlerAllocsPerRequest(h http.Handler, bodies [][]byte) float64 {
	const rounds = 2000
	measure := func(h http.Handler) float64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range rounds {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, admission.Path, bytes.NewReader(bodies[i%len(bodies)]))
			req.Header.Set("Content-Type", "application/json")
			h.ServeHTTP(rec, req)
		}
		runtime.ReadMemStats(&after)
		return float64(after.Mallocs-before.Mallocs) / rounds
	}
	// Minus the recorder and request, which the real server does not make.
	return measure(h) - measure(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
}

func send(c *http.Client, url string, body []byte) (allowed bool, err error) {
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return false, err
	}
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("HTTP %d: %s", resp.StatusCode, b)
	}
	var out admissionv1.AdmissionReview
	if err := json.Unmarshal(b, &out); err != nil || out.Response == nil {
		return false, fmt.Errorf("bad response %q: %v", b, err)
	}
	return out.Response.Allowed, nil
}

// reviews are the request mix: pods of one to three containers on the
// warmed images, most created by a ReplicaSet, some updates, and one in a
// hundred with a stratum URL in its args.
func reviews(refs []string) ([][]byte, error) {
	rng := mrand.New(mrand.NewPCG(7, 11))
	var out [][]byte
	for i := range 100 {
		k := 1 + rng.IntN(3)
		var imgs []string
		for range k {
			imgs = append(imgs, refs[rng.IntN(len(refs))])
		}
		var args []string
		if i == 0 {
			args = []string{"-o", "stratum+tcp://127.0.0.1:3333"}
		}
		p := realisticPod(fmt.Sprintf("web-7d9f8b6c5-%05d", i), imgs, args)
		op := admissionv1.Create
		var old *corev1.Pod
		if i%10 == 5 {
			op, old = admissionv1.Update, p.DeepCopy()
			p.Labels["rollout"] = "2"
		}
		b, err := review(p.Name, op, p, old)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

func review(uid string, op admissionv1.Operation, p *corev1.Pod, old ...*corev1.Pod) ([]byte, error) {
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	req := &admissionv1.AdmissionRequest{
		UID: types.UID(uid), Kind: metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
		Resource: metav1.GroupVersionResource{Version: "v1", Resource: "pods"}, Operation: op,
		Namespace: p.Namespace, Name: p.Name, Object: k8sruntime.RawExtension{Raw: raw},
		UserInfo: authUser(),
	}
	if len(old) > 0 && old[0] != nil {
		if req.OldObject.Raw, err = json.Marshal(old[0]); err != nil {
			return nil, err
		}
	}
	return json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"}, Request: req,
	})
}

// realisticPod looks like what a Deployment's ReplicaSet creates after the
// mutating admission plugins: labels, owner, probes, resources, env,
// volumes and the projected service account token.
func realisticPod(name string, images, args []string) *corev1.Pod {
	p := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: "shop", GenerateName: "web-7d9f8b6c5-",
			Labels:      map[string]string{"app.kubernetes.io/name": "web", "app.kubernetes.io/part-of": "shop", "pod-template-hash": "7d9f8b6c5"},
			Annotations: map[string]string{"kubectl.kubernetes.io/restartedAt": "2026-11-27T10:00:00Z", "prometheus.io/scrape": "true"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-7d9f8b6c5",
				UID: "4f1c7a2e-0d8b-4c55-9a57-2b1f3c9e8d10", Controller: ptr(true), BlockOwnerDeletion: ptr(true)}},
		},
		Spec: corev1.PodSpec{
			ServiceAccountName: "default", NodeSelector: map[string]string{"kubernetes.io/os": "linux"},
			Volumes: []corev1.Volume{
				{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "web-config"}}}},
				{Name: "kube-api-access-x7k2p", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
					{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{ExpirationSeconds: ptr(int64(3607)), Path: "token"}},
					{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}, Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
				}}}},
			},
			Tolerations: []corev1.Toleration{{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr(int64(300))}},
		},
	}
	for i, img := range images {
		c := corev1.Container{
			Name: fmt.Sprintf("c%d", i), Image: img, Args: append([]string{"--listen=:8080", "--config=/etc/web/config.yaml"}, args...),
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}},
			Env: []corev1.EnvVar{
				{Name: "LOG_LEVEL", Value: "info"}, {Name: "DATABASE_URL", Value: "postgres://web@db.shop.svc:5432/web?sslmode=require"},
				{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
				{Name: "FEATURE_FLAGS", Value: "checkout-v2,search-cache,recommendations"},
			},
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
				Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("512Mi")},
			},
			VolumeMounts:   []corev1.VolumeMount{{Name: "config", MountPath: "/etc/web"}, {Name: "kube-api-access-x7k2p", MountPath: "/var/run/secrets/kubernetes.io/serviceaccount", ReadOnly: true}},
			ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ready", Port: intstr.FromString("http")}}, PeriodSeconds: 5},
			LivenessProbe:  &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")}}, PeriodSeconds: 10},
			SecurityContext: &corev1.SecurityContext{RunAsNonRoot: ptr(true), AllowPrivilegeEscalation: ptr(false),
				Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
			TerminationMessagePath: "/dev/termination-log", ImagePullPolicy: corev1.PullIfNotPresent,
		}
		p.Spec.Containers = append(p.Spec.Containers, c)
	}
	return p
}

func authUser() authenticationv1.UserInfo {
	return authenticationv1.UserInfo{Username: "system:serviceaccount:kube-system:replicaset-controller",
		UID: "0b4cf5d2-1a4e-4c4b-8a63-3c1f7f8a1e21", Groups: []string{"system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"}}
}

func ptr[T any](v T) *T { return &v }

func minLen(b [][]byte) int {
	m := len(b[0])
	for _, x := range b {
		m = min(m, len(x))
	}
	return m
}

func maxLen(b [][]byte) int {
	m := 0
	for _, x := range b {
		m = max(m, len(x))
	}
	return m
}

// push writes an image of ordinary files (text, a config, pseudo-random
// data) to the registry.
func push(ref string, seed int) error {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	rng := mrand.New(mrand.NewPCG(uint64(seed), 1))
	data := make([]byte, 256<<10)
	for i := range data {
		data[i] = byte('a' + rng.IntN(26))
	}
	files := map[string][]byte{
		"srv/www/index.html":   []byte("<!doctype html><h1>shop</h1>\n"),
		"etc/web/config.yaml":  []byte("listen: :8080\nlog: info\n"),
		"usr/share/web/words":  data,
		"usr/share/doc/README": []byte(strings.Repeat("An ordinary web service.\n", 200)),
	}
	for _, p := range slices.Sorted(maps.Keys(files)) {
		b := files[p]
		if err := tw.WriteHeader(&tar.Header{Name: p, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		if _, err := tw.Write(b); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	raw := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil })
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(empty.Image, l)
	if err != nil {
		return err
	}
	img, err = mutate.Config(img, v1.Config{Cmd: []string{"/usr/bin/web"}})
	if err != nil {
		return err
	}
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		return err
	}
	return remote.Write(r, img)
}

// writeCert writes a self-signed certificate for 127.0.0.1 and returns a
// pool trusting it.
func writeCert(dir string) (certFile, keyFile string, pool *x509.CertPool, err error) {
	certFile, keyFile, certPEM, err := testenv.WriteLoopbackCert(dir)
	if err != nil {
		return "", "", nil, err
	}
	pool = x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	return certFile, keyFile, pool, nil
}
