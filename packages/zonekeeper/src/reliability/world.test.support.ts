/**
 * Test support (not shipped): a normalised snapshot of everything zonekeeper manages — zones with their
 * tags, records and delegation, IAM users with their tags, policies and key counts, the secret store's
 * paths and keys, and the objects in each cluster — read through the ports (so it works on the memory
 * backend and on the emulators alike), plus the invariants every end state must satisfy.
 *
 * Normalised means: ids that differ from run to run (zone ids, access key ids, certificate serials,
 * resource versions, generations, timestamps) are replaced by what they point at, so an interrupted and
 * repaired run can be compared with an uninterrupted one.
 */

import { X509Certificate } from 'node:crypto';
import { type ClusterClient, hasErrorCode, type KubernetesObject } from '@zonekeeper/core';
import { CREDENTIALS_HASH_ANNOTATION, credentialsHash } from '@zonekeeper/externaldns-deployer';
import type {
  IdentityProvider,
  OidcProviderRegistry,
  PodIdentityAssociationProvider,
  RoleProvider,
} from '@zonekeeper/iam-scoper';
import {
  listSecretsRecursively,
  SECRET_MANAGED_BY,
  SECRET_OWNERSHIP,
  type SecretStore,
} from '@zonekeeper/vault-keys';
import type { DnsProvider, HostedZone, RecordSet } from '@zonekeeper/zone-manager';

/** Read-only access to the backends, bypassing any fault injection. */
export interface Inspect {
  readonly baseDomain: string;
  readonly dns: DnsProvider;
  readonly identity: IdentityProvider;
  readonly secrets: SecretStore;
  cluster(id: string): Promise<ClusterClient>;
  /** Keyless credentials (the memory backend): roles, OIDC providers, associations in `eksClusters`. */
  readonly roles?: RoleProvider & OidcProviderRegistry;
  readonly podIdentity?: PodIdentityAssociationProvider;
  readonly eksClusters?: readonly string[];
}

export interface StoredKeyFacts {
  readonly path: string;
  readonly userName: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly previousAccessKeyId?: string;
}

/** The raw facts the invariants need (not compared between runs). */
export interface RawWorld {
  /** IAM key ids per user. */
  readonly userKeys: ReadonlyMap<string, readonly string[]>;
  /** Access keys held by the store. */
  readonly storedKeys: readonly StoredKeyFacts[];
  /** Zone id → zone name, for every zone under the base domain. */
  readonly zones: ReadonlyMap<string, string>;
  readonly zoneOrganizations: readonly (string | undefined)[];
  readonly userOrganizations: readonly string[];
  readonly storeOrganizations: readonly string[];
  /** Secrets without zonekeeper's ownership mark (written data before metadata, or someone else's). */
  readonly unmarkedSecrets: readonly string[];
  /** Organisation locks still held at the end. */
  readonly heldLocks: readonly string[];
  /** Cluster bindings naming an organisation that has no secrets left (orphaned). */
  readonly bindingOrganizations: readonly string[];
  /** The organisations of zonekeeper's roles, OIDC providers and associations (keyless). */
  readonly keylessOrganizations: readonly string[];
  /** The clusters (`<org>/<cluster>`) that have a role of their own (identity scope `cluster`). */
  readonly clusterRoles: readonly string[];
  /** The clusters (`<org>/<cluster>`) whose attachment records keyless credentials with scope `cluster`. */
  readonly keylessClusterAttachments: readonly string[];
}

export interface WorldSnapshot {
  readonly normalised: unknown;
  readonly raw: RawWorld;
}

const CLUSTER_KINDS: readonly [string, string][] = [
  ['v1', 'Namespace'],
  ['v1', 'ServiceAccount'],
  ['v1', 'Secret'],
  ['rbac.authorization.k8s.io/v1', 'ClusterRole'],
  ['rbac.authorization.k8s.io/v1', 'ClusterRoleBinding'],
  ['apps/v1', 'Deployment'],
  ['rbac.authorization.k8s.io/v1', 'RoleBinding'],
];

/** Custom kinds (cert-manager mode): listed where the cluster serves them (not on the API fake). */
const CUSTOM_KINDS: readonly [string, string][] = [
  ['cert-manager.io/v1', 'Issuer'],
  ['policy.cert-manager.io/v1alpha1', 'CertificateRequestPolicy'],
];

async function allRecords(dns: DnsProvider, zoneId: string): Promise<RecordSet[]> {
  const out: RecordSet[] = [];
  let from: { name: string; type: string; setIdentifier?: string } | undefined;
  do {
    const page = await dns.listRecords(zoneId, { ...(from ? { from } : {}), maxItems: 300 });
    out.push(...page.recordSets);
    from = page.next;
  } while (from);
  return out;
}

const canonicalNs = (values: readonly string[]) =>
  [...new Set(values.map((v) => v.toLowerCase().replace(/\.$/, '')))].sort().join(' ');

function sortObject(record: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(
    Object.keys(record)
      .sort()
      .map((k) => [k, record[k]]),
  );
}

/** The keyless part of the world, normalised (no ids, no dates). */
async function keylessFacts(inspect: Inspect, replaceIds: (text: string) => string): Promise<unknown> {
  const roles = inspect.roles as RoleProvider & OidcProviderRegistry;
  const roleFacts = [];
  for (const r of [...(await roles.listRoles('/'))].sort((a, b) => (a.roleName < b.roleName ? -1 : 1))) {
    const policies: Record<string, unknown> = {};
    for (const name of [...(await roles.listRolePolicies(r.roleName))].sort()) {
      const doc = await roles.getRolePolicy(r.roleName, name);
      policies[name] = doc === undefined ? undefined : JSON.parse(replaceIds(doc));
    }
    roleFacts.push({
      roleName: r.roleName,
      path: r.path,
      tags: sortObject(r.tags),
      trust: JSON.parse(r.trustPolicy),
      policies,
    });
  }
  const providers = (await roles.listOidcProviders())
    .map((p) => ({ url: p.url, clientIds: [...p.clientIds].sort(), tags: sortObject(p.tags) }))
    .sort((a, b) => (a.url < b.url ? -1 : 1));
  const associations = [];
  for (const clusterName of inspect.eksClusters ?? []) {
    for (const s of (await inspect.podIdentity?.listAssociations(clusterName)) ?? []) {
      const a = await inspect.podIdentity?.describeAssociation(clusterName, s.associationId);
      if (a)
        associations.push({
          clusterName,
          namespace: a.namespace,
          serviceAccount: a.serviceAccount,
          roleArn: a.roleArn,
          tags: sortObject(a.tags),
        });
    }
  }
  associations.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  return { roles: roleFacts, providers, associations };
}

/** Reads and normalises the world. */
export async function snapshotWorld(
  inspect: Inspect,
  clusterIds: readonly string[],
  /** The instant of the snapshot: a lock whose holder stopped renewing it expires by then. */
  now: Date = new Date(),
): Promise<WorldSnapshot> {
  const base = inspect.baseDomain;
  const listed = (await inspect.dns.listZones()).filter((z) => !z.privateZone);
  const parent = listed.filter((z) => z.name === base);
  const zones = listed
    .filter((z) => z.name.endsWith(`.${base}`))
    .sort((a, b) => (a.name === b.name ? (a.id < b.id ? -1 : 1) : a.name < b.name ? -1 : 1));
  const tags = new Map<string, Readonly<Record<string, string>>>();
  for (let i = 0; i < zones.length; i += 10)
    for (const [id, t] of await inspect.dns.getTags(zones.slice(i, i + 10).map((z) => z.id))) tags.set(id, t);
  const label = new Map<string, string>();
  const seen = new Map<string, number>();
  for (const z of zones) {
    const n = (seen.get(z.name) ?? 0) + 1;
    seen.set(z.name, n);
    label.set(z.id, n === 1 ? `zone(${z.name})` : `zone(${z.name})#${n}`);
  }
  const replaceIds = (text: string) => {
    let out = text;
    for (const [id, l] of label) out = out.split(id).join(l);
    // A zone id that is no longer there (e.g. what a cluster still points at after a collection).
    return out.replace(/(hostedzone\/|--zone-id-filter=)Z?[A-Z0-9]{8,32}\b/g, '$1<a deleted zone>');
  };
  const nameServers = new Map<string, string>();
  const zoneFacts = [];
  for (const z of zones as HostedZone[]) {
    const details = await inspect.dns.getZone(z.id);
    nameServers.set(z.id, canonicalNs(details?.nameServers ?? []));
    const t = { ...(tags.get(z.id) ?? {}) };
    if (t['zonekeeper:created-at'] !== undefined) t['zonekeeper:created-at'] = '<set>';
    const records = (await allRecords(inspect.dns, z.id))
      .filter((r) => !(r.name === z.name && (r.type === 'SOA' || r.type === 'NS')))
      .map((r) => `${r.name} ${r.type}`)
      .sort();
    zoneFacts.push({ zone: label.get(z.id), tags: sortObject(t), records });
  }
  const delegations = [];
  for (const p of parent) {
    for (const r of await allRecords(inspect.dns, p.id)) {
      if (r.type !== 'NS' || r.name === base) continue;
      const targets = zones
        .filter((z) => z.name === r.name && nameServers.get(z.id) === canonicalNs(r.values))
        .map((z) => label.get(z.id));
      delegations.push({ name: r.name, ttl: r.ttl, pointsAt: targets.length > 0 ? targets : 'nothing' });
    }
  }

  // IAM.
  const users = [...(await inspect.identity.listUsers('/zonekeeper/'))].sort((a, b) =>
    a.userName < b.userName ? -1 : 1,
  );
  const userKeys = new Map<string, string[]>();
  const userFacts = [];
  for (const u of users) {
    const keys = (await inspect.identity.listAccessKeys(u.userName)).map((k) => k.accessKeyId);
    userKeys.set(u.userName, keys);
    const policies: Record<string, unknown> = {};
    for (const name of [...(await inspect.identity.listUserPolicies(u.userName))].sort()) {
      const doc = await inspect.identity.getUserPolicy(u.userName, name);
      policies[name] = doc === undefined ? undefined : JSON.parse(replaceIds(doc));
    }
    const t = { ...u.tags };
    if (t['zonekeeper:zone-id'] !== undefined)
      t['zonekeeper:zone-id'] = label.get(t['zonekeeper:zone-id']) ?? `gone(${t['zonekeeper:zone-id']})`;
    userFacts.push({ userName: u.userName, path: u.path, tags: sortObject(t), policies, keys: keys.length });
  }

  // Keyless credentials: roles (trust, tags, inline policies), OIDC providers, associations.
  const keyless = inspect.roles ? await keylessFacts(inspect, replaceIds) : undefined;
  const keylessOrganizations: string[] = [];
  const clusterRoles: string[] = [];
  const keylessClusterAttachments: string[] = [];
  if (keyless) {
    const k = keyless as {
      roles: { tags: Record<string, string> }[];
      providers: { tags: Record<string, string> }[];
      associations: { tags: Record<string, string> }[];
    };
    for (const o of [...k.roles, ...k.providers, ...k.associations])
      if (o.tags['zonekeeper:managed-by'] === 'zonekeeper')
        keylessOrganizations.push(o.tags['zonekeeper:organization'] ?? '?');
    for (const r of k.roles)
      if (r.tags['zonekeeper:cluster'] !== undefined)
        clusterRoles.push(`${r.tags['zonekeeper:organization']}/${r.tags['zonekeeper:cluster']}`);
  }

  // The secret store.
  const paths = [...(await listSecretsRecursively(inspect.secrets, 'zonekeeper'))].sort();
  const storedKeys: StoredKeyFacts[] = [];
  const storeFacts: Record<string, unknown> = {};
  const serials = new Map<string, string>();
  const unmarkedSecrets: string[] = [];
  const heldLocks: string[] = [];
  const bindingOrganizations: string[] = [];
  for (const path of paths) {
    const secret = await inspect.secrets.read(path);
    const d = secret?.data ?? {};
    const meta = await inspect.secrets.readMetadata(path);
    if (meta?.customMetadata[SECRET_OWNERSHIP.managedBy] !== SECRET_MANAGED_BY) unmarkedSecrets.push(path);
    if (/\/locks\/[^/]+$/.test(path)) {
      const held = !!d.holder && Date.parse(d.renewedAt ?? '') + Number(d.ttlMs) > now.getTime();
      if (held) heldLocks.push(path);
      storeFacts[path] = { lock: held ? 'held' : 'free' };
    } else if (/\/clusters\/[^/]+$/.test(path) && !path.includes('/orgs/')) {
      if (d.organization) bindingOrganizations.push(d.organization);
      storeFacts[path] = { boundTo: d.organization };
    } else if (path.endsWith('/aws-access-key')) {
      const k: StoredKeyFacts = {
        path,
        userName: d.userName ?? '',
        accessKeyId: d.accessKeyId ?? '',
        secretAccessKey: d.secretAccessKey ?? '',
        ...(d.previousAccessKeyId ? { previousAccessKeyId: d.previousAccessKeyId } : {}),
      };
      storedKeys.push(k);
      const inIam = userKeys.get(k.userName) ?? [];
      storeFacts[path] = {
        userName: k.userName,
        current: inIam.includes(k.accessKeyId) ? 'live' : 'not-in-iam',
        ...(k.previousAccessKeyId
          ? { previous: inIam.includes(k.previousAccessKeyId) ? 'live' : 'not-in-iam' }
          : {}),
      };
    } else if (path.includes('/tls/')) {
      if (d.serialNumber) serials.set(path, d.serialNumber);
      storeFacts[path] = { certificate: d.certificatePem?.includes('BEGIN CERTIFICATE') === true };
    } else if (path.endsWith('/attachment')) {
      const at = /\/orgs\/([^/]+)\/clusters\/([^/]+)\/attachment$/.exec(path);
      if (at && d.scope === 'cluster' && d.credentials !== undefined)
        keylessClusterAttachments.push(`${at[1]}/${at[2]}`);
      storeFacts[path] = {
        namespace: d.namespace,
        scope: d.scope,
        tlsSecrets: d.tlsSecrets,
        ...(d.credentials === undefined ? {} : { credentials: d.credentials }),
      };
    } else {
      storeFacts[path] = sortObject(d);
    }
  }

  // Clusters.
  const clusters: Record<string, unknown> = {};
  for (const id of clusterIds) {
    const client = await inspect.cluster(id);
    const objects: Record<string, unknown> = {};
    // An object being deleted counts as gone, and so does everything in a namespace being deleted (the
    // fake finalises a namespace, deleting what is left in it — e.g. the `default` ServiceAccount its
    // controller made — some 200 ms later; a real kube-apiserver without a namespace controller never):
    // otherwise the end state would depend on how long ago the deletion was made.
    const terminating = new Set(
      (await client.list('v1', 'Namespace'))
        .filter((n) => n.metadata.deletionTimestamp !== undefined)
        .map((n) => n.metadata.name),
    );
    const listed: [string, KubernetesObject][] = [];
    for (const [apiVersion, kind] of CLUSTER_KINDS)
      for (const o of await client.list(apiVersion, kind)) listed.push([kind, o]);
    for (const [apiVersion, kind] of CUSTOM_KINDS)
      try {
        for (const o of await client.list(apiVersion, kind)) listed.push([kind, o]);
      } catch (error) {
        if (!hasErrorCode(error, 'NOT_FOUND') && !hasErrorCode(error, 'INVALID_INPUT')) throw error;
      }
    for (const [kind, o] of listed) {
      if (o.metadata.deletionTimestamp !== undefined) continue;
      if (o.metadata.namespace !== undefined && terminating.has(o.metadata.namespace)) continue;
      objects[`${kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`] = normaliseObject(
        o,
        storedKeys,
        serials,
        replaceIds,
      );
    }
    clusters[id] = sortObject(objects);
  }

  const orgOf = (path: string) => /\/orgs\/([^/]+)\//.exec(path)?.[1];
  return {
    normalised: {
      zones: zoneFacts,
      delegations,
      users: userFacts,
      ...(keyless ? { keyless } : {}),
      store: storeFacts,
      clusters,
    },
    raw: {
      userKeys,
      storedKeys,
      zones: new Map(zones.map((z) => [z.id, z.name])),
      zoneOrganizations: zones.map((z) => tags.get(z.id)?.['zonekeeper:organization']),
      userOrganizations: users.map((u) => u.tags['zonekeeper:organization'] ?? '?'),
      storeOrganizations: [...new Set(paths.filter((p) => p.includes('/orgs/')).map((p) => orgOf(p) ?? '?'))],
      unmarkedSecrets,
      keylessOrganizations,
      clusterRoles,
      keylessClusterAttachments,
      heldLocks,
      bindingOrganizations,
    },
  };
}

function normaliseObject(
  o: KubernetesObject,
  storedKeys: readonly StoredKeyFacts[],
  serials: ReadonlyMap<string, string>,
  replaceIds: (text: string) => string,
): unknown {
  const labels = sortObject(o.metadata.labels ?? {});
  if (o.kind === 'Secret' && o.type === 'kubernetes.io/tls') {
    // zonekeeper's TLS Secrets carry the serial; cert-manager's CA Secret holds the intermediate.
    const crt = Buffer.from(((o.data ?? {}) as Record<string, string>)['tls.crt'] ?? '', 'base64').toString();
    let first: string | undefined;
    try {
      first = new X509Certificate(crt).serialNumber.toLowerCase().replace(/^(00)+(?=.)/, '');
    } catch {
      first = undefined;
    }
    const serial = o.metadata.annotations?.['zonekeeper.io/certificate-serial'] ?? first;
    const match = [...serials.entries()].find(([, s]) => s === serial)?.[0];
    return { labels, certificate: match ? `stored at ${match}` : 'not in the store' };
  }
  if (o.kind === 'Secret' && (o.data as Record<string, string> | undefined)?.['access-key-id']) {
    // cert-manager mode's Route 53 credentials: the ACME identity's key.
    const data = o.data as Record<string, string>;
    const decode = (v: string | undefined) => Buffer.from(v ?? '', 'base64').toString('utf8');
    const key = storedKeys.find(
      (k) =>
        k.accessKeyId === decode(data['access-key-id']) &&
        k.secretAccessKey === decode(data['secret-access-key']),
    );
    return { labels, credentials: key ? `the key stored at ${key.path}` : 'a key the store does not hold' };
  }
  if (o.kind === 'Secret') {
    const data = (o.data ?? {}) as Record<string, string>;
    const file = Buffer.from(data.credentials ?? '', 'base64').toString('utf8');
    const id = /aws_access_key_id = (\S+)/.exec(file)?.[1];
    const secret = /aws_secret_access_key = (\S+)/.exec(file)?.[1];
    const key = storedKeys.find((k) => k.accessKeyId === id && k.secretAccessKey === secret);
    return { labels, credentials: key ? `the key stored at ${key.path}` : 'a key the store does not hold' };
  }
  if (o.kind === 'Deployment') {
    const spec = o.spec as {
      replicas?: number;
      template: {
        metadata?: { annotations?: Record<string, string> };
        spec: { containers: { args?: string[] }[] };
      };
    };
    const hash = spec.template.metadata?.annotations?.[CREDENTIALS_HASH_ANNOTATION];
    const key = storedKeys.find((k) => credentialsHash(k) === hash);
    return {
      labels,
      replicas: spec.replicas,
      args: spec.template.spec.containers.map((c) => (c.args ?? []).map(replaceIds)),
      credentialsHash: key ? `of the key stored at ${key.path}` : 'of a key the store does not hold',
      available: ((o.status ?? {}) as { availableReplicas?: number }).availableReplicas ?? 0,
    };
  }
  return { labels };
}

/** Every violated invariant of an end state, as readable sentences. */
export function invariantViolations(
  world: WorldSnapshot,
  expected: { readonly organizations: readonly string[] },
): string[] {
  const out: string[] = [];
  const { raw } = world;
  const held = new Map<string, Set<string>>();
  for (const k of raw.storedKeys) {
    const ids = held.get(k.userName) ?? new Set<string>();
    ids.add(k.accessKeyId);
    if (k.previousAccessKeyId) ids.add(k.previousAccessKeyId);
    held.set(k.userName, ids);
    if (!(raw.userKeys.get(k.userName) ?? []).includes(k.accessKeyId))
      out.push(`the store holds key ${k.accessKeyId} at ${k.path}, which IAM does not have`);
    if (k.previousAccessKeyId)
      out.push(`${k.path} still records a previous key: a rotation was left unfinished`);
  }
  for (const [user, ids] of raw.userKeys) {
    if (ids.length > 2) out.push(`IAM user ${user} has ${ids.length} keys`);
    for (const id of ids)
      if (!held.get(user)?.has(id)) out.push(`IAM user ${user} has key ${id}, which the store does not hold`);
  }
  const expectedOrgs = new Set(expected.organizations);
  const perName = new Map<string, number>();
  for (const name of raw.zones.values()) perName.set(name, (perName.get(name) ?? 0) + 1);
  for (const [name, n] of perName) if (n > 1) out.push(`${n} zones are named ${name}`);
  raw.zoneOrganizations.forEach((org) => {
    if (org === undefined) out.push('a zone under the base domain carries no organisation tag (orphaned)');
    else if (!expectedOrgs.has(org)) out.push(`a zone of ${org} exists (orphaned)`);
  });
  for (const org of raw.userOrganizations)
    if (!expectedOrgs.has(org)) out.push(`an IAM user of ${org} exists (orphaned)`);
  for (const org of raw.storeOrganizations)
    if (!expectedOrgs.has(org)) out.push(`the store holds secrets of ${org} (orphaned)`);
  for (const org of raw.bindingOrganizations)
    if (!expectedOrgs.has(org)) out.push(`a cluster is still bound to ${org} (orphaned)`);
  for (const org of raw.keylessOrganizations)
    if (!expectedOrgs.has(org)) out.push(`a role, OIDC provider or association of ${org} exists (orphaned)`);
  for (const c of raw.clusterRoles)
    if (!raw.keylessClusterAttachments.includes(c))
      out.push(`cluster ${c} has a role of its own, but is not attached keyless with identity scope cluster`);
  for (const path of raw.unmarkedSecrets) out.push(`${path} does not carry zonekeeper's ownership mark`);
  for (const path of raw.heldLocks) out.push(`the lock ${path} is still held`);
  return out;
}

/** A short, readable difference of two normalised snapshots (first differing lines). */
export function describeDifference(expected: unknown, actual: unknown, max = 12): string {
  const a = JSON.stringify(expected, null, 1).split('\n');
  const b = JSON.stringify(actual, null, 1).split('\n');
  const out: string[] = [];
  const setA = new Set(a);
  const setB = new Set(b);
  for (const line of a) if (!setB.has(line)) out.push(`- ${line.trim()}`);
  for (const line of b) if (!setA.has(line)) out.push(`+ ${line.trim()}`);
  return out.slice(0, max).join('\n');
}
