/** The pure parts of ACME issuance on data alone: the planner, the challenge records, the problem mapping. */
import { hasErrorCode } from '@zonekeeper/core';
import { createMemoryCluster } from '@zonekeeper/externaldns-deployer';
import type { StoredCertificate } from '@zonekeeper/vault-keys';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { answersChallenge, challengeRecordName, challengeRecordSets, challengeRecords } from './challenge.js';
import { acmeIssuer, type EnsureAcmeCertificateInput, planAcmeCertificate } from './ensure.js';
import {
  ACME_ERROR_NAMESPACE,
  ACME_PROBLEM_MAPPINGS,
  acmeProblemError,
  acmeProblemMapping,
  parseAcmeProblem,
  parseRetryAfter,
} from './problems.js';

const NOW = new Date('2026-05-01T00:00:00.000Z');
const DAY = 86_400_000;
const DIR = 'https://ca.example/dir';
const zone = { id: 'Z1', name: 'acme.example.com' };
const base: EnsureAcmeCertificateInput = {
  organization: 'acme',
  name: 'web',
  dnsNames: ['www.acme.example.com'],
  zone,
};

function stored(over: Partial<StoredCertificate> = {}): StoredCertificate {
  return {
    certificatePem: 'leaf',
    privateKeyPem: 'key',
    chainPem: 'chain',
    caPem: 'issuer',
    serialNumber: '01',
    notBefore: new Date(NOW.getTime() - 10 * DAY),
    notAfter: new Date(NOW.getTime() + 80 * DAY),
    dnsNames: ['www.acme.example.com'],
    issuer: acmeIssuer(DIR),
    version: 1,
    ...over,
  };
}

const ops = (plan: { steps: readonly { op: string; reason?: string }[] }) =>
  plan.steps.map((s) => (s.reason ? `${s.op}:${s.reason}` : s.op));

describe('planAcmeCertificate', () => {
  it.each([
    ['nothing stored, no account', {}, ['create-acme-account', 'order-acme-certificate:missing']],
    ['nothing stored, account known', { accountKeyPem: 'k' }, ['order-acme-certificate:missing']],
    ['fresh', { accountKeyPem: 'k', stored: stored() }, []],
    [
      'names changed',
      { accountKeyPem: 'k', stored: stored({ dnsNames: ['old.acme.example.com'] }) },
      ['order-acme-certificate:names-changed'],
    ],
    [
      "issued by the organisation's CA",
      { accountKeyPem: 'k', stored: stored({ issuer: undefined as never }) },
      ['order-acme-certificate:issuer-changed'],
    ],
    [
      'issued by another ACME CA',
      { accountKeyPem: 'k', stored: stored({ issuer: acmeIssuer('https://other.example/dir') }) },
      ['order-acme-certificate:issuer-changed'],
    ],
    [
      'past two thirds of its life',
      {
        accountKeyPem: 'k',
        stored: stored({
          notBefore: new Date(NOW.getTime() - 61 * DAY),
          notAfter: new Date(NOW.getTime() + 29 * DAY),
        }),
      },
      ['order-acme-certificate:renewal-due'],
    ],
  ])('%s', (_, state, expected) => {
    const plan = planAcmeCertificate({ nameServers: [], ...state }, base, DIR, NOW);
    expect(ops(plan)).toEqual(expected);
    // JSON data: it survives a round trip unchanged.
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
  });

  it('names the challenge records: a wildcard and its base share one', () => {
    const plan = planAcmeCertificate(
      { nameServers: [] },
      { ...base, dnsNames: ['acme.example.com', '*.acme.example.com', 'WWW.acme.example.com.'] },
      DIR,
      NOW,
    );
    expect(plan.steps.find((s) => s.op === 'order-acme-certificate')).toMatchObject({
      dnsNames: ['acme.example.com', '*.acme.example.com', 'www.acme.example.com'],
      challengeRecords: ['_acme-challenge.acme.example.com', '_acme-challenge.www.acme.example.com'],
    });
  });

  it('applies the Secret when missing or different, and refuses a Secret that is not ours', async () => {
    const cluster = createMemoryCluster({ name: 'prod-1' });
    const target = { cluster, namespace: 'web' };
    expect(
      ops(
        planAcmeCertificate(
          { nameServers: [], accountKeyPem: 'k', stored: stored() },
          { ...base, target },
          DIR,
          NOW,
        ),
      ),
    ).toEqual(['apply-tls-secret']);
    const foreign = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'web', namespace: 'web', labels: {} },
    };
    expect(() =>
      planAcmeCertificate({ nameServers: [], secret: foreign }, { ...base, target }, DIR, NOW),
    ).toThrow(expect.objectContaining({ code: 'NOT_OWNED' }));
  });

  it('property: a name outside the zone is always refused with reason outside-zone, whatever else is asked', () => {
    const label = fc.stringMatching(/^[a-z][a-z0-9]{0,10}$/);
    fc.assert(
      fc.property(
        fc.array(label, { minLength: 0, maxLength: 3 }),
        label,
        fc.boolean(),
        (inside, foreign, wildcard) => {
          const outsider = `${wildcard ? '*.' : ''}${foreign}.globex.example.com`;
          const names = [...inside.map((l) => `${l}.acme.example.com`), outsider];
          try {
            planAcmeCertificate({ nameServers: [] }, { ...base, dnsNames: names }, DIR, NOW);
          } catch (error) {
            return hasErrorCode(error, 'INVALID_INPUT') && error.details?.reason === 'outside-zone';
          }
          return false;
        },
      ),
    );
  });

  it('property: names inside the zone plan one order whose challenge records all lie inside the zone', () => {
    const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}[a-z0-9]$/);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.array(label, { maxLength: 2 }), fc.boolean()), { minLength: 1, maxLength: 5 }),
        (specs) => {
          const names = specs.map(
            ([labels, wildcard]) => `${wildcard ? '*.' : ''}${[...labels, 'acme.example.com'].join('.')}`,
          );
          const plan = planAcmeCertificate({ nameServers: [] }, { ...base, dnsNames: names }, DIR, NOW);
          const order = plan.steps.find((s) => s.op === 'order-acme-certificate');
          return (
            order?.op === 'order-acme-certificate' &&
            order.challengeRecords.every(
              (r) => r.startsWith('_acme-challenge.') && r.endsWith('acme.example.com'),
            )
          );
        },
      ),
    );
  });
});

describe('challenge records', () => {
  it('groups digests by owner name and quotes TXT values for the DNS port', () => {
    const records = challengeRecords([
      { dnsName: '*.acme.example.com', digest: 'b' },
      { dnsName: 'acme.example.com', digest: 'a' },
      { dnsName: 'www.acme.example.com', digest: 'c' },
    ]);
    expect(records).toEqual([
      { name: '_acme-challenge.acme.example.com', values: ['a', 'b'] },
      { name: '_acme-challenge.www.acme.example.com', values: ['c'] },
    ]);
    expect(challengeRecordSets(records, 60)[0]).toEqual({
      name: '_acme-challenge.acme.example.com',
      type: 'TXT',
      ttl: 60,
      values: ['"a"', '"b"'],
    });
    expect(challengeRecordName('*.x.acme.example.com')).toBe('_acme-challenge.x.acme.example.com');
  });

  it('counts a server as ready only when it answers every value authoritatively', () => {
    const record = { name: '_acme-challenge.acme.example.com', values: ['a', 'b'] };
    expect(answersChallenge({ status: 'answer', values: ['a', 'b', 'stale'] }, record)).toBe(true);
    expect(answersChallenge({ status: 'answer', values: ['a'] }, record)).toBe(false);
    expect(answersChallenge({ status: 'not-authoritative', values: [] }, record)).toBe(false);
  });
});

describe('ACME problems', () => {
  const type = (name: string) => `${ACME_ERROR_NAMESPACE}${name}`;

  it('maps badNonce and rateLimited to transient codes, with Retry-After kept', () => {
    const rate = parseAcmeProblem(
      { type: type('rateLimited'), detail: 'too many certificates (5) for this exact set of names' },
      429,
      parseRetryAfter('120', NOW),
    );
    const error = acmeProblemError(rate as never, 'ordering web');
    expect(error).toMatchObject({
      code: 'THROTTLED',
      retry: 'transient',
      retryAfterMs: 120_000,
      details: { acmeProblem: 'rateLimited', status: 429 },
    });
    expect(error.message).toContain('too many certificates');
    expect(acmeProblemMapping({ type: type('badNonce'), status: 400 })).toEqual({
      code: 'UNAVAILABLE',
      retry: 'transient',
    });
    expect(acmeProblemMapping({ type: type('unauthorized') })).toEqual({
      code: 'PERMISSION_DENIED',
      retry: 'permanent',
    });
    expect(acmeProblemMapping({ type: type('malformed') })).toEqual({ code: 'INTERNAL', retry: 'bug' });
  });

  it('maps a type it does not know, or from another namespace, by HTTP status', () => {
    expect(acmeProblemMapping({ type: type('somethingNew'), status: 503 })).toEqual({
      code: 'UNAVAILABLE',
      retry: 'transient',
    });
    expect(acmeProblemMapping({ type: 'https://ca.example/problems/badNonce', status: 400 })).toEqual({
      code: 'INTERNAL',
      retry: 'bug',
    });
    expect(Object.keys(ACME_PROBLEM_MAPPINGS)).toContain('rateLimited');
  });

  it('reads Retry-After as seconds or an HTTP date, bounded to a day', () => {
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter(new Date(NOW.getTime() + 30_000).toUTCString(), NOW)).toBe(30_000);
    expect(parseRetryAfter('99999999', NOW)).toBe(86_400_000);
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
  });

  it('keeps control characters and huge details out of messages; ignores bodies that are not problems', () => {
    const error = acmeProblemError(
      { type: type('serverInternal'), detail: `a\nb\u0000${'x'.repeat(2_000)}` },
      'x',
    );
    expect(error.message.includes('\n') || error.message.includes('\u0000')).toBe(false);
    expect(error.message.length).toBeLessThan(700);
    expect(parseAcmeProblem('text')).toBeUndefined();
    expect(parseAcmeProblem({ detail: 'no type' })).toBeUndefined();
  });
});
