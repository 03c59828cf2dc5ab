#!/usr/bin/env bash
# Builds the real kube-apiserver (with an embedded etcd) of this private Go module into
# <repo>/.cache/kube-apiserver/bin/kube-apiserver. Idempotent: skips the build when the binary was built
# from the same go.mod, go.sum, main.go and Go version. Go's own caches (GOMODCACHE, GOCACHE) stay where
# the machine keeps them, so a rebuild after a change is incremental. See docs/decisions.md (decision 18)
# for the measured cold build and start times.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/.cache/kube-apiserver/bin"
stamp_file="$out/kube-apiserver.stamp"
command -v go >/dev/null || { echo 'go is missing: the kube-apiserver build needs Go >= 1.23 (apt-get install golang is too old; use the machine Go)' >&2; exit 1; }
stamp="$( (cat "$here/go.mod" "$here/go.sum" "$here/main.go"; go version) | sha256sum | cut -d' ' -f1)"
if [[ -x "$out/kube-apiserver" && -f "$stamp_file" && "$(cat "$stamp_file")" == "$stamp" ]]; then
  echo "kube-apiserver: up to date ($out/kube-apiserver)"
  exit 0
fi
mkdir -p "$out"
start=$(date +%s)
# /version reports the Kubernetes release (the module proxy's sources carry no version stamp).
version="$(awk '$1 == "k8s.io/kubernetes" { print $2; exit }' "$here/go.mod")"
minor="$(echo "$version" | cut -d. -f2)"
ldflags="-s"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags="$ldflags -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done
(cd "$here" && GOFLAGS=-mod=readonly GOTOOLCHAIN=local go build -trimpath -ldflags="$ldflags" -o "$out/kube-apiserver.tmp" .)
mv "$out/kube-apiserver.tmp" "$out/kube-apiserver"
echo "$stamp" > "$stamp_file"
echo "kube-apiserver: built in $(( $(date +%s) - start )) s ($out/kube-apiserver)"
