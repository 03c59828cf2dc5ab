/**
 * Benchmark 1: API calls per operation, counted from the fault proxy's request log (AWS) and the Vault
 * fake's request log, against moto.
 *
 * Part 1 — facade operations: `ensureOrganization` cold and warm, `attachCluster` cold and warm (the
 * organisation already exists; one TLS certificate), `attachCluster` of a brand-new organisation, and
 * `rotateCredentials` with one attached cluster. Route 53 and IAM on moto through the proxy, Vault on the
 * testkit fake, Kubernetes on the in-memory cluster of `@zonekeeper/externaldns-deployer` (Kubernetes
 * calls are not AWS calls; they are reported for completeness).
 *
 * Part 2 — a collector sweep over N = 100, 1,000 and 5,000 managed zones (seeded straight into moto and
 * tagged as zone-manager tags them; half of the organisations have a running cluster, the other half
 * were charged already, so the sweep deletes nothing and every call is a read): `listManagedZones`
 * alone, `collectGarbage({ dryRun: true })`, `collectGarbage()`, and the naive per-zone approach (list
 * the zones, then one `GetHostedZone` and one `ListTagsForResource` per zone), all in the same run.
 * Target (issue 7): Route 53 reads of a sweep ≤ ⌈N/100⌉ + ⌈N/10⌉ + a small constant (we allow 5).
 *
 * `--quick` (or BENCH_QUICK=1): sweeps over 100 and 1,000 zones only.
 */
import { ListTagsForResourceCommand, Route53Client } from '@aws-sdk/client-route-53';
import { createMemoryCluster, type MemoryCluster } from '@zonekeeper/externaldns-deployer';
import { listManagedZones } from '@zonekeeper/zone-manager';
import { createMemoryInventory, createZonekeeper } from 'zonekeeper';
import { type CallCounts, credentials, withBackend } from './lib/backend.js';
import { createSeeder, type ZoneSeed } from './lib/seed.js';
import { isQuick, type Row, report } from './report.js';

const SIZES = isQuick() ? [100, 1_000] : [100, 1_000, 5_000];
const CONSTANT = 5;
const NOW = new Date('2026-03-20T12:00:00.000Z');
const H = 3_600_000;

function k8sCalls(clusters: readonly MemoryCluster[]): { reads: number; writes: number } {
  let reads = 0;
  let writes = 0;
  for (const c of clusters)
    for (const [method, n] of Object.entries(c.calls)) {
      if (method === 'get' || method === 'list') reads += n;
      else writes += n;
    }
  return { reads, writes };
}

function row(operation: string, c: CallCounts, k8s?: { reads: number; writes: number }): Row {
  return {
    operation,
    'Route 53 reads': c.route53.reads,
    'Route 53 writes': c.route53.writes,
    'IAM reads': c.iam.reads,
    'IAM writes': c.iam.writes,
    'Vault reads': c.vault.reads,
    'Vault writes': c.vault.writes,
    ...(k8s ? { 'Kubernetes reads': k8s.reads, 'Kubernetes writes': k8s.writes } : {}),
    'AWS total': c.route53.reads + c.route53.writes + c.iam.reads + c.iam.writes,
    '404 answers': c.notFound,
  };
}

const started = performance.now();
const operationRows: Row[] = [];
/** The AWS operations behind each row, for the record. */
const operationDetail: Record<string, unknown> = {};
const sweepRows: Row[] = [];
const sweepSummary: Record<string, unknown>[] = [];
let errors = 0;

await withBackend({ withVault: true, seed: 'api-calls' }, async (b) => {
  const seeder = createSeeder(b.moto.endpoint);
  try {
    // ---- Part 1: facade operations ------------------------------------------------------------
    await seeder.createZone('example.com', 'bench-parent');
    const clusters = {
      'prod-1': createMemoryCluster({ name: 'prod-1' }),
      'prod-2': createMemoryCluster({ name: 'prod-2' }),
    };
    const all = Object.values(clusters);
    for (const c of all)
      await c.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web' } }, { force: true });
    const inventory = createMemoryInventory();
    const zk = createZonekeeper({
      baseDomain: 'example.com',
      dns: b.route53(),
      identity: b.iam(),
      secrets: b.secrets(),
      clusters,
      inventory,
    });
    const certificate = (org: string) => ({
      name: 'web',
      namespace: 'web',
      dnsNames: [`www.${org}.example.com`],
    });
    const measure = async (operation: string, run: () => Promise<unknown>) => {
      const k0 = k8sCalls(all);
      const m = b.mark();
      await run();
      const c = b.since(m);
      const k1 = k8sCalls(all);
      errors += c.errors;
      operationDetail[operation] = c.operations;
      operationRows.push(row(operation, c, { reads: k1.reads - k0.reads, writes: k1.writes - k0.writes }));
      return c;
    };
    await measure('ensureOrganization (cold)', () => zk.ensureOrganization('acme'));
    const warmOrg = await measure('ensureOrganization (warm)', () => zk.ensureOrganization('acme'));
    await measure('attachCluster (cold cluster, existing org)', () =>
      zk.attachCluster('acme', { clusterId: 'prod-1', certificates: [certificate('acme')] }),
    );
    const warmAttach = await measure('attachCluster (warm)', () =>
      zk.attachCluster('acme', { clusterId: 'prod-1', certificates: [certificate('acme')] }),
    );
    await measure('attachCluster (new organisation)', () =>
      zk.attachCluster('globex', { clusterId: 'prod-2', certificates: [certificate('globex')] }),
    );
    await measure('rotateCredentials (1 cluster)', () => zk.rotateCredentials('acme'));
    const warmWrites = (c: CallCounts) => c.route53.writes + c.iam.writes + c.vault.writes;
    sweepSummary.push({
      warmEnsureOrganizationWrites: warmWrites(warmOrg),
      warmAttachClusterWrites: warmWrites(warmAttach),
    });

    // ---- Part 2: collector sweeps -----------------------------------------------------------
    await b.moto.reset();
    b.vault?.reset();
    const base = 'fleet.example';
    const fleetInventory = createMemoryInventory();
    const sweeper = createZonekeeper({
      baseDomain: base,
      dns: b.route53(),
      identity: b.iam(),
      secrets: b.secrets(),
      inventory: fleetInventory,
    });
    const raw = new Route53Client({ region: 'us-east-1', endpoint: b.proxy.endpoint, credentials });
    const dns = b.route53();
    let have = 0;
    for (const n of SIZES) {
      const seeds: ZoneSeed[] = [];
      for (let i = have; i < n; i++) {
        const organization = `org-${i.toString().padStart(5, '0')}`;
        // Created 13 h to 60 days before NOW: past the free window, so an unused zone is deferred.
        seeds.push({
          organization,
          baseDomain: base,
          createdAt: new Date(NOW.getTime() - 13 * H - ((i * 7919) % (60 * 24)) * H),
        });
        if (i % 2 === 0) fleetInventory.set({ organization, clusterId: 'c1', running: true });
      }
      const t0 = performance.now();
      await seeder.seedOrganizationZones(seeds);
      const seedMs = performance.now() - t0;
      have = n;

      const sweep = async (label: string, run: () => Promise<void>) => {
        const m = b.mark();
        const t = performance.now();
        await run();
        const ms = performance.now() - t;
        const c = b.since(m);
        errors += c.errors;
        return { label, c, ms };
      };
      const list = await sweep('listManagedZones', async () => {
        const zones = await listManagedZones({ dns }, { baseDomain: base });
        if (zones.length !== n) throw new Error(`listManagedZones found ${zones.length} of ${n} zones`);
      });
      const dry = await sweep('collectGarbage (dry run)', async () => {
        const r = await sweeper.collectGarbage({ now: NOW, dryRun: true });
        if (r.plan.toDelete.length !== 0) throw new Error('the sweep fleet should have nothing to delete');
      });
      const full = await sweep('collectGarbage', async () => {
        const r = await sweeper.collectGarbage({ now: NOW });
        if (r.results.length !== 0) throw new Error('the sweep fleet should have nothing to delete');
      });
      const naive = await sweep('naive: GetHostedZone + ListTagsForResource per zone', async () => {
        const zones = (await dns.listZones()).filter((z) => z.name.endsWith(`.${base}`));
        let next = 0;
        let managed = 0;
        await Promise.all(
          Array.from({ length: 4 }, async () => {
            while (next < zones.length) {
              const z = zones[next++] as (typeof zones)[number];
              await dns.getZone(z.id);
              const tags = await raw.send(
                new ListTagsForResourceCommand({ ResourceType: 'hostedzone', ResourceId: z.id }),
              );
              if (tags.ResourceTagSet?.Tags?.some((t) => t.Key === 'zonekeeper:managed-by')) managed++;
            }
          }),
        );
        if (managed !== n) throw new Error(`naive sweep found ${managed} of ${n} zones`);
      });
      const bound = Math.ceil(n / 100) + Math.ceil(n / 10);
      for (const s of [list, dry, full, naive]) {
        const reads = s.c.route53.reads;
        sweepRows.push({
          zones: n,
          approach: s.label,
          'Route 53 reads': reads,
          'Route 53 writes': s.c.route53.writes,
          'IAM calls': s.c.iam.reads + s.c.iam.writes,
          'Vault calls': s.c.vault.reads + s.c.vault.writes,
          '⌈N/100⌉+⌈N/10⌉': bound,
          'reads − bound': reads - bound,
          'target met': reads <= bound + CONSTANT ? 'yes' : 'no',
          'reads ÷ zonekeeper list': Number((reads / list.c.route53.reads).toFixed(2)),
          'wall s (unlimited)': Number((s.ms / 1000).toFixed(2)),
          'at 5 req/s, s': Math.ceil(reads / 5),
        });
      }
      sweepSummary.push({
        zones: n,
        seedSeconds: Number((seedMs / 1000).toFixed(1)),
        bound,
        listManagedZones: list.c.route53.reads,
        collectGarbageDryRun: dry.c.route53.reads,
        collectGarbage: full.c.route53.reads,
        collectGarbageOperations: full.c.operations,
        naive: naive.c.route53.reads,
        naiveOverZonekeeper: Number((naive.c.route53.reads / full.c.route53.reads).toFixed(1)),
      });
    }
    raw.destroy();
  } finally {
    seeder.close();
  }
});

report(
  'api-calls',
  `Collector sweep: Route 53 reads for N managed zones (target ≤ ⌈N/100⌉ + ⌈N/10⌉ + ${CONSTANT})`,
  sweepRows,
  {
    errors,
    constantAllowed: CONSTANT,
    warm: sweepSummary[0],
    operationDetail,
    sizes: sweepSummary.slice(1),
    seconds: Math.round((performance.now() - started) / 1000),
  },
  [{ title: 'API calls per facade operation (moto + Vault fake + memory cluster)', rows: operationRows }],
);
if (errors > 0) {
  console.error(`api-calls: ${errors} calls failed; the counts above include retries.`);
  process.exitCode = 1;
}
