#!/usr/bin/env bash
# Builds the ExternalDNS binary the end-to-end scenarios (e2e/) run: the exact version the deployer
# renders (EXTERNAL_DNS_VERSION in packages/externaldns-deployer/src/upstream.ts), once per machine.
#
#   bash .ci/build-external-dns.sh        # prints the binary's path on its last line
#
# Output: ${ZONEKEEPER_CACHE_DIR:-<repo>/.cache}/bin/external-dns-<version> (an ignored folder). It is
# reused when present and reporting the right version. Go's own caches (GOCACHE, GOMODCACHE) are the
# machine's defaults, so a fresh clone on a machine that built before only re-links (about a minute);
# a cold machine compiles everything it keeps (under 2 minutes on an idle 2-core machine; decision 25).
#
# The module proxy refuses two module versions ExternalDNS v0.22.0 requires (403 "This module version
# is not available"): github.com/exoscale/egoscale/v3 v3.1.44 and github.com/openshift/api at
# v0.0.0-20260819011109-af5c920502e2. Neither is on any code path we use (they serve the exoscale
# provider and the openshift-route source; we run --provider=aws with the service and ingress
# sources), so for that version the build takes ExternalDNS's own source from the proxy and replaces
# those two requirements with neighbouring versions the proxy serves, and compiles only the providers
# zonekeeper renders (see trim_providers below). The code it keeps is ExternalDNS's, unchanged.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rules="$root/packages/externaldns-deployer/src/upstream.ts"
version=$(sed -n "s/^export const EXTERNAL_DNS_VERSION = '\(v[0-9][0-9.]*\)';.*/\1/p" "$rules")
[ -n "$version" ] || { echo "build-external-dns: no EXTERNAL_DNS_VERSION in $rules" >&2; exit 1; }
module=sigs.k8s.io/external-dns
cache=${ZONEKEEPER_CACHE_DIR:-$root/.cache}
out="$cache/bin/external-dns-$version"

if [ -x "$out" ] && [ "$("$out" --version 2>&1)" = "$version" ]; then
  echo "ExternalDNS $version: reusing $out" >&2
  echo "$out"
  exit 0
fi

command -v go >/dev/null || { echo "build-external-dns: Go is missing (Go >= 1.26.6 is needed)" >&2; exit 1; }
mkdir -p "$cache/bin"
ldflags="-s -w -X $module/pkg/apis/externaldns.Version=$version"
started=$(date +%s)

replacements=()
case "$version" in
  v0.22.0)
    replacements=(
      github.com/exoscale/egoscale/v3@v3.1.44=github.com/exoscale/egoscale/v3@v3.1.46
      github.com/openshift/api@v0.0.0-20260819011109-af5c920502e2=github.com/openshift/api@v0.0.0-20260709102940-580f1c1ba691
    )
    ;;
esac

# Only the providers zonekeeper renders are compiled in: aws (Route 53), rfc2136 (PowerDNS with a TSIG key
# per organisation) and inmemory. The factory's import lines and map entries of every other provider are
# deleted from the build copy; the rest of ExternalDNS (sources, registry, plan, the three providers) is
# compiled unchanged. This halves the CPU of a cold build (docs/externaldns.md). A changed upstream
# shape fails loudly: a removed import whose entry stays (or the reverse) does not compile, and the
# checks below refuse a factory where the kept providers are not found.
keep_providers='aws|rfc2136|inmemory'
trim_providers() {
  local file=$1
  grep -q 'func providers(selector string)' "$file" || { echo "build-external-dns: unexpected $file (no providers())" >&2; exit 1; }
  sed -E -i \
    -e '/^[[:space:]]*"sigs\.k8s\.io\/external-dns\/provider\/[a-z0-9]+"$/{/\/provider\/('"$keep_providers"')"$/!d}' \
    -e '/^[[:space:]]*externaldns\.Provider[A-Za-z0-9]+:[[:space:]]+[a-z0-9]+\.New[A-Za-z]*,$/{/:[[:space:]]+('"$keep_providers"')\.New[A-Za-z]*,$/!d}' \
    "$file"
  local kept
  kept=$(grep -cE '^[[:space:]]*externaldns\.Provider[A-Za-z0-9]+:[[:space:]]+('"$keep_providers"')\.New' "$file" || true)
  [ "$kept" -eq 3 ] || { echo "build-external-dns: expected 3 kept providers in $file, found $kept" >&2; exit 1; }
}

echo "ExternalDNS $version: building $out (go $(go env GOVERSION), GOCACHE $(go env GOCACHE))" >&2
if [ ${#replacements[@]} -eq 0 ]; then
  GOBIN="$cache/bin.tmp" CGO_ENABLED=0 go install -trimpath -ldflags "$ldflags" "$module@$version"
  mv "$cache/bin.tmp/external-dns" "$out.tmp"
  rmdir "$cache/bin.tmp"
else
  dir=$(go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$dir" ] || { echo "build-external-dns: go mod download $module@$version gave no source" >&2; exit 1; }
  work="$cache/build/external-dns-$version"
  rm -rf "$work"
  mkdir -p "$(dirname "$work")"
  cp -r "$dir" "$work"
  chmod -R u+w "$work"
  edits=()
  for r in "${replacements[@]}"; do edits+=("-replace=$r"); done
  trim_providers "$work/provider/factory/provider.go"
  (cd "$work" && go mod edit "${edits[@]}" && CGO_ENABLED=0 go build -mod=mod -trimpath -ldflags "$ldflags" -o "$out.tmp" .)
  rm -rf "$work"
fi
mv "$out.tmp" "$out"
actual=$("$out" --version 2>&1)
[ "$actual" = "$version" ] || { echo "build-external-dns: built binary reports $actual, expected $version" >&2; exit 1; }
echo "ExternalDNS $version: built in $(($(date +%s) - started)) s" >&2
echo "$out"
