#!/usr/bin/env bash
# Packs every public workspace package and checks each tarball offline:
# publint --strict (package.json, exports, files) and attw --profile esm-only (types resolve for ESM).
set -euo pipefail
cd "$(dirname "$0")/.."
pnpm build >/dev/null
rm -rf .packs && mkdir .packs
pnpm -r --filter './packages/*' exec pnpm pack --pack-destination "$PWD/.packs" >/dev/null
shopt -s nullglob
tarballs=(.packs/*.tgz)
if [ "${#tarballs[@]}" -eq 0 ]; then echo "check-packs: no tarballs were packed" >&2; exit 1; fi
for t in "${tarballs[@]}"; do
  echo "== $(basename "$t")"
  pnpm exec publint run --strict "$t"
  pnpm exec attw --profile esm-only --format table-flipped "$t"
done
echo "check-packs: ${#tarballs[@]} packages OK"
