#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# kubelet and kubectl from the Go module proxy and caches them in a directory
# keyed by version, for the tests' API server and single-node cluster
# (internal/testenv/kube). Usage: scripts/k8s-binaries.sh [VERSION [DIR]].
#
# `go install k8s.io/kubernetes/cmd/...@VERSION` fails because that module
# replaces its staging modules with local paths, which go install refuses; so
# a throwaway wrapper module requires k8s.io/kubernetes@VERSION and turns each
# `k8s.io/X => ./staging/...` replace of the downloaded go.mod into
# `k8s.io/X => k8s.io/X v0.MINOR.PATCH`. etcd is built in the same module from
# a tiny main calling etcdmain.Main, at the version Kubernetes itself requires.
#
# Cold, on 2 cores, this takes about 10 minutes and ~3 GB of Go build cache;
# with a warm build cache about 20 s; when DIR already holds all the
# binaries it does nothing. The binaries are never committed.
set -euo pipefail

version=${1:-v1.36.3}
dir=${2:-${XDG_CACHE_HOME:-$HOME/.cache}/davy/k8s/$version}
bins=(etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl)

have_all() {
	local b
	for b in "${bins[@]}"; do
		[ -x "$dir/$b" ] || return 1
	done
}

if have_all; then
	echo "$dir"
	exit 0
fi

if ! [[ $version =~ ^v1\.([0-9]+)\.([0-9]+)$ ]]; then
	echo "k8s-binaries: version $version is not of the form v1.MINOR.PATCH" >&2
	exit 2
fi
staging_version="v0.${BASH_REMATCH[1]}.${BASH_REMATCH[2]}"

mkdir -p "$dir"
# Two test packages may ask at once: one builds, the other waits for it.
exec 9>"$dir/.lock"
if command -v flock >/dev/null; then
	flock 9
fi
if have_all; then
	echo "$dir"
	exit 0
fi

work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
# Bash skips the EXIT trap when a signal kills it; exiting on one runs it.
trap 'exit 130' INT
trap 'exit 143' TERM
cd "$work"
export GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=0
go mod init davy.invalid/k8s-binaries >/dev/null 2>&1

echo "k8s-binaries: building ${bins[*]} $version into $dir (about 10 minutes cold)" >&2
gomod=$(go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
if [ -z "$gomod" ] || [ ! -f "$gomod" ]; then
	echo "k8s-binaries: could not download k8s.io/kubernetes@$version" >&2
	exit 1
fi

# The staging modules, read from Kubernetes' own go.mod rather than listed here.
staging=$(sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\)[[:space:]]*=>[[:space:]]*\./staging/.*#\1#p' "$gomod")
if [ -z "$staging" ]; then
	echo "k8s-binaries: no staging replaces found in $gomod" >&2
	exit 1
fi
etcd_version=$(sed -n 's#^[[:space:]]*go\.etcd\.io/etcd/server/v3[[:space:]]\{1,\}\(v[^[:space:]]*\).*#\1#p' "$gomod" | head -n1)
if [ -z "$etcd_version" ]; then
	echo "k8s-binaries: $gomod does not require go.etcd.io/etcd/server/v3" >&2
	exit 1
fi

{
	echo "require k8s.io/kubernetes $version"
	for m in $staging; do
		echo "replace $m => $m $staging_version"
	done
} >>go.mod

mkdir etcd
cat >etcd/main.go <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO

cmds=()
for b in "${bins[@]}"; do
	[ "$b" = etcd ] || cmds+=("k8s.io/kubernetes/cmd/$b")
done
go get "go.etcd.io/etcd/server/v3@$etcd_version" "${cmds[@]/%/@$version}" >/dev/null 2>&1 || {
	# Again, with its output, to say why.
	go get "go.etcd.io/etcd/server/v3@$etcd_version" "${cmds[@]/%/@$version}"
	exit 1
}

minor=${version#v1.}
minor=${minor%%.*}
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
	ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

# Built into a staging directory and moved in at the end, so an interrupted
# build never leaves DIR looking complete.
mkdir out
go build -trimpath -ldflags "$ldflags" -o out/ ./etcd "${cmds[@]}"
for b in "${bins[@]}"; do
	mv -f "out/$b" "$dir/$b"
done
echo "$dir"
