import { isZonekeeperError, ZonekeeperLabels } from '@zonekeeper/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority, issueServerCertificate } from '../index.js';
import { renderTrustBundle, TRUST_BUNDLE_KEY, trustBundleName } from './index.js';

let caPem: string;
let otherCaPem: string;
let leafPem: string;

beforeAll(async () => {
  const ca = await createCertificateAuthority({
    commonName: 'acme zonekeeper CA',
    permittedDnsDomains: ['acme.example.com'],
  });
  caPem = ca.certificatePem;
  otherCaPem = (await createCertificateAuthority({ commonName: 'private ACME root' })).certificatePem;
  leafPem = (await issueServerCertificate(ca, { dnsNames: ['www.acme.example.com'] })).certificatePem;
});

function rejects(input: unknown): string {
  try {
    renderTrustBundle(input as never);
  } catch (error) {
    expect(isZonekeeperError(error) && error.code === 'INVALID_INPUT').toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected INVALID_INPUT');
}

describe('renderTrustBundle', () => {
  it('distributes the organisation’s CA to exactly the tenant namespaces', () => {
    const bundle = renderTrustBundle({
      organization: 'acme',
      namespaces: ['web', 'api'],
      certificatesPem: [caPem, otherCaPem],
    });
    expect(bundle).toMatchObject({
      apiVersion: 'trust.cert-manager.io/v1alpha1',
      kind: 'Bundle',
      metadata: {
        name: 'zonekeeper-acme-ca',
        labels: { [ZonekeeperLabels.managedBy]: 'zonekeeper', [ZonekeeperLabels.organization]: 'acme' },
      },
      spec: {
        target: {
          configMap: { key: TRUST_BUNDLE_KEY },
          namespaceSelector: {
            matchExpressions: [
              { key: 'kubernetes.io/metadata.name', operator: 'In', values: ['api', 'web'] },
            ],
          },
        },
      },
    });
    expect(bundle.metadata.namespace).toBeUndefined();
    const sources = (bundle.spec as { sources: { inLine: string }[] }).sources;
    expect(sources).toHaveLength(1);
    expect(sources[0]?.inLine).toBe(`${caPem.trim()}\n${otherCaPem.trim()}\n`);
    expect(trustBundleName('acme')).toBe('zonekeeper-acme-ca');
  });

  it('is deterministic and de-duplicates certificates', () => {
    const a = renderTrustBundle({
      organization: 'acme',
      namespaces: ['web'],
      certificatesPem: [caPem, caPem],
    });
    const b = renderTrustBundle({ organization: 'acme', namespaces: ['web'], certificatesPem: [caPem] });
    expect(a).toEqual(b);
  });

  it('refuses bad input', () => {
    expect(rejects(null)).toContain('object');
    expect(rejects({ organization: 'Acme', namespaces: ['web'], certificatesPem: [caPem] })).toBeTruthy();
    expect(rejects({ organization: 'acme', namespaces: [], certificatesPem: [caPem] })).toContain(
      'namespaces',
    );
    expect(rejects({ organization: 'acme', namespaces: ['web', 'web'], certificatesPem: [caPem] })).toContain(
      'twice',
    );
    expect(rejects({ organization: 'acme', namespaces: ['web'], certificatesPem: [] })).toContain(
      'at least one',
    );
    expect(rejects({ organization: 'acme', namespaces: ['web'], certificatesPem: ['hello'] })).toContain(
      'no PEM',
    );
    expect(rejects({ organization: 'acme', namespaces: ['web'], certificatesPem: [leafPem] })).toContain(
      'not a CA',
    );
  });
});
