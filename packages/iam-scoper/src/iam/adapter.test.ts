import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { createManualClock, hasErrorCode } from '@zonekeeper/core';
import { type FaultProxy, startFaultProxy } from '@zonekeeper/testkit/fault-proxy';
import { type MotoServer, startMoto } from '@zonekeeper/testkit/moto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { IdentityProvider } from '../identity-ports.js';
import { buildZonePolicy, minifyPolicy } from '../policy.js';
import { everything, rejectionOf } from '../test-helpers.test.util.js';
import { identityProviderContract } from '../testing.js';
import { createIamIdentityProvider, waitForAccessKey } from './index.js';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

let moto: MotoServer;
let proxy: FaultProxy;
beforeAll(async () => {
  moto = await startMoto();
  proxy = await startFaultProxy({ target: moto.endpoint, seed: 'iam-adapter' });
});
afterAll(async () => {
  await proxy?.stop();
  await moto?.stop();
});
afterEach(() => {
  proxy.setRules([]);
});

/** An adapter through the proxy; `attempts` SDK attempts per call, 10 ms apart. */
function iam(attempts = 3): IdentityProvider {
  return createIamIdentityProvider({
    endpoint: proxy.endpoint,
    region: 'us-east-1',
    credentials,
    retryStrategy: new ConfiguredRetryStrategy(attempts, () => 10),
  });
}

identityProviderContract({
  name: 'iam adapter (moto behind the fault proxy)',
  create: async () => ({ provider: iam() }),
  capabilities: { caseInsensitiveUserNames: false, enforcesInlinePolicySizeQuota: false },
});

let n = 0;
async function user(p: IdentityProvider): Promise<string> {
  const userName = `zk-adapter-${++n}`;
  await p.createUser({ userName, path: '/zonekeeper/', tags: { 'zonekeeper:managed-by': 'zonekeeper' } });
  return userName;
}

describe('IAM adapter: LimitExceeded is a CONFLICT after exactly one attempt', () => {
  it('a third access key reaches IAM once, even with ten attempts allowed', async () => {
    const p = iam(10);
    const u = await user(p);
    const k1 = await p.createAccessKey(u);
    const k2 = await p.createAccessKey(u);
    proxy.clearLog();
    const e = await rejectionOf(p.createAccessKey(u));
    expect(hasErrorCode(e, 'CONFLICT')).toBe(true);
    expect(proxy.count({ operation: 'CreateAccessKey' })).toBe(1);
    expect(e.details).toMatchObject({
      operation: 'CreateAccessKey',
      userName: u,
      awsCode: 'LimitExceeded',
      attempts: 1,
    });
    expect(e.message).toMatch(/^IAM: CreateAccessKey \(user zk-adapter-\d+\) failed: Cannot exceed quota/);
    expect(e.message).toContain('reconcileAccessKeys');
    expect((e.cause as Error).name).toBe('LimitExceededException');
    const all = everything(e);
    expect(all).not.toContain(k1.secretAccessKey);
    expect(all).not.toContain(k2.secretAccessKey);
  });

  it('also through a caller-built client with its own retry strategy', async () => {
    const client = new IAMClient({
      region: 'us-east-1',
      endpoint: proxy.endpoint,
      credentials,
      retryStrategy: new ConfiguredRetryStrategy(4, () => 10),
    });
    const p = createIamIdentityProvider({ client });
    const u = await user(p);
    await p.createAccessKey(u);
    await p.createAccessKey(u);
    proxy.clearLog();
    expect(hasErrorCode(await rejectionOf(p.createAccessKey(u)), 'CONFLICT')).toBe(true);
    expect(proxy.count({ operation: 'CreateAccessKey' })).toBe(1);

    // Without the adapter's guard the same client retries it as throttling (the quirk being fixed).
    proxy.clearLog();
    await rejectionOf(client.send(new CreateAccessKeyCommand({ UserName: u })));
    expect(proxy.count({ operation: 'CreateAccessKey' })).toBe(4);
  });

  it('PutUserPolicy over the size budget (LimitExceeded) is not retried either', async () => {
    const p = iam(5);
    const u = await user(p);
    proxy.setRules([
      {
        operation: 'PutUserPolicy',
        fault: {
          kind: 'error',
          code: 'LimitExceeded',
          status: 409,
          message: 'Maximum policy size of 2048 bytes exceeded for user',
        },
      },
    ]);
    proxy.clearLog();
    const e = await rejectionOf(
      p.putUserPolicy(u, 'p', minifyPolicy(buildZonePolicy({ zoneId: 'Z1', zoneName: 'a.example.com' }))),
    );
    expect(hasErrorCode(e, 'CONFLICT')).toBe(true);
    expect(e.message).toContain('2,048');
    expect(proxy.count({ operation: 'PutUserPolicy' })).toBe(1);
  });
});

describe('IAM adapter: CreateAccessKey is retried only after throttling', () => {
  it('a dropped answer (IAM created the key) surfaces as UNAVAILABLE after one attempt, naming the repair', async () => {
    const p = iam(5);
    const u = await user(p);
    proxy.setRules([{ operation: 'CreateAccessKey', fault: { kind: 'drop', when: 'after' }, times: 1 }]);
    proxy.clearLog();
    const e = await rejectionOf(p.createAccessKey(u));
    expect(hasErrorCode(e, 'UNAVAILABLE')).toBe(true);
    expect(e.message).toContain('reconcileAccessKeys');
    expect(proxy.count({ operation: 'CreateAccessKey' })).toBe(1);
    // IAM did create it: one key, which nobody knows the secret of.
    expect((await p.listAccessKeys(u)).length).toBe(1);
  });

  it('a 503 after IAM applied CreateAccessKey is not retried either (issue #10: the SDK read the status as transient)', async () => {
    const p = iam(5);
    const u = await user(p);
    proxy.setRules([
      {
        operation: 'CreateAccessKey',
        fault: { kind: 'error', code: 'ServiceUnavailable', when: 'after' },
        times: 1,
      },
    ]);
    proxy.clearLog();
    const e = await rejectionOf(p.createAccessKey(u));
    expect(hasErrorCode(e, 'UNAVAILABLE')).toBe(true);
    expect(e.details).toMatchObject({ attempts: 1 });
    expect(proxy.count({ operation: 'CreateAccessKey' })).toBe(1);
    // IAM created exactly one key (before the fix: two, the retry's and the unanswered one).
    expect((await p.listAccessKeys(u)).length).toBe(1);
  });

  it('a 500 after IAM applied CreateUser is not retried: one request, the user exists', async () => {
    const p = iam(5);
    const userName = `zk-adapter-${++n}`;
    proxy.setRules([
      { operation: 'CreateUser', fault: { kind: 'error', code: 'InternalFailure', when: 'after' }, times: 1 },
    ]);
    proxy.clearLog();
    const e = await rejectionOf(
      p.createUser({ userName, path: '/zonekeeper/', tags: { 'zonekeeper:managed-by': 'zonekeeper' } }),
    );
    expect(hasErrorCode(e, 'UNAVAILABLE')).toBe(true);
    expect(proxy.count({ operation: 'CreateUser' })).toBe(1);
    expect((await p.getUser(userName))?.userName).toBe(userName);
  });

  it('throttled CreateAccessKey calls are retried and succeed', async () => {
    const p = iam(5);
    const u = await user(p);
    proxy.setRules([{ operation: 'CreateAccessKey', fault: 'Throttling', times: 2 }]);
    proxy.clearLog();
    const key = await p.createAccessKey(u);
    expect(key.accessKeyId).toMatch(/^AKIA/);
    expect(proxy.count({ operation: 'CreateAccessKey' })).toBe(3);
    expect((await p.listAccessKeys(u)).map((k) => k.accessKeyId)).toEqual([key.accessKeyId]);
  });

  it('other calls are still retried after a dropped connection (they are idempotent)', async () => {
    const p = iam(3);
    const u = await user(p);
    proxy.setRules([{ operation: 'ListAccessKeys', fault: { kind: 'drop', when: 'before' }, times: 2 }]);
    proxy.clearLog();
    expect(await p.listAccessKeys(u)).toEqual([]);
    expect(proxy.count({ operation: 'ListAccessKeys' })).toBe(3);
  });
});

describe('IAM adapter: error translation', () => {
  const cases: Record<
    string,
    {
      op: string;
      code: string;
      status: number;
      expected: string;
      retry?: string;
      call(p: IdentityProvider, u: string): Promise<unknown>;
    }
  > = {
    'EntityAlreadyExists is ALREADY_EXISTS': {
      op: 'CreateUser',
      code: 'EntityAlreadyExists',
      status: 409,
      expected: 'ALREADY_EXISTS',
      call: (p) => p.createUser({ userName: `zk-x-${++n}`, path: '/', tags: {} }),
    },
    'NoSuchEntity is NOT_FOUND': {
      op: 'DeleteUser',
      code: 'NoSuchEntity',
      status: 404,
      expected: 'NOT_FOUND',
      call: (p, u) => p.deleteUser(u),
    },
    'DeleteConflict is CONFLICT': {
      op: 'DeleteUser',
      code: 'DeleteConflict',
      status: 409,
      expected: 'CONFLICT',
      call: (p, u) => p.deleteUser(u),
    },
    'MalformedPolicyDocument is INVALID_INPUT': {
      op: 'PutUserPolicy',
      code: 'MalformedPolicyDocument',
      status: 400,
      expected: 'INVALID_INPUT',
      call: (p, u) =>
        p.putUserPolicy(
          u,
          'p',
          '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"x:Y","Resource":"*"}}',
        ),
    },
    'InvalidInput is INVALID_INPUT': {
      op: 'TagUser',
      code: 'InvalidInput',
      status: 400,
      expected: 'INVALID_INPUT',
      call: (p, u) => p.tagUser(u, { a: 'b' }),
    },
    'ValidationError is INVALID_INPUT': {
      op: 'GetUser',
      code: 'ValidationError',
      status: 400,
      expected: 'INVALID_INPUT',
      call: (p, u) => p.getUser(u),
    },
    'Throttling (after the SDK gave up) is THROTTLED': {
      op: 'ListUserPolicies',
      code: 'Throttling',
      status: 400,
      expected: 'THROTTLED',
      retry: 'transient',
      call: (p, u) => p.listUserPolicies(u),
    },
    'AccessDenied is PERMISSION_DENIED': {
      op: 'GetUser',
      code: 'AccessDenied',
      status: 403,
      expected: 'PERMISSION_DENIED',
      call: (p, u) => p.getUser(u),
    },
    'ServiceFailure (500) is UNAVAILABLE': {
      op: 'ListAccessKeys',
      code: 'ServiceFailure',
      status: 500,
      expected: 'UNAVAILABLE',
      retry: 'transient',
      call: (p, u) => p.listAccessKeys(u),
    },
    'ServiceUnavailable (503) is UNAVAILABLE': {
      op: 'GetUserPolicy',
      code: 'ServiceUnavailable',
      status: 503,
      expected: 'UNAVAILABLE',
      call: (p, u) => p.getUserPolicy(u, 'p'),
    },
    'ConcurrentModification is a transient CONFLICT': {
      op: 'TagUser',
      code: 'ConcurrentModification',
      status: 409,
      expected: 'CONFLICT',
      retry: 'transient',
      call: (p, u) => p.tagUser(u, { a: 'b' }),
    },
  };
  for (const [sentence, c] of Object.entries(cases)) {
    it(sentence, async () => {
      const p = iam(2);
      const u = await user(p);
      proxy.setRules([
        {
          operation: c.op,
          fault: { kind: 'error', code: c.code, status: c.status, message: `injected ${c.code}` },
        },
      ]);
      const e = await rejectionOf(c.call(p, u));
      expect(e.code).toBe(c.expected);
      if (c.retry) expect((e as { retry?: string }).retry).toBe(c.retry);
      expect(e.message).toMatch(new RegExp(`^IAM: ${c.op}`));
      expect(e.message).toContain(`injected ${c.code}`);
      expect((e.cause as { code?: string }).code).toBe(c.code);
      expect(e.details).toMatchObject({ operation: c.op, awsCode: c.code, httpStatusCode: c.status });
    });
  }

  it('a denied call says which permission zonekeeper needs', async () => {
    const p = iam(1);
    proxy.setRules([
      {
        operation: 'ListUsers',
        fault: { kind: 'error', code: 'AccessDenied', status: 403, message: 'not authorized' },
      },
    ]);
    const e = await rejectionOf(p.listUsers('/zonekeeper/'));
    expect(e.message).toContain('iam:ListUsers on arn:aws:iam::<account>:user/zonekeeper/*');
  });

  it('a connection dropped on every attempt is UNAVAILABLE', async () => {
    const p = iam(2);
    const u = await user(p);
    proxy.setRules([{ operation: 'GetUser', fault: { kind: 'drop', when: 'before' } }]);
    const e = await rejectionOf(p.getUser(u));
    expect(hasErrorCode(e, 'UNAVAILABLE')).toBe(true);
    expect(proxy.count({ operation: 'GetUser', fault: 'drop:before' })).toBeGreaterThanOrEqual(2);
  });

  it('an unreachable endpoint is UNAVAILABLE', async () => {
    const p = createIamIdentityProvider({ endpoint: 'http://127.0.0.1:1', credentials, maxAttempts: 1 });
    const e = await rejectionOf(p.getUser('zk-nowhere'));
    expect(hasErrorCode(e, 'UNAVAILABLE')).toBe(true);
    expect(e.message).toMatch(/^IAM: GetUser \(user zk-nowhere\) failed: ECONNREFUSED/);
  });
});

describe('IAM adapter: documents, input and cancellation', () => {
  it('decodes the URL-encoded document GetUserPolicy returns, exactly', async () => {
    const p = iam();
    const u = await user(p);
    const doc = minifyPolicy(buildZonePolicy({ zoneId: 'Z0123456789ABC', zoneName: 'decode.example.com' }));
    await p.putUserPolicy(u, 'zone', doc);
    expect(await p.getUserPolicy(u, 'zone')).toBe(doc);
  });

  it('rejects bad input before any request is sent', async () => {
    const p = iam();
    proxy.clearLog();
    const attempts: (() => Promise<unknown>)[] = [
      () => p.getUser('has space'),
      () => p.createUser({ userName: 'ok', path: 'relative/', tags: {} }),
      () => p.createUser({ userName: 'ok', path: '/', tags: { 'aws:x': 'y' } }),
      () => p.tagUser('ok', {}),
      () => p.putUserPolicy('ok', 'p', '[]'),
      () => p.putUserPolicy('ok', 'p p', '{"Statement":{}}'),
      () => p.putUserPolicy('ok', 'p', '{"Version":"2012-10-17","Statement":[]}'),
      () => p.deleteAccessKey('ok', 'short'),
      () => p.listUsers('zonekeeper/'),
    ];
    for (const attempt of attempts)
      expect(hasErrorCode(await rejectionOf(attempt()), 'INVALID_INPUT')).toBe(true);
    expect(proxy.count()).toBe(0);
  });

  it('re-throws the abort reason of a call in flight', async () => {
    const p = iam();
    const u = await user(p);
    proxy.setRules([{ operation: 'GetUser', fault: { kind: 'latency', ms: 2_000 } }]);
    const c = new AbortController();
    const reason = new Error('caller gave up');
    const pending = p.getUser(u, { signal: c.signal });
    setTimeout(() => c.abort(reason), 50);
    expect(await rejectionOf(pending)).toBe(reason);
  });

  it('rejects a bad pageSize or maxAttempts at construction', () => {
    expect(() => createIamIdentityProvider({ pageSize: 0 })).toThrow(/pageSize/);
    expect(() => createIamIdentityProvider({ maxAttempts: 0 })).toThrow(/maxAttempts/);
  });
});

describe('IAM adapter: secrets never reach an error', () => {
  const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  let server: Server;
  let endpoint: string;
  beforeAll(async () => {
    // Answers CreateAccessKey with a body that carries a secret but cannot be parsed: the SDK's error
    // object then holds the raw body (in non-enumerable fields).
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end(
          `<CreateAccessKeyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><CreateAccessKeyResult><AccessKey><UserName>u</UserName><AccessKeyId>AKIAIOSFODNN7EXAMPLE</AccessKeyId><Status>Active</Status><SecretAccessKey>${SECRET}</SecretAccessKey><CreateDate>2026-01-01T00:00:00Z</CreateDate></AccessKey><Broken`,
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('the raw SDK error of an unreadable CreateAccessKey answer does hold the secret …', async () => {
    const client = new IAMClient({ region: 'us-east-1', endpoint, credentials, maxAttempts: 1 });
    const raw = await rejectionOf(client.send(new CreateAccessKeyCommand({ UserName: 'u' })));
    expect(everything(raw)).toContain(SECRET); // why the adapter never keeps it as `cause`
  });

  it('… but the translated error (message, fields, cause chain) does not', async () => {
    const p = createIamIdentityProvider({ endpoint, credentials, maxAttempts: 3 });
    const e = await rejectionOf(p.createAccessKey('u'));
    expect(hasErrorCode(e, 'UNAVAILABLE')).toBe(true);
    expect(e.message).toContain("IAM's answer could not be read");
    expect(e.message).toContain('reconcileAccessKeys');
    expect(everything(e)).not.toContain(SECRET);
    expect(JSON.stringify(e)).not.toContain(SECRET);
  });

  it('redacts anything shaped like a secret key from vendor messages', async () => {
    const p = iam(1);
    proxy.setRules([
      {
        operation: 'GetUser',
        fault: { kind: 'error', code: 'InvalidInput', status: 400, message: `bad value ${SECRET} given` },
      },
    ]);
    const e = await rejectionOf(p.getUser('zk-redact'));
    expect(e.message).toContain('bad value [redacted] given');
    expect(everything(e)).not.toContain(SECRET);
  });
});

describe('waitForAccessKey', () => {
  it('polls GetCallerIdentity with the new key until IAM accepts it', async () => {
    const p = iam();
    const u = await user(p);
    const key = await p.createAccessKey(u);
    proxy.setRules([
      {
        service: 'sts',
        operation: 'GetCallerIdentity',
        fault: {
          kind: 'error',
          code: 'InvalidClientTokenId',
          status: 403,
          message: 'The security token included in the request is invalid.',
        },
        times: 2,
      },
    ]);
    proxy.clearLog();
    const clock = createManualClock(new Date('2026-05-01T00:00:00Z'), { autoAdvance: true });
    const result = await waitForAccessKey(key, { endpoint: proxy.endpoint, clock });
    expect(result.attempts).toBe(3);
    expect(result.arn).toBe(`arn:aws:iam::123456789012:user/zonekeeper/${u}`);
    expect(proxy.count({ service: 'sts', operation: 'GetCallerIdentity' })).toBe(3);
    expect(clock.now().getTime() - Date.parse('2026-05-01T00:00:00Z')).toBe(3_000); // 1 s + 2 s of backoff
  });

  it('gives up with TIMEOUT, without the secret in the error', async () => {
    const p = iam();
    const u = await user(p);
    const key = await p.createAccessKey(u);
    proxy.setRules([{ service: 'sts', fault: { kind: 'error', code: 'InvalidClientTokenId', status: 403 } }]);
    const clock = createManualClock(new Date('2026-05-01T00:00:00Z'), { autoAdvance: true });
    const e = await rejectionOf(
      waitForAccessKey(key, { endpoint: proxy.endpoint, clock, timeoutMs: 20_000 }),
    );
    expect(hasErrorCode(e, 'TIMEOUT')).toBe(true);
    expect(e.message).toContain(key.accessKeyId);
    expect(e.message).toContain('InvalidClientTokenId');
    expect(everything(e)).not.toContain(key.secretAccessKey);
  });

  it('rejects a key without a secret, and re-throws an abort', async () => {
    expect(
      hasErrorCode(
        await rejectionOf(waitForAccessKey({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: '' })),
        'INVALID_INPUT',
      ),
    ).toBe(true);
    const c = new AbortController();
    c.abort(new Error('stop'));
    const e = await rejectionOf(
      waitForAccessKey(
        { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x'.repeat(40) },
        { endpoint: proxy.endpoint, signal: c.signal },
      ),
    );
    expect(e.message).toBe('stop');
  });
});

describe('moto quirk check (documents why the contract capabilities differ)', () => {
  it('moto treats user names case-sensitively, unlike IAM', async () => {
    const client = new IAMClient({
      region: 'us-east-1',
      endpoint: moto.endpoint,
      credentials,
      maxAttempts: 1,
    });
    await client.send(new CreateUserCommand({ UserName: 'zk-case-probe' }));
    await expect(client.send(new CreateUserCommand({ UserName: 'ZK-CASE-PROBE' }))).resolves.toBeDefined();
  });
});
