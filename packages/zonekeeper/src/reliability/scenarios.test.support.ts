/**
 * Test support (not shipped): the operations the crash matrix interrupts, each with the setup that
 * precedes it. Every scenario involves all four ports where the operation touches them.
 */

import { acmeIdentityUserName } from '@zonekeeper/iam-scoper';
import { deleteClusterBinding, deleteClusterSecrets } from '@zonekeeper/vault-keys';
import { listManagedZones } from '@zonekeeper/zone-manager';
import { defaultSecretPrefix } from '../context.js';
import type { Zonekeeper } from '../zonekeeper.js';
import type { Scenario, ScenarioContext } from './matrix.test.support.js';

const HOUR = 3_600_000;
const WEB = { name: 'web', namespace: 'web', dnsNames: ['www.acme.example.com', '*.apps.acme.example.com'] };

async function namespace(ctx: ScenarioContext, clusterId: string, name: string): Promise<void> {
  const client = await ctx.backend.clusters.client(clusterId);
  await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

/** `ensureOrganization('acme')` on an empty account: zone, delegation, identity, key, CA. */
export const ensureScenario: Scenario = {
  name: 'ensureOrganization',
  clusters: [],
  organizations: ['acme'],
  async setup() {},
  run: (zk, _ctx, options) => zk.ensureOrganization('acme', options),
};

/** `attachCluster` of a first cluster with a TLS certificate (the organisation exists). */
export const attachScenario: Scenario = {
  name: 'attachCluster',
  clusters: ['c1'],
  organizations: ['acme'],
  async setup(zk, ctx) {
    await zk.ensureOrganization('acme');
    await namespace(ctx, 'c1', 'web');
    ctx.inventory.set({ organization: 'acme', clusterId: 'c1', running: true });
  },
  run: (zk, _ctx, options) => zk.attachCluster('acme', { clusterId: 'c1', certificates: [WEB] }, options),
};

/** `attachCluster` with per-cluster identities: also the cluster's IAM user, policy and key. */
export const attachClusterScopeScenario: Scenario = {
  ...attachScenario,
  name: 'attachCluster (per-cluster identity)',
  identityScope: 'cluster',
};

/** `rotateCredentials` of an organisation with two attached clusters. */
export const rotateScenario: Scenario = {
  name: 'rotateCredentials',
  clusters: ['c1', 'c2'],
  organizations: ['acme'],
  async setup(zk, ctx) {
    for (const id of ['c1', 'c2']) {
      ctx.inventory.set({ organization: 'acme', clusterId: id, running: true });
      await zk.attachCluster('acme', { clusterId: id });
    }
  },
  run: (zk, _ctx, options) => zk.rotateCredentials('acme', options),
};

/** `detachCluster` of a cluster with its own identity and a TLS Secret. */
export const detachScenario: Scenario = {
  name: 'detachCluster (per-cluster identity)',
  identityScope: 'cluster',
  clusters: ['c1'],
  organizations: ['acme'],
  async setup(zk, ctx) {
    await namespace(ctx, 'c1', 'web');
    ctx.inventory.set({ organization: 'acme', clusterId: 'c1', running: true });
    await zk.attachCluster('acme', { clusterId: 'c1', certificates: [WEB] });
    ctx.inventory.remove('acme', 'c1');
  },
  run: (zk, _ctx, options) => zk.detachCluster('acme', 'c1', options),
};

/**
 * `collectGarbage` deleting acme's zone (with records in it, its delegation, its identity, its key, CA and
 * attachment) while globex — in use — is left alone.
 */
export const collectScenario: Scenario = {
  name: 'collectGarbage (one zone deleted)',
  clusters: ['c1'],
  organizations: ['globex'],
  async setup(zk, ctx) {
    ctx.inventory.set({ organization: 'acme', clusterId: 'c1', running: true });
    ctx.inventory.set({ organization: 'globex', clusterId: 'g1', running: true });
    const acme = await zk.attachCluster('acme', { clusterId: 'c1' });
    await zk.ensureOrganization('globex');
    const zoneId = acme.organizationResult.zone?.id as string;
    // What ExternalDNS would have published: deleting the zone must remove these first.
    await ctx.backend.inspect.dns.changeRecords(zoneId, [
      {
        action: 'CREATE',
        recordSet: { name: 'www.acme.example.com', type: 'A', ttl: 300, values: ['192.0.2.10'] },
      },
      {
        action: 'CREATE',
        recordSet: {
          name: 'a-www.acme.example.com',
          type: 'TXT',
          ttl: 300,
          values: ['"heritage=external-dns,external-dns/owner=c1"'],
        },
      },
    ]);
    ctx.inventory.set({ organization: 'acme', clusterId: 'c1', running: false });
    const zone = (
      await listManagedZones({ dns: ctx.backend.inspect.dns }, { baseDomain: 'example.com' })
    ).find((z) => z.organization === 'acme');
    // One hour after creation: inside the free deletion window, whatever clock the backend stamps with.
    ctx.state.now = new Date((zone?.createdAt ?? ctx.clock.now()).getTime() + HOUR);
  },
  run: (zk, ctx, options) => zk.collectGarbage({ ...options, now: ctx.state.now as Date }),
};

/**
 * `deleteOrganization` (offboarding) of acme — records in its zone, a stored certificate, a cluster that
 * was attached with its own identity and then detached — while globex is left alone.
 */
export const deleteOrganizationScenario: Scenario = {
  name: 'deleteOrganization',
  clusters: ['c1'],
  organizations: ['globex'],
  async setup(zk, ctx) {
    ctx.inventory.set({ organization: 'acme', clusterId: 'c1', running: true });
    ctx.inventory.set({ organization: 'globex', clusterId: 'g1', running: true });
    const acme = await zk.attachCluster('acme', { clusterId: 'c1', identityScope: 'cluster' });
    await zk.issueCertificate('acme', { name: 'web', dnsNames: ['www.acme.example.com'] });
    await zk.ensureOrganization('globex');
    const zoneId = acme.organizationResult.zone?.id as string;
    await ctx.backend.inspect.dns.changeRecords(zoneId, [
      {
        action: 'CREATE',
        recordSet: { name: 'www.acme.example.com', type: 'A', ttl: 300, values: ['192.0.2.10'] },
      },
    ]);
    ctx.inventory.remove('acme', 'c1');
    await zk.detachCluster('acme', 'c1');
  },
  run: (zk, _ctx, options) => zk.deleteOrganization('acme', options),
};

const CERT_MANAGER = {
  namespaces: ['web'],
  acme: { server: 'https://acme-v02.api.letsencrypt.org/directory' },
};

/**
 * `attachCluster` in cert-manager mode (the organisation exists, its CA may sign an intermediate): the
 * TXT-only ACME identity, its key (IAM, then the store), the intermediate CA (issued, then stored), the
 * ACME and CA issuers, policy and Secrets in the tenant namespace.
 */
export const attachCertManagerScenario: Scenario = {
  name: 'attachCluster (cert-manager mode)',
  certificates: { caPathLength: 1 },
  clusters: ['c1'],
  organizations: ['acme'],
  async setup(zk, ctx) {
    await zk.ensureOrganization('acme');
    await namespace(ctx, 'c1', 'web');
    ctx.inventory.set({ organization: 'acme', clusterId: 'c1', running: true });
  },
  run: (zk, _ctx, options) =>
    zk.attachCluster('acme', { clusterId: 'c1', certManager: { ...CERT_MANAGER, ca: true } }, options),
};

/**
 * `attachCluster` in cert-manager mode after the ACME identity's key was deleted from IAM, with a second
 * cert-manager cluster: a new key (IAM, then the store) published to the other cluster's Secret, then
 * applied to this one.
 */
export const replaceAcmeKeyScenario: Scenario = {
  name: 'attachCluster (cert-manager mode, ACME key replaced)',
  clusters: ['c1', 'c2'],
  organizations: ['acme'],
  async setup(zk, ctx) {
    await namespace(ctx, 'c1', 'web');
    await namespace(ctx, 'c2', 'web');
    await zk.attachCluster('acme', { clusterId: 'c1', certManager: CERT_MANAGER });
    await zk.attachCluster('acme', { clusterId: 'c2', certManager: CERT_MANAGER });
    const identity = ctx.backend.inspect.identity;
    const user = acmeIdentityUserName({ baseDomain: 'example.com', organization: 'acme' });
    for (const k of await identity.listAccessKeys(user)) await identity.deleteAccessKey(user, k.accessKeyId);
  },
  run: (zk, _ctx, options) => zk.attachCluster('acme', { clusterId: 'c1' }, options),
};

/**
 * `deleteOrganization` of acme after a cluster ran in cert-manager mode and was detached: its ACME
 * identity (keys → policy → user) goes before its stored key, like every identity.
 */
export const deleteCertManagerScenario: Scenario = {
  name: 'deleteOrganization (after cert-manager mode)',
  clusters: ['c1'],
  organizations: [],
  async setup(zk, ctx) {
    await namespace(ctx, 'c1', 'web');
    await zk.attachCluster('acme', { clusterId: 'c1', certManager: CERT_MANAGER });
    await zk.detachCluster('acme', 'c1');
  },
  run: (zk, _ctx, options) => zk.deleteOrganization('acme', options),
};

/**
 * Scenarios whose objects only the memory cluster serves: the Kubernetes API fake has no
 * CustomResourceDefinitions, so cert-manager's kinds are not there (render.apiserver.test.ts and the
 * facade's apiserver test apply them to a real kube-apiserver with cert-manager's CRDs instead).
 */
export const MEMORY_ONLY_SCENARIOS = [
  attachCertManagerScenario,
  replaceAcmeKeyScenario,
  deleteCertManagerScenario,
];

export const ALL_SCENARIOS = [
  ensureScenario,
  attachScenario,
  attachClusterScopeScenario,
  rotateScenario,
  detachScenario,
  collectScenario,
  deleteOrganizationScenario,
];

const ISSUER_C1 = 'https://oidc.eks.eu-west-1.amazonaws.com/id/C1C1C1C1';
const EKS_C3 = 'arn:aws:eks:eu-west-1:123456789012:cluster/c3';
/** Cluster c1 with a role of its own (identity scope `cluster`), exchanging its projected token. */
const OWN_ROLE = {
  clusterId: 'c1',
  identityScope: 'cluster',
  credentials: 'web-identity',
  workloadIdentity: { issuerUrl: ISSUER_C1 },
} as const;
const ORG_ROLE = { ...OWN_ROLE, identityScope: 'organization' } as const;
const OWN_KEY = { clusterId: 'c1', identityScope: 'cluster', credentials: 'access-key' } as const;

/** An `attachCluster` of c1 from `from` (set up first; `null`: not attached) to `to`. */
function keylessMove(
  name: string,
  from: Parameters<Zonekeeper['attachCluster']>[1] | null,
  to: Parameters<Zonekeeper['attachCluster']>[1],
): Scenario {
  return {
    name,
    clusters: ['c1'],
    organizations: ['acme'],
    async setup(zk, ctx) {
      ctx.inventory.set({ organization: 'acme', clusterId: 'c1', running: true });
      if (from) await zk.attachCluster('acme', from);
      else await zk.ensureOrganization('acme');
    },
    run: (zk, _ctx, options) => zk.attachCluster('acme', to, options),
  };
}

/**
 * Keyless credentials with identity scope `cluster` (the memory backend only: it has the roles and
 * Pod Identity ports): every write of the cluster role's sequences — a first attach, the moves from
 * and to a key and the organisation role, a detach, an offboarding — is a crash point.
 */
export const KEYLESS_SCENARIOS: readonly Scenario[] = [
  keylessMove('attachCluster (own role, web identity)', null, OWN_ROLE),
  keylessMove('attachCluster (own key → own role)', OWN_KEY, OWN_ROLE),
  keylessMove('attachCluster (own role → own key)', OWN_ROLE, OWN_KEY),
  keylessMove('attachCluster (organisation role → own role)', ORG_ROLE, OWN_ROLE),
  keylessMove('attachCluster (own role → organisation role)', OWN_ROLE, ORG_ROLE),
  {
    name: 'detachCluster (own role, Pod Identity)',
    clusters: ['c3'],
    organizations: ['acme'],
    async setup(zk, ctx) {
      ctx.inventory.set({ organization: 'acme', clusterId: 'c3', running: true });
      await zk.attachCluster('acme', {
        clusterId: 'c3',
        identityScope: 'cluster',
        credentials: 'pod-identity',
        workloadIdentity: { eksClusterArn: EKS_C3 },
      });
      ctx.inventory.remove('acme', 'c3');
    },
    run: (zk, _ctx, options) => zk.detachCluster('acme', 'c3', options),
  },
  {
    // The store lost acme's cluster records (a restore from an old backup): the roles, the provider and
    // the association are found by their tags.
    name: 'deleteOrganization (own roles, records lost)',
    clusters: ['c1', 'c3'],
    organizations: ['globex'],
    async setup(zk, ctx) {
      ctx.inventory.set({ organization: 'acme', clusterId: 'c1', running: true });
      await zk.attachCluster('acme', OWN_ROLE);
      await zk.attachCluster('acme', {
        clusterId: 'c3',
        identityScope: 'cluster',
        credentials: 'pod-identity',
        workloadIdentity: { eksClusterArn: EKS_C3 },
      });
      await zk.ensureOrganization('globex');
      ctx.inventory.remove('acme', 'c1');
      const layout = { prefix: defaultSecretPrefix('example.com'), owner: 'example.com' };
      for (const id of ['c1', 'c3']) {
        await deleteClusterSecrets(ctx.backend.inspect.secrets, 'acme', id, layout);
        await deleteClusterBinding(ctx.backend.inspect.secrets, id, 'acme', layout);
      }
    },
    run: (zk, _ctx, options) => zk.deleteOrganization('acme', options),
  },
];
