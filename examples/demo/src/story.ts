/**
 * The zonekeeper story, told against whatever backend it is given: two organisations get zones,
 * delegations, scoped credentials in Vault, ExternalDNS and TLS certificates on their clusters; a key is
 * rotated; then clusters go away and the garbage collector decides, over a simulated month, what to
 * delete free, what to keep until the charge, and what to delete just before the 1st — and what that
 * saves against deleting immediately or never deleting.
 */

import { type KubernetesObject, type ManualClock, maskSecret } from '@zonekeeper/core';
import { toYaml } from '@zonekeeper/externaldns-deployer';
import { nextChargeAt, type ZoneLifetime, zoneCost } from '@zonekeeper/gc-policy';
import { buildZonePolicy, minifyPolicy } from '@zonekeeper/iam-scoper';
import { readAccessKey } from '@zonekeeper/vault-keys';
import type { MemoryInventory, Zonekeeper } from 'zonekeeper';

/** What the story needs from the backend. */
export interface StoryContext {
  readonly zk: Zonekeeper;
  readonly inventory: MemoryInventory;
  readonly clock: ManualClock;
  readonly backend: string;
  readonly print: (line?: string) => void;
}

const H = 3_600_000;
const DAY = 24 * H;

function table(print: (line?: string) => void, rows: readonly Record<string, string | number>[]): void {
  if (rows.length === 0) return;
  const keys = Object.keys(rows[0] as object);
  const width = keys.map((k) => Math.max(k.length, ...rows.map((r) => String(r[k] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `  ${cells.map((c, i) => c.padEnd(width[i] as number)).join('  ')}`.trimEnd();
  print(line(keys));
  print(line(width.map((w) => '─'.repeat(w))));
  for (const r of rows) print(line(keys.map((k) => String(r[k] ?? ''))));
}

const fmt = (d: Date) => d.toISOString().replace('.000Z', 'Z');

/** Runs the story; returns the dollars per policy so callers (and tests) can check them. */
export async function runStory(
  ctx: StoryContext,
): Promise<{ zonekeeper: number; immediate: number; never: number }> {
  const { zk, inventory, clock, print } = ctx;
  const t0 = clock.now();
  const at = (ms: number) => new Date(t0.getTime() + ms);
  print(
    `zonekeeper demo — backend: ${ctx.backend}, base domain ${zk.baseDomain}, simulated start ${fmt(t0)}`,
  );

  // 1. Organisations.
  print('\n1. Organisations get a zone, a delegation, a scoped identity, a key in Vault and a CA');
  const orgs = ['acme', 'globex', 'initech'];
  for (const org of orgs) {
    const r = await zk.ensureOrganization(org);
    const key = await readAccessKey(zk.ports.secrets, { organization: org }, zk.secretLayout);
    print(`   ${org}: zone ${r.zone?.name} (${r.zone?.id}), ${r.zone?.nameServers.length} name servers`);
    print(
      `      planned: ${[...r.plans.zone, ...r.plans.identity, ...r.plans.credentials, ...r.plans.certificateAuthority].map((s) => s.op).join(', ')}`,
    );
    print(
      `      IAM user ${r.userName}; access key ${maskSecret(key?.accessKeyId ?? '', 4)} / secret ${maskSecret(key?.secretAccessKey ?? '')} stored in the secret store`,
    );
  }
  const again = await zk.ensureOrganization('acme');
  const replanned = [
    ...again.plans.zone,
    ...again.plans.identity,
    ...again.plans.credentials,
    ...again.plans.certificateAuthority,
  ];
  print(
    `   ensureOrganization('acme') again: ${replanned.length === 0 ? 'nothing to do (converged)' : replanned.map((s) => s.op).join(', ')}`,
  );
  const acmeZone = again.zone as { id: string; name: string };
  const parent = (await zk.ports.dns.findZonesByName(zk.baseDomain))[0];
  if (parent) {
    const page = await zk.ports.dns.listRecords(parent.id, {
      from: { name: acmeZone.name, type: 'NS' },
      maxItems: 1,
    });
    const ns = page.recordSets.find((r) => r.name === acmeZone.name && r.type === 'NS');
    print(`   delegation in ${zk.baseDomain}: ${acmeZone.name} NS ${ns?.values.join(' ')}`);
  }
  const policy = buildZonePolicy({ zoneId: acmeZone.id, zoneName: acmeZone.name });
  print(`   acme's policy (${minifyPolicy(policy).length} characters) allows:`);
  for (const s of policy.Statement) {
    const actions = ([] as string[]).concat(s.Action).join(', ');
    print(
      `     ${s.Sid}: ${actions} on ${([] as string[]).concat(s.Resource).join(', ')}${s.Condition ? ' when every record is A/AAAA/CNAME/TXT under the zone' : ''}`,
    );
  }

  // 2. Clusters.
  print(
    '\n2. Clusters: ExternalDNS applied with the organisation key, TLS certificates injected before any load balancer',
  );
  const clusters = [
    {
      org: 'acme',
      id: 'acme-prod',
      certs: [
        { name: 'web', namespace: 'web', dnsNames: [`www.${acmeZone.name}`, `*.apps.${acmeZone.name}`] },
      ],
    },
    { org: 'globex', id: 'globex-trial', certs: [] },
    { org: 'initech', id: 'initech-1', certs: [] },
  ];
  for (const c of clusters) {
    inventory.set({ organization: c.org, clusterId: c.id, running: true });
    const client = await zk.ports.cluster(c.id);
    for (const cert of c.certs)
      await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: cert.namespace } });
    const r = await zk.attachCluster(c.org, { clusterId: c.id, certificates: c.certs });
    print(
      `   ${c.org}/${c.id}: applied ${(r.externalDns?.plan.steps ?? []).map((s) => s.ref.kind).join(', ')}; rollout generation ${r.externalDns?.rollout?.observedGeneration}, ${r.externalDns?.rollout?.availableReplicas} available`,
    );
    for (const cert of r.certificates) {
      print(
        `      TLS Secret ${cert.plan.steps.find((s) => s.op === 'apply-tls-secret') ? 'injected' : 'unchanged'}: serial ${cert.certificate?.serialNumber.slice(0, 12)}…, ${cert.certificate?.dnsNames.join(', ')}, valid until ${cert.certificate ? fmt(cert.certificate.notAfter) : '?'}`,
      );
    }
  }
  const acmeCluster = await zk.ports.cluster('acme-prod');
  const deployed = await acmeCluster.list('apps/v1', 'Deployment', { namespace: 'external-dns' });
  type PodSpec = { template: { spec: { containers: { args?: string[] }[] } } };
  const args = ((deployed[0]?.spec as PodSpec | undefined)?.template.spec.containers[0]?.args ?? []).join(
    ' ',
  );
  print(`   ExternalDNS on acme-prod runs: ${args}`);
  const manifest = toYaml([
    ...(await acmeCluster.list('v1', 'Secret', { namespace: 'external-dns' })).map(
      (o) => ({ ...o, apiVersion: 'v1', kind: 'Secret' }) as KubernetesObject,
    ),
  ]);
  print(
    `   the credentials Secret as GitOps YAML is redacted: ${manifest.includes('redacted') ? 'yes' : 'NO'}`,
  );

  // 3. Rotation.
  print('\n3. Credential rotation: new key → Vault → every attached cluster (pods roll) → old key deleted');
  const before = (await acmeCluster.list('apps/v1', 'Deployment', { namespace: 'external-dns' }))[0]?.metadata
    .generation;
  const rotation = await zk.rotateCredentials('acme');
  for (const r of rotation.rotations) {
    print(
      `   ${r.userName}: ${r.outcome}, new key ${maskSecret(r.newAccessKeyId, 4)}, deleted ${r.deletedAccessKeyIds.map((k) => maskSecret(k, 4)).join(', ')}, clusters updated: ${r.clustersUpdated.join(', ')}`,
    );
  }
  const after = (await acmeCluster.list('apps/v1', 'Deployment', { namespace: 'external-dns' }))[0]?.metadata
    .generation;
  print(`   acme-prod's ExternalDNS Deployment generation ${before} → ${after} (rolled to the new key)`);

  // 4. The month.
  print('\n4. Clusters go away; the collector decides over a simulated month');
  // The month's events, spaced to fit before the next charge (the emulator backend starts at the real
  // current time, since moto stamps zones with it).
  let charge = nextChargeAt(t0);
  if (charge.getTime() - H - t0.getTime() < 16 * H) charge = nextChargeAt(charge);
  const span = charge.getTime() - H - t0.getTime();
  const leave = span >= 14 * DAY ? 2 * DAY : Math.max(13 * H, span * 0.15);
  const back = span >= 14 * DAY ? 8 * DAY : leave + (span - leave) * 0.4;
  const leaveAgain = span >= 14 * DAY ? 12 * DAY : leave + (span - leave) * 0.7;
  const days = (ms: number) => (ms >= DAY ? `${Math.round(ms / DAY)} days` : `${Math.round(ms / H)} h`);
  const events: { at: Date; what: string; act: () => void | Promise<void> }[] = [
    {
      at: at(4 * H),
      what: 'globex deletes its trial cluster (the zone is 4 h old)',
      act: () => void inventory.remove('globex', 'globex-trial'),
    },
    {
      at: at(leave),
      what: `initech deletes its cluster (the zone is ${days(leave)} old: this month is paid)`,
      act: () => void inventory.remove('initech', 'initech-1'),
    },
    {
      at: at(back),
      what: 'initech creates a new cluster and attaches it',
      act: async () => {
        inventory.set({ organization: 'initech', clusterId: 'initech-2', running: true });
        const r = await zk.attachCluster('initech', { clusterId: 'initech-2' });
        const zoneSteps = r.organizationResult.plans.zone.map((s) => s.op);
        print(
          `      attachCluster('initech', 'initech-2'): zone ${zoneSteps.length === 0 ? 'reused as is (no zone created, no charge)' : zoneSteps.join(', ')}; ExternalDNS applied`,
        );
      },
    },
    {
      at: at(leaveAgain),
      what: 'initech deletes that cluster again',
      act: () => void inventory.remove('initech', 'initech-2'),
    },
    {
      at: new Date(charge.getTime() - H),
      what: 'one hour before the charge on the 1st',
      act: () => undefined,
    },
  ];
  for (const e of events) {
    if (e.at.getTime() > clock.now().getTime()) await clock.set(e.at);
    print(`   ${fmt(e.at)}  ${e.what}`);
    await e.act();
    const result = await zk.collectGarbage();
    table(
      (l) => print(`   ${l}`),
      result.plan.decisions.map((d) => {
        const zone = result.zones.find((z) => z.id === d.zoneId);
        const outcome = result.results.find((r) => r.zoneId === d.zoneId);
        return {
          organisation: zone?.organization ?? '?',
          decision: d.action,
          reason: d.reason,
          until: d.eligibleAt ? fmt(d.eligibleAt) : '',
          result: outcome ? outcome.status : '',
        };
      }),
    );
    if (result.nextReviewAt) print(`   next review at ${fmt(result.nextReviewAt)}`);
  }
  const left = await zk.collectGarbage({ dryRun: true });
  print(
    `   zones left after ${fmt(clock.now())}: ${left.zones.map((z) => z.organization).join(', ') || 'none'}`,
  );

  // 5. Money.
  print('\n5. What the policies cost for these three organisations over a year from the start');
  const horizon = new Date(t0.getTime() + 365 * DAY);
  const initechUse: [number, number][] = [
    [0, leave],
    [back, leaveAgain],
  ];
  const acme: ZoneLifetime = { createdAt: t0 };
  const zonekeeper: ZoneLifetime[] = [
    acme,
    { createdAt: t0, deletedAt: at(4 * H) },
    { createdAt: t0, deletedAt: new Date(charge.getTime() - H) },
  ];
  const immediate: ZoneLifetime[] = [
    acme,
    { createdAt: t0, deletedAt: at(4 * H) },
    ...initechUse.map(([a, b]) => ({ createdAt: at(a), deletedAt: at(b) })),
  ];
  const never: ZoneLifetime[] = [acme, { createdAt: t0 }, { createdAt: t0 }];
  const cost = {
    zonekeeper: zoneCost(zonekeeper, horizon),
    immediate: zoneCost(immediate, horizon),
    never: zoneCost(never, horizon),
  };
  table(print, [
    { policy: 'zonekeeper (free window, then just before the 1st)', dollars: cost.zonekeeper.toFixed(2) },
    { policy: 'delete as soon as unused (re-create on return)', dollars: cost.immediate.toFixed(2) },
    { policy: 'never delete', dollars: cost.never.toFixed(2) },
  ]);
  print(
    `   zonekeeper saves $${(cost.immediate - cost.zonekeeper).toFixed(2)} against deleting immediately and $${(cost.never - cost.zonekeeper).toFixed(2)} against never deleting.`,
  );
  return cost;
}
