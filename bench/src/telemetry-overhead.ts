/**
 * Benchmark 7: what the observability hooks cost. The same converged `ensureOrganization` (every read
 * of the organisation: 14 port calls, no write) on the embedded memory backend, repeated, with:
 * no hooks (nothing is wrapped), a metrics hook of empty callbacks, the API's no-op tracer (no SDK
 * registered), and a recording SDK tracer (BasicTracerProvider, a span processor that drops every span).
 * Each measurement runs in a fresh process, the variants interleaved round after round so load elsewhere
 * hits them alike; the result is each variant's median time per operation and its ratio to no hooks.
 *
 * TELEMETRY_OPS (default 300; `--quick` 50) operations per variant and round, TELEMETRY_ROUNDS (default
 * 7; `--quick` 3) rounds.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, NoopSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createZonekeeper, type ZonekeeperConfig } from 'zonekeeper';
import { isQuick, load, type Row, report } from './report.js';

const OPS = Number(process.env.TELEMETRY_OPS ?? (isQuick() ? 50 : 300));
const ROUNDS = Number(process.env.TELEMETRY_ROUNDS ?? (isQuick() ? 3 : 7));

const noop = () => {};
const variants: Record<string, () => Partial<ZonekeeperConfig>> = {
  'no hooks': () => ({}),
  'metrics hook (empty callbacks)': () => ({ metrics: { operation: noop, apiCall: noop, decision: noop } }),
  'no-op tracer (API, no SDK)': () => ({ tracer: trace.getTracer('zonekeeper-bench') }),
  'SDK tracer (spans recorded, then dropped)': () => ({
    tracer: new BasicTracerProvider({ spanProcessors: [new NoopSpanProcessor()] }).getTracer(
      'zonekeeper-bench',
    ),
  }),
};

const child = process.env.TELEMETRY_VARIANT;
if (child !== undefined) {
  // One measurement, in a process of its own: a variant using AsyncLocalStorage turns on Node's promise
  // hooks for the whole process, which would slow the variants measured after it in the same process.
  const zk = createZonekeeper({ baseDomain: 'example.com', ...(variants[child]?.() ?? {}) });
  await zk.ensureOrganization('acme');
  for (let i = 0; i < 30; i++) await zk.ensureOrganization('acme'); // warm up the JIT
  const t = performance.now();
  for (let i = 0; i < OPS; i++) await zk.ensureOrganization('acme');
  console.log((performance.now() - t) / OPS);
  process.exit(0);
}

// Variants interleaved, round after round, so load elsewhere hits them alike.
const self = fileURLToPath(import.meta.url);
const perOpMs: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((v) => [v, []]));
for (let round = 0; round < ROUNDS; round++)
  for (const v of Object.keys(variants)) {
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--conditions=@zonekeeper/source', self], {
      env: { ...process.env, TELEMETRY_VARIANT: v, TELEMETRY_OPS: String(OPS) },
      encoding: 'utf8',
    });
    perOpMs[v]?.push(Number(out.trim()));
  }

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const base = median(perOpMs['no hooks'] ?? []);
const rows: Row[] = Object.entries(perOpMs).map(([variant, xs]) => ({
  variant,
  'median ms / op': Number(median(xs).toFixed(3)),
  'ratio to no hooks': Number((median(xs) / base).toFixed(2)),
}));
report(
  'telemetry-overhead',
  `Converged ensureOrganization on the memory backend (${OPS} ops per process, ${ROUNDS} interleaved rounds of fresh processes; load ${load().join(' / ')})`,
  rows,
  { ops: OPS, rounds: ROUNDS },
);
