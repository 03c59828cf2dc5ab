/**
 * `issueCertificate`: a server certificate of an existing organisation into the store (the CLI's
 * `cert issue`). An organisation without a zone of its own is `NOT_FOUND`, and nothing is written: no
 * CA appears for an organisation that does not exist.
 *
 * @internal
 * @packageDocumentation
 */

import {
  type AcmeCertificatePlan,
  type AcmeCertificateState,
  type AcmeDeps,
  applyAcmeCertificatePlan,
  applyCertificateAuthorityPlan,
  applyCertificatePlan,
  type CertificateAuthorityPlan,
  type CertificatePlan,
  type CertificateState,
  certificateDefaults,
  type EnsureAcmeCertificateInput,
  type EnsureCertificateInput,
  gatherAcmeCertificate,
  gatherCertificate,
  gatherCertificateAuthority,
  KEY_ALGORITHMS,
  planAcmeCertificate,
  planCertificate,
  planCertificateAuthority,
  renewalTime,
} from '@zonekeeper/cert-issuer';
import {
  type CallOptions,
  type EnsureOptions,
  ensure,
  invalidInput,
  isWithinDomain,
  normalizeHostname,
  validateDnsLabel,
  validateDryRun,
} from '@zonekeeper/core';
import type { StoredCertificateAuthority } from '@zonekeeper/vault-keys';
import { gatherOrganizationZone, zoneOwnership } from '@zonekeeper/zone-manager';
import type { Context } from '../context.js';
import { organizationExclusion } from '../locks.js';
import type { OrganizationNames } from '../names.js';
import { organizationNames } from '../names.js';
import { organizationNotFound } from '../organization/apply.js';
import type { IssueCertificateInput, IssueCertificateResult } from '../results.js';

interface IssueState {
  readonly zoneExists: boolean;
  readonly ca?: StoredCertificateAuthority;
  readonly certificate: CertificateState;
  readonly now: Date;
}

interface IssuePlan {
  readonly certificateAuthority: CertificateAuthorityPlan;
  readonly certificate: CertificatePlan;
}

/** {@link Zonekeeper.issueCertificate}. @internal */
export async function issueCertificate(
  ctx: Context,
  organizationInput: string,
  input: IssueCertificateInput,
  options: EnsureOptions = {},
): Promise<IssueCertificateResult> {
  const names = organizationNames(ctx, organizationInput);
  if (typeof input !== 'object' || input === null)
    throw invalidInput('issueCertificate needs an input object with a name and dnsNames.');
  const name = validateDnsLabel(input.name, 'Certificate name');
  if (!Array.isArray(input.dnsNames) || input.dnsNames.length === 0)
    throw invalidInput('issueCertificate needs at least one DNS name.');
  const dnsNames = [...new Set(input.dnsNames.map((n) => normalizeHostname(n)))];
  const outside = dnsNames.filter((n) => !isWithinDomain(n.replace(/^\*\./, ''), names.zoneName));
  if (outside.length > 0)
    throw invalidInput(
      `${outside.join(', ')} ${outside.length === 1 ? 'is' : 'are'} not within the organisation's zone ${names.zoneName}.`,
    );
  if (input.acme !== undefined && typeof input.acme !== 'boolean')
    throw invalidInput(`acme must be true or false, got ${String(input.acme)}.`);
  if (input.acme === true) {
    if (input.validityDays !== undefined || input.keyAlgorithm !== undefined)
      throw invalidInput(
        'An ACME certificate takes neither validityDays nor keyAlgorithm: the ACME CA decides its validity, and zonekeeper orders ECDSA P-256 keys.',
      );
    if (ctx.acme === undefined)
      throw invalidInput(
        'issueCertificate with acme needs an ACME CA: createZonekeeper({ acme: { directoryUrl, termsOfServiceAgreed: true } }).',
      );
    validateDryRun(options);
    return issueAcmeCertificate(ctx, ctx.acme, names, name, dnsNames, options);
  }
  if (
    input.validityDays !== undefined &&
    !(
      Number.isInteger(input.validityDays) &&
      input.validityDays >= 1 &&
      input.validityDays <= certificateDefaults.maxLeafValidityDays
    )
  )
    throw invalidInput(
      `validityDays must be an integer from 1 to ${certificateDefaults.maxLeafValidityDays}.`,
    );
  if (input.keyAlgorithm !== undefined && !(KEY_ALGORITHMS as readonly string[]).includes(input.keyAlgorithm))
    throw invalidInput(`keyAlgorithm must be one of ${KEY_ALGORITHMS.join(', ')}.`);
  validateDryRun(options);
  const certificateInput: EnsureCertificateInput = {
    organization: names.organization,
    name,
    dnsNames,
    withinDomain: names.zoneName,
    ...(input.validityDays === undefined ? {} : { validityDays: input.validityDays }),
    ...(() => {
      const keyAlgorithm = input.keyAlgorithm ?? ctx.certificates?.keyAlgorithm;
      return keyAlgorithm === undefined ? {} : { keyAlgorithm };
    })(),
  };

  const gather = async (call: CallOptions): Promise<IssueState> => {
    if (!(await ctx.ensureEmbeddedParent(call, false)))
      return { zoneExists: false, certificate: {}, now: ctx.clock.now() };
    const zone = await gatherOrganizationZone(
      {
        zoneName: names.zoneName,
        baseDomain: ctx.baseDomain,
        ...(ctx.parentZoneId === undefined ? {} : { parentZoneId: ctx.parentZoneId }),
      },
      ctx.ports.dns,
      call,
    );
    const zoneExists = zone.zones.some(
      (z) => zoneOwnership(z, names.zoneName, names.organization) === 'ours',
    );
    const ca = await gatherCertificateAuthority(names.organization, ctx.deps.certificates, call);
    const certificate = await gatherCertificate(certificateInput, ctx.deps.certificates, call);
    return { zoneExists, ...(ca ? { ca } : {}), certificate, now: ctx.clock.now() };
  };
  const plan = (state: IssueState): IssuePlan => {
    if (!state.zoneExists) throw organizationNotFound(names);
    const certificateAuthority = planCertificateAuthority(state.ca, names.certificateAuthority, state.now);
    const caPem = certificateAuthority.steps.length > 0 ? null : (state.ca?.certificatePem ?? null);
    return {
      certificateAuthority,
      certificate: planCertificate(state.certificate, certificateInput, caPem, state.now),
    };
  };
  const outcome = await ensure(
    {
      gather,
      plan,
      apply: async (p, state, call) => {
        await applyCertificateAuthorityPlan(
          p.certificateAuthority,
          state.ca,
          names.certificateAuthority,
          ctx.deps.certificates,
          call,
        );
        return applyCertificatePlan(
          p.certificate,
          state.certificate,
          certificateInput,
          ctx.deps.certificates,
          call,
        );
      },
      exclusive: organizationExclusion(
        ctx,
        names.organization,
        `issueCertificate ${names.organization} ${name}`,
        (p: IssuePlan) => p.certificateAuthority.steps.length === 0 && p.certificate.steps.length === 0,
      ),
    },
    options,
  );
  const current = outcome.dryRun ? outcome.state.certificate.stored : outcome.applied;
  return {
    organization: names.organization,
    name,
    dryRun: outcome.dryRun,
    plans: {
      certificateAuthority: outcome.plan.certificateAuthority.steps,
      certificate: outcome.plan.certificate.steps,
    },
    ...(current
      ? {
          certificate: {
            serialNumber: current.serialNumber,
            notBefore: current.notBefore,
            notAfter: current.notAfter,
            renewAt: renewalTime(current),
            dnsNames: current.dnsNames,
          },
        }
      : {}),
  };
}

interface AcmeIssueState {
  readonly input: EnsureAcmeCertificateInput;
  readonly acme: AcmeCertificateState;
  readonly now: Date;
}

/**
 * `issueCertificate` with `acme`: the organisation's zone is read first (an organisation without one is
 * `NOT_FOUND`, nothing is sent to the CA), then cert-issuer's ACME gather → plan → apply runs under the
 * organisation's lock, so two concurrent runs never order the same certificate twice.
 */
async function issueAcmeCertificate(
  ctx: Context,
  acme: NonNullable<Context['acme']>,
  names: OrganizationNames,
  name: string,
  dnsNames: readonly string[],
  options: EnsureOptions,
): Promise<IssueCertificateResult> {
  const deps: AcmeDeps = { ...ctx.deps.certificates, dns: ctx.ports.dns, acme: acme.settings };
  const gather = async (call: CallOptions): Promise<AcmeIssueState | undefined> => {
    if (!(await ctx.ensureEmbeddedParent(call, false))) return undefined;
    const zone = await gatherOrganizationZone(
      {
        zoneName: names.zoneName,
        baseDomain: ctx.baseDomain,
        ...(ctx.parentZoneId === undefined ? {} : { parentZoneId: ctx.parentZoneId }),
      },
      ctx.ports.dns,
      call,
    );
    const ours = zone.zones.find((z) => zoneOwnership(z, names.zoneName, names.organization) === 'ours');
    if (ours === undefined) return undefined;
    const input: EnsureAcmeCertificateInput = {
      organization: names.organization,
      name,
      dnsNames,
      zone: { id: ours.id, name: names.zoneName },
    };
    return { input, acme: await gatherAcmeCertificate(input, deps, call), now: ctx.clock.now() };
  };
  const outcome = await ensure(
    {
      gather,
      plan: (state: AcmeIssueState | undefined): AcmeCertificatePlan => {
        if (state === undefined) throw organizationNotFound(names);
        return planAcmeCertificate(state.acme, state.input, acme.directoryUrl, state.now);
      },
      apply: (plan, state, call) =>
        applyAcmeCertificatePlan(
          plan,
          (state as AcmeIssueState).acme,
          (state as AcmeIssueState).input,
          deps,
          call,
        ),
      exclusive: organizationExclusion(
        ctx,
        names.organization,
        `issueCertificate --acme ${names.organization} ${name}`,
        (p: AcmeCertificatePlan) => p.steps.length === 0,
      ),
    },
    options,
  );
  const current = outcome.dryRun ? outcome.state?.acme.stored : outcome.applied;
  // A kept certificate renews when the CA's renewal information (RFC 9773) says, else at two thirds.
  const { renewal } = outcome.plan;
  const kept = current !== undefined && current.serialNumber === outcome.state?.acme.stored?.serialNumber;
  return {
    organization: names.organization,
    name,
    dryRun: outcome.dryRun,
    plans: { certificateAuthority: [], certificate: [], acme: outcome.plan.steps },
    ...(current
      ? {
          certificate: {
            serialNumber: current.serialNumber,
            notBefore: current.notBefore,
            notAfter: current.notAfter,
            renewAt: kept && renewal !== undefined ? new Date(renewal.renewAt) : renewalTime(current),
            dnsNames: current.dnsNames,
            issuer: current.issuer ?? 'organisation-ca',
          },
        }
      : {}),
  };
}
