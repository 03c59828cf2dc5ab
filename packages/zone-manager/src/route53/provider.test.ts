import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  ListHostedZonesCommand,
} from '@aws-sdk/client-route-53';
import { hasErrorCode } from '@zonekeeper/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dnsProviderContract } from '../testing.js';
import { type Route53Backend, startRoute53Backend } from './moto.test.support.js';
import {
  createRoute53RateLimiter,
  ROUTE53_THROTTLING_2026,
  type Route53AcquireOptions,
  type Route53RateLimiter,
} from './rate-limiter.js';

let backend: Route53Backend;
beforeAll(async () => {
  backend = await startRoute53Backend('provider');
});
afterAll(async () => {
  await backend?.stop();
});

// moto 5.2.1 lacks: CallerReference idempotency, most InvalidChangeBatch rules, plain SOA rdata,
// NoSuchChange and PENDING changes. The memory provider passes the strict versions.
dnsProviderContract({
  name: 'route53 adapter on moto (through the fault proxy)',
  create: async () => ({ provider: backend.provider() }),
  capabilities: {},
});

/** A limiter that counts acquisitions and records when they were granted and what they asked for. */
function countingLimiter(inner: Route53RateLimiter = createRoute53RateLimiter({ requestsPerSecond: 1_000 })) {
  const grants: number[] = [];
  const requests: { action?: string | undefined; changes?: number | undefined }[] = [];
  return {
    grants,
    requests,
    limiter: {
      requestsPerSecond: inner.requestsPerSecond,
      async acquire(options?: Route53AcquireOptions) {
        await inner.acquire(options);
        grants.push(performance.now());
        requests.push({ action: options?.action, changes: options?.changes });
      },
    } satisfies Route53RateLimiter,
  };
}

describe('Route 53 adapter on moto: rate limiting, retries, cancellation', () => {
  beforeEach(() => {
    backend.proxy.setRules([]);
    backend.proxy.clearLog();
  });

  it('takes a rate-limiter slot for every HTTP attempt, the SDK retries included', async () => {
    const { limiter, grants } = countingLimiter();
    const dns = backend.provider({ rateLimiter: limiter });
    backend.proxy.setRules([
      { operation: 'ListHostedZones', fault: 'Throttling', times: 1 },
      { operation: 'ListHostedZones', fault: 'PriorRequestNotComplete', times: 1 },
      { operation: 'ListHostedZones', fault: 'ServiceUnavailable', times: 1 },
    ]);
    await dns.listZones();
    expect(backend.proxy.count({ operation: 'ListHostedZones' })).toBe(4);
    expect(backend.proxy.count({ operation: 'ListHostedZones', faulted: true })).toBe(3);
    expect(grants).toHaveLength(4);
  });

  it("tells the limiter each request's action and, for record changes, the number of changes", async () => {
    const { limiter, requests } = countingLimiter();
    const dns = backend.provider({ rateLimiter: limiter });
    const created = await dns.createZone({ name: 'limits.example.com', callerReference: 'limits-1' });
    const records = ['a', 'b', 'c'].map((n, i) => ({
      name: `${n}.limits.example.com`,
      type: 'A',
      ttl: 60,
      values: [`192.0.2.${i + 1}`],
    }));
    await dns.changeRecords(
      created.zone.id,
      records.map((recordSet) => ({ action: 'CREATE' as const, recordSet })),
    );
    await dns.changeRecords(created.zone.id, [
      { action: 'DELETE', recordSet: records[0] as (typeof records)[0] },
    ]);
    await dns.changeRecords(
      created.zone.id,
      records.slice(1).map((recordSet) => ({ action: 'DELETE' as const, recordSet })),
    );
    await dns.deleteZone(created.zone.id);
    expect(requests).toEqual([
      { action: 'CreateHostedZone', changes: undefined },
      { action: 'ChangeResourceRecordSets', changes: 3 },
      { action: 'ChangeResourceRecordSets', changes: 1 },
      { action: 'ChangeResourceRecordSets', changes: 2 },
      { action: 'DeleteHostedZone', changes: undefined },
    ]);
  });

  it('holds two providers sharing one limiter to its burst, then to its refill rate', async () => {
    // A small table keeps the test short: burst 5, then 10 requests per second.
    const shared = createRoute53RateLimiter({
      table: { ...ROUTE53_THROTTLING_2026, account: { capacity: 5, refillPerSecond: 10 } },
    });
    const { limiter, grants } = countingLimiter(shared);
    const a = backend.provider({ rateLimiter: limiter });
    const b = backend.provider({ rateLimiter: limiter, region: 'eu-west-1' });
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 25 }, (_, i) => (i % 2 ? a : b).findZonesByName('nothing.example.com')),
    );
    expect(grants).toHaveLength(25);
    expect(backend.proxy.count({ operation: 'ListHostedZonesByName' })).toBe(25);
    // Grant k (0-based) needs the k − 4 tokens refilled after the burst: no earlier than (k − 4) × 100 ms.
    const sorted = [...grants].sort((x, y) => x - y);
    for (let k = 5; k < sorted.length; k++) {
      expect((sorted[k] as number) - started).toBeGreaterThan((k - 4) * 100 - 15);
    }
    // The burst goes at once; without the limiter all 25 would start within a few milliseconds.
    expect((sorted[4] as number) - started).toBeLessThan(400);
    expect((sorted[24] as number) - started).toBeGreaterThan(1_950);
  });

  it('translates a throttle that outlasts the retries to THROTTLED, keeping the SDK error as cause', async () => {
    const dns = backend.provider({ maxAttempts: 3 });
    backend.proxy.setRules([{ operation: 'GetHostedZone', fault: 'Throttling' }]);
    const error = await dns.getZone('Z1234567890').catch((e) => e);
    expect(hasErrorCode(error, 'THROTTLED')).toBe(true);
    expect(error.retry).toBe('transient');
    expect(error.message).toMatch(
      /^Route 53: GetHostedZone \(zone Z1234567890\) failed after 3 attempts: Throttling/,
    );
    expect(error.cause?.name).toBe('Throttling');
    expect(error.details).toMatchObject({ operation: 'GetHostedZone', httpStatus: 400, attempts: 3 });
    expect(backend.proxy.count({ operation: 'GetHostedZone' })).toBe(3);
  });

  it('translates injected vendor errors on the wire (AccessDenied, HostedZoneAlreadyExists, 500)', async () => {
    const dns = backend.provider({ maxAttempts: 2 });
    backend.proxy.setRules([
      { operation: 'ListHostedZones', fault: { kind: 'error', code: 'AccessDenied', status: 403 } },
      {
        operation: 'CreateHostedZone',
        fault: { kind: 'error', code: 'HostedZoneAlreadyExists', status: 409 },
      },
      { operation: 'DeleteHostedZone', fault: 'InternalFailure' },
    ]);
    const denied = await dns.listZones().catch((e) => e);
    expect(hasErrorCode(denied, 'PERMISSION_DENIED')).toBe(true);
    expect(denied.message).toContain('route53:ListHostedZones');
    const exists = await dns.createZone({ name: 'x.example.com', callerReference: 'r' }).catch((e) => e);
    expect(hasErrorCode(exists, 'ALREADY_EXISTS')).toBe(true);
    const down = await dns.deleteZone('Z1').catch((e) => e);
    expect(hasErrorCode(down, 'UNAVAILABLE')).toBe(true);
    expect(backend.proxy.count({ operation: 'DeleteHostedZone' })).toBe(2);
  });

  it('forwards the signal: an abort during a slow call rejects with signal.reason at once', async () => {
    const dns = backend.provider();
    backend.proxy.setRules([{ operation: 'ListHostedZones', fault: { kind: 'latency', ms: 3_000 } }]);
    const controller = new AbortController();
    const started = performance.now();
    const pending = dns.listZones({ signal: controller.signal }).catch((e) => e);
    setTimeout(() => controller.abort(new Error('operator cancelled')), 100);
    const error = await pending;
    expect(error).toBe(controller.signal.reason);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('aborts while waiting for a rate-limiter slot without sending the request', async () => {
    const limiter = createRoute53RateLimiter({
      table: { ...ROUTE53_THROTTLING_2026, account: { capacity: 1, refillPerSecond: 0.1 } },
    });
    const dns = backend.provider({ rateLimiter: limiter });
    await dns.listZones();
    const controller = new AbortController();
    const pending = dns.listZones({ signal: controller.signal }).catch((e) => e);
    setTimeout(() => controller.abort(), 50);
    expect(await pending).toBe(controller.signal.reason);
    expect(backend.proxy.count({ operation: 'ListHostedZones' })).toBe(1);
  });

  it('deletes records that another client wrote in other spellings (moto keeps names as written)', async () => {
    const dns = backend.provider();
    const z = await backend.raw.send(
      new CreateHostedZoneCommand({ Name: 'spell.example.com', CallerReference: `s-${Date.now()}` }),
    );
    const id = (z.HostedZone?.Id ?? '').replace('/hostedzone/', '');
    await backend.raw.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: id,
        ChangeBatch: {
          Changes: [
            {
              Action: 'CREATE',
              ResourceRecordSet: {
                Name: '\\052.w.spell.example.com.',
                Type: 'A',
                TTL: 60,
                ResourceRecords: [{ Value: '192.0.2.1' }],
              },
            },
            {
              Action: 'CREATE',
              ResourceRecordSet: {
                Name: 'UP.spell.example.com',
                Type: 'A',
                TTL: 60,
                ResourceRecords: [{ Value: '192.0.2.2' }],
              },
            },
          ],
        },
      }),
    );
    const records = (await dns.listRecords(id)).recordSets.filter((r) => r.type === 'A');
    expect(records.map((r) => r.name).sort()).toEqual(['*.w.spell.example.com', 'up.spell.example.com']);
    await dns.changeRecords(
      id,
      records.map((recordSet) => ({ action: 'DELETE' as const, recordSet })),
    );
    expect((await dns.listRecords(id)).recordSets.map((r) => r.type).sort()).toEqual(['NS', 'SOA']);
  });

  it('never exposes the secret access key in a translated error', async () => {
    const secretAccessKey = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    const dns = backend.provider({ credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey } });
    backend.proxy.setRules([
      { operation: 'ListHostedZones', fault: { kind: 'error', code: 'SignatureDoesNotMatch', status: 403 } },
    ]);
    const error = await dns.listZones().catch((e) => e);
    expect(hasErrorCode(error, 'PERMISSION_DENIED')).toBe(true);
    const seen = new Set<unknown>();
    const dump = (value: unknown): string => {
      if (value === null || typeof value !== 'object' || seen.has(value)) return String(value);
      seen.add(value);
      const e = value as { message?: unknown; stack?: unknown; cause?: unknown };
      return [String(e.message), String(e.stack), dump(e.cause), ...Object.values(value).map(dump)].join(
        '\n',
      );
    };
    const text = `${dump(error)}\n${JSON.stringify(error)}`;
    expect(text).toContain('SignatureDoesNotMatch');
    expect(text).not.toContain(secretAccessKey);
  });

  it('lists zones 100 per ListHostedZones call', async () => {
    for (let i = 0; i < 120; i++) {
      await backend.raw.send(
        new CreateHostedZoneCommand({
          Name: `p${i}.paging.example`,
          CallerReference: `p-${i}-${Date.now()}`,
        }),
      );
    }
    const total =
      (await backend.raw.send(new ListHostedZonesCommand({ MaxItems: 1000 }))).HostedZones?.length ?? 0;
    const dns = backend.provider();
    const zones = await dns.listZones();
    expect(zones).toHaveLength(total);
    expect(new Set(zones.map((z) => z.id)).size).toBe(total);
    // Calls, not requests: under heavy load the SDK may retry a page (its attempt number says so).
    expect(backend.proxy.count({ operation: 'ListHostedZones', firstAttempts: true })).toBe(
      Math.ceil(total / 100),
    );
    // With onPage, each page is handed over as it arrives, before the next one is asked for.
    const pages: { size: number; callsSoFar: number }[] = [];
    const before = backend.proxy.count({ operation: 'ListHostedZones', firstAttempts: true });
    const again = await dns.listZones({
      onPage: (page) =>
        pages.push({
          size: page.length,
          callsSoFar: backend.proxy.count({ operation: 'ListHostedZones', firstAttempts: true }) - before,
        }),
    });
    expect(pages.map((p) => p.callsSoFar)).toEqual(pages.map((_, i) => i + 1));
    expect(pages.reduce((n, p) => n + p.size, 0)).toBe(again.length);
    expect(pages.length).toBe(Math.ceil(total / 100));
  });
});
