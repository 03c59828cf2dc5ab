#!/usr/bin/env bash
# The vendor SDKs are peer dependencies of the adapters (docs/runtime.md). The workspace tests them at
# its devDependency versions, which are the newest releases in each peer range; this script tests the
# other end, the floor of each range: it installs those versions with npm into a scratch directory and
# runs only the adapter test files (and their contract suites) with every import of an SDK aliased to
# the scratch copy (.ci/peer-versions.vitest.ts).
#
#   .ci/peer-versions.sh            the floors below
#   .ci/peer-versions.sh PIN...     other versions, e.g. @kubernetes/client-node@2.0.1
set -euo pipefail
cd "$(dirname "$0")/.."

# The floor of each peer range in packages/*/package.json (keep them in sync). @kubernetes/client-node
# is not here: its floor, 1.4.0 (the first with RequestContext.setSignal, which carries cancellation to
# the request; 1.0.0-1.3.0 fail the abort test, 2.0.x does not load the adapter), is also the newest 1.x,
# the workspace's own version, so the main suite already tests it.
FLOORS=(
  @aws-sdk/client-route-53@3.782.0
  @aws-sdk/client-iam@3.782.0
  @aws-sdk/client-sts@3.782.0
  @aws-sdk/client-eks@3.782.0
  node-vault@0.10.2
)
pins=("$@")
[ ${#pins[@]} -gt 0 ] || pins=("${FLOORS[@]}")

# The adapters' own tests and their contract suites, on moto and the Vault fake (and the Kubernetes
# ones, for a run that pins another @kubernetes/client-node).
FILES=(
  packages/zone-manager/src/route53/
  packages/iam-scoper/src/iam/
  packages/iam-scoper/src/eks/
  packages/vault-keys/src/vault.test.ts
)
case " ${pins[*]}" in
  *" @kubernetes/client-node@"*)
    FILES+=(packages/externaldns-deployer/src/kubernetes.test.ts packages/externaldns-deployer/src/kubernetes.real.test.ts)
    ;;
esac

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
echo '{ "name": "zonekeeper-peer-versions", "private": true }' > "$scratch/package.json"
started=$(date +%s)
npm install --prefix "$scratch" --no-audit --no-fund --loglevel=error --ignore-scripts "${pins[@]}" >/dev/null
echo "== peer versions: ${pins[*]} (installed in $(($(date +%s) - started)) s)"
started=$(date +%s)
ZONEKEEPER_PEER_DIR="$scratch" ZONEKEEPER_PEER_VERSIONS=$(IFS=,; echo "${pins[*]}") \
  node node_modules/vitest/vitest.mjs run --config .ci/peer-versions.vitest.ts "${FILES[@]}"
echo "== peer versions took $(($(date +%s) - started)) s"
