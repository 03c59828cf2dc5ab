/**
 * The per-cluster identity's policy and the ExternalDNS flags agree, checked without the binary:
 * for every name ExternalDNS may manage under the rendered `--domain-filter` (the cluster's name and
 * below, wildcards included), the change batch it sends — the record plus its ownership TXT named by
 * `ownershipRecordName` with the rendered `--txt-prefix` — is allowed by the cluster's IAM policy, and
 * the same batch for a name outside the filter is not. (The scenario cluster-identity.test.ts checks the
 * same with the real ExternalDNS.)
 */

import { runSimulation } from '@cloud-copilot/iam-simulate';
import {
  DEFAULT_TXT_PREFIX,
  externalDnsArgs,
  ownershipRecordName,
  resolveExternalDnsOptions,
} from '@zonekeeper/externaldns-deployer';
import { buildZonePolicy, clusterRecordNames } from '@zonekeeper/iam-scoper';
import { describe, expect, it } from 'vitest';
import { normalizeRecordName, ROUTE53_CONDITION_KEYS } from './iam-enforcer/route53-request.js';

const ZONE = 'acme.example.com';
const ZONE_ID = 'Z0123456789ABCDEFGHIJ';
const policy = buildZonePolicy({
  zoneId: ZONE_ID,
  zoneName: ZONE,
  recordNames: clusterRecordNames(ZONE, 'c1'),
});

async function allowed(names: readonly string[], types: readonly string[]): Promise<string> {
  const result = await runSimulation(
    {
      identityPolicies: [{ name: 'cluster', policy: policy as never }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: {
        action: 'route53:ChangeResourceRecordSets',
        principal: 'arn:aws:iam::123456789012:user/zonekeeper/c1',
        resource: { accountId: '123456789012', resource: `arn:aws:route53:::hostedzone/${ZONE_ID}` },
        contextVariables: {
          [ROUTE53_CONDITION_KEYS.names]: names.map(normalizeRecordName),
          [ROUTE53_CONDITION_KEYS.types]: [...types],
          [ROUTE53_CONDITION_KEYS.actions]: ['CREATE'],
        },
      },
    },
    {},
  );
  if (result.resultType !== 'single') throw new Error(JSON.stringify(result));
  expect(result.result.ignoredContextKeys ?? []).toEqual([]);
  return result.result.analysis.result;
}

describe('cluster scope: policy and flags agree', () => {
  const resolved = resolveExternalDnsOptions({
    clusterId: 'c1',
    organization: 'acme',
    zoneName: ZONE,
    zoneId: ZONE_ID,
    credentials: { accessKeyId: 'AKIA0000000000000000', secretAccessKey: 'placeholder' },
    domainFilter: clusterRecordNames(ZONE, 'c1')[0],
  });
  const args = externalDnsArgs(resolved);

  it('renders the policy scope as the domain filter, with the default TXT prefix', () => {
    expect(args).toContain(`--domain-filter=c1.${ZONE}`);
    expect(args).toContain(`--txt-prefix=${DEFAULT_TXT_PREFIX}`);
  });

  for (const name of [
    'c1.acme.example.com',
    'web.c1.acme.example.com',
    'a.b.c1.acme.example.com',
    '*.c1.acme.example.com',
    '*.apps.c1.acme.example.com',
  ]) {
    for (const type of ['A', 'AAAA', 'CNAME']) {
      it(`allows ${name} ${type} with its ownership TXT`, async () => {
        const txt = ownershipRecordName(name, type, resolved.txtPrefix);
        expect(await allowed([name, txt], [type, 'TXT'])).toBe('Allowed');
      });
    }
  }

  for (const name of [
    'acme.example.com',
    'web.acme.example.com',
    'c2.acme.example.com',
    'xc1.acme.example.com',
  ]) {
    it(`denies ${name}, outside the filter`, async () => {
      expect(await allowed([name, ownershipRecordName(name, 'A', resolved.txtPrefix)], ['A', 'TXT'])).toBe(
        'ImplicitlyDenied',
      );
    });
  }

  it('would deny the cluster name itself without the record-type prefix (the defect the default fixes)', async () => {
    const name = 'c1.acme.example.com';
    expect(await allowed([name, ownershipRecordName(name, 'A', undefined)], ['A', 'TXT'])).toBe(
      'ImplicitlyDenied',
    );
    expect(await allowed([name, ownershipRecordName(name, 'A', 'extdns.')], ['A', 'TXT'])).toBe(
      'ImplicitlyDenied',
    );
  });
});
