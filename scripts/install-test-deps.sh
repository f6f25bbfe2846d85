#!/usr/bin/env bash
# Installs what the test suite runs for real: podman with runc for container
# tests, busybox-static for a shell inside test containers, Debian's
# docker-registry for the image tests and Debian's prometheus-alertmanager
# for the alert tests (the tests start both on loopback themselves),
# iproute2 for the network namespaces of the capture tests, PostgreSQL (a
# server the capture test starts itself, and pgbench), containerd and the
# CNI plugins for the single-node Kubernetes cluster of internal/testenv/kube
# (which runs its own containerd with its own socket and state), and the
# honest heavy tools the benign workloads use.
# Idempotent; needs root and apt.
set -euo pipefail

need=()
command -v podman >/dev/null || need+=(podman)
command -v runc >/dev/null || need+=(runc)
[ -x /bin/busybox ] && file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' || need+=(busybox-static)
command -v xz >/dev/null || need+=(xz-utils)
command -v gzip >/dev/null || need+=(gzip)
command -v file >/dev/null || need+=(file)
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v prometheus-alertmanager >/dev/null || need+=(prometheus-alertmanager)
command -v strip >/dev/null || need+=(binutils)
command -v ip >/dev/null || need+=(iproute2) # network namespaces and veth pairs of the capture tests
command -v pgbench >/dev/null || need+=(postgresql-client) # an honest database flow beside the miners
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || need+=(postgresql)
command -v containerd >/dev/null && command -v ctr >/dev/null || need+=(containerd) # the test cluster's runtime
[ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] || need+=(containernetworking-plugins) # its pod network
command -v nsenter >/dev/null || need+=(util-linux) # the cluster test reads a pod's routes
command -v prometheus >/dev/null && command -v promtool >/dev/null || need+=(prometheus) # the controller's CPU rule, on loopback

if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "install-test-deps: missing ${need[*]}; run as root to install them" >&2
		exit 1
	fi
	echo "install-test-deps: installing ${need[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
	# The tests run their own alertmanager on a loopback port; the
	# package's service would listen on every interface (9093, and 9094
	# for clustering), so it is not left running where systemd started it.
	if [[ " ${need[*]} " == *" prometheus-alertmanager "* ]] && [ -d /run/systemd/system ]; then
		systemctl disable --now prometheus-alertmanager.service >/dev/null 2>&1 || true
	fi
	# Likewise the tests start their own PostgreSQL server in a namespace.
	if [[ " ${need[*]} " == *" postgresql "* ]] && [ -d /run/systemd/system ]; then
		systemctl disable --now postgresql.service >/dev/null 2>&1 || true
	fi
	# Likewise Prometheus (and the node exporter it recommends, which apt
	# does not install here): the tests start their own on loopback.
	if [[ " ${need[*]} " == *" prometheus "* ]] && [ -d /run/systemd/system ]; then
		systemctl disable --now prometheus.service >/dev/null 2>&1 || true
	fi
	# And their own containerd: the package's service is not needed, and
	# would leave /run/containerd and /var/lib/containerd in use.
	if [[ " ${need[*]} " == *" containerd "* ]] && [ -d /run/systemd/system ]; then
		systemctl disable --now containerd.service >/dev/null 2>&1 || true
	fi
fi
