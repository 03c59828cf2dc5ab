/** The pure planners of the ensure functions, on data alone. */
import { createMemoryCluster } from '@zonekeeper/externaldns-deployer';
import { describe, expect, it } from 'vitest';
import {
  defaultCaCommonName,
  MAX_COMMON_NAME_LENGTH,
  planCertificate,
  planCertificateAuthority,
} from './ensure.js';

const NOW = new Date('2026-05-01T00:00:00.000Z');
const day = 86_400_000;

describe('defaultCaCommonName', () => {
  it('is "<org> zonekeeper CA" when it fits, the organisation alone otherwise (issue #10: 51–63 characters)', () => {
    expect(defaultCaCommonName('acme')).toBe('acme zonekeeper CA');
    for (const length of [50, 51, 63]) {
      const org = 'a'.repeat(length);
      const cn = defaultCaCommonName(org);
      expect(cn.length).toBeLessThanOrEqual(MAX_COMMON_NAME_LENGTH);
      expect(cn.startsWith(org)).toBe(true);
    }
  });
});

describe('planCertificateAuthority', () => {
  const desired = { organization: 'acme', commonName: 'acme zonekeeper CA' };
  const ca = (notBefore: number, notAfter: number) => ({
    notBefore: new Date(notBefore),
    notAfter: new Date(notAfter),
  });

  it.each([
    ['none stored: create it', undefined, ['create-ca']],
    ['fresh: nothing', ca(NOW.getTime() - day, NOW.getTime() + 3000 * day), []],
    [
      'past two thirds of its life: renew it',
      ca(NOW.getTime() - 3000 * day, NOW.getTime() + 10 * day),
      ['renew-ca'],
    ],
  ])('%s', (_sentence, stored, ops) => {
    const plan = planCertificateAuthority(stored, desired, NOW);
    expect(plan.steps.map((s) => s.op)).toEqual(ops);
    expect(planCertificateAuthority(stored, desired, NOW)).toEqual(plan);
  });
});

describe('planCertificate', () => {
  const cluster = createMemoryCluster({ name: 'c1' });
  const input = {
    organization: 'acme',
    name: 'web',
    dnsNames: ['www.acme.example.com'],
    target: { cluster, namespace: 'web' },
  };

  it('a CA created or renewed by the surrounding plan (caPem null) re-issues a stored certificate', () => {
    const stored = {
      certificatePem: 'c',
      privateKeyPem: 'k',
      chainPem: 'c',
      caPem: 'old-ca',
      dnsNames: ['www.acme.example.com'],
      notBefore: new Date(NOW.getTime() - day),
      notAfter: new Date(NOW.getTime() + 80 * day),
      serialNumber: '01',
      version: 1,
    };
    expect(planCertificate({ stored }, input, null, NOW).steps).toEqual([
      { op: 'issue-certificate', name: 'web', reason: 'ca-changed', dnsNames: ['www.acme.example.com'] },
      { op: 'apply-tls-secret', cluster: 'c1', namespace: 'web', secretName: 'web' },
    ]);
  });

  it('refuses a target Secret labelled for another organisation (NOT_OWNED), and one without our label', () => {
    const secret = (labels: Record<string, string>) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'web', namespace: 'web', labels },
    });
    expect(() =>
      planCertificate(
        {
          secret: secret({
            'zonekeeper.io/managed-by': 'zonekeeper',
            'zonekeeper.io/organization': 'globex',
          }),
        },
        input,
        'ca',
        NOW,
      ),
    ).toThrow(/organisation globex, not acme/);
    expect(() => planCertificate({ secret: secret({}) }, input, 'ca', NOW)).toThrow(
      /not managed by zonekeeper/,
    );
  });
});
