/**
 * `listOrganizations` and `describeOrganization`: read-only views of the platform's organisations,
 * built from the same gathers the operations use (zone-manager's organisation zone, iam-scoper's
 * identity, the store's attachments, bindings and secret metadata) and the collector's pure decision.
 * Nothing is written; no secret is returned (the stored key's id only, certificates from their
 * secret-free metadata).
 *
 * @internal
 * @packageDocumentation
 */

import {
  type CallOptions,
  rethrowIfAborted,
  signalOnly,
  throwIfAborted,
  toZonekeeperError,
  validateOrganizationName,
} from '@zonekeeper/core';
import { decideZoneFate } from '@zonekeeper/gc-policy';
import {
  desiredZoneIdentity,
  gatherZoneIdentity,
  listZoneIdentities,
  planZoneIdentity,
} from '@zonekeeper/iam-scoper';
import {
  listAttachedClusters,
  listClusterBindings,
  listSecretsRecursively,
  listStoredOrganizations,
  readAccessKey,
  readAttachment,
} from '@zonekeeper/vault-keys';
import {
  canonicalRecordName,
  gatherOrganizationZone,
  listManagedZones,
  type ManagedZone,
  type OrganizationZoneState,
  sortCanonically,
  ZoneTags,
  zoneOwnership,
} from '@zonekeeper/zone-manager';
import type { Context } from '../context.js';
import { zoneFacts } from '../gc/collect.js';
import { type ClusterRecord, readOrganizationsInUse } from '../inventory.js';
import { organizationNames } from '../names.js';
import type {
  ClusterSummary,
  DelegationState,
  DescribedCertificate,
  DescribedCluster,
  DescribedTsigKey,
  OrganizationDescription,
  OrganizationSummary,
} from '../results.js';
import { gatherTsigFacts, serverKeyMatchesStored, updateKeysExact } from './tsig-facts.js';

/** {@link Zonekeeper.listOrganizations}. @internal */
export async function listOrganizations(
  ctx: Context,
  options: CallOptions = {},
): Promise<readonly OrganizationSummary[]> {
  const call = signalOnly(options);
  throwIfAborted(call.signal);
  const at = { ...ctx.layout, ...call };
  const zones = await listManagedZones(ctx.deps.dns, { baseDomain: ctx.baseDomain, ...call });
  const identities = await listZoneIdentities({ baseDomain: ctx.baseDomain }, ctx.deps.identity, call);
  const stored = await listStoredOrganizations(ctx.ports.secrets, at);
  const bound = (await listClusterBindings(ctx.ports.secrets, at)).map((b) => b.organization);
  const organizations = [
    ...new Set([
      ...zones.map((z) => z.organization),
      ...identities.map((u) => u.organization),
      ...stored,
      ...bound,
    ]),
  ].sort();
  const out: OrganizationSummary[] = [];
  for (const organization of organizations) {
    const own = zones.filter((z) => z.organization === organization);
    out.push({
      organization,
      status: own.length > 0 ? 'active' : 'leftovers',
      zones: own.map((z) => ({ id: z.id, name: z.name, ...(z.createdAt ? { createdAt: z.createdAt } : {}) })),
      userNames: identities.filter((u) => u.organization === organization).map((u) => u.userName),
      clusters: stored.includes(organization)
        ? [...(await listAttachedClusters(ctx.ports.secrets, organization, at))].sort()
        : [],
    });
  }
  return out;
}

/** {@link Zonekeeper.listClusters}. @internal */
export async function listClusters(
  ctx: Context,
  options: CallOptions & { readonly organization?: string } = {},
): Promise<readonly ClusterSummary[]> {
  const only =
    options.organization === undefined ? undefined : validateOrganizationName(options.organization);
  const call = signalOnly(options);
  throwIfAborted(call.signal);
  const at = { ...ctx.layout, ...call };
  const bindings = (await listClusterBindings(ctx.ports.secrets, at)).filter(
    (b) => only === undefined || b.organization === only,
  );
  const organizations = (await listStoredOrganizations(ctx.ports.secrets, at)).filter(
    (o) => only === undefined || o === only,
  );
  let records: readonly ClusterRecord[] | undefined;
  if (ctx.inventoryConfigured) {
    // Read and checked as the collector reads it (an unreadable inventory is UNAVAILABLE).
    await readOrganizationsInUse(ctx.ports.inventory, call);
    records = (await ctx.ports.inventory.listClusters(call)).filter(
      (r) => only === undefined || r.organization === only,
    );
  }
  const byKey = new Map<string, ClusterSummary>();
  const inventoryOf = (organization: string, clusterId: string): ClusterSummary['inventory'] => {
    if (records === undefined) return 'unknown';
    const r = records.find((x) => x.organization === organization && x.clusterId === clusterId);
    return r === undefined ? 'absent' : r.running ? 'running' : 'stopped';
  };
  for (const organization of organizations)
    for (const clusterId of await listAttachedClusters(ctx.ports.secrets, organization, at)) {
      const a = await readAttachment(ctx.ports.secrets, organization, clusterId, at);
      if (!a) continue;
      byKey.set(`${organization}/${clusterId}`, {
        organization,
        clusterId,
        attached: true,
        bound: bindings.some((b) => b.clusterId === clusterId && b.organization === organization),
        scope: a.scope,
        namespace: a.namespace,
        attachedAt: a.attachedAt,
        inventory: inventoryOf(organization, clusterId),
      });
    }
  for (const b of bindings)
    if (!byKey.has(`${b.organization}/${b.clusterId}`))
      byKey.set(`${b.organization}/${b.clusterId}`, {
        organization: b.organization,
        clusterId: b.clusterId,
        attached: false,
        bound: true,
        inventory: inventoryOf(b.organization, b.clusterId),
      });
  for (const r of records ?? [])
    if (!byKey.has(`${r.organization}/${r.clusterId}`))
      byKey.set(`${r.organization}/${r.clusterId}`, {
        organization: r.organization,
        clusterId: r.clusterId,
        attached: false,
        bound: false,
        inventory: r.running ? 'running' : 'stopped',
      });
  return [...byKey.values()].sort((x, y) =>
    x.organization === y.organization
      ? x.clusterId < y.clusterId
        ? -1
        : 1
      : x.organization < y.organization
        ? -1
        : 1,
  );
}

function nameServerKey(values: readonly string[]): string {
  return [...new Set(values.map((v) => canonicalRecordName(v.trim())))].sort().join(' ');
}

/** The delegation state of a zone in its parent. Pure. @internal */
export function delegationStateOf(
  zone: { readonly nameServers: readonly string[] } | undefined,
  delegation: OrganizationZoneState['delegation'],
): DelegationState {
  if (!zone) return 'no-zone';
  if (!delegation) return 'missing';
  return nameServerKey(delegation.values) === nameServerKey(zone.nameServers) ? 'present' : 'foreign';
}

function parsedDate(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

async function certificateFromMetadata(
  ctx: Context,
  name: string,
  path: string,
  call: CallOptions,
): Promise<DescribedCertificate | undefined> {
  const meta = await ctx.ports.secrets.readMetadata(path, call);
  if (!meta || meta.currentVersion === 0) return undefined;
  const m = meta.customMetadata;
  const notAfter = parsedDate(m['not-after']);
  return {
    name,
    ...(m.serial ? { serialNumber: m.serial } : {}),
    ...(notAfter ? { notAfter } : {}),
    dnsNames: m['dns-names'] ? m['dns-names'].split(',') : [],
  };
}

/** {@link Zonekeeper.describeOrganization}. @internal */
export async function describeOrganization(
  ctx: Context,
  organizationInput: string,
  options: CallOptions = {},
): Promise<OrganizationDescription> {
  const names = organizationNames(ctx, organizationInput);
  const { organization, zoneName } = names;
  const call = signalOnly(options);
  throwIfAborted(call.signal);
  const at = { ...ctx.layout, ...call };
  const now = ctx.clock.now();

  // Zone and delegation: what an ensure gathers.
  const zoneState = (await ctx.ensureEmbeddedParent(call, false))
    ? await gatherOrganizationZone(
        {
          zoneName,
          baseDomain: ctx.baseDomain,
          ...(ctx.parentZoneId === undefined ? {} : { parentZoneId: ctx.parentZoneId }),
        },
        ctx.ports.dns,
        call,
      )
    : undefined;
  const observed = zoneState ? sortCanonically(zoneState.zones, zoneName) : [];
  const ours = observed.filter((z) => zoneOwnership(z, zoneName, organization) === 'ours');
  const primary = ours[0];
  const createdAt = parsedDate(primary?.tags[ZoneTags.createdAt]);
  const zone = primary
    ? {
        id: primary.id,
        name: primary.name,
        nameServers: [...primary.nameServers],
        ...(createdAt ? { createdAt } : {}),
        protected: primary.tags[ZoneTags.protected] === 'true',
      }
    : undefined;

  // Identity: the policy an ensure would write, compared by iam-scoper's planner.
  const current = await gatherZoneIdentity(names, ctx.ports.identity, call);
  let identity: OrganizationDescription['identity'];
  if (current.user) {
    let problem: string | undefined;
    try {
      const plan = planZoneIdentity(
        current,
        desiredZoneIdentity({
          baseDomain: ctx.baseDomain,
          organization,
          zoneName,
          zoneId: zone?.id ?? null,
        }),
      );
      if (plan.steps.length > 0) problem = `an ensure would ${plan.steps.map((s) => s.op).join(', ')}`;
    } catch (error) {
      problem = toZonekeeperError(error).message;
    }
    identity = {
      userName: names.userName,
      policyOk: problem === undefined,
      ...(problem === undefined ? {} : { problem }),
    };
  }

  // The stored key (its id only) and IAM's creation date.
  const stored = await readAccessKey(ctx.ports.secrets, { organization }, at);
  let accessKey: OrganizationDescription['accessKey'];
  if (stored) {
    const iamKeys = current.user ? await ctx.ports.identity.listAccessKeys(stored.userName, call) : [];
    const inIam = iamKeys.find((k) => k.accessKeyId === stored.accessKeyId);
    accessKey = {
      accessKeyId: stored.accessKeyId,
      inIam: inIam !== undefined,
      ...(inIam ? { createdAt: inIam.createdAt, ageMs: now.getTime() - inIam.createdAt.getTime() } : {}),
      ...(stored.previousAccessKeyId ? { previousAccessKeyId: stored.previousAccessKeyId } : {}),
    };
  }

  // The PowerDNS backend: the TSIG key, compared by fingerprint (the secrets are dropped in the gather).
  let tsigKey: DescribedTsigKey | undefined;
  if (ctx.powerdns) {
    const facts = await gatherTsigFacts(ctx.powerdns, names, call);
    const algorithm = facts.storedKey?.algorithm ?? facts.serverKey?.algorithm;
    tsigKey = {
      name: facts.keyName,
      ...(facts.storedKey?.previousName ? { previousName: facts.storedKey.previousName } : {}),
      ...(algorithm === undefined ? {} : { algorithm }),
      stored: facts.storedKey !== undefined,
      onServer: facts.serverKey !== undefined,
      matchesStored: serverKeyMatchesStored(facts),
      updateKeys: [...facts.updateKeys],
      updateKeysOk: updateKeysExact(facts),
      updateSources: [...facts.updateSources],
    };
  }

  // Clusters: attachment records and bindings.
  const bindings = new Set(
    (await listClusterBindings(ctx.ports.secrets, at))
      .filter((b) => b.organization === organization)
      .map((b) => b.clusterId),
  );
  const clusters: DescribedCluster[] = [];
  for (const clusterId of [...(await listAttachedClusters(ctx.ports.secrets, organization, at))].sort()) {
    const a = await readAttachment(ctx.ports.secrets, organization, clusterId, at);
    if (!a) continue;
    clusters.push({
      clusterId,
      scope: a.scope,
      namespace: a.namespace,
      attachedAt: a.attachedAt,
      tlsSecrets: a.tlsSecrets,
      bound: bindings.has(clusterId),
      credentials: a.credentials?.mode ?? 'access-key',
    });
  }
  const clusterIdentities = (
    await listZoneIdentities({ baseDomain: ctx.baseDomain, organization }, ctx.deps.identity, call)
  )
    .filter((u) => u.clusterId !== undefined)
    .map((u) => u.userName);

  // Certificates, from their secret-free metadata.
  const certificateAuthority = await certificateFromMetadata(
    ctx,
    'ca',
    ctx.paths.certificateAuthority(organization),
    call,
  );
  const certificates: DescribedCertificate[] = [];
  const folder = `${ctx.paths.organization(organization)}/tls/certs`;
  for (const entry of await ctx.ports.secrets.list(folder, call)) {
    if (entry.endsWith('/')) continue;
    const c = await certificateFromMetadata(ctx, entry, `${folder}/${entry}`, call);
    if (c) certificates.push(c);
  }

  // The collector's next decision: gc-policy with the inventory, as a dry-run collection decides.
  let garbageCollection: OrganizationDescription['garbageCollection'] = { inventory: 'not-configured' };
  if (ctx.inventoryConfigured) {
    try {
      const inUse = await readOrganizationsInUse(ctx.ports.inventory, call);
      garbageCollection = { inventory: 'read', inUse: inUse.has(organization) };
      if (primary) {
        const managed: ManagedZone = {
          id: primary.id,
          name: primary.name,
          organization,
          ...(createdAt ? { createdAt } : {}),
          protected: zone?.protected === true,
          callerReference: primary.callerReference,
        };
        garbageCollection = {
          ...garbageCollection,
          decision: decideZoneFate(zoneFacts(inUse, managed), now, ctx.gc),
        };
      }
    } catch (error) {
      rethrowIfAborted(call.signal);
      ctx.logger.warn(`zonekeeper: ${toZonekeeperError(error).message}`);
      garbageCollection = { inventory: 'unavailable' };
    }
  }

  const secretsStored =
    (await listSecretsRecursively(ctx.ports.secrets, ctx.paths.organization(organization), call)).length > 0;
  return {
    organization,
    zoneName,
    now,
    exists:
      observed.some((z) => zoneOwnership(z, zoneName, organization) === 'ours') ||
      current.user !== undefined ||
      secretsStored ||
      tsigKey?.onServer === true ||
      bindings.size > 0 ||
      clusterIdentities.length > 0,
    ...(zone ? { zone } : {}),
    otherZones: observed
      .filter((z) => z !== primary)
      .map((z) => ({ id: z.id, ours: zoneOwnership(z, zoneName, organization) === 'ours' })),
    delegation: {
      state: delegationStateOf(zone, zoneState?.delegation),
      nameServers: [...(zoneState?.delegation?.values ?? [])],
    },
    ...(identity ? { identity } : {}),
    ...(accessKey ? { accessKey } : {}),
    ...(tsigKey ? { tsigKey } : {}),
    clusters,
    clusterIdentities,
    ...(certificateAuthority ? { certificateAuthority } : {}),
    certificates,
    garbageCollection,
  };
}
