import { context, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { hasErrorCode } from '@zonekeeper/core';
import { createMemoryCluster } from '@zonekeeper/externaldns-deployer';
import {
  createMemoryIdentityProvider,
  createMemoryPodIdentityProvider,
  createMemoryRoleProvider,
} from '@zonekeeper/iam-scoper';
import { createMemorySecretStore, readAccessKey, readCertificateAuthority } from '@zonekeeper/vault-keys';
import { createMemoryDnsProvider } from '@zonekeeper/zone-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DAY, memoryWorld, rejectionOf } from './memory.test.support.js';
import type { ApiCallEvent, DecisionEvent, OperationEvent, ZonekeeperMetrics } from './telemetry/events.js';
import { createOpenTelemetryMetrics, OPENTELEMETRY_METRIC_NAMES } from './telemetry/otel-metrics.js';
import { TRACED_PORT_METHODS } from './telemetry/telemetry.js';
import { createZonekeeper } from './zonekeeper.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('zonekeeper-test');

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});
afterAll(() => {
  context.disable();
});
beforeEach(() => exporter.reset());

const spans = () => exporter.getFinishedSpans();
const byName = (name: string) => spans().filter((s) => s.name === name);
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
const childrenOf = (parent: ReadableSpan) =>
  spans().filter((s) => parentOf(s) === parent.spanContext().spanId);
const one = (name: string): ReadableSpan => {
  const found = byName(name);
  expect(found, name).toHaveLength(1);
  return found[0] as ReadableSpan;
};

/** Every string an exporter would send: names, attribute keys and values, events, status, resource. */
function exported(list: readonly ReadableSpan[]): string {
  return JSON.stringify(
    list.map((s) => ({
      name: s.name,
      attributes: s.attributes,
      events: s.events.map((e) => ({ name: e.name, attributes: e.attributes })),
      status: s.status,
      links: s.links,
    })),
  );
}

/** Collects every metrics event. */
function recorder() {
  const operations: OperationEvent[] = [];
  const apiCalls: ApiCallEvent[] = [];
  const decisions: DecisionEvent[] = [];
  const metrics: ZonekeeperMetrics = {
    operation: (e) => operations.push(e),
    apiCall: (e) => apiCalls.push(e),
    decision: (e) => decisions.push(e),
  };
  const count = (port: string) => {
    const out: Record<string, number> = {};
    for (const e of apiCalls) if (e.port === port) out[e.method] = (out[e.method] ?? 0) + 1;
    return out;
  };
  return { metrics, operations, apiCalls, decisions, count };
}

const nonZero = (calls: Readonly<Record<string, number>>) =>
  Object.fromEntries(Object.entries(calls).filter(([, n]) => n > 0));

describe('tracing', () => {
  it('ensure, attach and collect: one span per operation, one child span per port call', async () => {
    const w = memoryWorld({ tracer });
    await w.zk.ensureOrganization('acme');
    const ensure = one('zonekeeper.ensureOrganization');
    expect(ensure.kind).toBe(SpanKind.INTERNAL);
    expect(parentOf(ensure)).toBeUndefined();
    expect(ensure.attributes).toEqual({
      'zonekeeper.operation': 'ensureOrganization',
      'zonekeeper.organization': 'acme',
      'zonekeeper.dry_run': false,
    });
    expect(ensure.status.code).toBe(SpanStatusCode.UNSET);
    const calls = childrenOf(ensure);
    // Every span but the operation's is one of its port calls: nothing escaped the operation's context.
    expect(calls).toHaveLength(spans().length - 1);
    expect(new Set(calls.map((s) => s.attributes['zonekeeper.port']))).toEqual(
      new Set(['dns', 'identity', 'secrets']),
    );
    for (const s of calls) {
      expect(s.kind).toBe(SpanKind.CLIENT);
      expect(s.name).toBe(
        `zonekeeper.${s.attributes['zonekeeper.port']}.${s.attributes['zonekeeper.method']}`,
      );
      expect(s.attributes).toMatchObject({
        'zonekeeper.operation': 'ensureOrganization',
        'zonekeeper.organization': 'acme',
        'zonekeeper.dry_run': false,
      });
    }
    const createZone = calls.find(
      (s) =>
        s.name === 'zonekeeper.dns.createZone' && s.attributes['zonekeeper.zone_name'] === 'acme.example.com',
    );
    expect(createZone).toBeDefined();
    // The number of call spans is the number of port calls the memory backend counted.
    const counted = [w.dns.calls, w.identity.calls, w.secrets.calls]
      .flatMap((c) => Object.values(c))
      .reduce((a, b) => a + b, 0);
    expect(calls).toHaveLength(counted);
    const zoneId = (await w.dns.findZonesByName('acme.example.com'))[0]?.id;
    expect(calls.some((s) => s.attributes['zonekeeper.zone_id'] === zoneId)).toBe(true);
    const userName = w.identity.snapshot()[0]?.userName;
    expect(
      calls.find((s) => s.name === 'zonekeeper.identity.createUser')?.attributes['zonekeeper.user_name'],
    ).toBe(userName);

    w.inventory.set({ organization: 'acme', clusterId: 'c1', running: true });
    exporter.reset();
    await w.zk.attachCluster('acme', { clusterId: 'c1' });
    const attach = one('zonekeeper.attachCluster');
    expect(attach.attributes).toMatchObject({
      'zonekeeper.organization': 'acme',
      'zonekeeper.cluster_id': 'c1',
      'zonekeeper.dry_run': false,
    });
    const attachCalls = childrenOf(attach);
    expect(attachCalls).toHaveLength(spans().length - 1);
    const clusterCalls = attachCalls.filter((s) => s.attributes['zonekeeper.port'] === 'cluster');
    expect(clusterCalls.length).toBeGreaterThan(0);
    for (const s of clusterCalls) expect(s.attributes['zonekeeper.cluster_id']).toBe('c1');
    expect(
      clusterCalls.some(
        (s) =>
          s.name === 'zonekeeper.cluster.apply' &&
          s.attributes['zonekeeper.k8s.kind'] === 'Deployment' &&
          s.attributes['zonekeeper.k8s.name'] === 'external-dns' &&
          s.attributes['zonekeeper.k8s.namespace'] === 'external-dns',
      ),
    ).toBe(true);

    // Collect: a dry run while the cluster runs, a real one once it stopped (still in the free window).
    exporter.reset();
    await w.zk.collectGarbage({ dryRun: true });
    const dry = one('zonekeeper.collectGarbage');
    expect(dry.attributes).toMatchObject({ 'zonekeeper.dry_run': true, 'zonekeeper.trigger': 'call' });
    expect(dry.events.map((e) => e.attributes)).toEqual([
      {
        'zonekeeper.zone_id': zoneId,
        'zonekeeper.organization': 'acme',
        'zonekeeper.gc.action': 'keep',
        'zonekeeper.gc.reason': 'IN_USE',
      },
    ]);
    for (const s of childrenOf(dry)) expect(s.attributes['zonekeeper.dry_run']).toBe(true);

    await w.zk.detachCluster('acme', 'c1');
    w.inventory.set({ organization: 'acme', clusterId: 'c1', running: false });
    exporter.reset();
    const result = await w.zk.collectGarbage();
    expect(result.results.map((r) => r.reason)).toEqual(['deleted']);
    const collect = one('zonekeeper.collectGarbage');
    expect(collect.events.map((e) => [e.name, e.attributes])).toEqual([
      [
        'zonekeeper.gc.decision',
        {
          'zonekeeper.zone_id': zoneId,
          'zonekeeper.organization': 'acme',
          'zonekeeper.gc.action': 'delete',
          'zonekeeper.gc.reason': 'FREE_DELETION_WINDOW',
          'zonekeeper.gc.outcome': 'deleted',
        },
      ],
    ]);
    expect(collect.attributes).toMatchObject({
      'zonekeeper.gc.zones': 1,
      'zonekeeper.gc.due': 1,
      'zonekeeper.gc.deleted': 1,
    });
    const collectCalls = childrenOf(collect);
    expect(collectCalls).toHaveLength(spans().length - 1);
    expect(
      collectCalls.some(
        (s) => s.name === 'zonekeeper.dns.deleteZone' && s.attributes['zonekeeper.zone_id'] === zoneId,
      ),
    ).toBe(true);
    expect(collectCalls.some((s) => s.name === 'zonekeeper.inventory.listClusters')).toBe(true);
  });

  it('a failing port: the call span and the operation span have status ERROR with the code, not the message', async () => {
    const w = memoryWorld({ tracer });
    w.identity.injectFault({ method: 'createUser', when: 'before' });
    const error = await rejectionOf(w.zk.ensureOrganization('acme'));
    expect(hasErrorCode(error, 'UNAVAILABLE')).toBe(true);
    const failed = spans().filter((s) => s.status.code === SpanStatusCode.ERROR);
    const ensure = one('zonekeeper.ensureOrganization');
    const createUser = byName('zonekeeper.identity.createUser');
    expect(createUser.length).toBeGreaterThan(0);
    expect(failed).toContain(ensure);
    expect(failed).toContain(createUser[0]);
    expect(failed.every((s) => s === ensure || s.name === 'zonekeeper.identity.createUser')).toBe(true);
    for (const s of failed) {
      expect(s.status).toEqual({ code: SpanStatusCode.ERROR, message: 'UNAVAILABLE' });
      expect(s.attributes).toMatchObject({
        'zonekeeper.error.code': 'UNAVAILABLE',
        'error.type': 'UNAVAILABLE',
      });
    }
    expect(parentOf(createUser[0] as ReadableSpan)).toBe(ensure.spanContext().spanId);
    expect(exported(spans())).not.toContain((error as Error).message);
    expect(exported(spans())).not.toMatch(/connection reset/);
  });

  it('a refused input still gets its span, with INVALID_INPUT and no port call', async () => {
    const w = memoryWorld({ tracer });
    const error = await rejectionOf(w.zk.ensureOrganization('www'));
    expect(hasErrorCode(error, 'INVALID_INPUT')).toBe(true);
    expect(spans().map((s) => [s.name, s.status.message])).toEqual([
      ['zonekeeper.ensureOrganization', 'INVALID_INPUT'],
    ]);
  });

  it('no secret access key, private key, access key id or credentials file reaches an exported span', async () => {
    const w = memoryWorld({ tracer, identityScope: 'cluster' });
    const c1 = await w.cluster('c1');
    await c1.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web' } });
    await w.zk.ensureOrganization('acme');
    await w.zk.attachCluster('acme', {
      clusterId: 'c1',
      certificates: [{ name: 'web', namespace: 'web', dnsNames: ['www.acme.example.com'] }],
    });
    await w.zk.issueCertificate('acme', { name: 'api', dnsNames: ['api.acme.example.com'] });
    await w.zk.rotateCredentials('acme');
    await w.zk.attachCluster('acme', { clusterId: 'c2', identityScope: 'organization' });
    await w.zk.rotateCredentials('acme');

    const orgKey = await readAccessKey(w.secrets, { organization: 'acme' }, w.layout);
    const clusterKey = await readAccessKey(w.secrets, { organization: 'acme', clusterId: 'c1' }, w.layout);
    const ca = await readCertificateAuthority(w.secrets, 'acme', w.layout);
    const secrets = [orgKey?.secretAccessKey, clusterKey?.secretAccessKey, ca?.privateKeyPem];
    expect(secrets.every((s) => typeof s === 'string' && s.length > 20)).toBe(true);
    const text = exported(spans());
    expect(spans().length).toBeGreaterThan(50);
    for (const s of secrets) expect(text).not.toContain(s as string);
    // Nor any key id, any PEM, nor the credentials file the cluster Secret holds.
    for (const id of [orgKey?.accessKeyId, clusterKey?.accessKeyId]) expect(text).not.toContain(id as string);
    expect(text).not.toMatch(/AKIA|PRIVATE KEY|BEGIN CERTIFICATE|aws_secret_access_key/);
    // Every span's attribute keys are the documented ones.
    const keys = new Set(spans().flatMap((s) => Object.keys(s.attributes)));
    for (const k of keys) expect(k).toMatch(/^(zonekeeper\.[a-z0-9_.]+|error\.type)$/);
  });

  it('the loop: each pass is its own collectGarbage span with trigger loop', async () => {
    const w = memoryWorld({ tracer });
    await w.zk.ensureOrganization('acme');
    exporter.reset();
    const stop = new AbortController();
    const passes: unknown[] = [];
    const loop = w.zk.runGarbageCollector({
      signal: stop.signal,
      onCollection: (o) => {
        passes.push(o);
        if (passes.length === 1) stop.abort();
      },
    });
    await loop;
    const pass = one('zonekeeper.collectGarbage');
    expect(parentOf(pass)).toBeUndefined();
    expect(pass.attributes).toMatchObject({ 'zonekeeper.trigger': 'loop', 'zonekeeper.dry_run': false });
    expect(pass.events.map((e) => e.attributes?.['zonekeeper.gc.outcome'])).toEqual(['deleted']);
  });

  it('concurrent operations: each call span under its own operation, with its own organisation', async () => {
    const w = memoryWorld({ tracer });
    await Promise.all([w.zk.ensureOrganization('acme'), w.zk.ensureOrganization('initech')]);
    const operations = byName('zonekeeper.ensureOrganization');
    expect(operations.map((s) => s.attributes['zonekeeper.organization']).sort()).toEqual([
      'acme',
      'initech',
    ]);
    let calls = 0;
    for (const op of operations) {
      const organization = op.attributes['zonekeeper.organization'];
      for (const c of childrenOf(op)) {
        calls += 1;
        expect(c.attributes['zonekeeper.organization']).toBe(organization);
        expect(c.spanContext().traceId).toBe(op.spanContext().traceId);
        const named = [c.attributes['zonekeeper.zone_name'], c.attributes['zonekeeper.user_name']].filter(
          (v): v is string => typeof v === 'string' && v.includes('.'),
        );
        for (const n of named)
          if (n !== 'example.com') expect(n).toMatch(new RegExp(`\\b${organization}\\b`));
      }
    }
    // The embedded parent zone is created once, inside whichever operation came first.
    expect(calls).toBe(spans().length - 2);
  });

  it('the shipped code imports OpenTelemetry for types only (an optional peer dependency)', async () => {
    const { readdir, readFile } = await import('node:fs/promises');
    const root = new URL('.', import.meta.url);
    const files = (await readdir(root, { recursive: true })).filter(
      (f) => f.endsWith('.ts') && !/\.test(\.support)?\.ts$/.test(f),
    );
    expect(files.length).toBeGreaterThan(20);
    const imports: string[] = [];
    for (const f of files)
      for (const m of (await readFile(new URL(f, root), 'utf8')).matchAll(
        /^import[^;]*?from '(@opentelemetry\/[^']+)'/gms,
      ))
        imports.push(m[0]);
    expect(imports.length).toBeGreaterThan(0);
    for (const i of imports) expect(i).toMatch(/^import type /);
  });

  it('wraps every remote method of every port: the memory ports have exactly these, besides their test helpers', () => {
    const methods = (o: object) => {
      const out = new Set<string>();
      for (let p: object | null = o; p && p !== Object.prototype; p = Object.getPrototypeOf(p))
        for (const k of Object.getOwnPropertyNames(p))
          if (k !== 'constructor' && typeof (o as Record<string, unknown>)[k] === 'function') out.add(k);
      return out;
    };
    // What the memory implementations add for tests and demos; not part of the ports.
    const helpers = new Set([
      'clearFaults',
      'injectFault',
      'resetCalls',
      'snapshot',
      'writes',
      'paths',
      'objects',
      'setRolloutFailure',
      'resetCounters',
      'addCluster',
    ]);
    const ports = {
      dns: createMemoryDnsProvider(),
      identity: createMemoryIdentityProvider(),
      secrets: createMemorySecretStore(),
      cluster: createMemoryCluster({ name: 'c1' }),
      roles: createMemoryRoleProvider(),
      podIdentity: createMemoryPodIdentityProvider(),
    };
    for (const [port, impl] of Object.entries(ports)) {
      const remote = [...methods(impl)].filter((m) => !helpers.has(m)).sort();
      expect(remote, port).toEqual([...TRACED_PORT_METHODS[port as keyof typeof ports]].sort());
    }
  });
});

describe('metrics hook', () => {
  it('counts match the port calls the memory backend saw, per method; one operation event per call', async () => {
    const r = recorder();
    const w = memoryWorld({ metrics: r.metrics });
    await w.zk.ensureOrganization('acme');
    await w.zk.attachCluster('acme', { clusterId: 'c1' });
    await w.zk.ensureOrganization('acme', { dryRun: true });
    await rejectionOf(w.zk.detachCluster('acme', 'BAD ID'));
    const c1 = await w.cluster('c1');
    expect(r.count('dns')).toEqual(nonZero(w.dns.calls));
    expect(r.count('identity')).toEqual(nonZero(w.identity.calls));
    expect(r.count('secrets')).toEqual(nonZero(w.secrets.calls));
    expect(r.count('cluster')).toEqual(nonZero(c1.calls));
    expect(r.apiCalls.every((e) => e.outcome === 'success' && e.durationMs >= 0)).toBe(true);
    expect(r.apiCalls.every((e) => e.operation !== undefined && e.organization === 'acme')).toBe(true);
    expect(r.operations.map((e) => [e.operation, e.organization, e.dryRun, e.outcome, e.errorCode])).toEqual([
      ['ensureOrganization', 'acme', false, 'success', undefined],
      ['attachCluster', 'acme', false, 'success', undefined],
      ['ensureOrganization', 'acme', true, 'success', undefined],
      ['detachCluster', 'acme', false, 'error', 'INVALID_INPUT'],
    ]);
    expect(r.operations[1]?.clusterId).toBe('c1');
  });

  it('errors by code: a failing port call and its operation', async () => {
    const r = recorder();
    const w = memoryWorld({ metrics: r.metrics });
    w.identity.injectFault({ method: 'createUser', when: 'before' });
    await rejectionOf(w.zk.ensureOrganization('acme'));
    const failedCalls = r.apiCalls.filter((e) => e.outcome !== 'success');
    expect(failedCalls.map((e) => [e.port, e.method, e.outcome, e.errorCode])).toEqual([
      ['identity', 'createUser', 'error', 'UNAVAILABLE'],
    ]);
    expect(r.operations.map((e) => [e.operation, e.outcome, e.errorCode])).toEqual([
      ['ensureOrganization', 'error', 'UNAVAILABLE'],
    ]);
  });

  it('an aborted operation is outcome aborted with code ABORTED', async () => {
    const r = recorder();
    const w = memoryWorld({ metrics: r.metrics });
    const stop = new AbortController();
    stop.abort();
    await rejectionOf(w.zk.ensureOrganization('acme', { signal: stop.signal }));
    expect(r.operations.map((e) => [e.outcome, e.errorCode])).toEqual([['aborted', 'ABORTED']]);
  });

  it('collector decisions carry the gc-policy reason codes and the collection outcome', async () => {
    const r = recorder();
    const w = memoryWorld({ metrics: r.metrics });
    await w.zk.ensureOrganization('acme');
    await w.zk.ensureOrganization('initech');
    w.inventory.set({ organization: 'initech', clusterId: 'i1', running: true });
    await w.zk.collectGarbage({ dryRun: true });
    await w.zk.collectGarbage();
    await w.clock.advance(DAY);
    w.inventory.set({ organization: 'initech', clusterId: 'i1', running: false });
    await w.zk.collectGarbage();
    const acme = (await w.dns.findZonesByName('acme.example.com'))[0]?.id;
    expect(
      r.decisions.map((d) => [d.organization, d.action, d.reason, d.dryRun, d.outcome, d.trigger]),
    ).toEqual([
      ['acme', 'delete', 'FREE_DELETION_WINDOW', true, undefined, 'call'],
      ['initech', 'keep', 'IN_USE', true, undefined, 'call'],
      ['acme', 'delete', 'FREE_DELETION_WINDOW', false, 'deleted', 'call'],
      ['initech', 'keep', 'IN_USE', false, undefined, 'call'],
      ['initech', 'defer', 'ALREADY_CHARGED', false, undefined, 'call'],
    ]);
    expect(acme).toBeUndefined(); // deleted
    expect(r.operations.map((e) => [e.operation, e.dryRun, e.trigger])).toEqual([
      ['ensureOrganization', false, undefined],
      ['ensureOrganization', false, undefined],
      ['collectGarbage', true, 'call'],
      ['collectGarbage', false, 'call'],
      ['collectGarbage', false, 'call'],
    ]);
  });

  it('a throwing callback is logged once and never fails the operation', async () => {
    let calls = 0;
    const w = memoryWorld({
      metrics: {
        apiCall: () => {
          calls += 1;
          throw new Error('metrics backend down');
        },
      },
    });
    await w.zk.ensureOrganization('acme');
    expect(calls).toBeGreaterThan(5);
    expect(w.logger.lines.filter((l) => l.includes('metrics.apiCall'))).toHaveLength(1);
  });

  it('invalid tracer or metrics are INVALID_INPUT at createZonekeeper', () => {
    for (const bad of [
      { tracer: {} },
      { tracer: 'otel' },
      { metrics: 'x' },
      { metrics: { operation: 1 } },
      { metrics: null },
    ]) {
      let error: unknown;
      try {
        createZonekeeper({ baseDomain: 'example.com', ...(bad as object) });
      } catch (e) {
        error = e;
      }
      expect(hasErrorCode(error, 'INVALID_INPUT'), JSON.stringify(bad)).toBe(true);
    }
  });

  it('without tracer and metrics the ports are the configured instances (nothing is wrapped)', () => {
    const w = memoryWorld();
    const zk = createZonekeeper({
      baseDomain: 'example.com',
      dns: w.dns,
      identity: w.identity,
      secrets: w.secrets,
    });
    expect(zk.ports.dns).toBe(w.dns);
    expect(zk.ports.identity).toBe(w.identity);
    expect(zk.ports.secrets).toBe(w.secrets);
  });
});

describe('createOpenTelemetryMetrics', () => {
  it('records operations, API calls and decisions as OpenTelemetry instruments', async () => {
    const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({
      exporter: metricExporter,
      exportIntervalMillis: 3_600_000,
    });
    const meterProvider = new MeterProvider({ readers: [reader] });
    const r = recorder();
    const otel = createOpenTelemetryMetrics(meterProvider.getMeter('zonekeeper'));
    const both: ZonekeeperMetrics = {
      operation: (e) => {
        r.metrics.operation?.(e);
        otel.operation?.(e);
      },
      apiCall: (e) => {
        r.metrics.apiCall?.(e);
        otel.apiCall?.(e);
      },
      decision: (e) => {
        r.metrics.decision?.(e);
        otel.decision?.(e);
      },
    };
    const w = memoryWorld({ metrics: both });
    await w.zk.ensureOrganization('acme');
    await w.zk.collectGarbage();
    await reader.forceFlush();
    const metrics = metricExporter.getMetrics().flatMap((m) => m.scopeMetrics.flatMap((s) => s.metrics));
    const sum = (name: string, filter: (a: Record<string, unknown>) => boolean = () => true) =>
      metrics
        .filter((m) => m.descriptor.name === name)
        .flatMap((m) => m.dataPoints as readonly { attributes: Record<string, unknown>; value: unknown }[])
        .filter((p) => filter(p.attributes))
        .reduce(
          (a, p) => a + (typeof p.value === 'number' ? p.value : (p.value as { count: number }).count),
          0,
        );
    expect(sum(OPENTELEMETRY_METRIC_NAMES.operations)).toBe(2);
    expect(sum(OPENTELEMETRY_METRIC_NAMES.operationDuration)).toBe(2);
    expect(sum(OPENTELEMETRY_METRIC_NAMES.apiCalls)).toBe(r.apiCalls.length);
    expect(
      sum(
        OPENTELEMETRY_METRIC_NAMES.apiCalls,
        (a) => a['zonekeeper.port'] === 'dns' && a['zonekeeper.method'] === 'deleteZone',
      ),
    ).toBe(w.dns.calls.deleteZone);
    expect(
      sum(
        OPENTELEMETRY_METRIC_NAMES.decisions,
        (a) =>
          a['zonekeeper.gc.reason'] === 'FREE_DELETION_WINDOW' && a['zonekeeper.gc.outcome'] === 'deleted',
      ),
    ).toBe(1);
    await meterProvider.shutdown();
  });

  it('refuses something that is not a Meter', () => {
    expect(() => createOpenTelemetryMetrics({} as never)).toThrow(/Meter/);
  });
});
