package controller

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	kauth "github.com/google/go-containerregistry/pkg/authn/kubernetes"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/davyproject/davy/internal/finding"
	"github.com/davyproject/davy/internal/kube/pods"
	"github.com/davyproject/davy/internal/report"
	"github.com/davyproject/davy/internal/scan"
)

// ImageChecker gives what scans of the images pods run found.
type ImageChecker interface {
	// Check queues scans of the images running pods use, not scanned yet,
	// and returns the containers whose images were judged miner.
	Check(ctx context.Context) ([]ImageHit, error)
	// Evidence returns the evidence of images with these digests.
	Evidence(digests []string) []finding.Evidence
}

// ImageHit is a running container whose image holds a miner.
type ImageHit struct {
	Pod         *corev1.Pod
	ContainerID string
	Score       int
	Evidence    []finding.Evidence
}

// ImageScanOptions configure ImageScans.
type ImageScanOptions struct {
	// Clientset reads pull secrets and service accounts; nil scans with the
	// controller's own docker config only.
	Clientset kubernetes.Interface
	// Insecure are registries (host[:port]) reached over plain HTTP.
	Insecure []string
	CacheDir string
	IntelDir string
	// Workers scan at once (2 by default); MaxQueue bounds the images
	// waiting (256 by default); more wait for a later pass.
	Workers, MaxQueue int
	// Retry is how long a failed scan waits to be tried again (10 min).
	Retry time.Duration
	Log   *slog.Logger
	// Scan replaces davy scan image's engine, for tests.
	Scan func(ctx context.Context, ref string, kc authn.Keychain) (report.Image, error)
}

// ImageScans scans, once per image digest, the images running pods use,
// with davy scan image's engine and the credentials the kubelet would use
// for the pod (its pull secrets and its service account's).
type ImageScans struct {
	c     client.Reader
	o     ImageScanOptions
	queue chan imageJob

	mu      sync.Mutex
	results map[string]imageResult // by digest
	queued  map[string]bool
}

type imageJob struct {
	digest, ref string
	pod         *corev1.Pod
}

type imageResult struct {
	ref      string
	verdict  finding.Verdict
	score    int
	evidence []finding.Evidence
	err      error
	at       time.Time
}

// maxImageResults bounds the results kept (a cluster's distinct images).
const maxImageResults = 20000

// NewImageScans returns an ImageScans reading pods through c; Run scans.
func NewImageScans(c client.Reader, o ImageScanOptions) *ImageScans {
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.MaxQueue <= 0 {
		o.MaxQueue = 256
	}
	if o.Retry <= 0 {
		o.Retry = 10 * time.Minute
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Scan == nil {
		o.Scan = engineScan(o)
	}
	return &ImageScans{c: c, o: o, queue: make(chan imageJob, o.MaxQueue), results: map[string]imageResult{}, queued: map[string]bool{}}
}

// Run scans queued images until ctx ends.
func (s *ImageScans) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range s.o.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case j := <-s.queue:
					s.scan(ctx, j)
				}
			}
		}()
	}
	wg.Wait()
}

func (s *ImageScans) scan(ctx context.Context, j imageJob) {
	kc, err := s.keychain(ctx, j.pod)
	res := imageResult{ref: j.ref, at: time.Now()}
	if err == nil {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		var img report.Image
		img, err = s.o.Scan(ctx, j.ref, kc)
		cancel()
		if err == nil {
			res.verdict, res.score, res.evidence = img.Verdict, img.Score, imageEvidence(j.ref, img)
		}
	}
	res.err = err
	if err != nil {
		s.o.Log.Warn("image scan failed", "image", j.ref, "err", err)
	} else if res.verdict != finding.VerdictClean {
		s.o.Log.Warn("image judged", "image", j.ref, "verdict", res.verdict, "score", res.score)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.queued, j.digest)
	if len(s.results) >= maxImageResults {
		clear(s.results)
	}
	s.results[j.digest] = res
}

// keychain is what the kubelet would pull the pod's images with.
func (s *ImageScans) keychain(ctx context.Context, p *corev1.Pod) (authn.Keychain, error) {
	if s.o.Clientset == nil {
		return authn.DefaultKeychain, nil
	}
	var secrets []string
	for _, r := range p.Spec.ImagePullSecrets {
		secrets = append(secrets, r.Name)
	}
	kc, err := kauth.New(ctx, s.o.Clientset, kauth.Options{Namespace: p.Namespace, ServiceAccountName: p.Spec.ServiceAccountName, ImagePullSecrets: secrets})
	if err != nil {
		return nil, fmt.Errorf("pull secrets of pod %s/%s: %w", p.Namespace, p.Name, err)
	}
	return authn.NewMultiKeychain(kc, authn.DefaultKeychain), nil
}

// Check implements ImageChecker.
func (s *ImageScans) Check(ctx context.Context) ([]ImageHit, error) {
	var list corev1.PodList
	if err := s.c.List(ctx, &list); err != nil {
		return nil, fmt.Errorf("listing pods: %w", err)
	}
	var hits []ImageHit
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range list.Items {
		p := &list.Items[i]
		if p.Status.Phase != corev1.PodRunning && p.Status.Phase != corev1.PodPending {
			continue
		}
		for _, st := range allStatuses(p) {
			digest, ref := imageOf(st)
			if digest == "" || st.ContainerID == "" {
				continue
			}
			res, ok := s.results[digest]
			switch {
			case ok && res.err == nil && res.verdict == finding.VerdictMiner:
				hits = append(hits, ImageHit{Pod: p, ContainerID: pods.RuntimeID(st.ContainerID), Score: res.score, Evidence: res.evidence})
			case ok && (res.err == nil || time.Since(res.at) < s.o.Retry):
			case s.queued[digest]:
			default:
				select {
				case s.queue <- imageJob{digest: digest, ref: ref, pod: p}:
					s.queued[digest] = true
				default: // full: a later pass queues it
				}
			}
		}
	}
	return hits, nil
}

// Evidence implements ImageChecker.
func (s *ImageScans) Evidence(digests []string) []finding.Evidence {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []finding.Evidence
	for _, d := range digests {
		if r, ok := s.results[d]; ok && r.err == nil {
			out = append(out, r.evidence...)
		}
	}
	return out
}

// Result returns what the scan of an image digest found, or why it
// failed; ok is false while it has not been scanned.
func (s *ImageScans) Result(digest string) (verdict finding.Verdict, err error, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.results[digest]
	return r.verdict, r.err, ok
}

func allStatuses(p *corev1.Pod) []corev1.ContainerStatus {
	return slices.Concat(p.Status.InitContainerStatuses, p.Status.ContainerStatuses, p.Status.EphemeralContainerStatuses)
}

// imageOf returns the digest a container runs and the reference to scan:
// the repository digest the runtime resolved when there is one (what
// runs, not what the tag says now), else the image as the pod named it.
func imageOf(st corev1.ContainerStatus) (digest, ref string) {
	id := strings.TrimPrefix(st.ImageID, "docker-pullable://")
	if i := strings.LastIndex(id, "@sha256:"); i > 0 {
		return id[i+1:], id
	}
	if strings.HasPrefix(id, "sha256:") && st.Image != "" {
		return id, st.Image
	}
	return "", ""
}

// maxImageEvidence bounds the evidence one image adds to a report.
const maxImageEvidence = 8

// imageEvidence keeps an image's strong findings as evidence naming the
// image and the file.
func imageEvidence(ref string, img report.Image) []finding.Evidence {
	var out []finding.Evidence
	for _, f := range img.Findings {
		r, ok := finding.Rules[f.ID]
		if !ok || f.Deleted {
			continue
		}
		out = append(out, finding.Evidence{
			ID: f.ID, Weight: r.Weight, Group: r.Group, Detector: "image-scan",
			Message: fmt.Sprintf("image %s: %s: %s", ref, f.Path, f.Message),
			Values:  map[string]string{"image": ref, "path": f.Path, "layer": f.Layer},
		})
	}
	finding.SortEvidence(out)
	if len(out) > maxImageEvidence {
		out = out[:maxImageEvidence]
	}
	return out
}

// engineScan scans with davy scan image's engine.
func engineScan(o ImageScanOptions) func(ctx context.Context, ref string, kc authn.Keychain) (report.Image, error) {
	return func(ctx context.Context, ref string, kc authn.Keychain) (report.Image, error) {
		return scan.Image(ctx, ref, o.Insecure, scan.ImageOptions{Keychain: kc, CacheDir: o.CacheDir, IntelDir: o.IntelDir, Log: o.Log})
	}
}
