package admission

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
)

// MaxBodyBytes bounds an AdmissionReview. etcd refuses objects over
// 1.5 MiB, so a Pod UPDATE (object and oldObject) stays under 3 MiB; the
// rest is headroom for the envelope.
const MaxBodyBytes = 4 << 20

// badRequest is an AdmissionReview the handler refuses with HTTP 400.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func badf(format string, args ...any) error {
	return &badRequest{fmt.Sprintf(format, args...)}
}

// podReview is one decoded request: the pod, and the pod it replaces on
// UPDATE.
type podReview struct {
	req *admissionv1.AdmissionRequest
	pod *corev1.Pod
	old *corev1.Pod
}

// readReview reads and decodes the body of an admission request.
func readReview(w http.ResponseWriter, r *http.Request) (*podReview, error) {
	if r.Method != http.MethodPost {
		return nil, badf("method %s: admission reviews are POSTed", r.Method)
	}
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		return nil, badf("content type %q: want application/json", ct)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, badf("request body exceeds %d MiB", MaxBodyBytes>>20)
		}
		return nil, fmt.Errorf("reading the request body: %w", err)
	}
	return decodeReview(body)
}

// decodeReview decodes an admission.k8s.io/v1 AdmissionReview of a Pod.
// Anything else is a badRequest naming what was wrong.
func decodeReview(body []byte) (*podReview, error) {
	if len(body) == 0 {
		return nil, badf("empty request body: want an AdmissionReview")
	}
	if len(body) > MaxBodyBytes {
		return nil, badf("request body exceeds %d MiB", MaxBodyBytes>>20)
	}
	var ar admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &ar); err != nil {
		return nil, badf("malformed AdmissionReview: %v", err)
	}
	if ar.APIVersion != admissionv1.SchemeGroupVersion.String() {
		return nil, badf("apiVersion %q: want %s", ar.APIVersion, admissionv1.SchemeGroupVersion)
	}
	if ar.Kind != "AdmissionReview" {
		return nil, badf("kind %q: want AdmissionReview", ar.Kind)
	}
	req := ar.Request
	if req == nil {
		return nil, badf("AdmissionReview has no request")
	}
	if req.UID == "" {
		return nil, badf("AdmissionReview request has no uid")
	}
	if req.Kind.Group != "" || req.Kind.Version != "v1" || req.Kind.Kind != "Pod" {
		return nil, badf("request kind %s: want v1 Pod", req.Kind.String())
	}
	out := &podReview{req: req}
	switch req.Operation {
	case admissionv1.Create, admissionv1.Update:
	default:
		// Only CREATE and UPDATE carry a pod to judge; the handler admits
		// anything else it is sent.
		return out, nil
	}
	if len(req.Object.Raw) == 0 {
		return nil, badf("%s request has no object", req.Operation)
	}
	out.pod = &corev1.Pod{}
	if err := json.Unmarshal(req.Object.Raw, out.pod); err != nil {
		return nil, badf("request object is not a Pod: %v", err)
	}
	if req.Operation == admissionv1.Update && len(req.OldObject.Raw) > 0 {
		out.old = &corev1.Pod{}
		if err := json.Unmarshal(req.OldObject.Raw, out.old); err != nil {
			return nil, badf("request oldObject is not a Pod: %v", err)
		}
	}
	return out, nil
}
