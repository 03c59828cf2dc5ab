#!/usr/bin/env bash
# Packs every public workspace package and checks each tarball offline:
# publint --strict (package.json, exports, files) and attw --profile esm-only (types resolve for ESM).
# Then a strict consumer: npm installs the tarballs and the peer SDKs into a scratch project and
# compiles .ci/consumer-types/consumer.ts with skipLibCheck false (every .d.ts it reaches is checked).
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

echo "== a strict consumer (skipLibCheck false) of the packed packages"
consumer=$(mktemp -d)
trap 'rm -rf "$consumer"' EXIT
cp .ci/consumer-types/consumer.ts .ci/consumer-types/tsconfig.json "$consumer/"
# Each tarball by its own file (dependency and override, so that `@zonekeeper/core@^0.1.0` inside the
# other tarballs resolves to it and not to the registry), each vendor SDK that a package takes as a peer
# at the workspace's version, and @types/node of the lowest supported line (the root's).
node - "$consumer" "${tarballs[@]}" <<'JS'
const { execFileSync } = require('node:child_process');
const { readFileSync, writeFileSync } = require('node:fs');
const { resolve } = require('node:path');
const [dir, ...tarballs] = process.argv.slice(2);
const deps = {};
const peers = {};
for (const t of tarballs) {
  const manifest = JSON.parse(execFileSync('tar', ['-xOzf', t, 'package/package.json'], { encoding: 'utf8' }));
  deps[manifest.name] = `file:${resolve(t)}`;
  const pkgDir = `packages/${manifest.name.replace(/^@zonekeeper\//, '')}`;
  const dev = JSON.parse(readFileSync(`${pkgDir}/package.json`, 'utf8')).devDependencies ?? {};
  for (const peer of Object.keys(manifest.peerDependencies ?? {})) if (peer !== 'vitest') peers[peer] = dev[peer];
}
// Our own packages as peers (zonekeeper's `dev` command takes the fakes as optional peers) are the
// tarballs above, not the workspace's `workspace:*` versions.
for (const name of Object.keys(deps)) delete peers[name];
const root = JSON.parse(readFileSync('package.json', 'utf8')).devDependencies;
const manifest = {
  name: 'zonekeeper-strict-consumer',
  private: true,
  type: 'module',
  dependencies: { ...deps, ...peers, '@types/node': root['@types/node'] },
  overrides: deps,
};
writeFileSync(`${dir}/package.json`, `${JSON.stringify(manifest, null, 2)}\n`);
JS
npm install --prefix "$consumer" --no-audit --no-fund --loglevel=error --ignore-scripts >/dev/null
node node_modules/typescript/bin/tsc -p "$consumer/tsconfig.json"
echo "check-packs: ${#tarballs[@]} packages OK; a strict consumer compiles against them"
