package admission

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/davyproject/davy/internal/intel/wallet"
	"github.com/davyproject/davy/internal/minertext"
)

// Reason is a finding's stable code, in messages, logs and metrics.
type Reason string

// Reasons that refuse a pod in enforce mode.
const (
	ReasonMinerImage   Reason = "MinerImage"    // the image's scan verdict is miner
	ReasonBlockedImage Reason = "BlockedImage"  // the blocklist names the image
	ReasonStratumURL   Reason = "StratumURL"    // command, args or env carry a stratum URL
	ReasonWallet       Reason = "WalletAddress" // command, args or env carry a wallet address
	ReasonNoCPULimit   Reason = "NoCPULimit"    // a container has no CPU limit (--require-cpu-limits)
)

// Reasons that only ever warn.
const (
	ReasonSuspiciousImage Reason = "SuspiciousImage" // scan verdict suspicious
	ReasonScanNotFinished Reason = "ScanNotFinished" // the scan budget ran out, or too many scans were queued
	ReasonScanFailed      Reason = "ScanFailed"      // the image could not be scanned
	ReasonBadImageRef     Reason = "BadImageRef"     // the image reference does not parse
)

// Reasons lists every reason code, for metrics and docs.
var Reasons = []Reason{
	ReasonMinerImage, ReasonBlockedImage, ReasonStratumURL, ReasonWallet, ReasonNoCPULimit,
	ReasonSuspiciousImage, ReasonScanNotFinished, ReasonScanFailed, ReasonBadImageRef,
}

// Denies reports whether the reason refuses a pod in enforce mode.
func (r Reason) Denies() bool {
	switch r {
	case ReasonMinerImage, ReasonBlockedImage, ReasonStratumURL, ReasonWallet, ReasonNoCPULimit:
		return true
	}
	return false
}

// Finding is one reason to refuse or warn about a pod.
type Finding struct {
	Reason    Reason
	Container string // "init container \"setup\"" etc.
	Message   string
}

func (f Finding) String() string {
	return fmt.Sprintf("[%s] %s: %s", f.Reason, f.Container, f.Message)
}

// container is one container of any kind, as the checks see it.
type container struct {
	kind      string // "container", "init container", "ephemeral container"
	name      string
	image     string
	command   []string
	args      []string
	env       []corev1.EnvVar
	resources *corev1.ResourceRequirements // nil for ephemeral containers, which cannot have any
}

func (c *container) label() string { return c.kind + " " + quote(c.name) }

// containersToCheck lists the pod's containers; on UPDATE only those that
// are new or whose image, command, args or env changed, so a pod admitted
// before a rule existed (or in warn mode) can still be labelled or get an
// ephemeral debug container.
func containersToCheck(pod, old *corev1.Pod) []container {
	var out []container
	add := func(kind string, c *corev1.Container) {
		out = append(out, container{kind: kind, name: c.Name, image: c.Image, command: c.Command, args: c.Args, env: c.Env, resources: &c.Resources})
	}
	for i := range pod.Spec.InitContainers {
		add("init container", &pod.Spec.InitContainers[i])
	}
	for i := range pod.Spec.Containers {
		add("container", &pod.Spec.Containers[i])
	}
	for i := range pod.Spec.EphemeralContainers {
		e := &pod.Spec.EphemeralContainers[i].EphemeralContainerCommon
		out = append(out, container{kind: "ephemeral container", name: e.Name, image: e.Image, command: e.Command, args: e.Args, env: e.Env})
	}
	if old == nil {
		return out
	}
	before := containersToCheck(old, nil)
	return slices.DeleteFunc(out, func(c container) bool {
		for _, b := range before {
			if b.kind == c.kind && b.name == c.name && b.image == c.image && slices.Equal(b.command, c.command) &&
				slices.Equal(b.args, c.args) && slices.EqualFunc(b.env, c.env, sameEnv) {
				return true
			}
		}
		return false
	})
}

func sameEnv(a, b corev1.EnvVar) bool { return a.Name == b.Name && a.Value == b.Value }

// maxQuoted bounds what a message repeats of the pod's own text.
const maxQuoted = 96

func quote(s string) string {
	if len(s) > maxQuoted {
		s = s[:maxQuoted] + "..."
	}
	return fmt.Sprintf("%q", s)
}

// checkText finds stratum URLs and wallet addresses in a container's
// command, args and literal env values. Values from Secrets or ConfigMaps
// (valueFrom) are not in the pod and are not seen.
func checkText(c *container, out []Finding) []Finding {
	if len(c.command)+len(c.args) > 0 {
		argv := make([]string, 0, len(c.command)+len(c.args))
		argv = append(append(argv, c.command...), c.args...)
		facts := minertext.ParseCmdline(argv)
		for _, u := range facts.StratumURLs {
			out = append(out, Finding{ReasonStratumURL, c.label(), "stratum URL " + quote(u) + " in command or args"})
		}
		out = appendWallets(out, c, facts.Text, "command or args")
	}
	for _, e := range c.env {
		if e.Value == "" {
			continue
		}
		where := "env " + e.Name
		for _, u := range minertext.StratumRe.FindAllString(e.Value, 4) {
			out = append(out, Finding{ReasonStratumURL, c.label(), "stratum URL " + quote(u) + " in " + where})
		}
		out = appendWallets(out, c, e.Value, where)
	}
	return out
}

// appendWallets adds checksum-valid addresses. Single-case Ethereum hex is
// left out: it has no checksum, and 0x plus 40 hex digits is also a
// contract, a hash prefix or a key ID in honest configuration.
func appendWallets(out []Finding, c *container, text, where string) []Finding {
	for _, a := range wallet.Find(text) {
		if a.Kind == wallet.KindHex {
			continue
		}
		out = append(out, Finding{ReasonWallet, c.label(), fmt.Sprintf("%s wallet address %s in %s", a.Coin, quote(a.Text), where)})
	}
	return out
}

// checkCPULimit reports a container that may use every CPU of its node.
func checkCPULimit(c *container, out []Finding) []Finding {
	if c.resources == nil {
		return out
	}
	if q, ok := c.resources.Limits[corev1.ResourceCPU]; !ok || q.IsZero() {
		out = append(out, Finding{ReasonNoCPULimit, c.label(), "no CPU limit"})
	}
	return out
}

// imageFinding turns a verdict into a finding, or none for clean.
func imageFinding(label, image string, v ImageVerdict) (Finding, bool) {
	if v.Err != "" {
		return Finding{ReasonScanFailed, label, fmt.Sprintf("image %s could not be scanned: %s", quote(image), truncate(v.Err, 160))}, true
	}
	var reason Reason
	switch v.Verdict {
	case "miner":
		reason = ReasonMinerImage
	case "suspicious":
		reason = ReasonSuspiciousImage
	default:
		return Finding{}, false
	}
	msg := fmt.Sprintf("image %s was judged %s (score %d", quote(image), v.Verdict, v.Score)
	if len(v.Evidence) > 0 {
		msg += ": " + strings.Join(v.Evidence, ", ")
	}
	return Finding{reason, label, msg + ")"}, true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
