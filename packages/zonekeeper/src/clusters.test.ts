import { hasErrorCode, type KubernetesObject, ZonekeeperError } from '@zonekeeper/core';
import {
  CREDENTIALS_HASH_ANNOTATION,
  createMemoryCluster,
  credentialsHash,
  REDACTED_SECRET_VALUE,
} from '@zonekeeper/externaldns-deployer';
import { identityUserName, RECORD_NAMES_CONDITION_KEY } from '@zonekeeper/iam-scoper';
import { readAccessKey, readAttachment, readClusterSettings, secretPaths } from '@zonekeeper/vault-keys';
import { describe, expect, it } from 'vitest';
import {
  clusterIntervalSeconds,
  clusterMinEventSyncSeconds,
  clusterZonesCacheSeconds,
  goDuration,
  planFleetBudget,
} from './fleet/budget.js';
import { BASE, memoryWorld, rejectionOf } from './memory.test.support.js';
import { createZonekeeper } from './zonekeeper.js';

const ACME_USER = identityUserName({ baseDomain: BASE, organization: 'acme' });
const C1_USER = identityUserName({ baseDomain: BASE, organization: 'acme', clusterId: 'c1' });

function decodedCredentials(objects: readonly KubernetesObject[]): string {
  const secret = objects.find(
    (o) => o.kind === 'Secret' && o.metadata.name === 'external-dns-aws-credentials',
  );
  const data = (secret?.data ?? {}) as Record<string, string>;
  return Buffer.from(data.credentials ?? '', 'base64').toString('utf8');
}

function deploymentOf(objects: readonly KubernetesObject[]) {
  return objects.find((o) => o.kind === 'Deployment') as
    | (KubernetesObject & {
        spec: {
          template: {
            metadata: { annotations: Record<string, string> };
            spec: { containers: { args: string[] }[] };
          };
        };
      })
    | undefined;
}

/** The objects zonekeeper owns (what a fresh cluster already holds, e.g. `default`, is not ours). */
const kinds = (objects: readonly KubernetesObject[]) =>
  objects
    .filter((o) => o.metadata.labels?.['zonekeeper.io/managed-by'] === 'zonekeeper')
    .map((o) => `${o.kind}/${o.metadata.name}`)
    .sort();
const everything = (objects: readonly KubernetesObject[]) =>
  objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();

const EXTERNAL_DNS_OBJECTS = [
  'ClusterRole/zonekeeper:external-dns:external-dns',
  'ClusterRoleBinding/zonekeeper:external-dns:external-dns',
  'Deployment/external-dns',
  'Namespace/external-dns',
  'Secret/external-dns-aws-credentials',
  'ServiceAccount/external-dns',
];

describe('attachCluster', () => {
  it('applies ExternalDNS with the organisation key, awaits the rollout and records the attachment', async () => {
    const w = memoryWorld();
    const r = await w.zk.attachCluster('acme', { clusterId: 'c1' });
    const c1 = await w.cluster('c1');
    expect(kinds(c1.objects())).toEqual(EXTERNAL_DNS_OBJECTS);
    expect(r.externalDns?.plan.steps.map((s) => s.change)).toEqual(Array(6).fill('create'));
    expect(r.externalDns?.rollout).toMatchObject({ availableReplicas: 1, replicas: 1 });
    const stored = await readAccessKey(w.secrets, { organization: 'acme' }, w.layout);
    expect(r.accessKeyId).toBe(stored?.accessKeyId);
    expect(decodedCredentials(c1.objects())).toContain(`aws_access_key_id = ${stored?.accessKeyId}`);
    const args = deploymentOf(c1.objects())?.spec.template.spec.containers[0]?.args ?? [];
    expect(args).toContain(`--zone-id-filter=${r.organizationResult.zone?.id}`);
    expect(args).toContain('--domain-filter=acme.example.com');
    expect(await readAttachment(w.secrets, 'acme', 'c1', w.layout)).toMatchObject({
      namespace: 'external-dns',
      scope: 'organization',
      tlsSecrets: [],
    });
    expect(r.clusterIdentity).toBeUndefined();
  });

  it('a second attach plans nothing and writes nowhere', async () => {
    const w = memoryWorld();
    const web = { name: 'web', namespace: 'web', dnsNames: ['www.acme.example.com'] };
    await (await w.cluster('c1')).apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web' } });
    await w.zk.attachCluster('acme', { clusterId: 'c1', certificates: [web] });
    const before = await w.writes(['c1']);
    const again = await w.zk.attachCluster('acme', { clusterId: 'c1', certificates: [web] });
    expect(await w.writes(['c1'])).toEqual(before);
    expect(again.externalDns?.plan.steps).toEqual([]);
    expect(again.certificates.map((c) => c.plan.steps)).toEqual([[]]);
  });

  it('fails with UNAVAILABLE when the rollout fails', async () => {
    const w = memoryWorld();
    (await w.cluster('c1')).setRolloutFailure('external-dns', 'external-dns', true);
    const e = await rejectionOf(w.zk.attachCluster('acme', { clusterId: 'c1' }));
    expect(hasErrorCode(e, 'UNAVAILABLE')).toBe(true);
    expect((e as Error).message).toMatch(/failed to roll out/);
  });

  it('injects TLS Secrets for names within the organisation zone, signed by its CA', async () => {
    const w = memoryWorld();
    const c1 = await w.cluster('c1');
    await c1.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web' } });
    const r = await w.zk.attachCluster('acme', {
      clusterId: 'c1',
      certificates: [
        { name: 'web', namespace: 'web', dnsNames: ['www.acme.example.com', '*.apps.acme.example.com'] },
        { name: 'api', namespace: 'web', secretName: 'api-tls', dnsNames: ['acme.example.com'] },
      ],
    });
    expect(r.certificates.map((c) => c.certificate?.dnsNames)).toEqual([
      ['www.acme.example.com', '*.apps.acme.example.com'],
      ['acme.example.com'],
    ]);
    const tls = c1.objects('Secret').filter((s) => s.type === 'kubernetes.io/tls');
    expect(tls.map((s) => `${s.metadata.namespace}/${s.metadata.name}`).sort()).toEqual([
      'web/api-tls',
      'web/web',
    ]);
    for (const s of tls) {
      expect(s.metadata.labels?.['zonekeeper.io/managed-by']).toBe('zonekeeper');
      const data = s.data as Record<string, string>;
      expect(Buffer.from(data['tls.key'] ?? '', 'base64').toString()).toContain('PRIVATE KEY');
    }
    expect((await readAttachment(w.secrets, 'acme', 'c1', w.layout))?.tlsSecrets).toEqual([
      'web/api-tls',
      'web/web',
    ]);
  });

  it('rejects certificate names outside the organisation zone, and bad ids, before any call', async () => {
    const cases: [string, unknown][] = [
      [
        'other org',
        {
          clusterId: 'c1',
          certificates: [{ name: 'w', namespace: 'web', dnsNames: ['www.globex.example.com'] }],
        },
      ],
      [
        'suffix trick',
        {
          clusterId: 'c1',
          certificates: [{ name: 'w', namespace: 'web', dnsNames: ['evilacme.example.com'] }],
        },
      ],
      [
        'zone as prefix',
        {
          clusterId: 'c1',
          certificates: [{ name: 'w', namespace: 'web', dnsNames: ['acme.example.com.evil.com'] }],
        },
      ],
      [
        'parent',
        { clusterId: 'c1', certificates: [{ name: 'w', namespace: 'web', dnsNames: ['example.com'] }] },
      ],
      [
        'wildcard of parent',
        { clusterId: 'c1', certificates: [{ name: 'w', namespace: 'web', dnsNames: ['*.example.com'] }] },
      ],
      ['ip', { clusterId: 'c1', certificates: [{ name: 'w', namespace: 'web', dnsNames: ['10.0.0.1'] }] }],
      ['no names', { clusterId: 'c1', certificates: [{ name: 'w', namespace: 'web', dnsNames: [] }] }],
      [
        'duplicate name',
        {
          clusterId: 'c1',
          certificates: [
            { name: 'w', namespace: 'web', dnsNames: ['a.acme.example.com'] },
            { name: 'w', namespace: 'web', dnsNames: ['b.acme.example.com'] },
          ],
        },
      ],
      [
        'bad namespace',
        {
          clusterId: 'c1',
          certificates: [{ name: 'w', namespace: 'Web', dnsNames: ['a.acme.example.com'] }],
        },
      ],
      ['bad cluster id', { clusterId: 'C1' }],
      ['cluster id with dot', { clusterId: 'c1.prod' }],
      ['missing cluster id', {}],
      ['bad ExternalDNS namespace', { clusterId: 'c1', externalDns: { namespace: 'kube_system' } }],
    ];
    for (const [what, input] of cases) {
      const w = memoryWorld();
      const c1 = await w.cluster('c1');
      const e = await rejectionOf(w.zk.attachCluster('acme', input as never));
      expect(hasErrorCode(e, 'INVALID_INPUT'), what).toBe(true);
      expect(await w.callCount(), what).toBe(0);
      expect(
        Object.values(c1.calls).reduce((a, b) => a + b, 0),
        what,
      ).toBe(0);
    }
    const w = memoryWorld();
    expect(
      hasErrorCode(await rejectionOf(w.zk.attachCluster('Acme', { clusterId: 'c1' })), 'INVALID_INPUT'),
    ).toBe(true);
    expect(await w.callCount()).toBe(0);
  });

  it('rejects a cluster the configured map does not know, before any call', async () => {
    const w = memoryWorld();
    const c1 = createMemoryCluster({ name: 'c1' });
    const zk = createZonekeeper({
      baseDomain: BASE,
      dns: w.dns,
      identity: w.identity,
      secrets: w.secrets,
      clusters: { c1 },
    });
    const e = await rejectionOf(zk.attachCluster('acme', { clusterId: 'c2' }));
    expect(hasErrorCode(e, 'INVALID_INPUT')).toBe(true);
    expect((e as Error).message).toMatch(/No cluster client is configured for cluster c2/);
    expect(await w.callCount()).toBe(0);
  });

  it('dry run of a new cluster plans every ExternalDNS object and the certificates, and changes nothing', async () => {
    const w = memoryWorld();
    await w.zk.ensureOrganization('acme');
    const c1 = await w.cluster('c1');
    await c1.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web' } });
    const before = await w.writes(['c1']);
    const r = await w.zk.attachCluster(
      'acme',
      {
        clusterId: 'c1',
        certificates: [{ name: 'web', namespace: 'web', dnsNames: ['www.acme.example.com'] }],
      },
      { dryRun: true },
    );
    expect(await w.writes(['c1'])).toEqual(before);
    expect(r.dryRun).toBe(true);
    expect(r.externalDns?.plan.steps.map((s) => `${s.ref.kind}:${s.change}`).sort()).toEqual(
      ['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'Namespace', 'Secret', 'ServiceAccount'].map(
        (k) => `${k}:create`,
      ),
    );
    expect(r.certificates[0]?.plan.steps.map((s) => s.op)).toEqual(['issue-certificate', 'apply-tls-secret']);
    expect(await readAttachment(w.secrets, 'acme', 'c1', w.layout)).toBeUndefined();
  });

  it('with per-cluster scope, creates a cluster identity whose policy covers only *.<cluster>.<zone>', async () => {
    const w = memoryWorld({ identityScope: 'cluster' });
    const r = await w.zk.attachCluster('acme', { clusterId: 'c1' });
    const users = w.identity.snapshot();
    expect(users.map((u) => u.userName)).toEqual([C1_USER]); // no organisation identity in this scope
    const policy = JSON.parse(Object.values(users[0]?.policies ?? {})[0] ?? '{}') as {
      Statement: { Sid: string; Condition?: Record<string, Record<string, string[]>> }[];
    };
    const change = policy.Statement.find((s) => s.Sid === 'ChangeRecordsInZone');
    expect(change?.Condition?.['ForAllValues:StringLike']?.[RECORD_NAMES_CONDITION_KEY]).toEqual([
      'c1.acme.example.com',
      '*.c1.acme.example.com',
    ]);
    expect(users[0]?.tags).toMatchObject({ 'zonekeeper:cluster': 'c1', 'zonekeeper:organization': 'acme' });
    const stored = await readAccessKey(w.secrets, { organization: 'acme', clusterId: 'c1' }, w.layout);
    expect(users[0]?.accessKeys.map((k) => k.accessKeyId)).toEqual([stored?.accessKeyId]);
    expect(decodedCredentials((await w.cluster('c1')).objects())).toContain(stored?.accessKeyId);
    expect(r.clusterIdentity).toEqual({
      userName: C1_USER,
      identity: [
        expect.objectContaining({ op: 'create-user' }),
        expect.objectContaining({ op: 'put-policy' }),
      ],
      credentials: [{ op: 'issue-key', userName: C1_USER, reason: 'missing', previousAccessKeyId: null }],
    });
    expect(await readAttachment(w.secrets, 'acme', 'c1', w.layout)).toMatchObject({ scope: 'cluster' });
  });

  it('with per-cluster scope, renders ExternalDNS with the same scope as the policy: the cluster name as domain filter, an apex-safe TXT prefix', async () => {
    const w = memoryWorld({ identityScope: 'cluster' });
    await w.zk.attachCluster('acme', { clusterId: 'c1' });
    const args =
      deploymentOf((await w.cluster('c1')).objects())?.spec.template.spec.containers[0]?.args ?? [];
    expect(args).toEqual(
      expect.arrayContaining([
        '--domain-filter=c1.acme.example.com',
        '--aws-zone-match-parent',
        '--txt-prefix=_extdns-%{record_type}.',
      ]),
    );
    const org = memoryWorld();
    await org.zk.attachCluster('acme', { clusterId: 'c1' });
    const orgArgs =
      deploymentOf((await org.cluster('c1')).objects())?.spec.template.spec.containers[0]?.args ?? [];
    expect(orgArgs).toContain('--domain-filter=acme.example.com');
    expect(orgArgs).not.toContain('--aws-zone-match-parent');
  });

  it('passes txtPrefix, annotationPrefix, zonesCacheDuration and extraArgs through, and refuses bad ones before any call', async () => {
    const w = memoryWorld();
    await w.zk.attachCluster('acme', {
      clusterId: 'c1',
      externalDns: {
        txtPrefix: '',
        annotationPrefix: 'external-dns.alpha.kubernetes.io/',
        zonesCacheDuration: '0s',
        extraArgs: ['--events'],
      },
    });
    const args =
      deploymentOf((await w.cluster('c1')).objects())?.spec.template.spec.containers[0]?.args ?? [];
    expect(args.filter((a) => a.startsWith('--txt-prefix'))).toEqual([]);
    expect(args).toEqual(
      expect.arrayContaining([
        '--annotation-prefix=external-dns.alpha.kubernetes.io/',
        '--aws-zones-cache-duration=0s',
        '--events',
      ]),
    );
    const fresh = memoryWorld();
    const before = await fresh.writes(['c2']);
    for (const externalDns of [
      { extraArgs: ['--regex-domain-filter=.*'] },
      { extraArgs: ['--txt-prefix=x.'] },
      { annotationPrefix: 'nope' },
      { zonesCacheDuration: 'soon' },
    ]) {
      const error = await rejectionOf(fresh.zk.attachCluster('globex', { clusterId: 'c2', externalDns }));
      expect(hasErrorCode(error, 'INVALID_INPUT'), JSON.stringify(externalDns)).toBe(true);
    }
    expect(await fresh.writes(['c2'])).toEqual(before);
    expect(await fresh.dns.listZones()).toEqual([]); // not even the embedded parent zone: nothing ran
  });

  it('renders the fleet budget plan: its own interval per cluster, the zone cache, --events and the batch size; recorded, kept, replaced', async () => {
    const w = memoryWorld();
    const plan = planFleetBudget({ organizations: 300, clustersPerOrganization: 3, recordSetsPerZone: 40 });
    if (plan.outcome !== 'fits') throw new Error(plan.message);
    const { settings } = plan;
    const args = async (id: string) =>
      deploymentOf((await w.cluster(id)).objects())?.spec.template.spec.containers[0]?.args ?? [];
    const planned = (id: string, s = settings) => [
      `--interval=${goDuration(clusterIntervalSeconds(s, id))}`,
      `--aws-zones-cache-duration=${goDuration(clusterZonesCacheSeconds(s, id))}`,
      `--aws-batch-change-size=${s.batchChangeSize}`,
      ...(s.events ? [`--min-event-sync-interval=${goDuration(clusterMinEventSyncSeconds(s, id))}`] : []),
    ];
    await w.zk.attachCluster('acme', {
      clusterId: 'c1',
      externalDns: { extraArgs: ['--log-level=debug'] },
      fleetBudget: settings,
    });
    await w.zk.attachCluster('acme', { clusterId: 'c2', fleetBudget: settings });
    expect(await args('c1')).toEqual(
      expect.arrayContaining([...planned('c1'), '--events', '--log-level=debug']),
    );
    expect(await args('c2')).toEqual(expect.arrayContaining([...planned('c2'), '--events']));
    expect((await args('c1')).filter((a) => a.startsWith('--interval'))).toHaveLength(1);
    const recorded = (await readClusterSettings(w.secrets, 'acme', 'c1', w.layout))?.settings as {
      externalDns: Record<string, unknown>;
    };
    expect(recorded.externalDns).toMatchObject({
      interval: goDuration(clusterIntervalSeconds(settings, 'c1')),
      zonesCacheDuration: goDuration(clusterZonesCacheSeconds(settings, 'c1')),
      extraArgs: [
        '--log-level=debug',
        '--events',
        `--min-event-sync-interval=${goDuration(clusterMinEventSyncSeconds(settings, 'c1'))}`,
        `--aws-batch-change-size=${settings.batchChangeSize}`,
      ],
    });

    // Warm: the same plan again, or no settings at all, writes nothing.
    const before = await w.writes(['c1', 'c2']);
    await w.zk.attachCluster('acme', { clusterId: 'c1', fleetBudget: settings });
    await w.zk.attachCluster('acme', { clusterId: 'c2' });
    expect(await w.writes(['c1', 'c2'])).toEqual(before);

    // A rotation keeps the planned settings; a new plan replaces them (no flag twice).
    await w.zk.rotateCredentials('acme');
    expect(await args('c2')).toEqual(expect.arrayContaining(planned('c2')));
    const quieter = {
      ...settings,
      intervalSeconds: 600,
      interval: '10m',
      events: false,
      batchChangeSize: 500,
    };
    await w.zk.attachCluster('acme', { clusterId: 'c1', fleetBudget: quieter });
    const now = await args('c1');
    expect(now).toEqual(expect.arrayContaining([...planned('c1', quieter), '--log-level=debug']));
    expect(now).not.toContain('--events');
    expect(now.filter((a) => a.startsWith('--min-event-sync-interval'))).toEqual([]);
    expect(now.filter((a) => a.startsWith('--aws-batch-change-size'))).toEqual([
      '--aws-batch-change-size=500',
    ]);
  });

  it('refuses fleet budget settings that are not a plan of this release, or that clash, before any call', async () => {
    const plan = planFleetBudget({ organizations: 10, clustersPerOrganization: 1, recordSetsPerZone: 10 });
    if (plan.outcome !== 'fits') throw new Error(plan.message);
    const { settings } = plan;
    const fresh = memoryWorld();
    const before = await fresh.writes(['c2']);
    for (const [input, pattern] of [
      [{ fleetBudget: plan }, /unknown setting/],
      [{ fleetBudget: { ...settings, externalDnsVersion: 'v0.21.0' } }, /planned for ExternalDNS "v0.21.0"/],
      [{ fleetBudget: { ...settings, intervalSeconds: 30 } }, /intervalSeconds/],
      [{ fleetBudget: { ...settings, interval: '1s' } }, /Go durations/],
      [{ fleetBudget: { ...settings, batchChangeSize: 2 } }, /batchChangeSize/],
      [{ fleetBudget: { ...settings, events: 'yes' } }, /events/],
      [{ fleetBudget: settings, externalDns: { interval: '5m' } }, /leave out externalDns.interval/],
      [
        { fleetBudget: settings, externalDns: { extraArgs: ['--events'] } },
        /leave out externalDns.extraArgs/,
      ],
      [{ fleetBudget: null }, /plan that fits/],
    ] as const) {
      const error = await rejectionOf(
        fresh.zk.attachCluster('globex', { clusterId: 'c2', ...(input as object) }),
      );
      expect(hasErrorCode(error, 'INVALID_INPUT'), JSON.stringify(input)).toBe(true);
      expect((error as Error).message).toMatch(pattern);
    }
    expect(await fresh.writes(['c2'])).toEqual(before);
    expect(await fresh.dns.listZones()).toEqual([]); // nothing ran
  });

  it('keeps the TXT prefix a cluster runs when none is chosen, and records it; an explicit one wins', async () => {
    const w = memoryWorld();
    const prefixArgs = async () =>
      (deploymentOf((await w.cluster('c1')).objects())?.spec.template.spec.containers[0]?.args ?? []).filter(
        (a) => a.startsWith('--txt-prefix'),
      );
    const recorded = async () =>
      (await readClusterSettings(w.secrets, 'acme', 'c1', w.layout))?.settings as
        | { externalDns: Record<string, unknown> }
        | undefined;
    // As zonekeeper 0.1 left it: ExternalDNS without a TXT prefix, no settings recorded.
    await w.zk.attachCluster('acme', { clusterId: 'c1', externalDns: { txtPrefix: '' } });
    await w.secrets.deleteAll(secretPaths(w.layout).clusterSettings('acme', 'c1'));
    expect(await recorded()).toBeUndefined();

    // A rotation publishes the new key with the prefix the cluster runs, not the new default.
    await w.zk.rotateCredentials('acme');
    expect(await prefixArgs()).toEqual([]);
    // A re-attach with other settings (which replace the recorded ones) keeps it and records it.
    await w.zk.attachCluster('acme', { clusterId: 'c1', externalDns: { policy: 'sync' } });
    expect(await prefixArgs()).toEqual([]);
    expect((await recorded())?.externalDns).toEqual({ policy: 'sync', txtPrefix: '' });
    const warm = await w.writes(['c1']);
    await w.zk.attachCluster('acme', { clusterId: 'c1', externalDns: { policy: 'sync' } });
    expect(await w.writes(['c1'])).toEqual(warm);

    // A deliberate change is the caller's.
    await w.zk.attachCluster('acme', {
      clusterId: 'c1',
      externalDns: { policy: 'sync', txtPrefix: '_extdns-%{record_type}.' },
    });
    expect(await prefixArgs()).toEqual(['--txt-prefix=_extdns-%{record_type}.']);
    // A cluster on the default prefix records nothing extra (a warm attach stays write-free).
    const fresh = memoryWorld();
    await fresh.zk.attachCluster('acme', { clusterId: 'c2' });
    const before = await fresh.writes(['c2']);
    await fresh.zk.attachCluster('acme', { clusterId: 'c2' });
    expect(await fresh.writes(['c2'])).toEqual(before);
    const freshSettings = await readClusterSettings(fresh.secrets, 'acme', 'c2', fresh.layout);
    expect((freshSettings?.settings as { externalDns?: object } | undefined)?.externalDns).toEqual({});
  });

  it('does not keep a deployed prefix the cluster scope cannot use', async () => {
    const w = memoryWorld();
    await w.zk.attachCluster('acme', { clusterId: 'c1', externalDns: { txtPrefix: '' } });
    await w.zk.attachCluster('acme', { clusterId: 'c1', identityScope: 'cluster', externalDns: {} });
    const args =
      deploymentOf((await w.cluster('c1')).objects())?.spec.template.spec.containers[0]?.args ?? [];
    expect(args).toContain('--txt-prefix=_extdns-%{record_type}.');
  });

  it('with per-cluster scope, a dry run reports the cluster identity it would create and writes nothing', async () => {
    const w = memoryWorld({ identityScope: 'cluster' });
    await w.zk.attachCluster('acme', { clusterId: 'c1' });
    const before = await w.writes(['c1', 'c2']);
    const r = await w.zk.attachCluster('acme', { clusterId: 'c2' }, { dryRun: true });
    expect(await w.writes(['c1', 'c2'])).toEqual(before);
    expect(r.clusterIdentity?.userName).toBe(
      identityUserName({ baseDomain: BASE, organization: 'acme', clusterId: 'c2' }),
    );
    expect(r.clusterIdentity?.identity.map((s) => s.op)).toEqual(['create-user', 'put-policy']);
    expect(r.clusterIdentity?.credentials.map((s) => s.op)).toEqual(['issue-key']);
    // The key does not exist yet: ExternalDNS is planned with the key this plan issues, no stand-in key.
    expect(r.externalDns).toBeUndefined();
    expect(r.plan.find((s) => s.op === 'apply-external-dns')).toEqual({
      op: 'apply-external-dns',
      clusterId: 'c2',
      namespace: 'external-dns',
      accessKeyId: null,
      objects: null,
    });
    expect(r.accessKeyId).toBeUndefined();
    // …and for a cluster whose identity exists, the dry run is empty.
    const same = await w.zk.attachCluster('acme', { clusterId: 'c1' }, { dryRun: true });
    expect(same.clusterIdentity?.identity).toEqual([]);
    expect(same.clusterIdentity?.credentials).toEqual([]);
    expect(same.externalDns?.plan.steps).toEqual([]);
    expect(await w.writes(['c1', 'c2'])).toEqual(before);
  });

  it('records the attachment before touching the cluster, so a rotation reaches a cluster whose attach crashed', async () => {
    const w = memoryWorld();
    await w.zk.ensureOrganization('acme');
    const c1 = await w.cluster('c1');
    const apply = c1.apply.bind(c1);
    c1.apply = async (object, options) => {
      if (object.kind === 'Deployment')
        throw new ZonekeeperError('UNAVAILABLE', 'memory cluster: connection reset (injected).');
      return apply(object, options);
    };
    expect(
      hasErrorCode(await rejectionOf(w.zk.attachCluster('acme', { clusterId: 'c1' })), 'UNAVAILABLE'),
    ).toBe(true);
    c1.apply = apply;
    const rotation = await w.zk.rotateCredentials('acme');
    expect(rotation.rotations[0]?.clustersUpdated).toEqual(['c1']);
    const stored = await readAccessKey(w.secrets, { organization: 'acme' }, w.layout);
    expect(decodedCredentials(c1.objects())).toContain(stored?.accessKeyId);
    expect(kinds(c1.objects())).toEqual(EXTERNAL_DNS_OBJECTS);
  });

  it('keeps per-cluster ExternalDNS overrides through a rotation', async () => {
    const w = memoryWorld();
    await w.zk.attachCluster('acme', {
      clusterId: 'c1',
      externalDns: { policy: 'sync', interval: '5m', sources: ['ingress'] },
    });
    await w.zk.attachCluster('acme', { clusterId: 'c2' });
    await w.zk.rotateCredentials('acme');
    const args1 =
      deploymentOf((await w.cluster('c1')).objects())?.spec.template.spec.containers[0]?.args ?? [];
    expect(args1).toEqual(expect.arrayContaining(['--policy=sync', '--interval=5m', '--source=ingress']));
    expect(args1).not.toContain('--source=service');
    const args2 =
      deploymentOf((await w.cluster('c2')).objects())?.spec.template.spec.containers[0]?.args ?? [];
    expect(args2).toEqual(expect.arrayContaining(['--policy=upsert-only', '--source=service']));
  });
});

describe('detachCluster', () => {
  async function attached(scope: 'organization' | 'cluster' = 'organization') {
    const w = memoryWorld({ identityScope: scope });
    const c1 = await w.cluster('c1');
    await c1.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web' } });
    const before = everything(c1.objects());
    await w.zk.attachCluster('acme', {
      clusterId: 'c1',
      certificates: [{ name: 'web', namespace: 'web', dnsNames: ['www.acme.example.com'] }],
    });
    // A Secret of the user's, not ours: never touched.
    await c1.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'mine', namespace: 'web' },
      data: {},
    });
    return { w, c1, before: [...before, 'Secret/mine'].sort() };
  }

  it('uninstalls ExternalDNS, removes the TLS Secrets it injected, the cluster identity and its secrets', async () => {
    const { w, c1, before } = await attached('cluster');
    const r = await w.zk.detachCluster('acme', 'c1');
    // Back to what the cluster held before the attach, the user's own Secret included.
    expect(everything(c1.objects())).toEqual(before);
    expect(kinds(c1.objects())).toEqual([]);
    expect(r.uninstalled.map((s) => `${s.ref.kind}/${s.ref.name}`)).toContain('Secret/web');
    expect(r.deletedIdentities).toEqual([C1_USER]);
    expect(w.identity.snapshot()).toEqual([]);
    expect([...r.deletedSecrets].sort()).toEqual(
      ['attachment', 'aws-access-key', 'settings'].map(
        (k) => `${w.layout.prefix}/orgs/acme/clusters/c1/${k}`,
      ),
    );
    // …and its binding to the organisation, last.
    expect(w.secrets.paths()).not.toContain(`${w.layout.prefix}/clusters/c1`);
    expect(r.plan.map((s) => s.op)).toEqual([
      'uninstall-external-dns',
      'delete-tls-secret',
      'delete-cluster-identity',
      'delete-cluster-secrets',
      'unbind-cluster',
    ]);
    expect(w.secrets.paths().filter((p) => p.includes('/clusters/'))).toEqual([]);
    // The organisation keeps its CA and certificate material.
    expect(w.secrets.paths()).toContain(`${w.layout.prefix}/orgs/acme/tls/ca`);
  });

  it('is idempotent: a second detach plans nothing and writes nowhere', async () => {
    const { w } = await attached();
    await w.zk.detachCluster('acme', 'c1');
    const before = await w.writes(['c1']);
    const again = await w.zk.detachCluster('acme', 'c1');
    expect(await w.writes(['c1'])).toEqual(before);
    expect(again.uninstalled).toEqual([]);
    expect(again.deletedIdentities).toEqual([]);
    expect(again.deletedSecrets).toEqual([]);
  });

  it('dry run says what it would remove and changes nothing', async () => {
    const { w } = await attached('cluster');
    const before = await w.writes(['c1']);
    const r = await w.zk.detachCluster('acme', 'c1', { dryRun: true });
    expect(await w.writes(['c1'])).toEqual(before);
    expect(r.uninstalled).toHaveLength(7); // six ExternalDNS objects and one TLS Secret
    expect(r.deletedIdentities).toEqual([C1_USER]);
    expect(r.deletedSecrets).toHaveLength(3); // attachment, settings, the cluster's key
  });

  it('skipCluster leaves the cluster alone (it is gone) but removes the identity and secrets', async () => {
    const { w, c1 } = await attached('cluster');
    const calls = { ...c1.calls };
    const r = await w.zk.detachCluster('acme', 'c1', { skipCluster: true });
    expect(c1.calls).toEqual(calls);
    expect(r.uninstalled).toEqual([]);
    expect(r.deletedIdentities).toEqual([C1_USER]);
    expect(await readAttachment(w.secrets, 'acme', 'c1', w.layout)).toBeUndefined();
  });

  it('with the organisation scope keeps the organisation identity and key', async () => {
    const { w } = await attached('organization');
    const key = await readAccessKey(w.secrets, { organization: 'acme' }, w.layout);
    const r = await w.zk.detachCluster('acme', 'c1');
    expect(r.deletedIdentities).toEqual([]);
    expect(w.identity.snapshot().map((u) => u.userName)).toEqual([ACME_USER]);
    expect((await readAccessKey(w.secrets, { organization: 'acme' }, w.layout))?.accessKeyId).toBe(
      key?.accessKeyId,
    );
  });

  it('rejects bad ids before any call', async () => {
    const w = memoryWorld();
    for (const [org, id] of [
      ['Acme', 'c1'],
      ['acme', 'C1'],
      ['acme', ''],
    ] as const) {
      expect(hasErrorCode(await rejectionOf(w.zk.detachCluster(org, id)), 'INVALID_INPUT')).toBe(true);
    }
    expect(await w.callCount()).toBe(0);
  });

  it('rolls the pod of every attached cluster only when the credentials change', async () => {
    const w = memoryWorld();
    await w.zk.attachCluster('acme', { clusterId: 'c1' });
    const key = await readAccessKey(w.secrets, { organization: 'acme' }, w.layout);
    const annotations =
      deploymentOf((await w.cluster('c1')).objects())?.spec.template.metadata.annotations ?? {};
    expect(annotations[CREDENTIALS_HASH_ANNOTATION]).toBe(
      credentialsHash({ accessKeyId: key?.accessKeyId ?? '', secretAccessKey: key?.secretAccessKey ?? '' }),
    );
  });
});

describe('attachCluster results', () => {
  it('carry no secret: the credentials Secret in the applied objects is redacted', async () => {
    const w = memoryWorld();
    const r = await w.zk.attachCluster('acme', { clusterId: 'c1' });
    const key = await readAccessKey(w.secrets, { organization: 'acme' }, w.layout);
    const json = JSON.stringify(r);
    expect(json).not.toContain(key?.secretAccessKey);
    const secret = r.externalDns?.objects?.find((o) => o.kind === 'Secret');
    expect(secret?.data).toEqual({ credentials: REDACTED_SECRET_VALUE });
    // The cluster itself has the real credentials, of course.
    expect(decodedCredentials((await w.cluster('c1')).objects())).toContain(key?.secretAccessKey);
  });
});
