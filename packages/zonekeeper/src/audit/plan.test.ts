/**
 * The pure audit planner: a table of fleet states (named fixture builders, one sentence per row) →
 * the findings, and properties — a fleet just produced by ensure/attach (random organisations, clusters,
 * identity scopes, rotations, on the memory backend) has no findings but the collector's; the plan is
 * deterministic and does not depend on the order organisations were gathered in.
 */

import { fc, test as fcTest } from '@fast-check/vitest';
import { createManualClock } from '@zonekeeper/core';
import { DEFAULT_EXTERNAL_DNS_IMAGE } from '@zonekeeper/externaldns-deployer';
import { desiredZoneIdentity, minifyPolicy } from '@zonekeeper/iam-scoper';
import { type ObservedZone, ZONEKEEPER_MANAGED_BY, ZoneTags } from '@zonekeeper/zone-manager';
import { describe, expect, it } from 'vitest';
import { resolveContext } from '../context.js';
import { createMemoryInventory } from '../inventory.js';
import { createZonekeeper } from '../zonekeeper.js';
import { gatherFleet } from './gather.js';
import {
  type AuditReason,
  type ClusterFacts,
  type FleetState,
  type IdentityFacts,
  type OrganizationFacts,
  planAudit,
  type TsigFacts,
} from './plan.js';

const BASE = 'example.com';
const NOW = new Date('2026-03-10T05:00:00.000Z');
const DAY = 86_400_000;
const NS = ['ns-1.awsdns-01.org', 'ns-2.awsdns-02.net'];
const ZONE_ID = 'ZACME0000000001';

function identity(org: string, key = 'AKIAACMEKEY000000001', clusterId?: string): IdentityFacts {
  const desired = desiredZoneIdentity({
    baseDomain: BASE,
    organization: org,
    ...(clusterId ? { clusterId } : {}),
    zoneName: `${org}.${BASE}`,
    zoneId: ZONE_ID,
  });
  return {
    userName: desired.userName,
    ...(clusterId ? { clusterId } : {}),
    current: {
      user: { userName: desired.userName, path: desired.path, tags: desired.tags as Record<string, string> },
      policyNames: [desired.policyName],
      policyDocument: minifyPolicy(desired.policy as NonNullable<typeof desired.policy>),
    },
    credentials: {
      userName: desired.userName,
      stored: { userName: desired.userName, accessKeyId: key, version: 1 },
      iamKeys: [key],
      consumers: [],
    },
  };
}

function cluster(overrides: Partial<ClusterFacts> = {}): ClusterFacts {
  return {
    clusterId: 'c1',
    scope: 'organization',
    namespace: 'external-dns',
    expectedImage: DEFAULT_EXTERNAL_DNS_IMAGE,
    status: 'read',
    secretAccessKeyId: 'AKIAACMEKEY000000001',
    image: DEFAULT_EXTERNAL_DNS_IMAGE,
    ...overrides,
  };
}

/** A healthy organisation: one tagged zone, delegated, its identity and key, one cluster, a CA. */
function organization(overrides: Partial<OrganizationFacts> = {}, org = 'acme'): OrganizationFacts {
  return {
    organization: org,
    zoneName: `${org}.${BASE}`,
    zone: {
      status: 'read',
      state: {
        parent: { id: 'ZPARENT', name: BASE },
        zones: [
          {
            id: ZONE_ID,
            name: `${org}.${BASE}`,
            callerReference: 'x',
            tags: {
              [ZoneTags.managedBy]: ZONEKEEPER_MANAGED_BY,
              [ZoneTags.organization]: org,
              [ZoneTags.createdAt]: new Date(NOW.getTime() - 30 * DAY).toISOString(),
            },
            nameServers: NS,
            recordSetCount: 4,
          },
        ],
        delegation: { ttl: 300, values: NS },
      },
    },
    managedZones: [
      {
        id: ZONE_ID,
        name: `${org}.${BASE}`,
        protected: false,
        createdAt: new Date(NOW.getTime() - 30 * DAY),
      },
    ],
    attached: [cluster()],
    identities: [identity(org)],
    certificates: [
      {
        kind: 'ca',
        name: 'ca',
        path: `p/orgs/${org}/tls/ca`,
        notBefore: new Date(NOW.getTime() - DAY),
        notAfter: new Date(NOW.getTime() + 3650 * DAY),
      },
    ],
    secretPaths: [`p/orgs/${org}/aws-access-key`],
    ...overrides,
  };
}

function fleet(
  organizations: readonly OrganizationFacts[],
  inventory: FleetState['inventory'] = { status: 'read', inUse: ['acme'] },
): FleetState {
  return { baseDomain: BASE, defaultScope: 'organization', organizations, inventory };
}

const acme = organization();
type ZoneState = Extract<OrganizationFacts['zone'], { status: 'read' }>['state'];
const acmeZone = (acme.zone as Extract<OrganizationFacts['zone'], { status: 'read' }>).state;
const firstZone = acmeZone.zones[0] as ObservedZone;
const withZone = (patch: { readonly [K in keyof ZoneState]?: ZoneState[K] | undefined }) =>
  organization({
    zone: {
      status: 'read',
      state: Object.fromEntries(
        Object.entries({ ...acmeZone, ...patch }).filter(([, v]) => v !== undefined),
      ) as unknown as ZoneState,
    },
  });
const withIdentity = (patch: (i: IdentityFacts) => IdentityFacts) =>
  organization({ identities: [patch(identity('acme'))] });

const TABLE: Readonly<Record<string, { state: FleetState; now?: Date; reasons: readonly AuditReason[] }>> = {
  'a healthy organisation has no findings': { state: fleet([acme]), reasons: [] },
  'no NS record in the parent: delegation-missing': {
    state: fleet([withZone({ delegation: undefined })]),
    reasons: ['delegation-missing'],
  },
  'an NS record pointing elsewhere: delegation-foreign': {
    state: fleet([withZone({ delegation: { ttl: 300, values: ['ns1.elsewhere.net'] } })]),
    reasons: ['delegation-foreign'],
  },
  'an NS record with another TTL: delegation-drift': {
    state: fleet([withZone({ delegation: { ttl: 60, values: NS } })]),
    reasons: ['delegation-drift'],
  },
  'an A record at the name in the parent: parent-name-taken': {
    state: fleet([withZone({ parentRecords: [{ name: `acme.${BASE}`, type: 'A' }] })]),
    reasons: ['parent-name-taken'],
  },
  'a zone named like ours with foreign tags: zone-foreign': {
    state: fleet([
      withZone({
        zones: [{ ...firstZone, tags: { [ZoneTags.managedBy]: 'someone-else' } }],
      }),
    ]),
    reasons: ['zone-foreign'],
  },
  'no zone while a cluster is attached: zone-missing, no identity check without a zone': {
    state: fleet([withZone({ zones: [], delegation: undefined })]),
    reasons: ['zone-missing'],
  },
  'no zone, nothing attached and not in use, an identity left: organization-leftovers': {
    state: fleet(
      [organization({ ...withZone({ zones: [], delegation: undefined }), attached: [], managedZones: [] })],
      {
        status: 'read',
        inUse: [],
      },
    ),
    reasons: ['organization-leftovers'],
  },
  'the zone lacks its created-at tag: zone-tags-missing': {
    state: fleet([
      withZone({
        zones: [
          {
            ...firstZone,
            tags: { [ZoneTags.managedBy]: ZONEKEEPER_MANAGED_BY, [ZoneTags.organization]: 'acme' },
          },
        ],
      }),
    ]),
    reasons: ['zone-tags-missing'],
  },
  'an IAM key the store does not record: key-unknown-to-store': {
    state: fleet([
      withIdentity((i) => ({
        ...i,
        credentials: { ...i.credentials, iamKeys: ['AKIAACMEKEY000000001', 'AKIALEAKED0000000001'] },
      })),
    ]),
    reasons: ['key-unknown-to-store'],
  },
  'the stored key gone from IAM: key-not-in-iam (and the cluster runs a key IAM lost)': {
    state: fleet([withIdentity((i) => ({ ...i, credentials: { ...i.credentials, iamKeys: [] } }))]),
    reasons: ['key-not-in-iam'],
  },
  'a previous key still recorded: rotation-unfinished': {
    state: fleet([
      withIdentity((i) => ({
        ...i,
        credentials: {
          ...i.credentials,
          stored: {
            ...(i.credentials.stored as NonNullable<typeof i.credentials.stored>),
            previousAccessKeyId: 'AKIAOLD0000000000001',
          },
        },
      })),
    ]),
    reasons: ['rotation-unfinished'],
  },
  'a changed inline policy: policy-drift': {
    state: fleet([
      withIdentity((i) => ({ ...i, current: { ...i.current, policyDocument: '{"Version":"2012-10-17"}' } })),
    ]),
    reasons: ['policy-drift'],
  },
  'an extra inline policy: policy-drift': {
    state: fleet([
      withIdentity((i) => ({
        ...i,
        current: { ...i.current, policyNames: [...i.current.policyNames, 'admin'] },
      })),
    ]),
    reasons: ['policy-drift'],
  },
  'an identity tagged for an old zone id: identity-tags-drift': {
    state: fleet([
      withIdentity((i) => ({
        ...i,
        current: {
          ...i.current,
          user: {
            ...(i.current.user as NonNullable<typeof i.current.user>),
            tags: { ...i.current.user?.tags, 'zonekeeper:zone-id': 'ZOLD' },
          },
        },
      })),
    ]),
    reasons: ['identity-tags-drift'],
  },
  'a user at our name without our tag: identity-conflict': {
    state: fleet([
      withIdentity((i) => ({
        ...i,
        current: { ...i.current, user: { userName: i.userName, path: '/zonekeeper/', tags: {} } },
      })),
    ]),
    reasons: ['identity-conflict'],
  },
  'the identity an attached cluster needs does not exist: identity-missing': {
    state: fleet([
      withIdentity((i) => ({
        ...i,
        current: { policyNames: [] },
        credentials: { userName: i.userName, iamKeys: null, consumers: ['c1'] },
      })),
    ]),
    reasons: ['identity-missing'],
  },
  'a cluster identity of a cluster attached with scope organization: identity-unused': {
    state: fleet([
      organization({ identities: [identity('acme'), identity('acme', 'AKIAC100000000000001', 'c1')] }),
    ]),
    reasons: ['identity-unused'],
  },
  'the cluster runs another key than the stored one: cluster-stale-key': {
    state: fleet([organization({ attached: [cluster({ secretAccessKeyId: 'AKIAOLD0000000000001' })] })]),
    reasons: ['cluster-stale-key'],
  },
  'an older ExternalDNS release: cluster-old-version': {
    state: fleet([
      organization({
        attached: [cluster({ image: DEFAULT_EXTERNAL_DNS_IMAGE.replace(/:v[\d.]+$/, ':v0.14.2') })],
      }),
    ]),
    reasons: ['cluster-old-version'],
  },
  'a newer or other image: cluster-image-drift, not old': {
    state: fleet([organization({ attached: [cluster({ image: 'example.org/my-external-dns:v9.0.0' })] })]),
    reasons: ['cluster-image-drift'],
  },
  'a TLS Secret holding a serial the store does not have: tls-secret-stale': {
    state: fleet([
      organization({
        attached: [cluster({ tlsSecrets: [{ ref: 'shop/web', serialNumber: '01ab' }] })],
        certificates: [
          {
            kind: 'server',
            name: 'web',
            path: 'p/web',
            serialNumber: '02cd',
            notBefore: new Date(NOW.getTime() - DAY),
            notAfter: new Date(NOW.getTime() + 89 * DAY),
            dnsNames: [`www.acme.${BASE}`],
          },
        ],
      }),
    ]),
    reasons: ['tls-secret-stale'],
  },
  'a recorded TLS Secret that is gone: tls-secret-missing': {
    state: fleet([
      organization({ attached: [cluster({ tlsSecrets: [{ ref: 'shop/web', serialNumber: null }] })] }),
    ]),
    reasons: ['tls-secret-missing'],
  },
  'no Deployment: external-dns-missing': {
    state: fleet([organization({ attached: [cluster({ image: null })] })]),
    reasons: ['external-dns-missing'],
  },
  'a cluster that cannot be read: cluster-unreachable': {
    state: fleet([
      organization({
        attached: [cluster({ status: 'unreachable', error: { code: 'UNAVAILABLE', message: 'down' } })],
      }),
    ]),
    reasons: ['cluster-unreachable'],
  },
  'a 90-day certificate after 61 days: certificate-due': {
    state: fleet([
      organization({
        certificates: [
          {
            kind: 'server',
            name: 'web',
            path: 'p/web',
            notBefore: new Date(NOW.getTime() - 61 * DAY),
            notAfter: new Date(NOW.getTime() + 29 * DAY),
            dnsNames: [`www.acme.${BASE}`],
          },
        ],
      }),
    ]),
    reasons: ['certificate-due'],
  },
  'an expired CA: certificate-expired': {
    state: fleet([
      organization({
        certificates: [
          {
            kind: 'ca',
            name: 'ca',
            path: 'p/ca',
            notBefore: new Date(NOW.getTime() - 400 * DAY),
            notAfter: new Date(NOW.getTime() - DAY),
          },
        ],
      }),
    ]),
    reasons: ['certificate-expired'],
  },
  'an unused zone, a month old: zone-collectable': {
    state: fleet([organization({ attached: [] })], { status: 'read', inUse: [] }),
    reasons: ['zone-collectable'],
  },
  'a protected unused zone: not collectable': {
    state: fleet(
      [
        organization({
          attached: [],
          managedZones: [{ id: ZONE_ID, name: `acme.${BASE}`, protected: true }],
        }),
      ],
      { status: 'read', inUse: [] },
    ),
    reasons: [],
  },
  'no inventory: the collector is not judged': {
    state: fleet([organization({ attached: [] })], { status: 'not-configured' }),
    reasons: [],
  },
  'an unreadable inventory: inventory-unreadable, nothing collectable': {
    state: fleet([organization({ attached: [] })], { status: 'unreadable', message: 'ENOENT' }),
    reasons: ['inventory-unreadable'],
  },
  'a zone that cannot be read: zone-unreadable': {
    state: fleet([
      organization({ zone: { status: 'unreadable', error: { code: 'NOT_FOUND', message: 'no parent' } } }),
    ]),
    reasons: ['zone-unreadable'],
  },
};

describe('planAudit', () => {
  for (const [sentence, row] of Object.entries(TABLE))
    it(sentence, () => {
      const plan = planAudit(row.state, { now: row.now ?? NOW });
      expect(plan.findings.map((f) => f.reason)).toEqual(row.reasons);
      for (const f of plan.findings) {
        expect(f.message.length).toBeGreaterThan(10);
        if (f.fix.operation !== 'manual') expect(f.fix.command).toMatch(/^zonekeeper /);
      }
    });

  it('orders findings worst first and counts them', () => {
    const state = fleet([
      organization({
        attached: [cluster({ image: 'other:v1.0.0', secretAccessKeyId: 'AKIAOLD0000000000001' })],
      }),
    ]);
    const plan = planAudit(state, { now: NOW });
    expect(plan.findings.map((f) => [f.severity, f.reason])).toEqual([
      ['error', 'cluster-stale-key'],
      ['warning', 'cluster-image-drift'],
    ]);
    expect(plan.summary).toEqual({ error: 1, warning: 1, info: 0 });
  });
});

/** Random fleets made by the operations themselves, on the memory backend. */
const fleetOps = fc.record({
  scope: fc.constantFrom('organization' as const, 'cluster' as const),
  orgs: fc.uniqueArray(fc.constantFrom('acme', 'globex', 'initech'), { minLength: 1, maxLength: 3 }),
  clusters: fc.array(
    fc.record({
      org: fc.constantFrom('acme', 'globex', 'initech'),
      id: fc.constantFrom('c1', 'c2', 'c3', 'c4'),
      scope: fc.option(fc.constantFrom('organization' as const, 'cluster' as const), { nil: undefined }),
      running: fc.boolean(),
    }),
    { maxLength: 4 },
  ),
  rotate: fc.subarray(['acme', 'globex', 'initech'] as const),
  detach: fc.subarray(['c1', 'c2', 'c3', 'c4']),
  days: fc.integer({ min: 0, max: 40 }),
});

describe('planAudit properties', () => {
  fcTest.prop([fleetOps], { numRuns: 15 })(
    'a fleet just produced by ensure/attach/rotate/detach has no findings but the collector’s',
    async (ops) => {
      const clock = createManualClock(NOW);
      const inventory = createMemoryInventory();
      const config = { baseDomain: BASE, clock, inventory, identityScope: ops.scope } as const;
      const zk = createZonekeeper(config);
      for (const org of ops.orgs) await zk.ensureOrganization(org);
      const bound = new Map<string, string>();
      for (const c of ops.clusters) {
        if ((bound.get(c.id) ?? c.org) !== c.org) continue; // a cluster belongs to one organisation
        bound.set(c.id, c.org);
        inventory.set({ organization: c.org, clusterId: c.id, running: c.running });
        await zk.attachCluster(c.org, { clusterId: c.id, ...(c.scope ? { identityScope: c.scope } : {}) });
      }
      for (const org of ops.rotate)
        if (ops.orgs.includes(org) || [...bound.values()].includes(org))
          await zk.rotateCredentials(org).catch(() => undefined); // a cluster-only org may have no key
      for (const id of ops.detach) {
        const org = bound.get(id);
        if (org) await zk.detachCluster(org, id);
      }
      const now = new Date(NOW.getTime() + ops.days * DAY);
      const r = await zk.auditFleet({ now });
      expect(r.findings.filter((f) => f.reason !== 'zone-collectable')).toEqual([]);
    },
  );

  it('deterministic, and independent of the order organisations were gathered in', async () => {
    const inventory = createMemoryInventory();
    const config = { baseDomain: BASE, clock: createManualClock(NOW), inventory };
    const zk = createZonekeeper(config);
    await zk.attachCluster('acme', { clusterId: 'c1' });
    for (const org of ['globex', 'initech', 'hooli']) await zk.ensureOrganization(org);
    // Some drift, so there is something to order.
    const globex = await zk.ensureOrganization('globex');
    await zk.ports.identity.createAccessKey(globex.userName as string);
    const ctx = resolveContext({ ...config, ...zk.ports, clusters: zk.ports.cluster });
    const state = await gatherFleet(ctx, {}, {});
    const now = new Date(NOW.getTime() + 20 * DAY);
    const expected = planAudit(state, { now });
    expect(expected.findings.map((f) => f.reason)).toEqual([
      'key-unknown-to-store',
      'zone-collectable',
      'zone-collectable',
      'zone-collectable',
      'zone-collectable',
    ]);
    fc.assert(
      fc.property(
        fc.shuffledSubarray([...state.organizations], {
          minLength: state.organizations.length,
          maxLength: state.organizations.length,
        }),
        (organizations) => {
          expect(planAudit({ ...state, organizations }, { now })).toEqual(expected);
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe('planAudit on PowerDNS', () => {
  const KEY = `zonekeeper-update.acme.${BASE}`;
  const FP = 'aaaaaaaaaaaaaaaa';
  const healthyTsig: TsigFacts = {
    keyName: KEY,
    zoneExists: true,
    serverKey: { name: KEY, algorithm: 'hmac-sha256', fingerprint: FP },
    storedKey: { name: KEY, algorithm: 'hmac-sha256', fingerprint: FP, version: 1 },
    updateKeys: [KEY],
    updateSources: ['10.0.0.0/8'],
    transferKeys: [],
  };
  const pdnsCluster = (fingerprint: string | null): ClusterFacts => {
    const { secretAccessKeyId: _, ...c } = cluster();
    return { ...c, tsigKeyFingerprint: fingerprint };
  };
  const pdnsOrg = (
    tsig: { readonly [K in keyof TsigFacts]?: TsigFacts[K] | undefined } = {},
    rest: Partial<OrganizationFacts> = {},
  ) =>
    organization({
      identities: [],
      attached: [pdnsCluster(FP)],
      secretPaths: ['p/orgs/acme/tsig-key'],
      tsig: Object.fromEntries(
        Object.entries({ ...healthyTsig, ...tsig }).filter(([, v]) => v !== undefined),
      ) as unknown as TsigFacts,
      ...rest,
    });
  const pdnsFleet = (orgs: readonly OrganizationFacts[], axfr = false): FleetState => ({
    ...fleet(orgs, { status: 'not-configured' }),
    powerdns: { updateSources: ['10.0.0.0/8'], axfr },
  });
  const reasons = (o: OrganizationFacts, axfr = false) =>
    planAudit(pdnsFleet([o], axfr), { now: NOW }).findings.map((f) => f.reason);

  it('a healthy organisation has no findings, and no IAM identity is asked for', () => {
    expect(reasons(pdnsOrg())).toEqual([]);
  });

  it.each<[string, OrganizationFacts, readonly AuditReason[], boolean?]>([
    ['the server key is gone', pdnsOrg({ serverKey: undefined }), ['tsig-key-missing']],
    [
      'the server key has another secret',
      pdnsOrg({ serverKey: { name: KEY, algorithm: 'hmac-sha256', fingerprint: 'bbbbbbbbbbbbbbbb' } }),
      ['tsig-key-differs'],
    ],
    [
      'the server key has another algorithm',
      pdnsOrg({ serverKey: { name: KEY, algorithm: 'hmac-sha512', fingerprint: FP } }),
      ['tsig-key-differs'],
    ],
    ['nothing stored, a key on the server', pdnsOrg({ storedKey: undefined }), ['tsig-key-not-stored']],
    [
      'a foreign key may update',
      pdnsOrg({ updateKeys: ['intruder.example.com', KEY] }),
      ['tsig-update-permission-drift'],
    ],
    ['no key required', pdnsOrg({ updateKeys: [] }), ['tsig-update-permission-drift']],
    ['the sources differ', pdnsOrg({ updateSources: ['0.0.0.0/0'] }), ['tsig-update-sources-drift']],
    ['AXFR allowed but not asked for', pdnsOrg({ transferKeys: [KEY] }), ['tsig-transfer-drift']],
    ['AXFR asked for but not allowed', pdnsOrg(), ['tsig-transfer-drift'], true],
    [
      'the cluster signs with another secret',
      pdnsOrg({}, { attached: [pdnsCluster('cccccccccccccccc')] }),
      ['cluster-stale-key'],
    ],
    [
      'the cluster has no rfc2136 Secret',
      pdnsOrg({}, { attached: [pdnsCluster(null)] }),
      ['external-dns-missing'],
    ],
  ])('%s', (_name, org, expected, axfr = false) => {
    expect(reasons(org, axfr)).toEqual(expected);
  });

  it('a key without a zone: the collector removes it, or an ensure uses it when the organisation is in use', () => {
    const noZone = {
      zone: { status: 'read', state: { ...acmeZone, zones: [], delegation: undefined } },
      managedZones: [],
    } as unknown as Partial<OrganizationFacts>;
    const unused = planAudit(
      pdnsFleet([
        pdnsOrg({ zoneExists: false, serverKey: undefined, updateKeys: [] }, { ...noZone, attached: [] }),
      ]),
      { now: NOW },
    ).findings;
    expect(unused.map((f) => [f.reason, f.fix.operation])).toEqual([
      ['organization-leftovers', 'collectGarbage'],
      ['tsig-key-without-zone', 'collectGarbage'],
    ]);
    const used = planAudit(pdnsFleet([pdnsOrg({ zoneExists: false, updateKeys: [] }, noZone)]), {
      now: NOW,
    }).findings;
    expect(used.find((f) => f.reason === 'tsig-key-without-zone')?.fix.operation).toBe('ensureOrganization');
  });

  fcTest.prop(
    [
      fc.record({
        server: fc.option(fc.constantFrom('1111111111111111', '2222222222222222'), { nil: undefined }),
        stored: fc.option(fc.constantFrom('1111111111111111', '3333333333333333'), { nil: undefined }),
        updateKeys: fc.subarray([KEY, 'other.example.com']),
        cluster: fc.option(fc.constantFrom('1111111111111111', '4444444444444444'), { nil: null }),
      }),
    ],
    { numRuns: 40 },
  )('no fingerprint in any finding, never an IAM finding, findings iff something differs', (g) => {
    const org = pdnsOrg(
      {
        ...(g.server
          ? { serverKey: { name: KEY, algorithm: 'hmac-sha256', fingerprint: g.server } }
          : { serverKey: undefined }),
        ...(g.stored
          ? { storedKey: { name: KEY, algorithm: 'hmac-sha256', fingerprint: g.stored, version: 1 } }
          : { storedKey: undefined }),
        updateKeys: g.updateKeys,
      },
      { attached: [pdnsCluster(g.cluster)] },
    );
    const findings = planAudit(pdnsFleet([org]), { now: NOW }).findings;
    const text = JSON.stringify(findings);
    for (const fp of ['1111111111111111', '2222222222222222', '3333333333333333', '4444444444444444'])
      expect(text).not.toContain(fp);
    expect(findings.some((f) => /^(identity-|key-|policy-|rotation-)/.test(f.reason))).toBe(false);
    const healthy =
      g.server !== undefined &&
      g.server === g.stored &&
      g.updateKeys.length === 1 &&
      g.updateKeys[0] === KEY &&
      g.cluster === g.stored;
    expect(findings.length === 0).toBe(healthy);
  });
});
