/**
 * zonekeeper observed (`pnpm --filter @zonekeeper-examples/observability start`): pino as the logger
 * (every line carries the active trace and span id), OpenTelemetry traces (one span per operation, one
 * child span per port call) and OpenTelemetry metrics, on the embedded in-memory backend — offline, no
 * collector needed: spans and metrics go to in-memory exporters and are printed at the end. In
 * production, swap the exporters for OTLP ones (docs/observability.md).
 */
import { metrics, trace } from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  InMemorySpanExporter,
  NodeTracerProvider,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import { pino } from 'pino';
import { createMemoryInventory, createOpenTelemetryMetrics, createZonekeeper } from 'zonekeeper';

// 1. OpenTelemetry. `register()` installs the provider globally and, what the nesting of zonekeeper's
//    spans needs, the AsyncLocalStorage context manager.
const spans = new InMemorySpanExporter();
const tracerProvider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
tracerProvider.register();
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({
  exporter: metricExporter,
  exportIntervalMillis: 3_600_000,
});
const meterProvider = new MeterProvider({ readers: [reader] });
metrics.setGlobalMeterProvider(meterProvider);

// 2. pino, with the active span's ids on every line (log ↔ trace correlation).
const log = pino(
  {
    base: { service: 'platform-api' },
    timestamp: false,
    mixin() {
      const span = trace.getActiveSpan()?.spanContext();
      return span ? { trace_id: span.traceId, span_id: span.spanId } : {};
    },
  },
  pino.destination({ sync: true }),
);
// zonekeeper's Logger is `(message, ...meta)`; pino takes an object first.
const at =
  (level: 'debug' | 'info' | 'warn' | 'error') =>
  (message: string, ...meta: unknown[]) =>
    meta.length === 0 ? log[level](message) : log[level]({ meta }, message);
const logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };

// 3. zonekeeper with a tracer and the metrics hook mapped to OpenTelemetry instruments.
const inventory = createMemoryInventory();
const zk = createZonekeeper({
  baseDomain: 'example.com',
  inventory,
  logger,
  tracer: trace.getTracer('zonekeeper'),
  metrics: createOpenTelemetryMetrics(metrics.getMeter('zonekeeper')),
});

await zk.ensureOrganization('acme');
inventory.set({ organization: 'acme', clusterId: 'prod-1', running: true });
await zk.attachCluster('acme', { clusterId: 'prod-1' });
inventory.remove('acme', 'prod-1');
await zk.detachCluster('acme', 'prod-1');
await zk.collectGarbage();

// 4. What an exporter would have sent.
const finished = spans.getFinishedSpans();
const children = new Map<string | undefined, ReadableSpan[]>();
for (const s of finished) {
  const parent = s.parentSpanContext?.spanId;
  children.set(parent, [...(children.get(parent) ?? []), s]);
}
const print = (line: string) => console.log(line);
print('--- traces ---');
for (const root of children.get(undefined) ?? []) {
  const calls = children.get(root.spanContext().spanId) ?? [];
  const byPort = new Map<string, number>();
  for (const c of calls) {
    const port = String(c.attributes['zonekeeper.port']);
    byPort.set(port, (byPort.get(port) ?? 0) + 1);
  }
  const org = root.attributes['zonekeeper.organization'];
  const ports = [...byPort].map(([port, n]) => `${port} ${n}`).join(', ');
  print(`${root.name}${org ? ` ${org}` : ''} [${root.status.code === 2 ? 'ERROR' : 'ok'}]: ${ports}`);
  for (const e of root.events)
    print(
      `  event ${e.name} ${e.attributes?.['zonekeeper.gc.reason']} → ${e.attributes?.['zonekeeper.gc.outcome']}`,
    );
}

await reader.forceFlush();
print('--- metrics ---');
for (const m of metricExporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics))) {
  if (m.descriptor.name !== 'zonekeeper.operations' && m.descriptor.name !== 'zonekeeper.gc.decisions')
    continue;
  for (const p of m.dataPoints as readonly { attributes: Record<string, unknown>; value: unknown }[])
    print(
      `${m.descriptor.name}{${Object.entries(p.attributes)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(',')}} ${String(p.value)}`,
    );
}
await meterProvider.shutdown();
await tracerProvider.shutdown();
