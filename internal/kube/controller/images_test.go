package controller_test

import (
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/davyproject/davy/internal/kube/api/v1alpha1"
	"github.com/davyproject/davy/internal/kube/controller"
	"github.com/davyproject/davy/internal/kube/pods"
	"github.com/davyproject/davy/internal/kube/reporter"
	"github.com/davyproject/davy/internal/testbed/testbedtest"
	"github.com/davyproject/davy/internal/testenv/kube"
)

// A pod runs an image holding a miner, from a registry that wants the
// pod's pull secret: the controller scans it with that secret, reports
// the workload as a miner from the image's evidence, and acts on it. A pod
// of the same image without the secret cannot be scanned.
func TestControllerScansPodImagesWithPullSecrets(t *testing.T) {
	k := newCluster(t)
	const user, pass = "puller", "s3cret"
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")

	img, err := kube.BinaryImage(testbedtest.BuildOnce(t).Miner)
	must(t, err)
	ref, err := name.ParseReference(host+"/tools/calc:1", name.Insecure)
	must(t, err)
	auth := remote.WithAuth(&authn.Basic{Username: user, Password: pass})
	must(t, remote.Write(ref, img, auth))
	digest, err := img.Digest()
	must(t, err)
	imageID := host + "/tools/calc@" + digest.String()
	// The same miner with other arguments: another digest, for a pod with
	// no pull secret.
	img2, err := kube.BinaryImage(testbedtest.BuildOnce(t).Miner, "--help")
	must(t, err)
	ref2, err := name.ParseReference(host+"/tools/calc:2", name.Insecure)
	must(t, err)
	must(t, remote.Write(ref2, img2, auth))
	digest2, err := img2.Digest()
	must(t, err)

	k.namespace("tools")
	k.namespace("other")
	cfg := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, host, base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
	k.create(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "tools", Name: "regcred"}, Type: corev1.SecretTypeDockerConfigJson,
		Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(cfg)}})
	for _, ns := range []string{"tools", "other"} {
		k.create(&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default"}})
	}
	k.imagePod("tools", "calc-0", strings.Repeat("7", 64), host+"/tools/calc:1", imageID, "regcred")
	k.imagePod("other", "calc-0", strings.Repeat("8", 64), host+"/tools/calc:2", host+"/tools/calc@"+digest2.String(), "")

	scans := controller.NewImageScans(k.c, controller.ImageScanOptions{Clientset: k.cs, Insecure: []string{host}, Workers: 1, Log: quietLog()})
	go scans.Run(k.ctx)
	pol, err := controller.ParsePolicy(nil)
	must(t, err)
	rep := reporter.New(reporter.Options{Client: k.direct, MinInterval: time.Millisecond})
	go rep.Run(k.ctx)
	ctl := controller.New(controller.Options{
		Client: k.c, Images: scans, Policy: pol, Reports: rep,
		Remediator: controller.NewRemediator(k.direct, false, 10, nil),
		Resolver:   pods.NewResolver(controller.CachedGetter(k.c)),
	})
	k.waitFor("a miner report from the image scan", func() bool {
		ctl.Pass(k.ctx)
		r := k.report("tools", "pod-calc-0")
		return r != nil && r.Status.Verdict == v1alpha1.VerdictMiner
	})
	r := k.report("tools", "pod-calc-0")
	if len(r.Status.Evidence) == 0 || !strings.Contains(r.Status.Evidence[0].Message, "image "+imageID) {
		t.Errorf("report evidence: %+v", r.Status.Evidence)
	}
	k.waitFor("the policy's alert recorded", func() bool {
		ctl.Pass(k.ctx)
		r := k.report("tools", "pod-calc-0")
		return r != nil && len(r.Status.Actions) == 1 && r.Status.Actions[0].Action == "alert" && r.Status.Actions[0].Done
	})
	// Without the secret the registry refuses the scan: no verdict, and
	// the scan is retried only after ImageScanOptions.Retry.
	var scanErr error
	k.waitFor("the scan without a secret to fail", func() bool {
		_, err, ok := scans.Result(digest2.String())
		scanErr = err
		return ok
	})
	if scanErr == nil || !strings.Contains(strings.ToLower(scanErr.Error()), "unauthorized") {
		t.Errorf("scan without the pull secret: %v", scanErr)
	}
	ctl.Pass(k.ctx)
	if r := k.report("other", "pod-calc-0"); r != nil {
		t.Errorf("the pod without a pull secret was reported: %+v", r.Status)
	}
	if ev := scans.Evidence([]string{digest2.String()}); len(ev) != 0 {
		t.Errorf("evidence for an image that could not be pulled: %+v", ev)
	}
}

func (k *cluster) imagePod(ns, name, containerID, image, imageID, secret string) *corev1.Pod {
	k.t.Helper()
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "main", Image: image}}}}
	if secret != "" {
		p.Spec.ImagePullSecrets = []corev1.LocalObjectReference{{Name: secret}}
	}
	k.create(p)
	p.Status.Phase = corev1.PodRunning
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "main", ContainerID: "containerd://" + containerID, Image: image, ImageID: imageID}}
	must(k.t, k.direct.Status().Update(k.ctx, p))
	k.waitFor("the pod in the cache", func() bool {
		var got corev1.Pod
		return k.c.Get(k.ctx, types.NamespacedName{Namespace: ns, Name: name}, &got) == nil && got.Status.Phase == corev1.PodRunning
	})
	return p
}

func quietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }
