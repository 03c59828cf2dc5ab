/**
 * Benchmark 6: what importing zonekeeper costs a process. Each row starts fresh Node processes (with the
 * built `dist` of every package, as users import them) that import one module and print how long the
 * `import()` took; the median of the runs is reported, and the wall time of the whole process
 * (`node -e "import('zonekeeper')"`) next to that of a process that imports nothing.
 *
 * Needs `pnpm build` first (it imports `dist`). IMPORT_RUNS changes the number of runs (default 15;
 * `--quick` 5).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isQuick, load, type Row, report } from './report.js';

const RUNS = Number(process.env.IMPORT_RUNS ?? (isQuick() ? 5 : 15));
const cwd = fileURLToPath(new URL('..', import.meta.url));
const modules = [
  'zonekeeper',
  '@zonekeeper/core',
  '@zonekeeper/gc-policy',
  '@zonekeeper/cert-issuer',
  '@zonekeeper/zone-manager',
  '@zonekeeper/iam-scoper',
  '@zonekeeper/vault-keys',
  '@zonekeeper/externaldns-deployer',
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** One fresh process: [import() ms, process wall ms]. No `@zonekeeper/source` condition: dist, as users get it. */
function once(specifier: string | undefined): [number, number] {
  const code =
    specifier === undefined
      ? 'console.log(0)'
      : `const t = performance.now(); await import(${JSON.stringify(specifier)}); console.log(performance.now() - t)`;
  const start = performance.now();
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd, encoding: 'utf8' });
  return [Number(out.trim()), performance.now() - start];
}

const rows: Row[] = [];
const bare = median(Array.from({ length: RUNS }, () => once(undefined)[1]));
for (const m of modules) {
  // Interleave with the bare process so a burst of load elsewhere hits both.
  const runs = Array.from({ length: RUNS }, () => once(m));
  const importMs = median(runs.map((r) => r[0]));
  const wallMs = median(runs.map((r) => r[1]));
  rows.push({
    module: m,
    'import() median ms': Number(importMs.toFixed(1)),
    'process wall median ms': Number(wallMs.toFixed(1)),
    'wall − bare node ms': Number((wallMs - bare).toFixed(1)),
  });
}
report(
  'import-time',
  `Import cost in fresh processes (${RUNS} runs each, bare node ${bare.toFixed(1)} ms; load ${load().join(' / ')})`,
  rows,
  {
    runs: RUNS,
    bareNodeMs: bare,
  },
);
