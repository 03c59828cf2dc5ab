/**
 * The EKS Pod Identity adapter against stubbed clients (moto 5.2 has no Pod Identity API): request
 * shapes, paging, error translation — and the port's contract, run through the adapter against a stub
 * that answers like EKS (backed by the memory provider, errors shaped like the SDK's).
 */
import { isZonekeeperError } from '@zonekeeper/core';
import { describe, expect, it } from 'vitest';
import { createMemoryPodIdentityProvider } from '../pod-identity-memory.js';
import { podIdentityAssociationContract } from '../testing.js';
import { createEksPodIdentityProvider, type EksClientLike } from './index.js';

interface Sent {
  readonly op: string;
  readonly input: Record<string, unknown>;
}

function stub(
  handlers: Record<string, (input: Record<string, unknown>) => unknown>,
): EksClientLike & { sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    sent,
    async send(command: unknown) {
      const c = command as { constructor: { name: string }; input: Record<string, unknown> };
      const op = c.constructor.name.replace(/Command$/, '');
      sent.push({ op, input: c.input });
      const handler = handlers[op];
      if (!handler) throw new Error(`unexpected ${op}`);
      return handler(c.input);
    },
  };
}

const sdkError = (name: string, status: number, message = `injected ${name}`) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status, requestId: 'req-1' } });

const ROLE = 'arn:aws:iam::123456789012:role/zonekeeper/zk-a379a6f6.acme';

/** An EKS-shaped stub over the memory provider. */
function eksLike(): EksClientLike {
  const memory = createMemoryPodIdentityProvider({ clusters: ['acme-c1'] });
  const toSdk = (error: unknown) => {
    if (!isZonekeeperError(error)) return error;
    const map: Record<string, [string, number]> = {
      NOT_FOUND: ['ResourceNotFoundException', 404],
      ALREADY_EXISTS: ['ResourceInUseException', 409],
      INVALID_INPUT: ['InvalidParameterException', 400],
    };
    const [name, status] = map[error.code] ?? ['ServerException', 500];
    return sdkError(name, status, error.message);
  };
  const wire = (a: Record<string, unknown>) => ({ ...a, createdAt: new Date(a.createdAt as Date) });
  const handlers: Record<string, (i: Record<string, unknown>) => Promise<unknown>> = {
    CreatePodIdentityAssociation: async (i) => ({
      association: wire({ ...(await memory.createAssociation({ tags: {}, ...i } as never)) }),
    }),
    DescribePodIdentityAssociation: async (i) => {
      const a = await memory.describeAssociation(i.clusterName as string, i.associationId as string);
      if (!a) throw sdkError('ResourceNotFoundException', 404);
      return { association: wire({ ...a }) };
    },
    ListPodIdentityAssociations: async (i) => ({
      associations: await memory.listAssociations(i.clusterName as string, {
        ...(i.namespace ? { namespace: i.namespace as string } : {}),
        ...(i.serviceAccount ? { serviceAccount: i.serviceAccount as string } : {}),
      }),
    }),
    DeletePodIdentityAssociation: async (i) => {
      await memory.deleteAssociation(i.clusterName as string, i.associationId as string);
      return { association: {} };
    },
  };
  return {
    async send(command: unknown) {
      const c = command as { constructor: { name: string }; input: Record<string, unknown> };
      const handler = handlers[c.constructor.name.replace(/Command$/, '')];
      if (!handler) throw new Error(`unexpected ${c.constructor.name}`);
      try {
        return await handler(c.input);
      } catch (error) {
        throw toSdk(error);
      }
    },
  };
}

podIdentityAssociationContract({
  name: 'eks adapter (EKS-shaped stub)',
  create: async () => ({
    provider: createEksPodIdentityProvider({ client: eksLike() }),
    clusterName: 'acme-c1',
    roleArn: ROLE,
  }),
});

describe('EKS Pod Identity adapter with a stubbed client', () => {
  it('sends CreatePodIdentityAssociation with the spec, and reads the association back', async () => {
    const client = stub({
      CreatePodIdentityAssociation: (input) => ({
        association: {
          ...input,
          associationId: 'a-0123456789abcdefg',
          associationArn:
            'arn:aws:eks:eu-west-1:123456789012:podidentityassociation/acme-c1/a-0123456789abcdefg',
          createdAt: new Date('2026-01-01T00:00:00Z'),
        },
      }),
    });
    const eks = createEksPodIdentityProvider({ client });
    const a = await eks.createAssociation({
      clusterName: 'acme-c1',
      namespace: 'external-dns',
      serviceAccount: 'external-dns',
      roleArn: ROLE,
      tags: { 'zonekeeper:managed-by': 'zonekeeper' },
      clientRequestToken: 'zk-1',
    });
    expect(client.sent).toEqual([
      {
        op: 'CreatePodIdentityAssociation',
        input: {
          clusterName: 'acme-c1',
          namespace: 'external-dns',
          serviceAccount: 'external-dns',
          roleArn: ROLE,
          tags: { 'zonekeeper:managed-by': 'zonekeeper' },
          clientRequestToken: 'zk-1',
        },
      },
    ]);
    expect(a).toMatchObject({
      associationId: 'a-0123456789abcdefg',
      roleArn: ROLE,
      tags: { 'zonekeeper:managed-by': 'zonekeeper' },
    });
    expect(a.createdAt.toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });

  it('pages ListPodIdentityAssociations with maxResults and nextToken, passing the filter', async () => {
    const all = Array.from({ length: 5 }, (_, i) => ({
      associationId: `a-${i}`,
      associationArn: `arn:aws:eks:eu-west-1:123456789012:podidentityassociation/c1/a-${i}`,
      clusterName: 'c1',
      namespace: 'external-dns',
      serviceAccount: `sa${i}`,
      ...(i === 4 ? { ownerArn: 'arn:aws:eks:eu-west-1:123456789012:addon/c1/x/y' } : {}),
    }));
    const client = stub({
      ListPodIdentityAssociations: (input) => {
        const start = Number(input.nextToken ?? 0);
        const next = start + Number(input.maxResults);
        return {
          associations: all.slice(start, next),
          ...(next < all.length ? { nextToken: String(next) } : {}),
        };
      },
    });
    const listed = await createEksPodIdentityProvider({ client, pageSize: 2 }).listAssociations('c1', {
      namespace: 'external-dns',
    });
    expect(listed.map((a) => a.associationId)).toEqual(['a-0', 'a-1', 'a-2', 'a-3', 'a-4']);
    expect(listed[4]?.ownerArn).toMatch(/:addon\//);
    expect(client.sent.map((s) => s.input)).toEqual([
      { clusterName: 'c1', namespace: 'external-dns', maxResults: 2 },
      { clusterName: 'c1', namespace: 'external-dns', maxResults: 2, nextToken: '2' },
      { clusterName: 'c1', namespace: 'external-dns', maxResults: 2, nextToken: '4' },
    ]);
  });

  const errors: [string, number, string, string][] = [
    ['ResourceNotFoundException', 404, 'NOT_FOUND', 'permanent'],
    ['ResourceInUseException', 409, 'ALREADY_EXISTS', 'permanent'],
    ['ResourceLimitExceededException', 400, 'CONFLICT', 'permanent'],
    ['InvalidParameterException', 400, 'INVALID_INPUT', 'permanent'],
    ['InvalidRequestException', 400, 'INVALID_INPUT', 'permanent'],
    ['AccessDeniedException', 403, 'PERMISSION_DENIED', 'permanent'],
    ['ThrottlingException', 429, 'THROTTLED', 'transient'],
    ['ServerException', 500, 'UNAVAILABLE', 'transient'],
    ['SomethingNew', 503, 'UNAVAILABLE', 'transient'],
    ['SomethingOdd', 400, 'INTERNAL', 'bug'],
  ];
  for (const [name, status, code, retry] of errors) {
    it(`${name} (HTTP ${status}) is ${code}`, async () => {
      const client = stub({ CreatePodIdentityAssociation: () => Promise.reject(sdkError(name, status)) });
      const e = await createEksPodIdentityProvider({ client })
        .createAssociation({
          clusterName: 'c1',
          namespace: 'external-dns',
          serviceAccount: 'external-dns',
          roleArn: ROLE,
          tags: {},
        })
        .catch((x) => x);
      expect(e).toMatchObject({ code, retry });
      expect(e.message).toMatch(
        /^EKS: CreatePodIdentityAssociation \(cluster c1, serviceAccount external-dns\/external-dns\) failed: injected/,
      );
      expect(e.details).toMatchObject({
        operation: 'CreatePodIdentityAssociation',
        awsCode: name,
        httpStatusCode: status,
        requestId: 'req-1',
      });
      expect(e.cause).toMatchObject({ name });
    });
  }

  it('a network failure is UNAVAILABLE; describe of a missing association is undefined', async () => {
    const client = stub({
      DeletePodIdentityAssociation: () =>
        Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
      DescribePodIdentityAssociation: () => Promise.reject(sdkError('ResourceNotFoundException', 404)),
    });
    const eks = createEksPodIdentityProvider({ client });
    expect(await eks.deleteAssociation('c1', 'a-1').catch((x) => x.code)).toBe('UNAVAILABLE');
    expect(await eks.describeAssociation('c1', 'a-1')).toBeUndefined();
  });

  it('re-throws the abort reason of a call in flight', async () => {
    const reason = new Error('caller gave up');
    const client: EksClientLike = {
      send: (_c, o) =>
        new Promise((_, reject) =>
          o?.abortSignal?.addEventListener('abort', () => reject(new Error('aborted by SDK'))),
        ),
    };
    const c = new AbortController();
    const pending = createEksPodIdentityProvider({ client }).listAssociations('c1', {}, { signal: c.signal });
    setTimeout(() => c.abort(reason), 10);
    expect(await pending.catch((x) => x)).toBe(reason);
  });

  it('rejects bad options at construction, and bad input before sending', async () => {
    expect(() => createEksPodIdentityProvider({ pageSize: 101 })).toThrow(/pageSize/);
    expect(() => createEksPodIdentityProvider({ maxAttempts: 0 })).toThrow(/maxAttempts/);
    const client = stub({});
    await expect(
      createEksPodIdentityProvider({ client }).listAssociations('c1', { namespace: 'Bad' }),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    expect(client.sent).toEqual([]);
  });
});
