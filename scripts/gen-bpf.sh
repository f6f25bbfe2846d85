#!/usr/bin/env bash
# Regenerates the eBPF objects of internal/events (events_bpfel.{go,o} and
# events_bpfeb.{go,o}) from internal/events/bpf/events.bpf.c with bpf2go.
# The generated files are committed, so building and testing davy need no
# clang; only changing the BPF C does. Installs clang, llvm (llvm-strip)
# and libbpf-dev (bpf/bpf_helpers.h) with apt when missing; needs root then.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v clang >/dev/null || need+=(clang)
command -v llvm-strip >/dev/null || need+=(llvm)
[ -f /usr/include/bpf/bpf_helpers.h ] || need+=(libbpf-dev)

if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "gen-bpf: missing ${need[*]}; run as root to install them" >&2
		exit 1
	fi
	echo "gen-bpf: installing ${need[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

go generate ./internal/events/
