#!/usr/bin/env bash
# Builds Pebble, Let's Encrypt's ACME test server, at the version the tests run (PEBBLE_VERSION in
# packages/testkit/src/pebble/server.ts), once per machine: Debian's package is Pebble 2.4, which offers
# no ACME Renewal Information (RFC 9773), so cert-issuer's ACME tests run this build instead
# (docs/decisions.md, "ARI from a Pebble built from source").
#
#   bash .ci/build-pebble.sh        # prints the binary's path on its last line
#
# Output: ${ZONEKEEPER_CACHE_DIR:-<repo>/.cache}/bin/pebble-<version> (an ignored folder), reused when
# present and reporting the right version. `go install module@version` takes the module and its
# requirements from the module proxy, checked against the checksum database, exactly as Pebble's own
# go.mod and go.sum pin them. Go's caches (GOCACHE, GOMODCACHE) are the machine's defaults.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rules="$root/packages/testkit/src/pebble/server.ts"
version=$(sed -n "s/^export const PEBBLE_VERSION = '\(v[0-9][0-9.]*\)';.*/\1/p" "$rules")
[ -n "$version" ] || { echo "build-pebble: no PEBBLE_VERSION in $rules" >&2; exit 1; }
module=github.com/letsencrypt/pebble/v2
cache=${ZONEKEEPER_CACHE_DIR:-$root/.cache}
out="$cache/bin/pebble-$version"
expected="Pebble version: $version"

if [ -x "$out" ] && [ "$("$out" -version 2>&1 | head -n 1)" = "$expected" ]; then
  echo "Pebble $version: reusing $out" >&2
  echo "$out"
  exit 0
fi

command -v go >/dev/null || { echo "build-pebble: Go is missing (Pebble $version needs Go >= 1.25)" >&2; exit 1; }
mkdir -p "$cache/bin"
started=$(date +%s)
echo "Pebble $version: building $out (go $(go env GOVERSION), GOCACHE $(go env GOCACHE))" >&2
tmp=$(mktemp -d "$cache/bin/pebble-build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS= go install -trimpath -ldflags "-s -w -X main.version=$version" \
  "$module/cmd/pebble@$version"
mv "$tmp/pebble" "$out.tmp"
mv "$out.tmp" "$out"
actual=$("$out" -version 2>&1 | head -n 1)
[ "$actual" = "$expected" ] || { echo "build-pebble: built binary reports '$actual', expected '$expected'" >&2; exit 1; }
echo "Pebble $version: built in $(($(date +%s) - started)) s" >&2
echo "$out"
