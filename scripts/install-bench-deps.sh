#!/usr/bin/env bash
# Installs what bench/imagescan compares Davy against: ClamAV's clamscan and
# YARA, both from Debian. Idempotent; needs root and apt.
#
# No network but the package mirror is reachable, and the benchmark writes its
# own signature database, so freshclam must never run: its Debian postinst
# runs "invoke-rc.d clamav-freshclam no-daemon" (a one-shot download) even
# when updates are set to manual. We preseed "manual" and, while apt runs,
# forbid every service start with a policy-rc.d (exit 101) unless the machine
# already has one; the freshclam service is left disabled.
set -euo pipefail

need=()
command -v clamscan >/dev/null || need+=(clamav)
command -v yara >/dev/null || need+=(yara)
command -v gzip >/dev/null || need+=(gzip)

if [ ${#need[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "install-bench-deps: missing ${need[*]}; run as root to install them" >&2
	exit 1
fi

policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# temporary, from install-bench-deps.sh: start no service\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	own_policy=1
	trap 'rm -f "$policy"' EXIT
fi

export DEBIAN_FRONTEND=noninteractive
echo "clamav-freshclam clamav-freshclam/autoupdate_freshclam select manual" | debconf-set-selections
echo "install-bench-deps: installing ${need[*]}" >&2
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Keep the updater from starting at a later boot as well.
update-rc.d -f clamav-freshclam disable >/dev/null 2>&1 || true
if [ "$own_policy" = 1 ]; then
	rm -f "$policy"
	trap - EXIT
fi
