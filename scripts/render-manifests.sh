#!/usr/bin/env bash
# Renders the chart as plain manifests on stdout, for clusters without
# helm: the namespace, the CRDs, and everything with default values except
# the webhook's certificates, which come from cert-manager (a chart install
# generates them; a static file cannot ship a key). Usage:
# scripts/render-manifests.sh HELM > deploy/manifests/davy.yaml
set -euo pipefail
helm=${1:?usage: render-manifests.sh HELM}
cd "$(dirname "$0")/.."
cat <<'YAML'
# Davy, rendered from deploy/chart/davy by `make manifests`; do not edit.
# Needs cert-manager for the webhook's certificate. Apply with:
#   kubectl apply -f deploy/manifests/davy.yaml
apiVersion: v1
kind: Namespace
metadata:
  name: davy
YAML
"$helm" template davy deploy/chart/davy --namespace davy --include-crds \
	--set webhook.certManager.enabled=true
