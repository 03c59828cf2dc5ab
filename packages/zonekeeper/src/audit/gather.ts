/**
 * Gathering the fleet for `auditFleet`: read-only port calls only — no lock is taken, no embedded
 * parent zone is created, nothing is written anywhere. What it returns is secret-free: the stored keys'
 * secrets, the certificates' private keys and the clusters' Secret values are read by the same readers
 * the operations use and dropped here; only key ids and validity dates are kept.
 *
 * ```
 *  DNS        managed zones of the platform; per organisation its zones, tags, name servers and the
 *             parent's NS record (zone-manager's gatherOrganizationZone)
 *  IAM        zonekeeper's users of the platform (listZoneIdentities), their policies and key ids
 *  store      organisations, attachments and settings, key records, CA and certificates
 *  clusters   per attached cluster: ExternalDNS's credentials Secret (its key id) and Deployment (image)
 *  inventory  the organisations with a running cluster (when configured)
 *  PowerDNS   in place of IAM: per organisation its TSIG key on the server and in the store (compared
 *             by fingerprint), the zone's update metadata, and the rfc2136 Secret's key fingerprint
 * ```
 *
 * @internal
 * @packageDocumentation
 */

import { type CallOptions, throwIfAborted, toZonekeeperError } from '@zonekeeper/core';
import {
  DEFAULT_EXTERNAL_DNS_IMAGE,
  externalDnsSecretName,
  externalDnsTsigSecretName,
  TSIG_KEYNAME_KEY,
  TSIG_SECRET_KEY,
} from '@zonekeeper/externaldns-deployer';
import { gatherZoneIdentity, listZoneIdentities } from '@zonekeeper/iam-scoper';
import {
  listAttachedClusters,
  listSecretsRecursively,
  listStoredOrganizations,
  readAttachment,
  readCertificate,
  readCertificateAuthority,
  readClusterSettings,
} from '@zonekeeper/vault-keys';
import { gatherOrganizationZone, listManagedZones, type ManagedZone } from '@zonekeeper/zone-manager';
import {
  DEFAULT_TSIG_KEY_LABEL,
  ROTATED_TSIG_KEY_SUFFIX,
  tsigSecretFingerprint,
} from '@zonekeeper/zone-manager/powerdns';
import type { RecordedClusterSettings } from '../clusters/externaldns.js';
import type { ExternalDnsDefaults } from '../config.js';
import type { Context } from '../context.js';
import { gatherCredentials } from '../credentials/apply.js';
import { readOrganizationsInUse } from '../inventory.js';
import { clusterNames, organizationNames } from '../names.js';
import { organizationKeyConsumers } from '../organization/plan.js';
import { gatherTsigFacts } from '../organization/tsig-facts.js';
import type { CertificateFacts, ClusterFacts, FleetState, IdentityFacts, OrganizationFacts } from './plan.js';

const INSTANCE = 'external-dns';
/** The annotation cert-issuer puts on a TLS Secret: the serial of the certificate it holds. */
const CERTIFICATE_SERIAL_ANNOTATION = 'zonekeeper.io/certificate-serial';
const DEFAULT_NAMESPACE = 'external-dns';

function errorFacts(error: unknown): { code: string; message: string } {
  const e = toZonekeeperError(error);
  return { code: e.code, message: e.message };
}

/** The access key id in an AWS shared-credentials file (base64, as in a Secret's `data`); never the secret. */
function accessKeyIdOf(data: unknown): string | null {
  const encoded = (data as Record<string, unknown> | undefined)?.credentials;
  if (typeof encoded !== 'string') return null;
  const file = Buffer.from(encoded, 'base64').toString('utf8');
  return /^\s*aws_access_key_id\s*=\s*(\S+)\s*$/m.exec(file)?.[1] ?? null;
}

/** The TSIG key name in an rfc2136 Secret's `data` (absent in a Secret rendered before decision 36). */
function tsigKeyNameIn(data: unknown): string | null {
  const encoded = (data as Record<string, unknown> | undefined)?.[TSIG_KEYNAME_KEY];
  return typeof encoded === 'string' ? Buffer.from(encoded, 'base64').toString('utf8') : null;
}

/** The fingerprint of the TSIG secret in an rfc2136 Secret's `data`; never the secret. */
function tsigFingerprintOf(data: unknown): string | null {
  const encoded = (data as Record<string, unknown> | undefined)?.[TSIG_SECRET_KEY];
  if (typeof encoded !== 'string') return null;
  return tsigSecretFingerprint(Buffer.from(encoded, 'base64').toString('utf8'));
}

async function gatherCluster(
  ctx: Context,
  organization: string,
  clusterId: string,
  call: CallOptions,
): Promise<ClusterFacts | undefined> {
  const at = { ...ctx.layout, ...call };
  const attachment = await readAttachment(ctx.ports.secrets, organization, clusterId, at);
  if (!attachment) return undefined;
  const recorded = (
    (await readClusterSettings(ctx.ports.secrets, organization, clusterId, at))?.settings as
      | RecordedClusterSettings
      | undefined
  )?.externalDns as ExternalDnsDefaults | undefined;
  const namespace = attachment.namespace || DEFAULT_NAMESPACE;
  const base = {
    clusterId,
    scope: attachment.scope,
    namespace,
    expectedImage: recorded?.image ?? ctx.externalDns.image ?? DEFAULT_EXTERNAL_DNS_IMAGE,
    ...(attachment.credentials ? { keyless: attachment.credentials.mode } : {}),
  };
  try {
    const client = await ctx.ports.cluster(clusterId);
    const secret = await client.get(
      {
        apiVersion: 'v1',
        kind: 'Secret',
        namespace,
        name: ctx.powerdns ? externalDnsTsigSecretName(INSTANCE) : externalDnsSecretName(INSTANCE),
      },
      call,
    );
    const deployment = await client.get(
      { apiVersion: 'apps/v1', kind: 'Deployment', namespace, name: INSTANCE },
      call,
    );
    const tlsSecrets: { ref: string; serialNumber: string | null }[] = [];
    for (const ref of [...attachment.tlsSecrets].sort()) {
      const [ns, name] = ref.split('/');
      if (!ns || !name) continue;
      const tls = await client.get({ apiVersion: 'v1', kind: 'Secret', namespace: ns, name }, call);
      tlsSecrets.push({
        ref,
        serialNumber: tls ? (tls.metadata.annotations?.[CERTIFICATE_SERIAL_ANNOTATION] ?? '') : null,
      });
    }
    const containers =
      (deployment?.spec as { template?: { spec?: { containers?: { image?: string }[] } } } | undefined)
        ?.template?.spec?.containers ?? [];
    return {
      ...base,
      status: 'read',
      ...(ctx.powerdns
        ? {
            tsigKeyFingerprint: secret ? tsigFingerprintOf(secret.data) : null,
            tsigKeyName: secret ? tsigKeyNameIn(secret.data) : null,
          }
        : { secretAccessKeyId: secret ? accessKeyIdOf(secret.data) : null }),
      image: deployment ? (containers[0]?.image ?? null) : null,
      tlsSecrets,
    };
  } catch (error) {
    throwIfAborted(call.signal);
    return { ...base, status: 'unreachable', error: errorFacts(error) };
  }
}

async function gatherIdentity(
  ctx: Context,
  organization: string,
  userName: string,
  policyName: string,
  clusterId: string | undefined,
  consumers: readonly string[],
  call: CallOptions,
): Promise<IdentityFacts> {
  const current = await gatherZoneIdentity({ userName, policyName }, ctx.ports.identity, call);
  // The gathered record holds the secret: only the facts are kept.
  const { facts } = await gatherCredentials(
    ctx,
    { organization, ...(clusterId === undefined ? {} : { clusterId }) },
    userName,
    current.user !== undefined,
    consumers,
    call,
  );
  return { userName, ...(clusterId === undefined ? {} : { clusterId }), current, credentials: facts };
}

async function gatherCertificates(
  ctx: Context,
  organization: string,
  call: CallOptions,
): Promise<CertificateFacts[]> {
  const at = { ...ctx.layout, ...call };
  const out: CertificateFacts[] = [];
  const ca = await readCertificateAuthority(ctx.ports.secrets, organization, at);
  if (ca)
    out.push({
      kind: 'ca',
      name: 'ca',
      path: ctx.paths.certificateAuthority(organization),
      notBefore: ca.notBefore,
      notAfter: ca.notAfter,
    });
  const folder = `${ctx.paths.organization(organization)}/tls/certs`;
  for (const entry of [...(await ctx.ports.secrets.list(folder, call))].sort()) {
    if (entry.endsWith('/')) continue;
    const c = await readCertificate(ctx.ports.secrets, organization, entry, at);
    if (c)
      out.push({
        kind: 'server',
        name: entry,
        path: ctx.paths.certificate(organization, entry),
        notBefore: c.notBefore,
        notAfter: c.notAfter,
        serialNumber: c.serialNumber,
        dnsNames: [...c.dnsNames],
      });
  }
  return out;
}

function managedOf(managed: readonly ManagedZone[], organization: string): OrganizationFacts['managedZones'] {
  return managed
    .filter((z) => z.organization === organization)
    .map((z) => ({
      id: z.id,
      name: z.name,
      protected: z.protected,
      ...(z.createdAt ? { createdAt: z.createdAt } : {}),
    }));
}

/**
 * Reads the fleet (or one organisation of it) for {@link planAudit}. Read-only.
 * @internal
 */
export async function gatherFleet(
  ctx: Context,
  options: { readonly organization?: string },
  call: CallOptions,
): Promise<FleetState> {
  const only = options.organization === undefined ? undefined : organizationNames(ctx, options.organization);
  const at = { ...ctx.layout, ...call };
  const managed: readonly ManagedZone[] = await listManagedZones(ctx.deps.dns, {
    baseDomain: ctx.baseDomain,
    ...call,
  });
  const identities = await listZoneIdentities(
    { baseDomain: ctx.baseDomain, ...(only ? { organization: only.organization } : {}) },
    ctx.deps.identity,
    call,
  );
  const stored = await listStoredOrganizations(ctx.ports.secrets, at);
  // The PowerDNS backend: organisations whose key is on the server alone (a deletion stopped half-way).
  const keyed: string[] = [];
  if (ctx.powerdns && !only) {
    const prefixes = [`${DEFAULT_TSIG_KEY_LABEL}.`, `${DEFAULT_TSIG_KEY_LABEL}${ROTATED_TSIG_KEY_SUFFIX}.`];
    const suffix = `.${ctx.baseDomain}`;
    // Only a name that is exactly an organisation's key name (one label between, either of its two
    // names): organizationNames below drops what is not an organisation name, and gatherTsigFacts reads
    // the key by its name.
    for (const k of await ctx.powerdns.admin.listTsigKeys(call))
      for (const prefix of prefixes)
        if (k.name.startsWith(prefix) && k.name.endsWith(suffix)) {
          const label = k.name.slice(prefix.length, -suffix.length);
          if (!label.includes('.') && !keyed.includes(label)) keyed.push(label);
        }
  }
  let inventory: FleetState['inventory'];
  if (!ctx.inventoryConfigured) inventory = { status: 'not-configured' };
  else
    try {
      inventory = {
        status: 'read',
        inUse: [...(await readOrganizationsInUse(ctx.ports.inventory, call))].sort(),
      };
    } catch (error) {
      throwIfAborted(call.signal);
      inventory = { status: 'unreadable', message: errorFacts(error).message };
    }

  const candidates = only
    ? [only.organization]
    : [
        ...new Set([
          ...managed.map((z) => z.organization),
          ...identities.map((i) => i.organization),
          ...stored,
          ...keyed,
        ]),
      ].sort();
  const organizations: OrganizationFacts[] = [];
  for (const candidate of candidates) {
    throwIfAborted(call.signal);
    let names: ReturnType<typeof organizationNames>;
    try {
      names = organizationNames(ctx, candidate);
    } catch {
      continue; // not a name zonekeeper could have made (a foreign folder in the store)
    }
    const organization = names.organization;
    let zone: OrganizationFacts['zone'];
    try {
      zone = {
        status: 'read',
        state: await gatherOrganizationZone(
          {
            zoneName: names.zoneName,
            baseDomain: ctx.baseDomain,
            ...(ctx.parentZoneId === undefined ? {} : { parentZoneId: ctx.parentZoneId }),
          },
          ctx.ports.dns,
          call,
        ),
      };
    } catch (error) {
      throwIfAborted(call.signal);
      zone = { status: 'unreadable', error: errorFacts(error) };
    }
    const attached: ClusterFacts[] = [];
    for (const clusterId of await listAttachedClusters(ctx.ports.secrets, organization, at)) {
      const c = await gatherCluster(ctx, organization, clusterId, call);
      if (c) attached.push(c);
    }
    if (ctx.powerdns) {
      // The identity is the TSIG key: no IAM user, no access keys.
      organizations.push({
        organization,
        zoneName: names.zoneName,
        zone,
        managedZones: managedOf(managed, organization),
        attached,
        identities: [],
        certificates: await gatherCertificates(ctx, organization, call),
        secretPaths: [
          ...(await listSecretsRecursively(ctx.ports.secrets, ctx.paths.organization(organization), call)),
        ].sort(),
        tsig: await gatherTsigFacts(ctx.powerdns, names, call),
      });
      continue;
    }
    const orgIdentity = await gatherIdentity(
      ctx,
      organization,
      names.userName,
      names.policyName,
      undefined,
      organizationKeyConsumers(attached),
      call,
    );
    const found: IdentityFacts[] = [orgIdentity];
    const clusterIds = new Set([
      ...identities
        .filter((i) => i.organization === organization && i.clusterId !== undefined)
        .map((i) => i.clusterId as string),
      ...attached.filter((a) => a.scope === 'cluster').map((a) => a.clusterId),
    ]);
    for (const clusterId of [...clusterIds].sort()) {
      let c: ReturnType<typeof clusterNames>;
      try {
        c = clusterNames(ctx, organization, clusterId);
      } catch {
        continue;
      }
      found.push(
        await gatherIdentity(
          ctx,
          organization,
          c.clusterUserName,
          c.clusterPolicyName,
          clusterId,
          attached.some((a) => a.clusterId === clusterId && a.scope === 'cluster') ? [clusterId] : [],
          call,
        ),
      );
    }
    organizations.push({
      organization,
      zoneName: names.zoneName,
      zone,
      managedZones: managedOf(managed, organization),
      attached,
      identities: found,
      certificates: await gatherCertificates(ctx, organization, call),
      secretPaths: [
        ...(await listSecretsRecursively(ctx.ports.secrets, ctx.paths.organization(organization), call)),
      ].sort(),
    });
  }
  return {
    baseDomain: ctx.baseDomain,
    defaultScope: ctx.defaultScope,
    organizations,
    ...(ctx.powerdns
      ? {
          powerdns: {
            ...(ctx.powerdns.updateSources === undefined
              ? {}
              : { updateSources: ctx.powerdns.updateSources }),
            axfr: ctx.powerdns.axfr,
          },
        }
      : {}),
    inventory,
  };
}
