GO ?= go
# Integration tests fail (rather than skip) when a component is missing.
export DAVY_REQUIRE_INTEGRATION ?= 1

.PHONY: build test test-deps k8s-binaries helm manifests vet fuzz bench bench-image bench-agent bench-rules bench-netwatch bench-webhook bench-controller bench-fpsample eval clean

build:
	$(GO) build -o bin/davy ./cmd/davy

# k8s-binaries and helm first: the tests would build them on first use, but
# inside a test's timeout and beside other packages' tests.
test: test-deps k8s-binaries helm
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

test-deps:
	./scripts/install-test-deps.sh

# etcd, kube-apiserver and kubectl from the Go module proxy, cached by version
# under ~/.cache/davy/k8s (about 10 minutes cold on 2 cores, then nothing).
K8S_VERSION ?= v1.36.3
k8s-binaries:
	./scripts/k8s-binaries.sh $(K8S_VERSION)

# helm from the Go module proxy, cached by version under ~/.cache/davy/helm.
HELM_VERSION ?= v3.22.0
helm:
	./scripts/helm.sh $(HELM_VERSION)

# The chart rendered as plain manifests (webhook certificates from cert-manager).
manifests: helm
	./scripts/render-manifests.sh "$$(./scripts/helm.sh $(HELM_VERSION))/helm" > deploy/manifests/davy.yaml

# Short fuzzing runs of every fuzz target (each FUZZTIME long).
FUZZTIME ?= 20s
fuzz:
	./scripts/fuzz-all.sh $(FUZZTIME)

bench: test-deps
	$(GO) run ./bench/snapshot

# Image scan against the gunzip floor, ClamAV and YARA (generates a 1.2 GiB image once).
bench-image:
	./scripts/install-bench-deps.sh
	$(GO) run ./bench/imagescan

# The agent under exec churn with idle containers (root).
bench-agent: test-deps
	$(GO) run ./bench/agent

bench-rules:
	$(GO) run ./bench/rules

# The admission webhook at 200 reviews/s over TLS on loopback, cached images.
bench-webhook:
	$(GO) run ./bench/webhook

# davy controller over 1,000 then 5,000 pods on a real API server (needs make k8s-binaries).
bench-controller: k8s-binaries
	$(GO) run ./bench/controller

# What the fpu detector's ptrace sampling costs the threads it samples (root).
bench-fpsample:
	$(GO) run ./bench/fpsample

# Packet capture at 100k packets/s in network namespaces (root).
bench-netwatch: test-deps
	$(GO) run ./bench/netwatch

eval: test-deps
	$(GO) run ./bench/eval

clean:
	rm -rf bin
