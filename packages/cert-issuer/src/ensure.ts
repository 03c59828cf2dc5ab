/**
 * Gather → plan → apply around the crypto core: an organisation's CA and its server certificates live in
 * the secret store (Vault), are issued or renewed when due, and are injected into clusters as
 * `kubernetes.io/tls` Secrets (`tls.crt` = chain, `tls.key`, `ca.crt`) with server-side apply.
 *
 * The CA private key never leaves the secret store except to sign, and is never written into a cluster.
 *
 * ```
 *  certificate state                          plan
 *  none stored                                issue (reason: missing)
 *  names differ from the requested ones       issue (reason: names-changed)
 *  signed by another CA than the current one  issue (reason: ca-changed)
 *  now ≥ renewalTime(cert)                    issue (reason: renewal-due)
 *  otherwise                                  —
 *  cluster Secret missing or different        apply-secret
 * ```
 *
 * Name constraints: a CA created (or renewed) with `permittedDnsDomain` — {@link ensureCertificate}
 * passes its `withinDomain`, the organisation's zone — carries critical X.509 name constraints for that
 * zone. An existing CA without them is **kept**, not re-issued: replacing a CA replaces the trust anchor
 * every client of the organisation already has (`ca.crt` of every Secret, trust bundles) and re-issues
 * every certificate, which a routine ensure must not do behind the operator's back. It gains the
 * constraints at its next renewal; `ca.permittedDnsDomains` in the result shows which CAs lack them.
 *
 * @packageDocumentation
 */

import {
  applySteps,
  type CallOptions,
  type ClusterClient,
  describeRef,
  describeValue,
  type EnsureOptions,
  ensure,
  hasErrorCode,
  invalidInput,
  isWithinDomain,
  type KubernetesObject,
  noopLogger,
  normalizeDomainName,
  normalizeHostname,
  type RuntimeDeps,
  signalOnly,
  systemClock,
  validateDnsLabel,
  validateOrganizationName,
  ZONEKEEPER_MANAGER,
  ZonekeeperError,
  ZonekeeperLabels,
} from '@zonekeeper/core';
import {
  readCertificate,
  readCertificateAuthority,
  type SecretStore,
  type StoredCertificate,
  type StoredCertificateAuthority,
  writeCertificate,
  writeCertificateAuthority,
} from '@zonekeeper/vault-keys';
import {
  certificateDefaults,
  createCertificateAuthority,
  issueServerCertificate,
  type KeyAlgorithm,
  permittedDnsDomainsOfCertificate,
  renewalTime,
} from './certificates.js';

/** Dependencies of the ensure functions. @public */
export interface CertificateDeps extends RuntimeDeps {
  /** Where CAs and certificates are kept. */
  readonly secrets: SecretStore;
  /** Secret path prefix (default `zonekeeper`). */
  readonly secretPrefix?: string;
  /**
   * The platform the secrets belong to (its base domain): secrets are marked with it, and a secret of
   * another platform at the same path is `NOT_OWNED` (see `@zonekeeper/vault-keys`).
   */
  readonly secretOwner?: string;
}

/** Public facts about a CA or certificate (never the private key). @public */
export interface CertificateSummary {
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** When it should be renewed (`renewalTime`). */
  readonly renewAt: Date;
}

/** A step of {@link ensureCertificateAuthority}. @public */
export type CertificateAuthorityStep = {
  readonly op: 'create-ca' | 'renew-ca';
  readonly organization: string;
  readonly commonName: string;
  /** The domain the new CA's name constraints permit (absent: no constraints). */
  readonly permittedDnsDomain?: string;
};

/** Input of {@link ensureCertificateAuthority}. @public */
export interface EnsureCertificateAuthorityInput {
  readonly organization: string;
  /** Default `<organization> zonekeeper CA`. */
  readonly commonName?: string;
  /** Default 3650. */
  readonly validityDays?: number;
  /** Default `ECDSA_P256`. */
  readonly keyAlgorithm?: KeyAlgorithm;
  /**
   * The organisation's zone: a CA created or renewed by this call carries critical name constraints
   * permitting only names in it. An existing CA without constraints is kept until its renewal (see the
   * module notes). Default: no constraints.
   */
  readonly permittedDnsDomain?: string;
  /**
   * The basic constraints path length of a CA created or renewed by this call: `0` (default) signs
   * server certificates only; `1` also signs intermediates (cert-manager's CA `Issuer`).
   */
  readonly pathLength?: 0 | 1;
}

/** A CA as {@link ensureCertificateAuthority} reports it. @public */
export interface CertificateAuthoritySummary extends CertificateSummary {
  readonly certificatePem: string;
  /** The DNS domains its name constraints permit; absent when it has no name constraints. */
  readonly permittedDnsDomains?: readonly string[];
}

/** Result of {@link ensureCertificateAuthority}. @public */
export interface EnsureCertificateAuthorityResult {
  readonly plan: { readonly steps: readonly CertificateAuthorityStep[] };
  readonly dryRun: boolean;
  /** The CA in effect after the run (absent in a dry run that would create it). */
  readonly ca?: CertificateAuthoritySummary;
}

function summary(c: { serialNumber: string; notBefore: Date; notAfter: Date }): CertificateSummary {
  return {
    serialNumber: c.serialNumber,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    renewAt: renewalTime(c),
  };
}

function layout(deps: CertificateDeps): { prefix?: string; owner?: string } {
  return {
    ...(deps.secretPrefix === undefined ? {} : { prefix: deps.secretPrefix }),
    ...(deps.secretOwner === undefined ? {} : { owner: deps.secretOwner }),
  };
}

/** A plan of {@link planCertificateAuthority}. JSON data. @public */
export interface CertificateAuthorityPlan {
  readonly steps: readonly CertificateAuthorityStep[];
}

/**
 * The default common name of an organisation's CA: `<organization> zonekeeper CA`, or the organisation
 * name alone when that would exceed X.509's 64-character limit (an organisation name has at most 63).
 * @public
 */
export function defaultCaCommonName(organization: string): string {
  const org = validateOrganizationName(organization);
  const long = `${org} zonekeeper CA`;
  return long.length <= MAX_COMMON_NAME_LENGTH ? long : org;
}

/** X.509's upper bound on a common name (RFC 5280 `ub-common-name`). @public */
export const MAX_COMMON_NAME_LENGTH = 64;

/** The validated common name of a CA input. */
function caCommonName(input: EnsureCertificateAuthorityInput): string {
  const commonName = input.commonName ?? defaultCaCommonName(input.organization);
  if (typeof commonName !== 'string' || commonName.length === 0 || commonName.length > MAX_COMMON_NAME_LENGTH)
    throw invalidInput(
      `CA common name must be 1–${MAX_COMMON_NAME_LENGTH} characters, got ${typeof commonName === 'string' ? `${commonName.length} characters` : describeValue(commonName)}.`,
    );
  return commonName;
}

/**
 * Plans {@link ensureCertificateAuthority}: `create-ca` when none is stored, `renew-ca` once its renewal
 * time has come, nothing otherwise. Pure.
 * @public
 */
export function planCertificateAuthority(
  stored: Pick<StoredCertificateAuthority, 'notBefore' | 'notAfter'> | undefined,
  desired: {
    readonly organization: string;
    readonly commonName: string;
    readonly permittedDnsDomain?: string;
  },
  now: Date,
): CertificateAuthorityPlan {
  const { organization, commonName, permittedDnsDomain } = desired;
  const step = {
    organization,
    commonName,
    ...(permittedDnsDomain === undefined ? {} : { permittedDnsDomain }),
  };
  if (!stored) return { steps: [{ op: 'create-ca', ...step }] };
  if (now.getTime() >= renewalTime(stored).getTime()) return { steps: [{ op: 'renew-ca', ...step }] };
  return { steps: [] };
}

/**
 * Reads the organisation's stored CA (with its private key: never log the result).
 * @public
 */
export async function gatherCertificateAuthority(
  organization: string,
  deps: CertificateDeps,
  options: CallOptions = {},
): Promise<StoredCertificateAuthority | undefined> {
  return readCertificateAuthority(deps.secrets, validateOrganizationName(organization), {
    ...layout(deps),
    ...signalOnly(options),
  });
}

/** The public facts of a CA, for results. @public */
export function certificateAuthoritySummary(
  ca: Pick<StoredCertificateAuthority, 'serialNumber' | 'notBefore' | 'notAfter' | 'certificatePem'>,
): CertificateAuthoritySummary {
  const permitted = permittedDnsDomainsOfCertificate(ca.certificatePem);
  return {
    ...summary(ca),
    certificatePem: ca.certificatePem,
    ...(permitted === undefined ? {} : { permittedDnsDomains: permitted }),
  };
}

/**
 * Executes a plan of {@link planCertificateAuthority}: creates the CA and stores it with check-and-set
 * (a concurrent writer that stored one first wins: its CA is adopted). Returns the CA in effect.
 * @public
 */
export async function applyCertificateAuthorityPlan(
  plan: CertificateAuthorityPlan,
  stored: StoredCertificateAuthority | undefined,
  input: EnsureCertificateAuthorityInput,
  deps: CertificateDeps,
  options: CallOptions = {},
): Promise<StoredCertificateAuthority | undefined> {
  const organization = validateOrganizationName(input.organization);
  const clock = deps.clock ?? systemClock;
  const opts = { ...layout(deps), ...signalOnly(options) };
  let current: StoredCertificateAuthority | undefined = stored;
  await applySteps(
    plan.steps,
    async (step) => {
      const ca = await createCertificateAuthority({
        commonName: step.commonName,
        validityDays: input.validityDays ?? certificateDefaults.caValidityDays,
        keyAlgorithm: input.keyAlgorithm ?? certificateDefaults.keyAlgorithm,
        now: clock.now(),
        ...(step.permittedDnsDomain === undefined ? {} : { permittedDnsDomains: [step.permittedDnsDomain] }),
        ...(input.pathLength === undefined ? {} : { pathLength: input.pathLength }),
      });
      try {
        const { version } = await writeCertificateAuthority(deps.secrets, organization, ca, {
          ...opts,
          cas: stored?.version ?? 0,
        });
        current = { ...ca, version };
      } catch (error) {
        if (!hasErrorCode(error, 'CONFLICT')) throw error;
        // Another writer stored a CA first: adopt it, drop ours.
        current = await readCertificateAuthority(deps.secrets, organization, opts);
      }
    },
    { ...signalOnly(options), logger: deps.logger ?? noopLogger },
  );
  return current;
}

/**
 * Ensures the organisation has a CA in the secret store, creating it when missing and renewing it when
 * its renewal time has come. Concurrent callers converge on one CA (check-and-set: the loser adopts the
 * winner's CA).
 * @public
 */
export async function ensureCertificateAuthority(
  input: EnsureCertificateAuthorityInput,
  deps: CertificateDeps,
  options: EnsureOptions = {},
): Promise<EnsureCertificateAuthorityResult> {
  const organization = validateOrganizationName(input.organization);
  const commonName = caCommonName(input);
  const permittedDnsDomain =
    input.permittedDnsDomain === undefined
      ? undefined
      : normalizeDomainName(input.permittedDnsDomain, 'permittedDnsDomain');
  const desired = {
    organization,
    commonName,
    ...(permittedDnsDomain === undefined ? {} : { permittedDnsDomain }),
  };
  const clock = deps.clock ?? systemClock;
  const outcome = await ensure(
    {
      gather: (call) => gatherCertificateAuthority(organization, deps, call),
      plan: (stored) => planCertificateAuthority(stored, desired, clock.now()),
      apply: (plan, stored, call) =>
        applyCertificateAuthorityPlan(plan, stored, { ...input, commonName }, deps, call),
    },
    options,
  );
  const ca = outcome.dryRun ? outcome.state : outcome.applied;
  return {
    plan: outcome.plan,
    dryRun: outcome.dryRun,
    ...(ca ? { ca: certificateAuthoritySummary(ca) } : {}),
  };
}

/** Where to inject a certificate. @public */
export interface TlsSecretTarget {
  readonly cluster: ClusterClient;
  readonly namespace: string;
  /** Default: the certificate name. */
  readonly secretName?: string;
  /** Extra labels for the Secret (zonekeeper's ownership labels are always set). */
  readonly labels?: Readonly<Record<string, string>>;
}

/** Input of {@link ensureCertificate}. @public */
export interface EnsureCertificateInput {
  readonly organization: string;
  /** The certificate's name in the store, a DNS label (e.g. `web`). */
  readonly name: string;
  /** The SANs; the first is the subject CN. */
  readonly dnsNames: readonly string[];
  /** When set, every name must lie within this domain (e.g. the organisation's zone). */
  readonly withinDomain?: string;
  /** Default 90. */
  readonly validityDays?: number;
  /** Default `ECDSA_P256`. */
  readonly keyAlgorithm?: KeyAlgorithm;
  /** Default 1/3 of the lifetime. */
  readonly renewBeforeFraction?: number;
  /** Inject the certificate as a `kubernetes.io/tls` Secret. */
  readonly target?: TlsSecretTarget;
}

/** Why a certificate is (re)issued. @public */
export type IssueReason = 'missing' | 'names-changed' | 'ca-changed' | 'renewal-due';

/** A step of {@link ensureCertificate}. @public */
export type CertificateStep =
  | {
      readonly op: 'issue-certificate';
      readonly name: string;
      readonly reason: IssueReason;
      readonly dnsNames: readonly string[];
    }
  | {
      readonly op: 'apply-tls-secret';
      readonly cluster: string;
      readonly namespace: string;
      readonly secretName: string;
    };

/** Result of {@link ensureCertificate}. @public */
export interface EnsureCertificateResult {
  readonly plan: { readonly steps: readonly CertificateStep[] };
  readonly dryRun: boolean;
  /** What {@link ensureCertificateAuthority} planned and did first. */
  readonly authority: EnsureCertificateAuthorityResult;
  /** The certificate in effect after the run (absent in a dry run that would issue the first one). */
  readonly certificate?: CertificateSummary & { readonly dnsNames: readonly string[] };
}

const SERIAL_ANNOTATION = 'zonekeeper.io/certificate-serial';

function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/** The `kubernetes.io/tls` Secret of a stored certificate (CA-issued or ACME). @internal */
export function tlsSecret(
  organization: string,
  name: string,
  target: TlsSecretTarget,
  cert: StoredCertificate,
): KubernetesObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: {
      name: target.secretName ?? name,
      namespace: target.namespace,
      labels: {
        ...target.labels,
        [ZonekeeperLabels.managedBy]: ZONEKEEPER_MANAGER,
        [ZonekeeperLabels.organization]: organization,
      },
      annotations: {
        [SERIAL_ANNOTATION]: cert.serialNumber,
        'zonekeeper.io/not-after': cert.notAfter.toISOString(),
      },
    },
    data: { 'tls.crt': b64(cert.chainPem), 'tls.key': b64(cert.privateKeyPem), 'ca.crt': b64(cert.caPem) },
  };
}

/** Whether the cluster's Secret already holds exactly `desired`'s material, as zonekeeper's. @internal */
export function secretMatches(existing: KubernetesObject | undefined, desired: KubernetesObject): boolean {
  if (!existing) return false;
  const a = (existing.data ?? {}) as Record<string, string>;
  const b = desired.data as Record<string, string>;
  return (
    existing.type === desired.type &&
    ['tls.crt', 'tls.key', 'ca.crt'].every((k) => a[k] === b[k]) &&
    existing.metadata.labels?.[ZonekeeperLabels.managedBy] === ZONEKEEPER_MANAGER
  );
}

/** The validated names of an {@link EnsureCertificateInput}. */
function certificateNames(input: EnsureCertificateInput): {
  organization: string;
  name: string;
  dnsNames: string[];
  secretName: string;
} {
  const organization = validateOrganizationName(input.organization);
  const name = validateDnsLabel(input.name, 'Certificate name');
  if (!Array.isArray(input.dnsNames) || input.dnsNames.length === 0)
    throw invalidInput('Certificate dnsNames must be a non-empty array.');
  const dnsNames = [...new Set(input.dnsNames.map((n) => normalizeHostname(n)))];
  if (input.withinDomain !== undefined) {
    const outside = dnsNames.filter(
      (n) => !isWithinDomain(n.replace(/^\*\./, ''), input.withinDomain as string),
    );
    if (outside.length > 0)
      throw invalidInput(
        `Certificate ${name}: ${outside.join(', ')} ${outside.length === 1 ? 'is' : 'are'} not within ${input.withinDomain}.`,
      );
  }
  if (input.target) validateDnsLabel(input.target.namespace, 'Namespace');
  const secretName = input.target?.secretName ?? name;
  if (input.target?.secretName !== undefined) validateDnsLabel(secretName, 'Secret name');
  return { organization, name, dnsNames, secretName };
}

/**
 * Throws `NOT_OWNED` when the target Secret exists without zonekeeper's ownership label, or labelled for
 * another organisation. Pure.
 * @internal
 */
export function assertSecretOwned(
  secret: KubernetesObject | undefined,
  organization: string,
  secretName: string,
  target: TlsSecretTarget | undefined,
): void {
  if (!secret) return;
  const labels = secret.metadata.labels ?? {};
  const foreignOrg =
    labels[ZonekeeperLabels.organization] !== undefined &&
    labels[ZonekeeperLabels.organization] !== organization;
  if (labels[ZonekeeperLabels.managedBy] === ZONEKEEPER_MANAGER && !foreignOrg) return;
  const ref = { apiVersion: 'v1', kind: 'Secret', name: secretName, namespace: target?.namespace ?? '' };
  throw new ZonekeeperError(
    'NOT_OWNED',
    `Kubernetes: ${describeRef(ref)} in cluster ${target?.cluster.name} exists and is ${foreignOrg ? `zonekeeper's for organisation ${labels[ZonekeeperLabels.organization]}, not ${organization}` : 'not managed by zonekeeper'}; refusing to overwrite it.`,
    { details: { cluster: target?.cluster.name, namespace: ref.namespace, name: secretName } },
  );
}

/** What {@link planCertificate} needs, as gathered. It holds private keys: never log it. @public */
export interface CertificateState {
  /** The certificate stored under the name, if any. */
  readonly stored?: StoredCertificate;
  /** The target Secret as the cluster holds it, if any. */
  readonly secret?: KubernetesObject;
}

/** A plan of {@link planCertificate}. JSON data. @public */
export interface CertificatePlan {
  readonly steps: readonly CertificateStep[];
}

/**
 * Reads what {@link planCertificate} needs: the stored certificate and the target Secret.
 * @public
 */
export async function gatherCertificate(
  input: EnsureCertificateInput,
  deps: CertificateDeps,
  options: CallOptions = {},
): Promise<CertificateState> {
  const { organization, name, secretName } = certificateNames(input);
  const call = signalOnly(options);
  const stored = await readCertificate(deps.secrets, organization, name, { ...layout(deps), ...call });
  const secret = input.target
    ? await input.target.cluster.get(
        { apiVersion: 'v1', kind: 'Secret', name: secretName, namespace: input.target.namespace },
        call,
      )
    : undefined;
  return { ...(stored ? { stored } : {}), ...(secret ? { secret } : {}) };
}

/**
 * Plans {@link ensureCertificate}. `caPem` is the certificate of the CA that will sign, or `null` when
 * the surrounding plan creates or renews the CA (then the certificate is re-issued). Pure.
 * @throws `NOT_OWNED` when the target Secret exists without zonekeeper's ownership label, or labelled
 *   for another organisation.
 * @public
 */
export function planCertificate(
  state: CertificateState,
  input: EnsureCertificateInput,
  caPem: string | null,
  now: Date,
): CertificatePlan {
  const { organization, name, dnsNames, secretName } = certificateNames(input);
  const { stored, secret } = state;
  assertSecretOwned(secret, organization, secretName, input.target);
  const reason: IssueReason | undefined = !stored
    ? 'missing'
    : [...stored.dnsNames].sort().join(',') !== [...dnsNames].sort().join(',')
      ? 'names-changed'
      : caPem === null || stored.caPem !== caPem
        ? 'ca-changed'
        : now.getTime() >=
            renewalTime(
              stored,
              input.renewBeforeFraction === undefined
                ? {}
                : { renewBeforeFraction: input.renewBeforeFraction },
            ).getTime()
          ? 'renewal-due'
          : undefined;
  const steps: CertificateStep[] = [];
  if (reason) steps.push({ op: 'issue-certificate', name, reason, dnsNames });
  if (
    input.target &&
    (reason || !stored || !secretMatches(secret, tlsSecret(organization, name, input.target, stored)))
  ) {
    steps.push({
      op: 'apply-tls-secret',
      cluster: input.target.cluster.name,
      namespace: input.target.namespace,
      secretName,
    });
  }
  return { steps };
}

/**
 * Executes a plan of {@link planCertificate}: issues with the organisation's stored CA, stores the
 * certificate with check-and-set, applies the TLS Secret. Returns the certificate in effect.
 * @public
 */
export async function applyCertificatePlan(
  plan: CertificatePlan,
  state: CertificateState,
  input: EnsureCertificateInput,
  deps: CertificateDeps,
  options: CallOptions = {},
): Promise<StoredCertificate | undefined> {
  const { organization, name, dnsNames } = certificateNames(input);
  const clock = deps.clock ?? systemClock;
  const opts = { ...layout(deps), ...signalOnly(options) };
  let current = state.stored;
  await applySteps(
    plan.steps,
    async (step) => {
      if (step.op === 'issue-certificate') {
        const authority = await readCertificateAuthority(deps.secrets, organization, opts);
        if (!authority)
          throw new ZonekeeperError(
            'NOT_FOUND',
            `Certificate authority of ${organization} disappeared while issuing ${name}; run again.`,
            { retry: 'transient' },
          );
        const issued = await issueServerCertificate(authority, {
          dnsNames,
          validityDays: input.validityDays ?? certificateDefaults.leafValidityDays,
          keyAlgorithm: input.keyAlgorithm ?? certificateDefaults.keyAlgorithm,
          now: clock.now(),
        });
        const { version } = await writeCertificate(deps.secrets, organization, name, issued, {
          ...opts,
          cas: state.stored?.version ?? 0,
        });
        current = { ...issued, version };
      } else if (input.target && current) {
        await input.target.cluster.apply(
          tlsSecret(organization, name, input.target, current),
          signalOnly(options),
        );
      }
    },
    { ...signalOnly(options), logger: deps.logger ?? noopLogger },
  );
  return current;
}

/**
 * Ensures a server certificate exists in the secret store for the requested names, issued by the
 * organisation's CA (created if missing), renewed when due, and — with `target` — injected into a
 * cluster as a `kubernetes.io/tls` Secret. A second run with the same input changes nothing.
 * @throws `INVALID_INPUT` for bad names (before anything is read); `NOT_OWNED` when the target Secret
 * exists without zonekeeper's ownership label (or with another organisation's).
 * @public
 */
export async function ensureCertificate(
  input: EnsureCertificateInput,
  deps: CertificateDeps,
  options: EnsureOptions = {},
): Promise<EnsureCertificateResult> {
  certificateNames(input);
  const clock = deps.clock ?? systemClock;
  const authority = await ensureCertificateAuthority(
    {
      organization: input.organization,
      ...(input.withinDomain === undefined ? {} : { permittedDnsDomain: input.withinDomain }),
    },
    deps,
    options,
  );
  // A CA this run creates or renews signs anew: the certificate is re-issued (dry run and real run alike).
  const caPem = authority.plan.steps.length > 0 ? null : (authority.ca?.certificatePem ?? null);
  const outcome = await ensure(
    {
      gather: (call) => gatherCertificate(input, deps, call),
      plan: (state) => planCertificate(state, input, caPem, clock.now()),
      apply: (plan, state, call) => applyCertificatePlan(plan, state, input, deps, call),
    },
    options,
  );
  const current = outcome.dryRun ? outcome.state.stored : outcome.applied;
  return {
    plan: outcome.plan,
    dryRun: outcome.dryRun,
    authority,
    ...(current ? { certificate: { ...summary(current), dnsNames: current.dnsNames } } : {}),
  };
}
