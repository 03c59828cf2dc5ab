/**
 * `pnpm bench [name…] [--quick]`: runs the named benchmarks (default: all), each in its own process so
 * they do not disturb each other's heap and JIT. `--quick` is passed on to every benchmark (smaller
 * settings, not for the record).
 *
 * Order, so that the whole suite fits in 5 minutes on a 2-core machine:
 * 1. `rate-limit` starts first, in the background: it seeds two moto servers, then spends about three
 *    minutes waiting for its Route 53 limiters (a few per cent of one core). Its result is a time
 *    measured against the limiter's own schedule, which CPU load elsewhere does not change.
 * 2. `api-calls` runs meanwhile in the foreground: its results are call counts, which no load changes.
 * 3. Once `rate-limit` has printed `SEEDED` (it only waits from then on), the CPU-bound benchmarks run
 *    one after another: `gc-policy`, `certificates`, `cost`, `fleet-budget`, `collector-scale`, ….
 * 4. The background benchmark's output is printed when it ends.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Long, I/O-bound: started first, in the background. */
const background = ['rate-limit'];
/** Run one after another in the foreground, in this order; the CPU-bound ones once the background is seeded. */
const foreground = [
  'api-calls',
  'gc-policy',
  'certificates',
  'cost',
  'fleet-budget',
  'collector-scale',
  'import-time',
  'telemetry-overhead',
  'footprint',
];
const cpuBound = new Set([
  'gc-policy',
  'certificates',
  'cost',
  'fleet-budget',
  'collector-scale',
  'import-time',
  'telemetry-overhead',
  'footprint',
]);
/** Opt-in (named only): `footprint` installs every package with npm twice, a few minutes. */
const optIn = ['footprint'];
const all = [...foreground, ...background];

const args = process.argv.slice(2).filter((a) => a !== '--');
const flags = args.filter((a) => a.startsWith('--'));
const wanted = args.filter((a) => !a.startsWith('--'));
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${all.join(', ')}`);
  process.exit(2);
}
const chosen = wanted.length > 0 ? wanted : all.filter((n) => !optIn.includes(n));
const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
const children = new Set<ChildProcess>();
const start = (name: string, stdio: 'inherit' | 'pipe') => {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=@zonekeeper/source',
      fileURLToPath(new URL(`./${name}.ts`, import.meta.url)),
      ...flags,
    ],
    { stdio: stdio === 'inherit' ? 'inherit' : ['ignore', 'pipe', 'pipe'], env },
  );
  children.add(child);
  const ended = new Promise<number>((resolve) =>
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve(code ?? (signal ? 1 : 0));
    }),
  );
  return { child, ended };
};
const stopAll = () => {
  for (const c of children) c.kill('SIGTERM');
};
process.once('SIGINT', stopAll);
process.once('SIGTERM', stopAll);

const t0 = performance.now();
const at = () => `+${Math.round((performance.now() - t0) / 1000)} s`;
let failed = 0;
const check = (name: string, code: number) => {
  if (code !== 0) {
    console.error(`# ${name} failed (exit ${code})`);
    failed++;
  }
};

const running = chosen
  .filter((n) => background.includes(n))
  .map((name) => {
    console.log(`\n# ${name}: started in the background at ${at()}; its output follows when it ends`);
    const { child, ended } = start(name, 'pipe');
    const out: Buffer[] = [];
    let text = '';
    const ready = new Promise<void>((resolve) => {
      const take = (chunk: Buffer) => {
        out.push(chunk);
        text += chunk.toString();
        if (/^SEEDED$/m.test(text)) resolve();
      };
      child.stdout?.on('data', take);
      child.stderr?.on('data', (c: Buffer) => out.push(c));
      void ended.then(() => resolve());
    });
    return { name, ended, ready, out };
  });
for (const name of foreground.filter((n) => chosen.includes(n))) {
  if (cpuBound.has(name)) await Promise.all(running.map((r) => r.ready));
  console.log(`\n# ${name} (started at ${at()})`);
  check(name, await start(name, 'inherit').ended);
}

for (const r of running) {
  const code = await r.ended;
  console.log(`\n# ${r.name} (ended at ${at()})`);
  process.stdout.write(
    Buffer.concat(r.out)
      .toString()
      .replace(/^SEEDED\n/m, ''),
  );
  check(r.name, code);
}

console.log(`\n# pnpm bench: ${chosen.length} benchmark(s) in ${at()}${failed ? `, ${failed} failed` : ''}`);
if (failed > 0) process.exit(1);
