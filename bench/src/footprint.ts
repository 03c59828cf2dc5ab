/**
 * Benchmark 7 (opt-in: `pnpm bench footprint`): what a user installs and what an import costs, per
 * package and per entry, on the running Node (run it under each line: `.ci/node-lines.sh node 22`).
 *
 * - Install size: each tarball of `.packs/` (run `bash .ci/check-packs.sh` first) installed alone with
 *   npm into a scratch project (the other @zonekeeper tarballs it depends on from `.packs/` too), once
 *   without the vendor SDKs (`--legacy-peer-deps`: no peer installed) and once with them (the package's
 *   peer SDKs at the workspace's versions); the bytes of `node_modules` (`du -sb`), the packed size of
 *   the tarball and the number of packages installed.
 * - Import time: fresh processes that `import()` one entry from the built `dist` (as users get it) and
 *   print how long it took, median of IMPORT_RUNS (default 11; `--quick` 3), as a ratio to the same
 *   measurement for `import('node:http')`, interleaved in the same run, so that the figure depends less
 *   on the machine's speed or load. The first `import()` of a process also starts the ESM loader, so the
 *   baseline is that fixed cost; the difference is what the entry itself adds.
 *
 * FOOTPRINT_PARTS=install or =import runs one half only.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isQuick, load, type Row, report } from './report.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bench = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.IMPORT_RUNS ?? (isQuick() ? 3 : 11));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

interface Manifest {
  name: string;
  exports: Record<string, unknown>;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}
const packagesDir = join(root, 'packages');
const manifests = readdirSync(packagesDir).map((d) => ({
  dir: d,
  manifest: JSON.parse(readFileSync(join(packagesDir, d, 'package.json'), 'utf8')) as Manifest,
}));

// --- install size ---------------------------------------------------------------------------------
const packs = join(root, '.packs');
const tarballs = new Map<string, string>();
for (const file of existsSync(packs) ? readdirSync(packs).filter((f) => f.endsWith('.tgz')) : []) {
  const m = JSON.parse(
    execFileSync('tar', ['-xOzf', join(packs, file), 'package/package.json'], { encoding: 'utf8' }),
  ) as Manifest;
  tarballs.set(m.name, resolve(packs, file));
}
if (tarballs.size === 0 && (process.env.FOOTPRINT_PARTS ?? 'install').includes('install'))
  throw new Error('footprint: no tarballs in .packs/ (run bash .ci/check-packs.sh)');
const local = Object.fromEntries([...tarballs].map(([name, file]) => [name, `file:${file}`]));

function install(
  name: string,
  peers: Record<string, string> | undefined,
): { bytes: number; packages: number } {
  const dir = mkdtempSync(join(tmpdir(), 'zonekeeper-footprint-'));
  try {
    const dependencies = { [name]: local[name] as string, ...peers };
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'footprint', private: true, dependencies, overrides: local }),
    );
    execFileSync(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--ignore-scripts',
        '--loglevel=error',
        ...(peers ? [] : ['--legacy-peer-deps']),
      ],
      { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const bytes = Number(
      execFileSync('du', ['-sb', join(dir, 'node_modules')], { encoding: 'utf8' }).split('\t')[0],
    );
    const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, unknown>;
    };
    return { bytes, packages: Object.keys(lock.packages).length - 1 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const parts = (process.env.FOOTPRINT_PARTS ?? 'install,import').split(',');
const MB = (n: number) => Number((n / 1e6).toFixed(1));
const sizeRows: Row[] = [];
for (const { manifest } of parts.includes('install') ? manifests : []) {
  const tarball = tarballs.get(manifest.name);
  if (!tarball) continue;
  // The vendor SDKs only: vitest and the optional @zonekeeper test peers (testkit, the Kubernetes
  // fake) are not what a user installs to run the package (and a direct dependency on a workspace
  // tarball would conflict with its `overrides` entry: npm's EOVERRIDE).
  const sdks = Object.keys(manifest.peerDependencies ?? {}).filter(
    (p) => p !== 'vitest' && !p.startsWith('@zonekeeper/'),
  );
  const bare = install(manifest.name, undefined);
  const withPeers =
    sdks.length === 0
      ? bare
      : install(
          manifest.name,
          Object.fromEntries(sdks.map((p) => [p, manifest.devDependencies?.[p] ?? '*'])),
        );
  sizeRows.push({
    package: manifest.name,
    'packed kB': Number((statSync(tarball).size / 1e3).toFixed(1)),
    'installed MB (no peer SDKs)': MB(bare.bytes),
    'packages (no peer SDKs)': bare.packages,
    'peer SDKs': sdks.join(' ') || '–',
    'installed MB (with peer SDKs)': MB(withPeers.bytes),
    'packages (with peer SDKs)': withPeers.packages,
  });
}
report(
  'footprint-install',
  `Install size per package (npm ${execFileSync('npm', ['--version'], { encoding: 'utf8' }).trim()})`,
  sizeRows,
  {},
);

// --- import time ----------------------------------------------------------------------------------
/** One fresh process: the `import()` time in ms. No `@zonekeeper/source` condition: dist, as users get it. */
function once(specifier: string): number {
  const code = `const t = performance.now(); await import(${JSON.stringify(specifier)}); console.log(performance.now() - t)`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], {
    cwd: bench,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  return Number(out.trim());
}

const entries = (parts.includes('import') ? manifests : [])
  .filter(({ dir }) => dir !== 'kube-apiserver-fake' && dir !== 'testkit')
  .flatMap(({ manifest }) =>
    Object.keys(manifest.exports)
      .filter((k) => k !== './package.json' && k !== './testing')
      .map((k) => (k === '.' ? manifest.name : `${manifest.name}/${k.slice(2)}`)),
  );
const importRows: Row[] = [];
const baselines: number[] = [];
for (const entry of entries) {
  // Interleaved with the baseline, so that a burst of load elsewhere hits both.
  const times: number[] = [];
  const base: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    base.push(once('node:http'));
    times.push(once(entry));
  }
  const b = median(base);
  baselines.push(b);
  importRows.push({
    entry,
    'import() median ms': Number(median(times).toFixed(1)),
    'node:http median ms': Number(b.toFixed(2)),
    '× node:http': Number((median(times) / b).toFixed(2)),
    'ms over node:http': Number((median(times) - b).toFixed(1)),
  });
}
if (parts.includes('import'))
  report(
    'footprint-import',
    `Import time per entry on Node ${process.version} (${RUNS} fresh processes each; load ${load().join(' / ')})`,
    importRows,
    { runs: RUNS, node: process.version, nodeHttpMedianMs: median(baselines) },
  );
