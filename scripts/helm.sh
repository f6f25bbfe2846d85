#!/usr/bin/env bash
# Builds helm from the Go module proxy and caches it in a directory keyed by
# version, for the chart's tests (helm lint, helm template, and installing
# the chart into the tests' cluster). Usage: scripts/helm.sh [VERSION [DIR]].
# About 3 minutes cold on 2 cores; nothing when DIR already holds helm.
set -euo pipefail

version=${1:-v3.22.0}
dir=${2:-${XDG_CACHE_HOME:-$HOME/.cache}/davy/helm/$version}
if [ -x "$dir/helm" ]; then
	echo "$dir"
	exit 0
fi
if ! [[ $version =~ ^v3\.[0-9]+\.[0-9]+$ ]]; then
	echo "helm: version $version is not of the form v3.MINOR.PATCH" >&2
	exit 2
fi
mkdir -p "$dir"
exec 9>"$dir/.lock"
if command -v flock >/dev/null; then
	flock 9
fi
if [ -x "$dir/helm" ]; then
	echo "$dir"
	exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
echo "helm: building helm $version into $dir" >&2
export GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=0
# As helm's own Makefile does, tell helm which Kubernetes it was built
# against (the client-go it requires); otherwise `helm template` assumes
# Kubernetes 1.20 and refuses charts that need newer.
gomod=$(cd "$work" && go mod download -json "helm.sh/helm/v3@$version" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
k8s_minor=$(sed -n 's#^[[:space:]]*k8s\.io/client-go[[:space:]]\{1,\}v0\.\([0-9]*\)\..*#\1#p' "$gomod" | head -n1)
if [ -z "$k8s_minor" ]; then
	echo "helm: could not read the client-go version of helm $version" >&2
	exit 1
fi
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$version"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
	ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
done
# Built into a staging directory and moved in, so an interrupted build never
# leaves a partial binary behind.
(cd "$work" && GOBIN="$work/bin" go install -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$version")
mv -f "$work/bin/helm" "$dir/helm"
echo "$dir"
