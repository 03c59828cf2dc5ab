/**
 * Gathering an organisation's state and applying its plan: zone → identity → key → CA.
 *
 * @internal
 * @packageDocumentation
 */

import { applyCertificateAuthorityPlan, gatherCertificateAuthority } from '@zonekeeper/cert-issuer';
import { type CallOptions, ZonekeeperError } from '@zonekeeper/core';
import { applyZoneIdentityPlan, desiredZoneIdentity, gatherZoneIdentity } from '@zonekeeper/iam-scoper';
import {
  listAttachedClusters,
  readAttachment,
  type StoredAccessKey,
  type StoredCertificateAuthority,
} from '@zonekeeper/vault-keys';
import {
  applyOrganizationZonePlan,
  gatherOrganizationZone,
  keptOrganizationZone,
  type OrganizationZone,
} from '@zonekeeper/zone-manager';
import {
  applyOrganizationTsigPlan,
  gatherOrganizationTsig,
  type OrganizationTsigDesired,
  type OrganizationTsigState,
  type StoredOrganizationTsigKey,
  tsigKeyNamesForZone,
  tsigSecretFingerprint,
} from '@zonekeeper/zone-manager/powerdns';
import { publishKey } from '../clusters/externaldns.js';
import type { Context } from '../context.js';
import { applyCredentialsPlan, type GatheredCredentials, gatherCredentials } from '../credentials/apply.js';
import type { OrganizationNames } from '../names.js';
import {
  type AttachedCluster,
  type OrganizationPlan,
  type OrganizationState,
  organizationKeyConsumers,
  storesNewTsigKey,
} from './plan.js';

/** The gathered state, plus what applying needs beyond the planner's facts (secrets included). @internal */
export interface GatheredOrganization {
  readonly state: OrganizationState;
  readonly credentials?: GatheredCredentials;
  readonly ca?: StoredCertificateAuthority;
  /** The PowerDNS backend: the stored TSIG key, secret included (what ExternalDNS is rendered with). */
  readonly tsigKey?: StoredOrganizationTsigKey;
}

/** The organisation's attached clusters and their recorded identity scopes. @internal */
export async function gatherAttached(
  ctx: Context,
  organization: string,
  call: CallOptions,
): Promise<AttachedCluster[]> {
  const at = { ...ctx.layout, ...call };
  const out: AttachedCluster[] = [];
  for (const clusterId of await listAttachedClusters(ctx.ports.secrets, organization, at)) {
    const attachment = await readAttachment(ctx.ports.secrets, organization, clusterId, at);
    if (attachment)
      out.push({
        clusterId,
        scope: attachment.scope,
        namespace: attachment.namespace,
        ...(attachment.credentials ? { credentials: attachment.credentials } : {}),
      });
  }
  return out;
}

/** An operation that needs an existing organisation met one without a zone. @internal */
export function organizationNotFound(names: OrganizationNames): ZonekeeperError {
  return new ZonekeeperError(
    'NOT_FOUND',
    `Organisation ${names.organization} does not exist (it has no zone ${names.zoneName}); run ensureOrganization first. Nothing was written.`,
    {
      details: {
        organization: names.organization,
        remedy: { operation: 'ensureOrganization', organization: names.organization, when: 'first' },
      },
    },
  );
}

/** A new zone's CallerReference nonce from the injected random source. */
function nonceOf(random: () => number): string {
  const r = random();
  const x = Number.isFinite(r) ? Math.min(Math.max(r, 0), 0.999_999_999) : 0;
  return Math.floor(x * 36 ** 8)
    .toString(36)
    .padStart(8, '0');
}

/** What the organisation's TSIG key should be (the PowerDNS backend). @internal */
export function desiredOrganizationTsig(ctx: Context, names: OrganizationNames): OrganizationTsigDesired {
  const p = ctx.powerdns;
  return {
    organization: names.organization,
    zoneName: names.zoneName,
    ...(p?.algorithm ? { algorithm: p.algorithm } : {}),
    ...(p?.updateSources ? { updateSources: p.updateSources } : {}),
    allowTransfer: p?.axfr ?? false,
  };
}

/**
 * The organisation's TSIG key and zone metadata (the PowerDNS backend), plus the stored key with its
 * secret. A zone that does not exist yet is the zone this ensure creates: it starts without update
 * metadata, and the key is read as for any other (a server key nobody stored is replaced, never
 * adopted). Reads only.
 */
async function gatherTsig(
  ctx: Context,
  names: OrganizationNames,
  call: CallOptions,
): Promise<{
  state: OrganizationTsigState;
  desired: OrganizationTsigDesired;
  stored?: StoredOrganizationTsigKey;
}> {
  const p = ctx.powerdns;
  if (!p) throw new ZonekeeperError('INTERNAL', 'zonekeeper: the PowerDNS backend is not configured.');
  const deps = { admin: p.admin, store: p.store };
  const desired = desiredOrganizationTsig(ctx, names);
  let state = await gatherOrganizationTsig(deps, desired, call);
  if (!state.zoneExists) {
    const stored = await p.store.read(names.organization, call);
    const keyNames: readonly string[] = tsigKeyNamesForZone(names.zoneName);
    const server = await p.admin.getTsigKey(
      stored && keyNames.includes(stored.name) ? stored.name : (keyNames[0] as string),
      call,
    );
    state = {
      zoneExists: true,
      updateKeys: [],
      updateSources: [],
      transferKeys: [],
      ...(server
        ? {
            serverKey: {
              name: server.name,
              algorithm: server.algorithm,
              fingerprint: tsigSecretFingerprint(server.secret),
            },
          }
        : {}),
      ...(stored
        ? {
            storedKey: {
              name: stored.name,
              algorithm: stored.algorithm,
              fingerprint: tsigSecretFingerprint(stored.secret),
              version: stored.version,
            },
          }
        : {}),
    };
  }
  const stored = await p.store.read(names.organization, call);
  return { state, desired, ...(stored ? { stored } : {}) };
}

/**
 * Reads everything {@link planOrganization} needs. Reads only (the embedded backend's parent zone is
 * created once, before the first read).
 * @internal
 */
export async function gatherOrganization(
  ctx: Context,
  names: OrganizationNames,
  call: CallOptions,
  options: { readonly mustExist?: boolean } = {},
): Promise<GatheredOrganization> {
  if (!(await ctx.ensureEmbeddedParent(call, !options.mustExist))) throw organizationNotFound(names);
  const zone = await gatherOrganizationZone(
    {
      zoneName: names.zoneName,
      baseDomain: ctx.baseDomain,
      ...(ctx.parentZoneId === undefined ? {} : { parentZoneId: ctx.parentZoneId }),
    },
    ctx.ports.dns,
    call,
  );
  const attached = await gatherAttached(ctx, names.organization, call);
  if (ctx.powerdns) {
    const tsig = await gatherTsig(ctx, names, call);
    const ca = await gatherCertificateAuthority(names.organization, ctx.deps.certificates, call);
    return {
      state: {
        names,
        baseDomain: ctx.baseDomain,
        now: ctx.clock.now(),
        nonce: nonceOf(ctx.random),
        zone,
        attached,
        tsig: { state: tsig.state, desired: tsig.desired },
        ...(ca ? { ca: { notBefore: ca.notBefore, notAfter: ca.notAfter } } : {}),
      },
      ...(ca ? { ca } : {}),
      ...(tsig.stored ? { tsigKey: tsig.stored } : {}),
    };
  }
  const identity = await gatherZoneIdentity(names, ctx.ports.identity, call);
  const userExists = identity.user !== undefined;
  const credentials = await gatherCredentials(
    ctx,
    { organization: names.organization },
    names.userName,
    userExists,
    organizationKeyConsumers(attached),
    call,
  );
  const ca = await gatherCertificateAuthority(names.organization, ctx.deps.certificates, call);
  return {
    state: {
      names,
      baseDomain: ctx.baseDomain,
      now: ctx.clock.now(),
      nonce: nonceOf(ctx.random),
      zone,
      attached,
      identity,
      credentials: credentials.facts,
      ...(ca ? { ca: { notBefore: ca.notBefore, notAfter: ca.notAfter } } : {}),
    },
    credentials,
    ...(ca ? { ca } : {}),
  };
}

/** What applying an organisation plan leaves. Internal: the key carries its secret. @internal */
export interface AppliedOrganization {
  readonly zone?: OrganizationZone;
  readonly key?: StoredAccessKey;
  readonly ca?: StoredCertificateAuthority;
  /** The PowerDNS backend: the organisation's TSIG key (secret included). */
  readonly tsigKey?: StoredOrganizationTsigKey;
}

/**
 * The outcome a plan would have without applying it (a dry run, or an empty plan): what exists now.
 * @internal
 */
export function currentOrganization(
  gathered: GatheredOrganization,
  plan: OrganizationPlan,
): AppliedOrganization {
  const zone = keptOrganizationZone(plan.zone, gathered.state.zone);
  const key = gathered.credentials?.stored;
  const tsigKey = storesNewTsigKey(plan) ? undefined : gathered.tsigKey;
  return {
    ...(zone ? { zone } : {}),
    ...(key ? { key } : {}),
    ...(gathered.ca ? { ca: gathered.ca } : {}),
    ...(tsigKey ? { tsigKey } : {}),
  };
}

/**
 * Applies an organisation plan exactly as planned: zone, identity (with the zone's id), key (publishing
 * a new one to the clusters that use it), CA.
 * @internal
 */
export async function applyOrganizationPlan(
  ctx: Context,
  plan: OrganizationPlan,
  gathered: GatheredOrganization,
  call: CallOptions,
): Promise<AppliedOrganization> {
  const { state } = gathered;
  const { names } = state;
  const zone = await applyOrganizationZonePlan(plan.zone, state.zone, ctx.deps.dns, call);
  let key = gathered.credentials?.stored;
  if (plan.identity && zone) {
    const desired = desiredZoneIdentity({
      baseDomain: ctx.baseDomain,
      organization: names.organization,
      zoneName: names.zoneName,
      zoneId: zone.id,
    });
    await applyZoneIdentityPlan(plan.identity, desired, ctx.deps.identity, call);
  }
  if (plan.credentials && zone && gathered.credentials) {
    key = await applyCredentialsPlan(
      ctx,
      plan.credentials,
      { organization: names.organization },
      gathered.credentials,
      (clusterIds, k, c) => publishKey(ctx, names.organization, zone, clusterIds, k, c),
      call,
    );
  }
  let tsigKey = gathered.tsigKey;
  if (plan.tsigKey && zone && ctx.powerdns) {
    const p = ctx.powerdns;
    await applyOrganizationTsigPlan(plan.tsigKey, { admin: p.admin, store: p.store }, call);
    if (storesNewTsigKey(plan)) {
      tsigKey = await p.store.read(names.organization, call);
      // A new secret: the clusters running the old one get the new one (the server key was replaced).
      const consumers = organizationKeyConsumers(state.attached);
      if (tsigKey && consumers.length > 0)
        await publishKey(ctx, names.organization, zone, consumers, tsigKey, call);
    }
  }
  const ca = await applyCertificateAuthorityPlan(
    plan.certificateAuthority,
    gathered.ca,
    names.certificateAuthority,
    ctx.deps.certificates,
    call,
  );
  return {
    ...(zone ? { zone } : {}),
    ...(key ? { key } : {}),
    ...(ca ? { ca } : {}),
    ...(tsigKey ? { tsigKey } : {}),
  };
}
