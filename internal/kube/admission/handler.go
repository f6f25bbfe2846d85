package admission

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Mode is what the webhook does with a pod it has reasons to refuse.
type Mode string

// Modes.
const (
	ModeEnforce Mode = "enforce" // refuse the pod
	ModeWarn    Mode = "warn"    // admit it with admission warnings
)

// ParseMode validates a mode name.
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case ModeEnforce, ModeWarn:
		return Mode(s), nil
	}
	return "", fmt.Errorf("mode %q: want enforce or warn", s)
}

// DefaultExemptNamespaces are never checked: the control plane's own pods
// must start even when the webhook is down or wrong.
var DefaultExemptNamespaces = []string{"kube-system"}

// Options configure a Handler.
type Options struct {
	Mode      Mode
	Blocklist *Blocklist
	// RequireCPULimits refuses containers without a CPU limit (after
	// mutating admission, so LimitRange defaults count).
	RequireCPULimits bool
	// ExemptNamespaces are added to DefaultExemptNamespaces.
	ExemptNamespaces []string
	// ScanBudget is how long a request waits for image scans (default
	// 3s); past it the pod is admitted with a warning. The API server's
	// ?timeout= shortens it.
	ScanBudget time.Duration
	// ScanTimeout bounds one scan, running in the background after its
	// request gave up (default 5m).
	ScanTimeout time.Duration
	// ScanConcurrency is how many images are scanned at once (default 2),
	// MaxQueuedScans how many may wait or run (default 64).
	ScanConcurrency int
	MaxQueuedScans  int
	// Cache holds verdicts (default NewLRU with its defaults). Scanner
	// scans images not in it; nil: only the cache is consulted.
	Cache   VerdictCache
	Scanner ImageScanner
	Metrics *Metrics
	Log     *slog.Logger
}

// Handler serves AdmissionReviews of Pods.
type Handler struct {
	opts     Options
	exempt   map[string]bool
	verdicts *verdicts
	metrics  *Metrics
	log      *slog.Logger
}

// New makes a Handler; Close stops its background scans.
func New(o Options) (*Handler, error) {
	if o.Mode == "" {
		o.Mode = ModeEnforce
	}
	if _, err := ParseMode(string(o.Mode)); err != nil {
		return nil, err
	}
	if o.ScanBudget <= 0 {
		o.ScanBudget = 3 * time.Second
	}
	if o.ScanTimeout <= 0 {
		o.ScanTimeout = 5 * time.Minute
	}
	if o.ScanConcurrency <= 0 {
		o.ScanConcurrency = 2
	}
	if o.MaxQueuedScans <= 0 {
		o.MaxQueuedScans = 64
	}
	if o.Cache == nil {
		o.Cache = NewLRU(LRUOptions{})
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(nil)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{opts: o, exempt: map[string]bool{}, metrics: o.Metrics, log: o.Log}
	for _, ns := range slices.Concat(DefaultExemptNamespaces, o.ExemptNamespaces) {
		h.exempt[ns] = true
	}
	h.verdicts = newVerdicts(o, o.Metrics)
	return h, nil
}

// Close stops background scans and waits for them.
func (h *Handler) Close() { h.verdicts.close() }

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	defer func() { h.metrics.latency.Observe(time.Since(start).Seconds()) }()
	rev, err := readReview(w, r)
	if err != nil {
		// A body cut short by the client is a bad request too.
		h.metrics.requests.WithLabelValues(resultBadRequest).Inc()
		h.log.Debug("bad admission request", "remote", r.RemoteAddr, "err", err)
		http.Error(w, "davy webhook: "+err.Error(), http.StatusBadRequest)
		return
	}
	resp := h.review(r.Context(), rev, budgetFor(r, h.opts.ScanBudget))
	out := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: admissionv1.SchemeGroupVersion.String(), Kind: "AdmissionReview"},
		Response: resp,
	}
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(&out); err != nil {
		h.log.Debug("writing the admission response", "err", err)
	}
}

// budgetFor shortens the scan budget to leave time to answer within the
// timeout the API server gives (it adds ?timeout=Ns to webhook calls).
func budgetFor(r *http.Request, budget time.Duration) time.Duration {
	t, err := time.ParseDuration(r.URL.Query().Get("timeout"))
	if err != nil || t <= 0 {
		return budget
	}
	if limit := t - t/4; budget > limit {
		return limit
	}
	return budget
}

// review judges one request.
func (h *Handler) review(ctx context.Context, rev *podReview, budget time.Duration) *admissionv1.AdmissionResponse {
	req := rev.req
	resp := &admissionv1.AdmissionResponse{UID: req.UID, Allowed: true}
	if rev.pod == nil {
		h.metrics.requests.WithLabelValues(resultAllowed).Inc()
		return resp
	}
	if h.exempt[req.Namespace] {
		h.metrics.requests.WithLabelValues(resultExempt).Inc()
		return resp
	}
	findings := h.check(ctx, containersToCheck(rev.pod, rev.old), budget)
	if len(findings) == 0 {
		h.metrics.requests.WithLabelValues(resultAllowed).Inc()
		return resp
	}
	var denials []string
	for _, f := range findings {
		h.metrics.findings.WithLabelValues(string(f.Reason)).Inc()
		if f.Reason.Denies() && h.opts.Mode == ModeEnforce {
			denials = append(denials, f.String())
			continue
		}
		resp.Warnings = append(resp.Warnings, warning(f))
	}
	podName := rev.pod.Name
	if podName == "" {
		podName = rev.pod.GenerateName + "*"
	}
	log := h.log.With("namespace", req.Namespace, "pod", podName, "operation", req.Operation, "uid", req.UID)
	// A pod has at most a few hundred containers, but the API server drops
	// warnings past 4 KiB in all, and a wall of text helps nobody.
	denials = capped(denials)
	resp.Warnings = capped(resp.Warnings)
	if len(denials) > 0 {
		resp.Allowed = false
		resp.Result = &metav1.Status{
			Status: metav1.StatusFailure, Code: http.StatusForbidden, Reason: metav1.StatusReasonForbidden,
			Message: "davy: " + strings.Join(denials, "; "),
		}
		h.metrics.requests.WithLabelValues(resultDenied).Inc()
		log.Info("pod refused", "findings", denials)
		return resp
	}
	h.metrics.requests.WithLabelValues(resultWarned).Inc()
	log.Info("pod admitted with warnings", "warnings", resp.Warnings)
	return resp
}

// maxListed is how many findings of each kind a response lists.
const maxListed = 12

func capped(list []string) []string {
	if len(list) <= maxListed {
		return list
	}
	return append(list[:maxListed-1], fmt.Sprintf("davy: and %d more findings", len(list)-maxListed+1))
}

// maxWarning keeps a warning whole: the API server may truncate warnings
// longer than 256 characters.
const maxWarning = 250

func warning(f Finding) string {
	return truncate("davy: "+f.String(), maxWarning)
}

// check runs every check on the containers.
func (h *Handler) check(ctx context.Context, cs []container, budget time.Duration) []Finding {
	var out []Finding
	for i := range cs {
		out = checkText(&cs[i], out)
		if h.opts.RequireCPULimits {
			out = checkCPULimit(&cs[i], out)
		}
	}
	return append(out, h.checkImages(ctx, cs, budget)...)
}

// imageUse is one distinct image of a pod and the containers running it.
type imageUse struct {
	image  string
	labels []string
	ref    imageRef
	v      ImageVerdict
	status lookupStatus
}

// checkImages checks each distinct image once: blocklist, then the verdict
// from the cache, then scans of the rest in parallel under one budget.
// Findings name every container running the image.
func (h *Handler) checkImages(ctx context.Context, cs []container, budget time.Duration) []Finding {
	uses := make([]*imageUse, 0, len(cs))
	for i := range cs {
		c := &cs[i]
		found := false
		for _, u := range uses {
			if u.image == c.image {
				u.labels, found = append(u.labels, c.label()), true
				break
			}
		}
		if !found {
			uses = append(uses, &imageUse{image: c.image, labels: []string{c.label()}})
		}
	}
	var (
		out   []Finding
		waits []*imageUse
	)
	for _, u := range uses {
		r, err := parseImageRef(u.image)
		if err != nil {
			for _, l := range u.labels {
				out = append(out, Finding{ReasonBadImageRef, l, truncate(err.Error(), 160)})
			}
			continue
		}
		u.ref = r
		if pat, line := h.opts.Blocklist.Match(r, ""); pat != "" {
			for _, l := range u.labels {
				out = append(out, blocked(l, u.image, pat, line))
			}
			continue
		}
		if v, ok := h.verdicts.cached(r); ok {
			h.metrics.cache.WithLabelValues("hit").Inc()
			out = h.judged(out, u, v)
			continue
		}
		if h.opts.Scanner == nil {
			h.metrics.cache.WithLabelValues("miss").Inc()
			continue
		}
		waits = append(waits, u)
	}
	if len(waits) == 0 {
		return out
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	var wg sync.WaitGroup
	for _, u := range waits {
		wg.Go(func() { u.v, u.status = h.verdicts.lookup(ctx, u.ref) })
	}
	wg.Wait()
	for _, u := range waits {
		switch u.status {
		case scanPending:
			for _, l := range u.labels {
				out = append(out, Finding{ReasonScanNotFinished, l, fmt.Sprintf("the scan of image %s did not finish within %v; admitted unscanned, the scan goes on", quote(u.image), budget)})
			}
		case scanBusy:
			for _, l := range u.labels {
				out = append(out, Finding{ReasonScanNotFinished, l, fmt.Sprintf("image %s was not scanned: too many scans queued", quote(u.image))})
			}
		default:
			out = h.judged(out, u, u.v)
		}
	}
	return out
}

// judged adds what a verdict says, checking the blocklist against the
// digest the scan resolved a tag to.
func (h *Handler) judged(out []Finding, u *imageUse, v ImageVerdict) []Finding {
	pat, line := h.opts.Blocklist.Match(u.ref, v.Digest)
	for _, l := range u.labels {
		if pat != "" {
			out = append(out, blocked(l, u.image, pat, line))
		} else if f, ok := imageFinding(l, u.image, v); ok {
			out = append(out, f)
		}
	}
	return out
}

func blocked(label, image, pattern string, line int) Finding {
	return Finding{ReasonBlockedImage, label, fmt.Sprintf("image %s is blocklisted (pattern %s, line %d)", quote(image), quote(pattern), line)}
}
