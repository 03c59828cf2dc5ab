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
  type ClusterClient,
  describeRef,
  type EnsureOptions,
  hasErrorCode,
  invalidInput,
  isWithinDomain,
  type KubernetesObject,
  noopLogger,
  normalizeDomainName,
  normalizeHostname,
  type RuntimeDeps,
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

function caSummary(c: {
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  certificatePem: string;
}): CertificateAuthoritySummary {
  const permitted = permittedDnsDomainsOfCertificate(c.certificatePem);
  return {
    ...summary(c),
    certificatePem: c.certificatePem,
    ...(permitted === undefined ? {} : { permittedDnsDomains: permitted }),
  };
}

function summary(c: { serialNumber: string; notBefore: Date; notAfter: Date }): CertificateSummary {
  return {
    serialNumber: c.serialNumber,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    renewAt: renewalTime(c),
  };
}

function layout(deps: CertificateDeps): { prefix?: string } {
  return deps.secretPrefix === undefined ? {} : { prefix: deps.secretPrefix };
}

function signal(options: EnsureOptions): { signal?: AbortSignal } {
  return options.signal === undefined ? {} : { signal: options.signal };
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
  const commonName = input.commonName ?? `${organization} zonekeeper CA`;
  const permitted =
    input.permittedDnsDomain === undefined
      ? undefined
      : normalizeDomainName(input.permittedDnsDomain, 'permittedDnsDomain');
  const clock = deps.clock ?? systemClock;
  const existing = await readCertificateAuthority(deps.secrets, organization, {
    ...layout(deps),
    ...signal(options),
  });
  const now = clock.now();
  const steps: CertificateAuthorityStep[] = [];
  if (!existing) steps.push({ op: 'create-ca', organization, commonName });
  else if (now.getTime() >= renewalTime(existing).getTime())
    steps.push({ op: 'renew-ca', organization, commonName });
  const plan = { steps };
  if (options.dryRun)
    return {
      plan,
      dryRun: true,
      ...(existing ? { ca: caSummary(existing) } : {}),
    };

  let current: StoredCertificateAuthority | undefined = existing;
  await applySteps(
    steps,
    async () => {
      const ca = await createCertificateAuthority({
        commonName,
        validityDays: input.validityDays ?? certificateDefaults.caValidityDays,
        keyAlgorithm: input.keyAlgorithm ?? certificateDefaults.keyAlgorithm,
        now: clock.now(),
        ...(permitted === undefined ? {} : { permittedDnsDomains: [permitted] }),
      });
      try {
        const { version } = await writeCertificateAuthority(deps.secrets, organization, ca, {
          ...layout(deps),
          cas: existing?.version ?? 0,
          ...signal(options),
        });
        current = { ...ca, version };
      } catch (error) {
        if (!hasErrorCode(error, 'CONFLICT')) throw error;
        // Another writer stored a CA first: adopt it, drop ours.
        current = await readCertificateAuthority(deps.secrets, organization, {
          ...layout(deps),
          ...signal(options),
        });
      }
    },
    { ...signal(options), logger: deps.logger ?? noopLogger },
  );
  return {
    plan,
    dryRun: false,
    ...(current ? { ca: caSummary(current) } : {}),
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

function tlsSecret(
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

function secretMatches(existing: KubernetesObject | undefined, desired: KubernetesObject): boolean {
  if (!existing) return false;
  const a = (existing.data ?? {}) as Record<string, string>;
  const b = desired.data as Record<string, string>;
  return (
    existing.type === desired.type &&
    ['tls.crt', 'tls.key', 'ca.crt'].every((k) => a[k] === b[k]) &&
    existing.metadata.labels?.[ZonekeeperLabels.managedBy] === ZONEKEEPER_MANAGER
  );
}

/**
 * Ensures a server certificate exists in the secret store for the requested names, issued by the
 * organisation's CA (created if missing), renewed when due, and — with `target` — injected into a
 * cluster as a `kubernetes.io/tls` Secret. A second run with the same input changes nothing.
 * @throws `INVALID_INPUT` for bad names (before anything is read); `NOT_OWNED` when the target Secret
 * exists without zonekeeper's ownership label.
 * @public
 */
export async function ensureCertificate(
  input: EnsureCertificateInput,
  deps: CertificateDeps,
  options: EnsureOptions = {},
): Promise<EnsureCertificateResult> {
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
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? noopLogger;
  const opts = { ...layout(deps), ...signal(options) };

  // Gather.
  const caResult = await ensureCertificateAuthority(
    {
      organization,
      ...(input.withinDomain === undefined ? {} : { permittedDnsDomain: input.withinDomain }),
    },
    deps,
    options,
  );
  const ca = caResult.ca;
  const stored = await readCertificate(deps.secrets, organization, name, opts);
  const now = clock.now();
  const reason: IssueReason | undefined = !stored
    ? 'missing'
    : [...stored.dnsNames].sort().join(',') !== [...dnsNames].sort().join(',')
      ? 'names-changed'
      : ca !== undefined && stored.caPem !== ca.certificatePem
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
  const secretName = input.target?.secretName ?? name;
  const ref = input.target
    ? { apiVersion: 'v1', kind: 'Secret', name: secretName, namespace: input.target.namespace }
    : undefined;
  const existingSecret =
    input.target && ref ? await input.target.cluster.get(ref, signal(options)) : undefined;
  if (existingSecret && existingSecret.metadata.labels?.[ZonekeeperLabels.managedBy] !== ZONEKEEPER_MANAGER) {
    throw new ZonekeeperError(
      'NOT_OWNED',
      `Kubernetes: ${describeRef(ref as NonNullable<typeof ref>)} in cluster ${input.target?.cluster.name} exists and is not managed by zonekeeper; refusing to overwrite it.`,
    );
  }

  // Plan.
  const steps: CertificateStep[] = [];
  if (reason) steps.push({ op: 'issue-certificate', name, reason, dnsNames });
  if (
    input.target &&
    (reason || !stored || !secretMatches(existingSecret, tlsSecret(organization, name, input.target, stored)))
  ) {
    steps.push({
      op: 'apply-tls-secret',
      cluster: input.target.cluster.name,
      namespace: input.target.namespace,
      secretName,
    });
  }
  const plan = { steps };
  if (options.dryRun)
    return {
      plan,
      dryRun: true,
      authority: caResult,
      ...(stored ? { certificate: { ...summary(stored), dnsNames: stored.dnsNames } } : {}),
    };

  // Apply.
  let current = stored;
  await applySteps(
    steps,
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
          cas: stored?.version ?? 0,
        });
        current = { ...issued, version };
      } else if (input.target && current) {
        await input.target.cluster.apply(
          tlsSecret(organization, name, input.target, current),
          signal(options),
        );
      }
    },
    { ...signal(options), logger },
  );
  return {
    plan,
    dryRun: false,
    authority: caResult,
    ...(current ? { certificate: { ...summary(current), dnsNames: current.dnsNames } } : {}),
  };
}
