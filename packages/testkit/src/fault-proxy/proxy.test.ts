import { request as httpRequest } from 'node:http';
import { CreateUserCommand, GetUserCommand, IAMClient, ListUsersCommand } from '@aws-sdk/client-iam';
import {
  ChangeResourceRecordSetsCommand,
  ChangeTagsForResourceCommand,
  CreateHostedZoneCommand,
  DeleteHostedZoneCommand,
  GetChangeCommand,
  GetHostedZoneCommand,
  ListHostedZonesByNameCommand,
  ListHostedZonesCommand,
  ListResourceRecordSetsCommand,
  ListTagsForResourceCommand,
  ListTagsForResourcesCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { hasErrorCode } from '@zonekeeper/core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type MotoServer, startMoto } from '../moto/index.js';
import { type FaultProxy, type FaultRule, startFaultProxy } from './index.js';

let moto: MotoServer;
let proxy: FaultProxy;
const clients: { destroy(): void }[] = [];

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startFaultProxy({ target: moto.endpoint });
});

afterAll(async () => {
  await proxy?.stop();
  await moto?.stop();
});

beforeEach(async () => {
  proxy.setRules([]);
  await moto.reset();
  proxy.clearLog();
});

afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
});

/** SDK config: static test credentials, a fixed 10 ms retry delay, `maxAttempts` attempts in all. */
function config(
  endpoint: string,
  maxAttempts: number,
  credentials = { accessKeyId: 'test', secretAccessKey: 'test' },
) {
  return {
    region: 'us-east-1',
    endpoint,
    credentials,
    retryStrategy: new ConfiguredRetryStrategy(maxAttempts, () => 10),
  };
}

function route53(maxAttempts = 3, endpoint = proxy.endpoint): Route53Client {
  const client = new Route53Client(config(endpoint, maxAttempts));
  clients.push(client);
  return client;
}

function iam(maxAttempts = 3, endpoint = proxy.endpoint): IAMClient {
  const client = new IAMClient(config(endpoint, maxAttempts));
  clients.push(client);
  return client;
}

function sts(maxAttempts = 3): STSClient {
  const client = new STSClient(config(proxy.endpoint, maxAttempts));
  clients.push(client);
  return client;
}

/** Runs `promise`, expecting it to reject, and returns the error. */
async function failure(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

async function zoneNamesInMoto(): Promise<string[]> {
  const out = await route53(1, moto.endpoint).send(new ListHostedZonesCommand({}));
  return (out.HostedZones ?? []).map((z) => z.Name ?? '');
}

let zoneCounter = 0;
async function createZone(client = route53(), name = `z${++zoneCounter}.example.com`): Promise<string> {
  const out = await client.send(new CreateHostedZoneCommand({ Name: name, CallerReference: `ref-${name}` }));
  return (out.HostedZone?.Id ?? '').replace('/hostedzone/', '');
}

/** A raw HTTP request through the proxy, to look at the wire format of injected errors. */
function raw(
  method: string,
  path: string,
  headers: Record<string, string>,
  body = '',
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${proxy.endpoint}${path}`, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

function authFor(service: string): string {
  return `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000`;
}

describe('operation identification through the real SDK clients', () => {
  it('names every Route 53, IAM and STS operation it forwards to moto, one log entry per request', async () => {
    const r53 = route53(1);
    const zoneId = await createZone(r53, 'ident.example.com');
    await r53.send(new ListHostedZonesCommand({}));
    await r53.send(new GetHostedZoneCommand({ Id: zoneId }));
    await r53.send(new ListHostedZonesByNameCommand({ DNSName: 'ident.example.com' }));
    const change = await r53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: {
          Changes: [
            {
              Action: 'UPSERT',
              ResourceRecordSet: {
                Name: 'www.ident.example.com',
                Type: 'A',
                TTL: 60,
                ResourceRecords: [{ Value: '192.0.2.1' }],
              },
            },
          ],
        },
      }),
    );
    await r53.send(new GetChangeCommand({ Id: change.ChangeInfo?.Id ?? '' }));
    await r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
    await r53.send(
      new ChangeTagsForResourceCommand({
        ResourceType: 'hostedzone',
        ResourceId: zoneId,
        AddTags: [{ Key: 'zonekeeper/owner', Value: 'test' }],
      }),
    );
    const tags = await r53.send(
      new ListTagsForResourceCommand({ ResourceType: 'hostedzone', ResourceId: zoneId }),
    );
    expect(tags.ResourceTagSet?.Tags).toEqual([{ Key: 'zonekeeper/owner', Value: 'test' }]);
    await r53.send(new ListTagsForResourcesCommand({ ResourceType: 'hostedzone', ResourceIds: [zoneId] }));
    await r53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: {
          Changes: [
            {
              Action: 'DELETE',
              ResourceRecordSet: {
                Name: 'www.ident.example.com',
                Type: 'A',
                TTL: 60,
                ResourceRecords: [{ Value: '192.0.2.1' }],
              },
            },
          ],
        },
      }),
    );
    await r53.send(new DeleteHostedZoneCommand({ Id: zoneId }));
    const i = iam(1);
    await i.send(new CreateUserCommand({ UserName: 'ident-user' }));
    await i.send(new GetUserCommand({ UserName: 'ident-user' }));
    await i.send(new ListUsersCommand({}));
    await sts(1).send(new GetCallerIdentityCommand({}));

    expect(proxy.requests.map((r) => [r.service, r.operation, r.method, r.status])).toEqual([
      ['route53', 'CreateHostedZone', 'POST', 201],
      ['route53', 'ListHostedZones', 'GET', 200],
      ['route53', 'GetHostedZone', 'GET', 200],
      ['route53', 'ListHostedZonesByName', 'GET', 200],
      ['route53', 'ChangeResourceRecordSets', 'POST', 200],
      ['route53', 'GetChange', 'GET', 200],
      ['route53', 'ListResourceRecordSets', 'GET', 200],
      ['route53', 'ChangeTagsForResource', 'POST', 200],
      ['route53', 'ListTagsForResource', 'GET', 200],
      ['route53', 'ListTagsForResources', 'POST', 200],
      ['route53', 'ChangeResourceRecordSets', 'POST', 200],
      ['route53', 'DeleteHostedZone', 'DELETE', 200],
      ['iam', 'CreateUser', 'POST', 200],
      ['iam', 'GetUser', 'POST', 200],
      ['iam', 'ListUsers', 'POST', 200],
      ['sts', 'GetCallerIdentity', 'POST', 200],
    ]);
    const seqs = proxy.requests.map((r) => r.seq);
    expect(seqs).toEqual(seqs.map((_, k) => (seqs[0] ?? 0) + k)); // consecutive, in arrival order
    expect(proxy.count({ faulted: true })).toBe(0);
    // Every forwarded request got the target's own status.
    expect(proxy.requests.every((r) => r.upstreamStatus === r.status)).toBe(true);
  });
});

describe('SDK retries of injected errors', () => {
  const cases: {
    readonly preset: 'Throttling' | 'PriorRequestNotComplete' | 'ServiceUnavailable' | 'InternalFailure';
    readonly status: number;
    readonly service: string;
    readonly operation: string;
    readonly times: number;
    readonly call: () => Promise<{ $metadata: { attempts?: number } }>;
  }[] = [
    {
      preset: 'Throttling',
      status: 400,
      service: 'route53',
      operation: 'ListHostedZones',
      times: 2,
      call: () => route53().send(new ListHostedZonesCommand({})),
    },
    {
      preset: 'PriorRequestNotComplete',
      status: 400,
      service: 'route53',
      operation: 'CreateHostedZone',
      times: 1,
      call: () =>
        route53().send(
          new CreateHostedZoneCommand({ Name: 'prior.example.com', CallerReference: 'prior-1' }),
        ),
    },
    {
      preset: 'ServiceUnavailable',
      status: 503,
      service: 'iam',
      operation: 'CreateUser',
      times: 1,
      call: () => iam().send(new CreateUserCommand({ UserName: 'retried-user' })),
    },
    {
      preset: 'InternalFailure',
      status: 500,
      service: 'sts',
      operation: 'GetCallerIdentity',
      times: 2,
      call: () => sts().send(new GetCallerIdentityCommand({})),
    },
    {
      preset: 'Throttling',
      status: 400,
      service: 'iam',
      operation: 'ListUsers',
      times: 2,
      call: () => iam().send(new ListUsersCommand({})),
    },
  ];

  it.each(cases)(
    'retries $preset on $service $operation ($times times) and the log shows every attempt',
    async ({ preset, status, service, operation, times, call }) => {
      proxy.setRules([{ service, operation, fault: preset, times }]);
      const out = await call();
      expect(out.$metadata.attempts).toBe(times + 1);
      expect(proxy.count({ operation })).toBe(times + 1);
      expect(proxy.count({ operation, faulted: true })).toBe(times);
      expect(proxy.count({ operation, fault: `error:${preset}` })).toBe(times);
      const entries = proxy.requests.filter((r) => r.operation === operation);
      expect(entries.map((e) => e.status)).toEqual([...Array(times).fill(status), expect.any(Number)]);
      expect(entries.slice(0, times).every((e) => e.upstreamStatus === null && e.service === service)).toBe(
        true,
      );
      expect(entries.at(-1)?.upstreamStatus).toBeLessThan(300);
      expect(proxy.count()).toBe(times + 1);
      // The SDK numbers its attempts; a retried call counts once among first attempts.
      expect(entries.map((e) => e.attempt)).toEqual(Array.from({ length: times + 1 }, (_, i) => i + 1));
      expect(proxy.count({ operation, firstAttempts: true })).toBe(1);
    },
  );

  it('the retried side effect happens once: only the final attempt reached moto', async () => {
    proxy.setRules([{ operation: 'CreateHostedZone', fault: 'PriorRequestNotComplete', times: 2 }]);
    await createZone(route53(), 'once.example.com');
    expect(await zoneNamesInMoto()).toEqual(['once.example.com.']);
  });

  it('gives up after maxAttempts with the error name, status and message of the injected error', async () => {
    proxy.setRules([{ operation: 'ListHostedZones', fault: 'Throttling', times: 5 }]);
    const error = await failure(route53(3).send(new ListHostedZonesCommand({})));
    expect(error.name).toBe('Throttling');
    expect(error.message).toBe('Rate exceeded');
    expect(error.$metadata).toMatchObject({ httpStatusCode: 400, attempts: 3 });
    expect(proxy.count({ operation: 'ListHostedZones', faulted: true })).toBe(3);
    // Two of the five remain: the next call is throttled twice, then succeeds.
    const out = await route53(3).send(new ListHostedZonesCommand({}));
    expect(out.$metadata.attempts).toBe(3);
    expect(proxy.count({ operation: 'ListHostedZones', faulted: true })).toBe(5);
    expect(proxy.count({ operation: 'ListHostedZones', faulted: false })).toBe(1);
  });
});

describe('rule firing', () => {
  it('times: N fires for exactly the next N matching requests', async () => {
    proxy.setRules([{ operation: 'ListHostedZones', fault: 'ServiceUnavailable', times: 3 }]);
    const client = route53(1);
    const outcomes: string[] = [];
    for (let k = 0; k < 6; k++) {
      outcomes.push(
        await client.send(new ListHostedZonesCommand({})).then(
          () => 'ok',
          (e: Error) => e.name,
        ),
      );
      // Non-matching traffic in between does not consume the rule.
      await iam(1).send(new ListUsersCommand({}));
    }
    expect(outcomes).toEqual([
      'ServiceUnavailable',
      'ServiceUnavailable',
      'ServiceUnavailable',
      'ok',
      'ok',
      'ok',
    ]);
    expect(proxy.count({ faulted: true })).toBe(3);
    expect(proxy.count({ operation: 'ListUsers', faulted: true })).toBe(0);
  });

  it('a seeded probability gives the same faults for the same seed, independent of unrelated traffic', async () => {
    const rules: FaultRule[] = [
      { service: 'route53', operation: 'ListHostedZones', probability: 0.3, fault: 'Throttling' },
    ];
    const client = route53(1);
    const pattern = async (interleave: boolean): Promise<boolean[]> => {
      const out: boolean[] = [];
      for (let k = 0; k < 40; k++) {
        out.push(
          await client.send(new ListHostedZonesCommand({})).then(
            () => false,
            () => true,
          ),
        );
        if (interleave && k % 3 === 0) await sts(1).send(new GetCallerIdentityCommand({}));
      }
      return out;
    };
    proxy.setRules(rules, 'zonekeeper-seed');
    const first = await pattern(false);
    proxy.setRules(rules, 'zonekeeper-seed');
    const second = await pattern(true);
    proxy.setRules(rules, 'another-seed');
    const other = await pattern(false);

    expect(second).toEqual(first);
    expect(other).not.toEqual(first);
    const faults = first.filter(Boolean).length;
    expect(faults).toBeGreaterThanOrEqual(5);
    expect(faults).toBeLessThanOrEqual(20);
    expect(proxy.count({ operation: 'ListHostedZones', faulted: true })).toBe(
      faults + second.filter(Boolean).length + other.filter(Boolean).length,
    );

    // A separate proxy started with the same seed makes the same decisions.
    const twin = await startFaultProxy({ target: moto.endpoint, rules, seed: 'zonekeeper-seed' });
    try {
      const twinClient = route53(1, twin.endpoint);
      const twinPattern: boolean[] = [];
      for (let k = 0; k < 40; k++) {
        twinPattern.push(
          await twinClient.send(new ListHostedZonesCommand({})).then(
            () => false,
            () => true,
          ),
        );
      }
      expect(twinPattern).toEqual(first);
    } finally {
      await twin.stop();
    }
  });

  it('adds latency to matching requests only', async () => {
    const zoneId = await createZone(route53(1));
    proxy.setRules([{ operation: 'GetHostedZone', fault: { kind: 'latency', ms: 250 }, times: 1 }]);
    const client = route53(1);
    const started = performance.now();
    const out = await client.send(new GetHostedZoneCommand({ Id: zoneId }));
    const elapsed = performance.now() - started;
    expect(out.HostedZone?.Id).toContain(zoneId);
    expect(elapsed).toBeGreaterThanOrEqual(245);
    await client.send(new ListHostedZonesCommand({}));
    const [slow, fast] = proxy.requests.slice(-2);
    expect(slow).toMatchObject({
      operation: 'GetHostedZone',
      fault: 'latency:250',
      status: 200,
      upstreamStatus: 200,
    });
    expect(slow?.durationMs).toBeGreaterThanOrEqual(245);
    expect(fast?.fault).toBeUndefined();
    expect(fast?.durationMs).toBeLessThan(245);
  });

  it('a latency range draws each request’s wait from the seeded PRNG, requests waiting side by side', async () => {
    const rules: FaultRule[] = [{ service: 'route53', fault: { kind: 'latency', ms: 100, maxMs: 300 } }];
    proxy.setRules(rules, 'latency-range');
    const client = route53(1);
    const before = proxy.requests.length;
    const started = performance.now();
    await Promise.all(Array.from({ length: 12 }, () => client.send(new ListHostedZonesCommand({}))));
    const wall = performance.now() - started;
    const seen = proxy.requests.slice(before);
    const waits = seen.map((r) => Number(/^latency:(\d+)$/.exec(r.fault ?? '')?.[1]));
    expect(waits).toHaveLength(12);
    for (const [i, w] of waits.entries()) {
      expect(w).toBeGreaterThanOrEqual(100);
      expect(w).toBeLessThanOrEqual(300);
      expect(seen[i]?.durationMs).toBeGreaterThanOrEqual(w - 5);
    }
    expect(new Set(waits).size).toBeGreaterThan(6);
    // Side by side: the wall time is about the longest wait, not their sum.
    expect(wall).toBeLessThan(Math.max(...waits) + 250);
    expect(wall).toBeLessThan(waits.reduce((a, b) => a + b, 0) / 2);
    // The same seed and the same (sequential) requests give the same waits.
    const draws = async () => {
      proxy.setRules(rules, 'latency-range-2');
      const from = proxy.requests.length;
      for (let i = 0; i < 4; i++) await client.send(new ListHostedZonesCommand({}));
      return proxy.requests.slice(from).map((r) => r.fault);
    };
    const first = await draws();
    expect(await draws()).toEqual(first);
    proxy.setRules([]);
  });

  it('first matching rule wins; RegExp matchers and labels', async () => {
    proxy.setRules([
      { service: /^(iam|sts)$/, operation: /^List/, fault: 'Throttling', label: 'list-throttle', times: 1 },
      { service: 'iam', fault: { kind: 'error', code: 'ServiceFailure', status: 500 }, times: 1 },
    ]);
    const client = iam(1);
    const first = await failure(client.send(new ListUsersCommand({})));
    const second = await failure(client.send(new ListUsersCommand({})));
    await client.send(new ListUsersCommand({}));
    expect(first.name).toBe('Throttling');
    expect(second.name).toBe('ServiceFailureException');
    expect(proxy.requests.map((r) => [r.rule, r.fault])).toEqual([
      ['list-throttle', 'error:Throttling'],
      [1, 'error:ServiceFailure'],
      [undefined, undefined],
    ]);
  });
});

describe('dropped connections', () => {
  it('drop before: the client gets a network error and moto never saw the request', async () => {
    proxy.setRules([{ operation: 'CreateHostedZone', fault: { kind: 'drop', when: 'before' } }]);
    const error = await failure(createZone(route53(1), 'never.example.com'));
    expect(['ECONNRESET', 'EPIPE']).toContain(error.code);
    expect((error.$metadata as { httpStatusCode?: number }).httpStatusCode).toBeUndefined();
    expect(await zoneNamesInMoto()).toEqual([]);
    expect(proxy.requests).toEqual([
      expect.objectContaining({
        operation: 'CreateHostedZone',
        status: null,
        upstreamStatus: null,
        fault: 'drop:before',
      }),
    ]);
  });

  it('drop after: the client gets a network error although moto created the zone', async () => {
    proxy.setRules([{ operation: 'CreateHostedZone', fault: { kind: 'drop', when: 'after' } }]);
    const error = await failure(createZone(route53(1), 'applied.example.com'));
    expect(['ECONNRESET', 'EPIPE']).toContain(error.code);
    expect(await zoneNamesInMoto()).toEqual(['applied.example.com.']);
    expect(proxy.requests).toEqual([
      expect.objectContaining({
        operation: 'CreateHostedZone',
        status: null,
        upstreamStatus: 201,
        fault: 'drop:after',
      }),
    ]);
  });

  it('drop after + SDK retry: the retried create reaches moto again (the duplicate idempotency tests must catch)', async () => {
    proxy.setRules([{ operation: 'CreateHostedZone', fault: { kind: 'drop', when: 'after' }, times: 1 }]);
    const out = await route53(3).send(
      new CreateHostedZoneCommand({ Name: 'dup.example.com', CallerReference: 'same-reference' }),
    );
    expect(out.$metadata.attempts).toBe(2);
    expect(proxy.requests.map((r) => [r.operation, r.status, r.upstreamStatus])).toEqual([
      ['CreateHostedZone', null, 201],
      ['CreateHostedZone', 201, 201],
    ]);
    // moto ignores CallerReference reuse (real Route 53 would answer HostedZoneAlreadyExists), so
    // the network-level retry created a second zone with the same name.
    expect(await zoneNamesInMoto()).toEqual(['dup.example.com.', 'dup.example.com.']);
  });
});

describe('errors after the side effect', () => {
  it('error after: moto applied the create, the client sees a 503 ServiceUnavailable', async () => {
    proxy.setRules([
      { operation: 'CreateHostedZone', fault: { kind: 'error', code: 'ServiceUnavailable', when: 'after' } },
    ]);
    const error = await failure(createZone(route53(1), 'applied503.example.com'));
    expect((error.$metadata as { httpStatusCode?: number }).httpStatusCode).toBe(503);
    expect(await zoneNamesInMoto()).toEqual(['applied503.example.com.']);
    expect(proxy.requests).toEqual([
      expect.objectContaining({
        operation: 'CreateHostedZone',
        status: 503,
        upstreamStatus: 201,
        fault: 'error-after:ServiceUnavailable',
      }),
    ]);
  });

  it('error after, for IAM CreateUser: the user exists although the client saw InternalFailure', async () => {
    proxy.setRules([
      { operation: 'CreateUser', fault: { kind: 'error', code: 'InternalFailure', when: 'after' } },
    ]);
    const error = await failure(iam(1).send(new CreateUserCommand({ UserName: 'after-500' })));
    expect((error.$metadata as { httpStatusCode?: number }).httpStatusCode).toBe(500);
    const got = await iam(1, moto.endpoint).send(new GetUserCommand({ UserName: 'after-500' }));
    expect(got.User?.UserName).toBe('after-500');
  });

  it('rejects a when that is neither before nor after', () => {
    expect(() =>
      proxy.setRules([{ fault: { kind: 'error', code: 'Throttling', when: 'later' as never } }]),
    ).toThrow(/error.when must be 'before' or 'after'/);
  });
});

describe('injected errors as the SDK sees them', () => {
  it('custom Route 53, IAM and STS errors get the right name, status and message', async () => {
    proxy.setRules([
      {
        operation: 'GetHostedZone',
        fault: {
          kind: 'error',
          code: 'NoSuchHostedZone',
          status: 404,
          message: 'No hosted zone found with ID: Z9',
        },
      },
      {
        operation: 'CreateUser',
        fault: { kind: 'error', code: 'EntityAlreadyExists', status: 409, message: 'User exists' },
      },
      {
        operation: 'GetCallerIdentity',
        fault: { kind: 'error', code: 'IDPRejectedClaim', status: 403, message: 'rejected' },
      },
      { operation: 'ListUsers', fault: 'ServiceUnavailable' },
    ]);
    const notFound = await failure(route53(3).send(new GetHostedZoneCommand({ Id: 'Z9' })));
    expect(notFound).toMatchObject({
      name: 'NoSuchHostedZone',
      message: 'No hosted zone found with ID: Z9',
      $fault: 'client',
    });
    expect(notFound.$metadata).toMatchObject({ httpStatusCode: 404, attempts: 1 });

    const exists = await failure(iam(3).send(new CreateUserCommand({ UserName: 'x' })));
    expect(exists).toMatchObject({ name: 'EntityAlreadyExistsException', message: 'User exists' });
    expect(exists.$metadata).toMatchObject({ httpStatusCode: 409, attempts: 1 });

    const rejected = await failure(sts(3).send(new GetCallerIdentityCommand({})));
    expect(rejected).toMatchObject({ name: 'IDPRejectedClaimException', message: 'rejected' });
    expect(rejected.$metadata).toMatchObject({ httpStatusCode: 403, attempts: 1 });

    const unavailable = await failure(iam(2).send(new ListUsersCommand({})));
    expect(unavailable).toMatchObject({ name: 'ServiceUnavailable', $fault: 'server' });
    expect(unavailable.$metadata).toMatchObject({ httpStatusCode: 503, attempts: 2 });
  });

  it('writes each protocol’s error document with its namespace, Type and a request id', async () => {
    proxy.setRules([
      { service: 'route53', fault: 'PriorRequestNotComplete' },
      { service: 'iam', fault: 'InternalFailure' },
      { service: 'sts', fault: 'Throttling' },
      { service: 'dynamodb', fault: 'Throttling' },
    ]);
    const form = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };
    const r53 = await raw(
      'POST',
      '/2013-04-01/hostedzone/Z1/rrset',
      { authorization: authFor('route53') },
      '<x/>',
    );
    const iamResponse = await raw(
      'POST',
      '/',
      { ...form, authorization: authFor('iam') },
      'Action=ListUsers&Version=2010-05-08',
    );
    const stsResponse = await raw(
      'POST',
      '/',
      { ...form, authorization: authFor('sts') },
      'Action=GetCallerIdentity&Version=2011-06-15',
    );
    const json = await raw(
      'POST',
      '/',
      {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.ListTables',
        authorization: authFor('dynamodb'),
      },
      '{}',
    );
    const requestId = /<RequestId>([0-9a-f-]{36})<\/RequestId><\/ErrorResponse>$/;
    expect(r53.status).toBe(400);
    expect(r53.body).toContain(
      '<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type><Code>PriorRequestNotComplete</Code>',
    );
    expect(r53.body).toMatch(requestId);
    expect(r53.headers['x-amzn-requestid']).toBe(requestId.exec(r53.body)?.[1]);
    expect(iamResponse.status).toBe(500);
    expect(iamResponse.body).toContain(
      '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Receiver</Type><Code>InternalFailure</Code>',
    );
    expect(iamResponse.body).toMatch(requestId);
    expect(stsResponse.status).toBe(400);
    expect(stsResponse.body).toContain(
      '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>',
    );
    expect(json.status).toBe(400);
    expect(JSON.parse(json.body)).toEqual({ __type: 'Throttling', message: 'Rate exceeded' });
    expect(proxy.requests.map((r) => [r.service, r.operation])).toEqual([
      ['route53', 'ChangeResourceRecordSets'],
      ['iam', 'ListUsers'],
      ['sts', 'GetCallerIdentity'],
      ['dynamodb', 'ListTables'],
    ]);
  });
});

describe('the request log', () => {
  it('holds no credentials, signatures, bodies or query strings', async () => {
    const secretAccessKey = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY';
    const client = new IAMClient(
      config(proxy.endpoint, 1, { accessKeyId: 'AKIALOGCHECKKEYID000', secretAccessKey }),
    );
    clients.push(client);
    await client.send(new CreateUserCommand({ UserName: 'log-hygiene-user' }));
    await route53(1).send(new ListHostedZonesByNameCommand({ DNSName: 'query-string-name.example.com' }));
    const text = JSON.stringify(proxy.requests);
    for (const leaked of [
      'AKIALOGCHECKKEYID000',
      secretAccessKey,
      'Signature',
      'log-hygiene-user',
      'query-string-name',
      'Action=',
      'aws4_request',
    ]) {
      expect(text).not.toContain(leaked);
    }
    expect(proxy.requests.map((r) => Object.keys(r).sort())).toEqual([
      ['attempt', 'durationMs', 'method', 'operation', 'path', 'seq', 'service', 'status', 'upstreamStatus'],
      ['attempt', 'durationMs', 'method', 'operation', 'path', 'seq', 'service', 'status', 'upstreamStatus'],
    ]);
    expect(proxy.requests[1]?.path).toBe('/2013-04-01/hostedzonesbyname');
  });

  it('requests is a snapshot; clearLog empties it and seq keeps counting', async () => {
    await route53(1).send(new ListHostedZonesCommand({}));
    const snapshot = proxy.requests;
    const lastSeq = snapshot.at(-1)?.seq ?? 0;
    proxy.clearLog();
    expect(snapshot).toHaveLength(1);
    expect(proxy.requests).toEqual([]);
    await route53(1).send(new ListHostedZonesCommand({}));
    expect(proxy.requests.map((r) => r.seq)).toEqual([lastSeq + 1]);
  });
});

describe('lifecycle and validation', () => {
  it('rejects bad targets and rules with INVALID_INPUT before listening', async () => {
    for (const target of ['not a url', 'ftp://127.0.0.1:1', 'http://user:pw@127.0.0.1:1']) {
      expect(hasErrorCode(await failure(startFaultProxy({ target })), 'INVALID_INPUT')).toBe(true);
    }
    const bad: FaultRule[][] = [
      [{ fault: 'Throttling', probability: 1.5 }],
      [{ fault: 'Throttling', times: -1 }],
      [{ fault: { kind: 'error', code: 'X', status: 302 } }],
      [{ fault: { kind: 'latency', ms: Number.NaN } }],
      [{ fault: { kind: 'latency', ms: 200, maxMs: 100 } }],
      [{ fault: { kind: 'latency', ms: 100, maxMs: Number.POSITIVE_INFINITY } }],
      [{ fault: { kind: 'drop', when: 'sometime' as 'before' } }],
      [{ fault: { kind: 'error', code: '' } }],
    ];
    for (const rules of bad) {
      expect(() => proxy.setRules(rules)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    }
    // A rejected setRules leaves the previous rules in place.
    proxy.setRules([{ operation: 'ListUsers', fault: 'Throttling', times: 1 }]);
    expect(() => proxy.setRules([{ fault: 'Throttling', probability: -1 }])).toThrow();
    expect((await failure(iam(1).send(new ListUsersCommand({})))).name).toBe('Throttling');
  });

  it('answers 502 (retried by the SDK) when the target is down', async () => {
    const closed = await startFaultProxy({ target: 'http://127.0.0.1:1' });
    try {
      const error = await failure(route53(2, closed.endpoint).send(new ListHostedZonesCommand({})));
      expect(error.$metadata).toMatchObject({ httpStatusCode: 502, attempts: 2 });
      expect(closed.requests.map((r) => [r.operation, r.status, r.upstreamStatus])).toEqual([
        ['ListHostedZones', 502, null],
        ['ListHostedZones', 502, null],
      ]);
    } finally {
      await closed.stop();
    }
  });

  it('stop() drops in-flight requests, closes the port, and is idempotent; await using disposes', async () => {
    let endpoint = '';
    {
      await using scoped = await startFaultProxy({
        target: moto.endpoint,
        rules: [{ fault: { kind: 'latency', ms: 10_000 } }],
      });
      endpoint = scoped.endpoint;
      const pending = failure(route53(1, scoped.endpoint).send(new ListHostedZonesCommand({})));
      await new Promise((r) => setTimeout(r, 50));
      const started = performance.now();
      await scoped.stop();
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(['ECONNRESET', 'EPIPE', 'ECONNREFUSED']).toContain((await pending).code);
      await scoped.stop();
    }
    const refused = await failure(route53(1, endpoint).send(new ListHostedZonesCommand({})));
    expect(refused.code).toBe('ECONNREFUSED');
  });
});
