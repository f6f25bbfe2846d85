GO ?= go
# Integration tests fail (rather than skip) when a component is missing.
export DAVY_REQUIRE_INTEGRATION ?= 1

.PHONY: build test test-deps vet fuzz bench bench-image bench-agent bench-rules bench-netwatch eval clean

build:
	$(GO) build -o bin/davy ./cmd/davy

test: test-deps
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

test-deps:
	./scripts/install-test-deps.sh

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

# Packet capture at 100k packets/s in network namespaces (root).
bench-netwatch: test-deps
	$(GO) run ./bench/netwatch

eval: test-deps
	$(GO) run ./bench/eval

clean:
	rm -rf bin
