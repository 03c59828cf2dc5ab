/**
 * `attachCluster`'s cert-manager mode: the organisation's ACME identity (the TXT-only IAM user
 * cert-manager's Route 53 DNS-01 solver runs with), and the rendered cert-manager objects applied to the
 * cluster's tenant namespaces.
 *
 * ```
 *  gather   the ACME identity (user, policy, stored key facts), the tenant namespaces, and the objects
 *           at the rendered names (desired and previously recorded)
 *  plan     pure: refuse a missing namespace or an object at our names that is not ours (or another
 *           organisation's); plan the identity (iam-scoper's planZoneIdentity with desiredAcmeIdentity)
 *           and its key (planCredentials), the objects to apply, and the recorded objects to remove
 *  apply    identity → key (IAM, then the store, as for every key) → objects (server-side apply, only
 *           the changed ones) → removal of what is no longer rendered
 * ```
 *
 * The settings are recorded with the cluster's settings (`record-settings`) before anything touches
 * the cluster, so a detach — or an attach after a crash — always knows which objects are ours.
 *
 * Crash safety: the identity's writes are iam-scoper's (idempotent, a foreign user never adopted); the
 * key's are `applyCredentialsPlan`'s (a key IAM created but the store never received is deleted as
 * unknown by the next run); the objects are applied by server-side apply and deleted by name, both
 * idempotent, and re-planned from what the cluster holds.
 *
 * @internal
 * @packageDocumentation
 */

import { X509Certificate } from 'node:crypto';
import {
  canSignIntermediates,
  issueIntermediateCertificateAuthority,
  renewalTime,
} from '@zonekeeper/cert-issuer';
import {
  CERT_MANAGER_OBJECT_NAMES,
  renderCertManager,
  renderTrustBundle,
  trustBundleName,
} from '@zonekeeper/cert-issuer/cert-manager';
import {
  type CallOptions,
  type ClusterClient,
  describeRef,
  describeValue,
  hasErrorCode,
  invalidInput,
  type KubernetesObject,
  type ObjectRef,
  refOf,
  validateDnsLabel,
  ZONEKEEPER_MANAGER,
  ZonekeeperError,
  ZonekeeperLabels,
} from '@zonekeeper/core';
import { planApply } from '@zonekeeper/externaldns-deployer';
import {
  applyZoneIdentityPlan,
  type CurrentZoneIdentity,
  desiredAcmeIdentity,
  gatherZoneIdentity,
  planZoneIdentity,
  type ZoneIdentityPlan,
} from '@zonekeeper/iam-scoper';
import {
  type AccessKeyRef,
  readClusterSettings,
  readIntermediateCertificateAuthority,
  type StoredAccessKey,
  type StoredCertificateAuthority,
  writeIntermediateCertificateAuthority,
} from '@zonekeeper/vault-keys';
import type { OrganizationZone } from '@zonekeeper/zone-manager';
import type { Context } from '../context.js';
import { applyCredentialsPlan, type GatheredCredentials, gatherCredentials } from '../credentials/apply.js';
import { type CredentialsPlan, planCredentials } from '../credentials/plan.js';
import type { OrganizationNames } from '../names.js';
import type { CertManagerSettings, ClusterCertificateMode } from '../results.js';
import type { RecordedClusterSettings } from './externaldns.js';

/** The cert-manager settings as recorded (validated, defaults filled in; secret-free JSON). @internal */
export interface RecordedCertManager {
  readonly namespaces: readonly string[];
  /** The ACME `Issuer` (absent: none). */
  readonly acme?: { readonly server: string; readonly email?: string; readonly caBundlePem?: string };
  /** The CA `Issuer`, backed by the name-constrained intermediate. */
  readonly ca: boolean;
  readonly approverPolicy: boolean;
  /** Render a trust-manager `Bundle` of the organisation's CA for the namespaces. */
  readonly trustBundle: boolean;
  readonly serviceAccount: { readonly namespace: string; readonly name: string };
}

const MAX_NAMESPACES = 100;

/**
 * Validates the cert-manager part of an attach's input (before anything is read): the mode, and the
 * settings' shape. `undefined` for both: keep what is recorded.
 * @throws `INVALID_INPUT`.
 * @internal
 */
export function validateCertManagerInput(
  mode: unknown,
  settings: unknown,
): { readonly mode: ClusterCertificateMode | undefined; readonly settings: CertManagerSettings | undefined } {
  if (mode !== undefined && mode !== 'zonekeeper' && mode !== 'cert-manager')
    throw invalidInput(`certificateMode must be "zonekeeper" or "cert-manager", got ${describeValue(mode)}.`);
  if (settings === undefined) return { mode, settings: undefined };
  if (mode === 'zonekeeper')
    throw invalidInput('certManager settings need certificateMode "cert-manager" (or no certificateMode).');
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings))
    throw invalidInput(`certManager must be an object, got ${describeValue(settings)}.`);
  const s = settings as CertManagerSettings;
  if (!Array.isArray(s.namespaces) || s.namespaces.length === 0 || s.namespaces.length > MAX_NAMESPACES)
    throw invalidInput(
      `certManager.namespaces must list 1 to ${MAX_NAMESPACES} tenant namespaces, got ${describeValue(s.namespaces)}.`,
    );
  for (const [i, n] of s.namespaces.entries()) validateDnsLabel(n, `certManager.namespaces[${i}]`);
  if (new Set(s.namespaces).size !== s.namespaces.length)
    throw invalidInput('certManager.namespaces lists a namespace twice.');
  if (s.acme !== undefined && s.acme !== false && (typeof s.acme !== 'object' || s.acme === null))
    throw invalidInput(`certManager.acme must be an object or false, got ${describeValue(s.acme)}.`);
  if (s.ca !== undefined && typeof s.ca !== 'boolean')
    throw invalidInput(`certManager.ca must be a boolean, got ${describeValue(s.ca)}.`);
  if (s.acme === false && s.ca !== true)
    throw invalidInput('certManager needs an ACME issuer, a CA issuer (ca: true) or both.');
  if (s.approverPolicy !== undefined && typeof s.approverPolicy !== 'boolean')
    throw invalidInput(
      `certManager.approverPolicy must be a boolean, got ${describeValue(s.approverPolicy)}.`,
    );
  if (s.trustBundle !== undefined && typeof s.trustBundle !== 'boolean')
    throw invalidInput(`certManager.trustBundle must be a boolean, got ${describeValue(s.trustBundle)}.`);
  return { mode: 'cert-manager', settings: s };
}

/**
 * The settings a cluster ends up with: the given ones (defaults from the platform's ACME directory),
 * else the recorded ones; `undefined` in `zonekeeper` mode. Checked by rendering them with a stand-in
 * key, so a bad ACME URL or e-mail is refused before any write.
 * @throws `INVALID_INPUT`.
 * @internal
 */
export function resolveCertManager(
  ctx: Context,
  names: OrganizationNames,
  input: {
    readonly mode: ClusterCertificateMode | undefined;
    readonly settings: CertManagerSettings | undefined;
  },
  recorded: RecordedCertManager | undefined,
): RecordedCertManager | undefined {
  const mode = input.mode ?? (recorded ? 'cert-manager' : 'zonekeeper');
  if (mode === 'zonekeeper') return undefined;
  if (!input.settings) {
    if (recorded) return recorded;
    throw invalidInput(
      'certificateMode "cert-manager" needs certManager settings (at least the tenant namespaces) on the first attach in that mode.',
    );
  }
  if (ctx.powerdns)
    throw invalidInput(
      'certificateMode "cert-manager" renders a Route 53 DNS-01 solver; the powerdns backend has no Route 53 zone (use issueCertificate with acme instead).',
    );
  const s = input.settings;
  const acme = s.acme === false ? undefined : (s.acme ?? {});
  const server = acme?.server ?? ctx.acme?.directoryUrl;
  if (acme && server === undefined)
    throw invalidInput(
      'certificateMode "cert-manager" needs an ACME directory URL: certManager.acme.server, or the acme setting of createZonekeeper (or acme: false with ca: true).',
    );
  const resolved: RecordedCertManager = {
    namespaces: [...s.namespaces].sort(),
    ...(acme && server
      ? {
          acme: {
            server,
            ...(acme.email === undefined ? {} : { email: acme.email }),
            ...(acme.caBundlePem === undefined ? {} : { caBundlePem: acme.caBundlePem }),
          },
        }
      : {}),
    ca: s.ca ?? false,
    approverPolicy: s.approverPolicy ?? true,
    trustBundle: s.trustBundle ?? false,
    serviceAccount: {
      namespace: s.serviceAccount?.namespace ?? 'cert-manager',
      name: s.serviceAccount?.name ?? 'cert-manager',
    },
  };
  renderObjects(
    names,
    resolved,
    'ZVALIDATIONONLY',
    { accessKeyId: 'AKIAVALIDATIONONLY00', secretAccessKey: 'validation-only-not-a-secret' },
    undefined,
    undefined,
  );
  return resolved;
}

/**
 * The objects of the settings, in apply order: cert-manager's (renderCertManager), then the
 * trust-manager Bundle of the organisation's CA (`caPem`; left out while it is unknown: validation).
 */
function renderObjects(
  names: OrganizationNames,
  settings: RecordedCertManager,
  zoneId: string,
  key: Pick<StoredAccessKey, 'accessKeyId' | 'secretAccessKey'> | undefined,
  caPem: string | undefined,
  intermediate: Pick<StoredCertificateAuthority, 'certificatePem' | 'privateKeyPem'> | undefined,
): KubernetesObject[] {
  const a = settings.acme;
  // Validation renders without a CA (the intermediate exists only once applied): ACME stands in.
  const acme = a ?? (intermediate ? undefined : { server: 'https://acme.invalid/directory' });
  const objects = renderCertManager({
    organization: names.organization,
    zoneName: names.zoneName,
    namespaces: settings.namespaces,
    approverPolicy: settings.approverPolicy,
    certManagerServiceAccount: settings.serviceAccount,
    ...(acme
      ? {
          acme: {
            server: acme.server,
            ...(a?.email === undefined ? {} : { email: a.email }),
            ...(a?.caBundlePem === undefined ? {} : { caBundlePem: a.caBundlePem }),
            hostedZoneId: zoneId,
            accessKeyId: key?.accessKeyId ?? 'AKIAVALIDATIONONLY00',
            secretAccessKey: key?.secretAccessKey ?? 'validation-only-not-a-secret',
          },
        }
      : {}),
    ...(settings.ca && intermediate && caPem !== undefined
      ? {
          ca: {
            certificatePem: intermediate.certificatePem,
            privateKeyPem: intermediate.privateKeyPem,
            issuerCertificatePem: caPem,
          },
        }
      : {}),
  });
  return settings.trustBundle && caPem !== undefined
    ? [
        ...objects,
        renderTrustBundle({
          organization: names.organization,
          namespaces: settings.namespaces,
          certificatesPem: [caPem],
        }),
      ]
    : [...objects];
}

/** The objects rendered for the settings, by reference, in apply order (no secret needed). @internal */
export function certManagerRefs(organization: string, settings: RecordedCertManager): ObjectRef[] {
  const N = CERT_MANAGER_OBJECT_NAMES;
  const refs: ObjectRef[] = [];
  if (settings.approverPolicy)
    refs.push(
      {
        apiVersion: 'policy.cert-manager.io/v1alpha1',
        kind: 'CertificateRequestPolicy',
        name: `zonekeeper-${organization}`,
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        name: `zonekeeper-${organization}-certificate-policy`,
      },
    );
  for (const namespace of settings.namespaces) {
    if (settings.acme)
      refs.push(
        { apiVersion: 'v1', kind: 'Secret', name: N.route53Credentials, namespace },
        { apiVersion: 'cert-manager.io/v1', kind: 'Issuer', name: N.acmeIssuer, namespace },
      );
    if (settings.ca)
      refs.push(
        { apiVersion: 'v1', kind: 'Secret', name: N.caSecret, namespace },
        { apiVersion: 'cert-manager.io/v1', kind: 'Issuer', name: N.caIssuer, namespace },
      );
    if (settings.approverPolicy)
      refs.push({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        name: N.policyRoleBinding,
        namespace,
      });
  }
  if (settings.trustBundle)
    refs.push({
      apiVersion: 'trust.cert-manager.io/v1alpha1',
      kind: 'Bundle',
      name: trustBundleName(organization),
    });
  return refs;
}

/** What the cert-manager part of an attach reads. Holds the stored key (a secret): internal. */
export interface CertManagerState {
  readonly recorded?: RecordedCertManager;
  /** Tenant namespaces of the desired settings that do not exist. */
  readonly missingNamespaces: readonly string[];
  /** Every object at a desired or recorded name, by `describeRef`. */
  readonly live: ReadonlyMap<string, KubernetesObject | undefined>;
  readonly identity?: {
    readonly current: CurrentZoneIdentity;
    readonly credentials: GatheredCredentials;
  };
  /** The stored intermediate CA (with its key: never logged), when the CA issuer is wanted. */
  readonly intermediate?: StoredCertificateAuthority;
  /**
   * The organisation's other clusters in cert-manager mode with an ACME issuer: a new ACME key is
   * published to them (their Route 53 credentials Secrets) before the old one is gone.
   */
  readonly consumers: readonly {
    readonly clusterId: string;
    readonly settings: RecordedCertManager;
    /** The access key id in each of its Route 53 credentials Secrets (`null`: missing). */
    readonly keyIds: readonly (string | null)[];
  }[];
}

/** The ACME identity's key in the store. @internal */
export function acmeKeyRef(organization: string): AccessKeyRef {
  return { organization, purpose: 'acme-challenge' };
}

/**
 * Reads what the cert-manager part of an attach needs. Reads only.
 * @internal
 */
export async function gatherCertManager(
  ctx: Context,
  names: OrganizationNames,
  desired: RecordedCertManager | undefined,
  recorded: RecordedCertManager | undefined,
  client: ClusterClient,
  others: readonly string[],
  call: CallOptions,
): Promise<CertManagerState> {
  const missingNamespaces: string[] = [];
  const live = new Map<string, KubernetesObject | undefined>();
  if (desired)
    for (const namespace of desired.namespaces)
      if (!(await client.get({ apiVersion: 'v1', kind: 'Namespace', name: namespace }, call)))
        missingNamespaces.push(namespace);
  const refs = [
    ...(desired ? certManagerRefs(names.organization, desired) : []),
    ...(recorded ? certManagerRefs(names.organization, recorded) : []),
  ];
  for (const ref of refs) {
    const key = describeRef(ref);
    if (live.has(key)) continue;
    const ns = ref.namespace;
    // A namespace that does not exist holds nothing (and a CRD that is not installed serves nothing).
    if (ns !== undefined && missingNamespaces.includes(ns)) {
      live.set(key, undefined);
      continue;
    }
    try {
      live.set(key, await client.get(ref, call));
    } catch (error) {
      if (!hasErrorCode(error, 'NOT_FOUND')) throw error;
      live.set(key, undefined);
    }
  }
  const consumers: CertManagerState['consumers'][number][] = [];
  if (desired?.acme)
    for (const clusterId of [...others].sort()) {
      const recordedThere = (
        (
          await readClusterSettings(ctx.ports.secrets, names.organization, clusterId, {
            ...ctx.layout,
            ...call,
          })
        )?.settings as RecordedClusterSettings | undefined
      )?.certManager as RecordedCertManager | undefined;
      if (!recordedThere?.acme) continue;
      // Which key each of its Secrets holds (an id, not a secret): a crash between storing a new key
      // and publishing it is found here, and the key published by the next run.
      const there = await ctx.ports.cluster(clusterId);
      const keyIds: (string | null)[] = [];
      for (const namespace of recordedThere.namespaces) {
        const ref = {
          apiVersion: 'v1',
          kind: 'Secret',
          namespace,
          name: CERT_MANAGER_OBJECT_NAMES.route53Credentials,
        };
        const secret = await there.get(ref, call).catch((error: unknown) => {
          if (hasErrorCode(error, 'NOT_FOUND')) return undefined;
          throw error;
        });
        const id = (secret?.data as Record<string, string> | undefined)?.['access-key-id'];
        keyIds.push(id === undefined ? null : Buffer.from(id, 'base64').toString('utf8'));
      }
      consumers.push({ clusterId, settings: recordedThere, keyIds });
    }
  let identity: CertManagerState['identity'];
  const intermediate = desired?.ca
    ? await readIntermediateCertificateAuthority(ctx.ports.secrets, names.organization, {
        ...ctx.layout,
        ...call,
      })
    : undefined;
  if (desired?.acme) {
    const wanted = acmeNames(ctx, names);
    const current = await gatherZoneIdentity(wanted, ctx.ports.identity, call);
    const credentials = await gatherCredentials(
      ctx,
      acmeKeyRef(names.organization),
      wanted.userName,
      current.user !== undefined,
      consumers.map((c) => c.clusterId),
      call,
    );
    identity = { current, credentials };
  }
  return {
    ...(recorded ? { recorded } : {}),
    missingNamespaces,
    live,
    ...(identity ? { identity } : {}),
    ...(intermediate ? { intermediate } : {}),
    consumers,
  };
}

function acmeNames(ctx: Context, names: OrganizationNames): { userName: string; policyName: string } {
  const d = desiredAcmeIdentity({
    baseDomain: ctx.baseDomain,
    organization: names.organization,
    zoneName: names.zoneName,
    zoneId: null,
  });
  return { userName: d.userName, policyName: d.policyName };
}

/** The cert-manager part of an attach plan. JSON data. @internal */
export interface CertManagerPlan {
  readonly settings: RecordedCertManager | null;
  readonly acmeIdentity: {
    readonly userName: string;
    readonly identity: ZoneIdentityPlan;
    readonly credentials: CredentialsPlan;
  } | null;
  /** The CA issuer's intermediate: kept as stored, or issued (none, expiring, or of a replaced CA). */
  readonly intermediate: 'keep' | 'issue' | null;
  /** Whether the rendered objects need applying (some are missing or differ, or the key is new). */
  readonly apply: boolean;
  /**
   * The organisation's other cert-manager clusters whose Route 53 Secrets do not hold the stored key
   * (a new key of this plan reaches them through the key plan's `publish-key` instead).
   */
  readonly publish: readonly string[];
  /** Recorded objects no longer rendered that the cluster holds (ours, this organisation's). */
  readonly remove: readonly ObjectRef[];
}

/** Whether an object at one of our names is ours and this organisation's. */
function refuseForeign(object: KubernetesObject, organization: string, clusterName: string): void {
  const labels = object.metadata.labels ?? {};
  const ref = describeRef(refOf(object));
  if (labels[ZonekeeperLabels.managedBy] !== ZONEKEEPER_MANAGER)
    throw new ZonekeeperError(
      'NOT_OWNED',
      `Kubernetes: ${ref} in cluster ${clusterName} exists and is not managed by zonekeeper; refusing to take it over. Remove it, or choose other tenant namespaces.`,
      { details: { ref, cluster: clusterName } },
    );
  const owner = labels[ZonekeeperLabels.organization];
  if (owner !== organization)
    throw new ZonekeeperError(
      'NOT_OWNED',
      `Kubernetes: ${ref} in cluster ${clusterName} belongs to organisation ${owner ?? '(none)'}, not ${organization}; zonekeeper never replaces another organisation's objects.`,
      { details: { ref, cluster: clusterName, ...(owner ? { organization: owner } : {}) } },
    );
}

/**
 * Plans the cert-manager part of an attach. Pure.
 * @throws `NOT_FOUND` (a tenant namespace that does not exist), `NOT_OWNED` (an object at our names
 *   that is not zonekeeper's or is another organisation's; an IAM user at the ACME identity's name
 *   without zonekeeper's tag), `CONFLICT` (an ACME identity of another organisation or platform).
 * @internal
 */
export function planCertManager(
  ctx: Context,
  names: OrganizationNames,
  desired: RecordedCertManager | undefined,
  state: CertManagerState,
  zoneId: string | null,
  clusterName: string,
  /** The organisation's CA as it is before the plan runs (`undefined`: the plan creates or renews it). */
  caPem: string | undefined,
  ca: {
    /** Whether a CA this plan creates or renews may sign intermediates (`certificates.caPathLength`). */
    readonly createsWithPathLength: boolean;
    readonly now: Date;
  },
): CertManagerPlan {
  if (desired && state.missingNamespaces.length > 0)
    throw new ZonekeeperError(
      'NOT_FOUND',
      `Namespace(s) ${state.missingNamespaces.join(', ')} do not exist in cluster ${clusterName}; create them before giving them cert-manager issuers (nothing was written).`,
      { details: { cluster: clusterName, namespaces: [...state.missingNamespaces] } },
    );
  const wanted = desired ? certManagerRefs(names.organization, desired) : [];
  const wantedKeys = new Set(wanted.map(describeRef));
  // What will be applied must be ours (or absent); what is only recorded is removed only if it still is.
  for (const ref of wanted) {
    const object = state.live.get(describeRef(ref));
    if (object) refuseForeign(object, names.organization, clusterName);
  }
  const remove = (state.recorded ? certManagerRefs(names.organization, state.recorded) : []).filter((r) => {
    if (wantedKeys.has(describeRef(r))) return false;
    const labels = state.live.get(describeRef(r))?.metadata.labels;
    return (
      labels?.[ZonekeeperLabels.managedBy] === ZONEKEEPER_MANAGER &&
      labels[ZonekeeperLabels.organization] === names.organization
    );
  });
  if (!desired)
    return { settings: null, acmeIdentity: null, intermediate: null, apply: false, publish: [], remove };

  let intermediate: CertManagerPlan['intermediate'] = null;
  if (desired.ca) {
    const refuse = (why: string) =>
      new ZonekeeperError(
        'INVALID_INPUT',
        `cert-manager's CA issuer for ${names.organization} needs an organisation CA that may sign an intermediate, and ${why}. Set certificates.caPathLength: 1 (CAs created or renewed from then on allow one), or attach with certManager.ca: false. Nothing was written.`,
        { details: { organization: names.organization } },
      );
    if (caPem === undefined && !ca.createsWithPathLength)
      throw refuse('the CA this attach creates or renews would have pathlen:0');
    if (caPem !== undefined && !canSignIntermediates(caPem)) throw refuse('its CA has pathlen:0');
    intermediate =
      caPem === undefined || !state.intermediate || !issuedBy(state.intermediate.certificatePem, caPem)
        ? 'issue'
        : ca.now.getTime() >= renewalTime(state.intermediate).getTime()
          ? 'issue'
          : 'keep';
  }
  if (!desired.acme) {
    let apply = true;
    if (zoneId !== null && intermediate === 'keep') {
      const objects = renderObjects(names, desired, zoneId, undefined, caPem, state.intermediate);
      apply = planApply(objects, state.live, clusterName).steps.length > 0;
    }
    return { settings: desired, acmeIdentity: null, intermediate, apply, publish: [], remove };
  }

  const identityDesired = desiredAcmeIdentity({
    baseDomain: ctx.baseDomain,
    organization: names.organization,
    zoneName: names.zoneName,
    zoneId,
  });
  const identityState = state.identity;
  const facts = identityState?.credentials.facts ?? {
    userName: identityDesired.userName,
    iamKeys: null,
    consumers: state.consumers.map((c) => c.clusterId),
  };
  const acmeIdentity = {
    userName: identityDesired.userName,
    identity: planZoneIdentity(identityState?.current ?? { policyNames: [] }, identityDesired),
    credentials: planCredentials(facts, 'ensure'),
  };
  const key = acmeIdentity.credentials.steps.some((s) => s.op === 'issue-key')
    ? undefined
    : identityState?.credentials.stored;
  let apply = true;
  if (zoneId !== null && key && (caPem !== undefined || !desired.trustBundle) && intermediate !== 'issue') {
    const objects = renderObjects(names, desired, zoneId, key, caPem, state.intermediate);
    apply = planApply(objects, state.live, clusterName).steps.length > 0;
  }
  const publish = key
    ? state.consumers.filter((c) => c.keyIds.some((id) => id !== key.accessKeyId)).map((c) => c.clusterId)
    : [];
  return { settings: desired, acmeIdentity, intermediate, apply, publish, remove };
}

/** Whether a certificate was signed by a CA certificate. */
function issuedBy(certificatePem: string, caPem: string): boolean {
  try {
    const cert = new X509Certificate(certificatePem);
    const ca = new X509Certificate(caPem);
    return cert.checkIssued(ca) && cert.verify(ca.publicKey);
  } catch {
    return false;
  }
}

/** The intermediate's common name: `<org> cert-manager CA`, or the organisation name when too long. */
function intermediateCommonName(organization: string): string {
  const long = `${organization} cert-manager CA`;
  return long.length <= 64 ? long : organization;
}

/** Whether the cert-manager part plans nothing. @internal */
export function isEmptyCertManagerPlan(plan: CertManagerPlan): boolean {
  return (
    !plan.apply &&
    plan.publish.length === 0 &&
    plan.intermediate !== 'issue' &&
    plan.remove.length === 0 &&
    (plan.acmeIdentity?.identity.steps.length ?? 0) === 0 &&
    (plan.acmeIdentity?.credentials.steps.length ?? 0) === 0
  );
}

/** Deletes objects by reference; one already gone is fine. */
export async function deleteObjects(
  client: ClusterClient,
  refs: readonly ObjectRef[],
  call: CallOptions,
): Promise<void> {
  // Issuers before the Secrets they read, cluster-scoped policy last: the reverse of apply order.
  for (const ref of [...refs].reverse()) {
    call.signal?.throwIfAborted();
    try {
      await client.delete(ref, call);
    } catch (error) {
      if (!hasErrorCode(error, 'NOT_FOUND')) throw error;
    }
  }
}

/**
 * Applies the cert-manager part of an attach plan: the ACME identity, its key (IAM, then the store),
 * the objects, then the removal of what is no longer rendered.
 * @internal
 */
export async function applyCertManagerPlan(
  ctx: Context,
  names: OrganizationNames,
  plan: CertManagerPlan,
  state: CertManagerState,
  zone: OrganizationZone,
  ca: StoredCertificateAuthority | undefined,
  client: ClusterClient,
  call: CallOptions,
): Promise<void> {
  const caPem = ca?.certificatePem;
  if (plan.settings) {
    let key: StoredAccessKey | undefined;
    if (plan.acmeIdentity) key = await ensureAcmeIdentity(ctx, names, plan, state, zone, call);
    let intermediate = state.intermediate;
    if (plan.intermediate === 'issue') {
      if (!ca)
        throw new ZonekeeperError(
          'INTERNAL',
          `zonekeeper: organisation ${names.organization} has no CA after ensuring it; run attachCluster again.`,
        );
      intermediate = await storeIntermediate(ctx, names, ca, state.intermediate, call);
    }
    if (plan.settings.trustBundle && caPem === undefined)
      throw new ZonekeeperError(
        'INTERNAL',
        `zonekeeper: organisation ${names.organization} has no CA after ensuring it; run attachCluster again.`,
      );
    const objects = renderObjects(names, plan.settings, zone.id, key, caPem, intermediate);
    const live = new Map<string, KubernetesObject | undefined>();
    for (const o of objects) {
      const ref = describeRef(refOf(o));
      live.set(ref, state.live.get(ref));
    }
    const changed = new Set(planApply(objects, live, client.name).steps.map((s) => describeRef(s.ref)));
    for (const o of objects) {
      call.signal?.throwIfAborted();
      const ref = describeRef(refOf(o));
      if (changed.has(ref)) await client.apply(o, call);
    }
  }
  if (plan.remove.length > 0) await deleteObjects(client, plan.remove, call);
}

/** The ACME identity and its key (IAM, then the store); returns the stored key. */
async function ensureAcmeIdentity(
  ctx: Context,
  names: OrganizationNames,
  plan: CertManagerPlan,
  state: CertManagerState,
  zone: OrganizationZone,
  call: CallOptions,
): Promise<StoredAccessKey> {
  const desired = desiredAcmeIdentity({
    baseDomain: ctx.baseDomain,
    organization: names.organization,
    zoneName: names.zoneName,
    zoneId: zone.id,
  });
  const steps = plan.acmeIdentity;
  if (!steps) throw new ZonekeeperError('INTERNAL', 'zonekeeper: the ACME identity was not planned.');
  await applyZoneIdentityPlan(steps.identity, desired, ctx.deps.identity, call);
  const gathered = state.identity?.credentials ?? {
    facts: { userName: desired.userName, iamKeys: null, consumers: [] },
  };
  // The other cert-manager clusters get a new key through `publish-key`; this attach applies it to its
  // own cluster afterwards.
  const key = await applyCredentialsPlan(
    ctx,
    steps.credentials,
    acmeKeyRef(names.organization),
    gathered,
    (clusterIds, k, c) => publishAcmeKey(ctx, names, state, zone, clusterIds, k, c),
    call,
  );
  if (!key)
    throw new ZonekeeperError(
      'INTERNAL',
      `zonekeeper: no ACME identity key for ${names.organization} after ensuring it; run attachCluster again.`,
    );
  if (plan.publish.length > 0) await publishAcmeKey(ctx, names, state, zone, plan.publish, key, call);
  return key;
}

/** Applies the ACME key's Route 53 credentials Secrets to other cert-manager clusters of the organisation. */
async function publishAcmeKey(
  ctx: Context,
  names: OrganizationNames,
  state: CertManagerState,
  zone: OrganizationZone,
  clusterIds: readonly string[],
  key: StoredAccessKey,
  call: CallOptions,
): Promise<void> {
  for (const clusterId of clusterIds) {
    const consumer = state.consumers.find((x) => x.clusterId === clusterId);
    if (!consumer) continue;
    const target = await ctx.ports.cluster(clusterId);
    const secrets = renderObjects(names, consumer.settings, zone.id, key, undefined, undefined).filter(
      (o) => o.kind === 'Secret' && o.metadata.name === CERT_MANAGER_OBJECT_NAMES.route53Credentials,
    );
    for (const secret of secrets) await target.apply(secret, call);
    ctx.logger.info(
      `zonekeeper: published the ACME identity key of ${names.organization} to cluster ${clusterId}.`,
    );
  }
}

/**
 * Issues the intermediate for cert-manager's CA issuer (signed by the organisation's CA, pathlen:0,
 * name constraints = the zone) and stores it with check-and-set before anything renders it: a crash
 * after the store write leaves an intermediate the next run keeps; a concurrent writer's is adopted.
 */
async function storeIntermediate(
  ctx: Context,
  names: OrganizationNames,
  ca: StoredCertificateAuthority,
  stored: StoredCertificateAuthority | undefined,
  call: CallOptions,
): Promise<StoredCertificateAuthority> {
  const at = { ...ctx.layout, ...call };
  const issued = await issueIntermediateCertificateAuthority(ca, {
    commonName: intermediateCommonName(names.organization),
    permittedDnsDomains: [names.zoneName],
    now: ctx.clock.now(),
    ...(ctx.certificates?.keyAlgorithm ? { keyAlgorithm: ctx.certificates.keyAlgorithm } : {}),
  });
  const toStore = {
    certificatePem: issued.certificatePem,
    privateKeyPem: issued.privateKeyPem,
    notBefore: issued.notBefore,
    notAfter: issued.notAfter,
    serialNumber: issued.serialNumber,
  };
  try {
    const { version } = await writeIntermediateCertificateAuthority(
      ctx.ports.secrets,
      names.organization,
      toStore,
      { ...at, cas: stored?.version ?? 0 },
    );
    ctx.logger.info(
      `zonekeeper: issued cert-manager's intermediate CA for ${names.organization} (serial ${issued.serialNumber}).`,
    );
    return { ...toStore, version };
  } catch (error) {
    if (!hasErrorCode(error, 'CONFLICT')) throw error;
    const now = await readIntermediateCertificateAuthority(ctx.ports.secrets, names.organization, at);
    if (!now) throw error;
    return now;
  }
}
